import type { Clock } from '../events/clock.js';
import type { StorageEngine } from '../storage/storage-engine.js';
import type { StorePlugin } from './hooks.js';
import type { EventStoreFacade } from './event-store-facade.js';

/**
 * A part of the store built above it (src/live/: subscriptions, the performance monitor, …) and set up by
 * openEventStore from its own option. The store layer cannot import those parts, so the public
 * openEventStore (src/live/open-live-store.ts) hands them in. A part hangs on the hooks as a plugin
 * and offers its API as the store property of the same name (`store.monitor`).
 */
export interface LivePart<API = unknown> {
  /**
   * The openEventStore option that configures it, and the store property that offers its API
   * (`subscriptions` has no option: its API is store.subscribe, store.subscriptions, store.waitFor).
   */
  readonly name: 'monitor' | 'subscriptions' | 'cache';
  /**
   * Called before the engine opens, with the option's value (undefined when absent): checks it
   * (a ValidationError naming the option) and makes the part.
   */
  create(value: unknown, context: LivePartContext): LivePartInstance<API>;
}

export interface LivePartContext {
  readonly clock: Clock;
  /** The store's directory; undefined in memory. */
  readonly dir: string | undefined;
  /** How often a read-only handle follows its writer (the store's followIntervalMs). */
  readonly followIntervalMs: number;
}

export interface LivePartInstance<API> {
  readonly api: API;
  /** Its hooks; undefined when it watches nothing (e.g. turned off). */
  readonly plugin: StorePlugin | undefined;
  /** Its plugin runs before the application's (the result cache: see leadingPlugin). */
  readonly leading?: boolean;
  /**
   * Once the engine is open: what the part reads from it (capabilities, indexes, query profiles),
   * and the store it is part of (whose reads its plugin sees like any other).
   */
  attach(engine: StorageEngine, store: EventStoreFacade): void;
}
