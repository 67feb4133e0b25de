/**
 * The facade's own options for what runs behind and beside it: `plugins` refused at open when they
 * are not plugins, and `engine`, any StorageEngineFactory behind the same facade. (What plugins
 * see, over every engine, is in test/contract/hooks.contract.ts.)
 */
import { describe, expect, test } from 'vitest';
import {
  ManualClock,
  openEventStore,
  ValidationError,
  type StorageEngineFactory,
  type StorePlugin,
} from '../../src/index.js';
import { openEmbeddedEngine } from '../../src/storage/embedded/open-embedded.js';
import { resolveOptions } from '../../src/storage/embedded/embedded-options.js';
import { expectError, rejection, removeDir, tempDir } from '../support/helpers.js';
import { recorder } from '../support/recorder-plugin.js';

const T0 = Date.UTC(2024, 0, 1);

describe('plugins', () => {
  test('bad plugins are refused at open with INVALID_OPTION, naming the value', async () => {
    for (const [plugins, path] of [
      [{}, 'plugins'],
      [[null], 'plugins[0]'],
      [[{ name: '' }], 'plugins[0].name'],
      [[{ name: 'x', afterCommit: 1 }], 'plugins[0].afterCommit'],
    ] as const) {
      const error = await rejection(() => openEventStore({ plugins: plugins as unknown as StorePlugin[] }));
      expectError(error, ValidationError, 'INVALID_OPTION');
      expect((error as ValidationError).path).toBe(path);
    }
  });
});

describe('the engine option', () => {
  /** An engine from outside the facade: here the embedded one, opened through the factory seam. */
  function wrappedEngine(dir?: string): StorageEngineFactory & { opened: number } {
    const factory = {
      name: 'wrapped',
      opened: 0,
      open: async (context: Parameters<StorageEngineFactory['open']>[0]) => {
        factory.opened++;
        return openEmbeddedEngine(resolveOptions(dir === undefined ? {} : { dir }), context);
      },
    };
    return factory;
  }

  test('openEventStore runs any StorageEngineFactory behind the same facade', async () => {
    const dir = await tempDir();
    try {
      const factory = wrappedEngine(dir);
      const plugin = recorder();
      const store = await openEventStore({ engine: factory, plugins: [plugin], clock: new ManualClock(T0) });
      expect(factory.opened).toBe(1);
      await store.appendToStream('a', [{ type: 'T' }], { expectedVersion: 'no_stream' });
      expect(await store.getEvents('a')).toHaveLength(1);
      expect(plugin.commits).toHaveLength(1);
      expect(store.capabilities.durable).toBe(true);
      await store.close();
    } finally {
      await removeDir(dir);
    }
  });

  test('with an engine, the embedded engine’s own options are refused', async () => {
    const error = await rejection(() => openEventStore({ engine: wrappedEngine(), fsync: 'always' }));
    expectError(error, ValidationError, 'INVALID_OPTION', 'fsync: applies to the embedded engine only');
    const notAnEngine = await rejection(() =>
      openEventStore({ engine: {} as unknown as StorageEngineFactory }),
    );
    expectError(notAnEngine, ValidationError, 'INVALID_OPTION', 'engine: must be a storage engine factory');
  });
});
