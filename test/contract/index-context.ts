/**
 * The store a user-index test works with: opened by the factory with a ManualClock at INDEX_T0, and
 * for a durable engine a `reopen` that swaps `store` for the store opened again.
 */
import { ManualClock, type EventStore } from '../../src/index.js';
import { INDEX_T0 } from '../support/index-sample.js';
import type { StoreFactory } from './factory.js';

export interface IndexContext {
  store: EventStore;
  clock: ManualClock;
  /** Durable engines only: closes the store (if still open), opens it again and makes it `store`. */
  reopen?: () => Promise<EventStore>;
  cleanup(): Promise<void>;
}

export async function openIndexContext(factory: StoreFactory): Promise<IndexContext> {
  const clock = new ManualClock(INDEX_T0);
  const opened = await factory.open({ clock });
  const context: IndexContext = { store: opened.store, clock, cleanup: opened.cleanup };
  const reopen = opened.reopen;
  if (reopen !== undefined) {
    context.reopen = async () => {
      await context.store.close();
      context.store = await reopen();
      return context.store;
    };
  }
  return context;
}
