/**
 * The embedded engine's factories: in memory, and on disk in a temporary directory (optionally
 * tuned: segment size, fsync policy, checkpoint interval).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ManualClock, openEventStore, type EventStore, type OpenOptions } from '../../src/index.js';
import type { StorageCapabilities } from '../../src/storage/storage-engine.js';
import { removeDir, tempDir } from '../support/helpers.js';
import { CONTRACT_CLOCK_START, type ContractContext, type StoreFactory } from './factory.js';

/** The clock a store opens with: the one `options` name, or a ManualClock at CONTRACT_CLOCK_START. */
function clockFor(options: Partial<OpenOptions>): {
  clock: NonNullable<OpenOptions['clock']>;
  manual?: ManualClock;
} {
  if (options.clock === undefined) {
    const manual = new ManualClock(CONTRACT_CLOCK_START);
    return { clock: manual, manual };
  }
  return options.clock instanceof ManualClock
    ? { clock: options.clock, manual: options.clock }
    : { clock: options.clock };
}

export const embeddedInMemory: StoreFactory = {
  name: 'embedded, in memory',
  capabilities: {
    durable: false,
    pushdown: true,
    gapFreeSequences: true,
    userIndexes: true,
    // cleanup() archives to the policy's archive directory, and restoreArchive / includeArchived
    // read it back, with or without a store directory (test/contract/archive.contract.ts).
    archive: true,
    // checkpoint() resolves and does nothing: there is nothing to shorten on open.
    checkpoints: false,
    erasure: true,
    readOnly: false,
    explainAnalyze: true,
    commitHooks: true,
  },
  async open(options = {}) {
    const { clock, manual } = clockFor(options);
    const store = await openEventStore({ ...options, clock });
    return {
      store,
      ...(manual === undefined ? {} : { clock: manual }),
      cleanup: async () => {
        await store.close().catch(() => undefined);
      },
    };
  },
};

const ON_DISK_CAPABILITIES: StorageCapabilities = {
  durable: true,
  pushdown: true,
  gapFreeSequences: true,
  userIndexes: true,
  archive: true,
  checkpoints: true,
  erasure: true,
  readOnly: false,
  explainAnalyze: true,
  commitHooks: true,
};

/** A store in a fresh temporary directory, opened with `tuning` and then the options a suite passes. */
function onDisk(name: string, tuning: Partial<OpenOptions>): StoreFactory {
  return {
    name,
    capabilities: ON_DISK_CAPABILITIES,
    async open(options = {}): Promise<ContractContext> {
      const dir = await tempDir();
      const { clock, manual } = clockFor(options);
      const opened: EventStore[] = [];
      const openAt = async (chosen: Partial<OpenOptions>): Promise<EventStore> => {
        const store = await openEventStore({ ...tuning, ...chosen, dir, clock: chosen.clock ?? clock });
        opened.push(store);
        return store;
      };
      let store: EventStore;
      try {
        store = await openAt(options);
      } catch (error) {
        await removeDir(dir);
        throw error;
      }
      return {
        store,
        ...(manual === undefined ? {} : { clock: manual }),
        reopen: (reopenWith) => openAt(reopenWith ?? options),
        dropCheckpoint: () => rm(join(dir, 'checkpoint.bin'), { force: true }),
        cleanup: async () => {
          for (const s of opened) await s.close().catch(() => undefined);
          await removeDir(dir);
        },
      };
    },
  };
}

export const embeddedOnDisk: StoreFactory = onDisk('embedded, on disk', {});

/** The on-disk engine tuned (segment size, fsync policy, checkpoint interval, …); `description` says how, for titles. */
export function embeddedOnDiskWith(description: string, tuning: Partial<OpenOptions>): StoreFactory {
  return onDisk(`embedded, on disk, ${description}`, tuning);
}
