/**
 * The store a property queries, opened through a StoreFactory: filled and queried as it is on an
 * engine that keeps nothing; on a durable one, filled, closed and reopened first, so that every
 * property also checks what survives (from a checkpoint, or replaying the log alone).
 */
import type { EventStore, ManualClock, OpenOptions, StoredEvent } from '../../src/index.js';
import type { StoreFactory } from '../contract/factory.js';

export interface PreparedStore {
  store: EventStore;
  /** What the fill appended: the oracle's events. */
  all: StoredEvent[];
  /** Closes the store (a close that fails fails the property) and removes its files. */
  cleanup: () => Promise<void>;
}

/** How a durable store is written and read back. */
export interface ReopenLayout {
  /** Options the store is filled with (segment size, checkpoint interval, …). */
  writer: Partial<OpenOptions>;
  /** Drops the checkpoint before reopening, so the reopen replays the whole log (engines with checkpoints). */
  dropCheckpoint: boolean;
  /** Options the store is reopened with. */
  reader: Partial<OpenOptions>;
}

export async function prepareStore(
  factory: StoreFactory,
  clock: ManualClock,
  layout: ReopenLayout,
  fill: (store: EventStore) => Promise<StoredEvent[]>,
): Promise<PreparedStore> {
  if (!factory.capabilities.durable) {
    const ctx = await factory.open({ clock });
    try {
      const all = await fill(ctx.store);
      return { store: ctx.store, all, cleanup: () => closeThen(ctx.store, ctx.cleanup) };
    } catch (error) {
      await ctx.cleanup();
      throw error;
    }
  }
  const ctx = await factory.open({ clock, ...layout.writer });
  try {
    let all: StoredEvent[];
    try {
      all = await fill(ctx.store);
    } finally {
      await ctx.store.close();
    }
    if (layout.dropCheckpoint && factory.capabilities.checkpoints) await ctx.dropCheckpoint!();
    const store = await ctx.reopen!({ clock, ...layout.reader });
    return { store, all, cleanup: () => closeThen(store, ctx.cleanup) };
  } catch (error) {
    await ctx.cleanup();
    throw error;
  }
}

async function closeThen(store: EventStore, cleanup: () => Promise<void>): Promise<void> {
  try {
    await store.close();
  } finally {
    await cleanup();
  }
}
