import { afterEach, beforeEach } from 'vitest';
/**
 * What the contract and property suites open stores through: a factory per engine (and per
 * configuration of it), with the capabilities the engine declares. A suite for a capability the
 * engine lacks is skipped, visibly (test/contract/requires.ts). The embedded engine's factories are
 * in embedded-factories.ts; a PostgreSQL engine adds its own file beside it and its runner, and
 * every suite then runs against it unchanged.
 */
import type { EventStore, ManualClock, OpenOptions } from '../../src/index.js';
import type { StorageCapabilities } from '../../src/storage/storage-engine.js';

/** One store a test works with, and how to open it again and clean it away. */
export interface ContractContext {
  store: EventStore;
  /**
   * Opens the same store again (after the test closed `store`). Only durable backends give one.
   * Without `options` it opens with the options it was first opened with; with them, with those
   * instead (the store's location, and the clock unless they name one, stay).
   */
  reopen?: (options?: Partial<OpenOptions>) => Promise<EventStore>;
  /**
   * Removes the checkpoint the next open would start from, so that it replays the whole log.
   * Only engines with the `checkpoints` capability give one.
   */
  dropCheckpoint?: () => Promise<void>;
  /** Closes whatever is still open and removes the store's files. */
  cleanup: () => Promise<void>;
  /** The clock the store was opened with, so default timestamps can be checked exactly. */
  clock?: ManualClock;
}

export interface StoreFactory {
  /** Names the engine and its configuration in every suite's title: 'embedded, in memory', … */
  readonly name: string;
  readonly capabilities: StorageCapabilities;
  /**
   * Opens a fresh, empty store. `options` are openEventStore's; a suite passes the embedded engine's
   * tuning (segmentSize, fsync, checkpointEvery, verifyOnOpen) to vary how a durable store lays out
   * its files, and a factory for an engine without them leaves them out. Without a `clock`, the
   * store gets a ManualClock at CONTRACT_CLOCK_START.
   */
  open(options?: Partial<OpenOptions>): Promise<ContractContext>;
}

/** The start time factories give their ManualClock (any other start works too). */
export const CONTRACT_CLOCK_START = Date.UTC(2024, 0, 1);

/**
 * A fresh store for each test of the enclosing describe: opened before it (and handed to `take`,
 * which keeps what the tests use, and may fill it), cleaned up after it.
 *
 * @example
 * let store: EventStore;
 * eachFreshStore(factory, (opened) => (store = opened.store));
 */
export function eachFreshStore(factory: StoreFactory, take: (opened: ContractContext) => unknown): void {
  let current: ContractContext | undefined;
  beforeEach(async () => {
    current = await factory.open();
    await take(current);
  });
  afterEach(async () => {
    await current?.cleanup();
    current = undefined;
  });
}
