/**
 * The facade's hooks (src/store/hooks.ts): plugins see every commit, every change and every read,
 * through the one read runner, whatever the read method; a plugin can answer a read itself (a
 * cache); a plugin that throws never fails the call it observes.
 */
import { describe, expect, test } from 'vitest';
import {
  ManualClock,
  openEventStore,
  ValidationError,
  type ChangeNotice,
  type CommitNotice,
  type EventStore,
  type ReadCall,
  type ReadObservation,
  type StorageEngineFactory,
  type StorePlugin,
} from '../../src/index.js';
import { openEmbeddedEngine } from '../../src/storage/embedded/open-embedded.js';
import { resolveOptions } from '../../src/storage/embedded/embedded-options.js';
import { expectError, rejection, removeDir, tempDir } from '../support/helpers.js';

const T0 = Date.UTC(2024, 0, 1);

interface Recorder extends StorePlugin {
  commits: CommitNotice[];
  changes: ChangeNotice[];
  reads: ReadObservation[];
}

function recorder(): Recorder {
  const plugin: Recorder = {
    name: 'recorder',
    commits: [],
    changes: [],
    reads: [],
    afterCommit: (commit) => plugin.commits.push(commit),
    afterChange: (change) => plugin.changes.push(change),
    afterRead: (observation) => plugin.reads.push(observation),
  };
  return plugin;
}

async function withStore(plugins: StorePlugin[], fn: (store: EventStore) => Promise<void>): Promise<void> {
  const store = await openEventStore({ clock: new ManualClock(T0), plugins });
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

describe('plugins', () => {
  test('afterCommit sees each committed batch once, with the events it wrote, before append resolves', async () => {
    const plugin = recorder();
    await withStore([plugin], async (store) => {
      const first = await store.append([
        { aggregateId: 'a', type: 'T', id: 'id-1' },
        { aggregateId: 'b', type: 'T' },
      ]);
      expect(plugin.commits).toHaveLength(1);
      expect(plugin.commits[0]?.events.map((e) => e.sequence)).toEqual([1, 2]);
      expect(plugin.commits[0]).toMatchObject({ firstSequence: 1, lastSequence: 2 });
      // A retry of a stored id writes nothing new: no commit notice for it.
      await store.append({ aggregateId: 'a', type: 'T', id: 'id-1' });
      expect(plugin.commits).toHaveLength(1);
      // A batch with one retry and one new event: the notice holds only the new one.
      await store.append([
        { aggregateId: 'a', type: 'T', id: 'id-1' },
        { aggregateId: 'c', type: 'T', id: 'id-3' },
      ]);
      expect(plugin.commits[1]?.events.map((e) => e.id)).toEqual(['id-3']);
      await store.appendToStream('s', [{ type: 'X' }], { expectedVersion: 'no_stream' });
      expect(plugin.commits[2]?.events).toEqual([
        expect.objectContaining({ aggregateId: 's', version: 1, sequence: 4 }),
      ]);
      expect(first[0]?.sequence).toBe(1);
      // A refused append (wrong expected version) commits nothing.
      await expect(store.appendToStream('s', [{ type: 'X' }], { expectedVersion: 0 })).rejects.toThrow();
      expect(plugin.commits).toHaveLength(3);
    });
  });

  test('afterChange sees deletions, retention changes and cleanups', async () => {
    const plugin = recorder();
    await withStore([plugin], async (store) => {
      await store.append({ aggregateId: 'a', type: 'T' });
      expect(await store.deleteAggregate('a')).toBe(true);
      expect(await store.deleteAggregate('a')).toBe(false);
      store.setRetention({ maxAge: '30d' });
      await store.cleanup();
      expect(plugin.changes.map((change) => change.kind)).toEqual(['deleteStream', 'retention', 'cleanup']);
      expect(plugin.changes[0]).toEqual({ kind: 'deleteStream', aggregateId: 'a' });
    });
  });

  test('every read goes through the runner: each read method is observed with its rows', async () => {
    const plugin = recorder();
    await withStore([plugin], async (store) => {
      await store.append([
        { aggregateId: 'a', type: 'T', timestamp: T0 - 10 },
        { aggregateId: 'a', type: 'U', timestamp: T0 - 5 },
      ]);
      await store.getEvents('a');
      await store.getEventsByType('T');
      await store.getEventsInRange(T0 - 20, T0);
      await store.queryEvents({ aggregateId: 'a' });
      await store.read({ fromSequence: 2 });
      await store.query().where('type', 'eq', 'U').execute();
      await store.query().limit(1).executePage();
      for await (const row of store.query().executeStream()) expect(row).toBeDefined();
      await store.explain(store.query().where('type', 'eq', 'T'));
      expect(plugin.reads.map((read) => [read.call.method, read.rows])).toEqual([
        ['getEvents', 2],
        ['getEventsByType', 1],
        ['getEventsInRange', 2],
        ['queryEvents', 2],
        ['read', 1],
        ['execute', 1],
        ['page', 1],
        ['stream', 2],
        ['explain', 0],
      ]);
      expect(plugin.reads.every((read) => read.durationMs >= 0 && read.error === undefined)).toBe(true);
    });
  });

  test('a failed read is observed with its error, and still fails', async () => {
    const plugin = recorder();
    await withStore([plugin], async (store) => {
      const controller = new AbortController();
      controller.abort();
      await expect(store.query().execute({ signal: controller.signal })).rejects.toThrow();
      expect(plugin.reads).toHaveLength(1);
      expect(plugin.reads[0]?.error).toBeDefined();
    });
  });

  test('aroundRead can answer a read without the engine (a cache), and sees the call it answers', async () => {
    const calls: ReadCall[] = [];
    const cached = new Map<string, unknown>();
    const cache: StorePlugin = {
      name: 'cache',
      aroundRead: async <R>(call: ReadCall, next: () => Promise<R>): Promise<R> => {
        calls.push(call);
        const key = JSON.stringify(call);
        if (cached.has(key)) return cached.get(key) as R;
        const result = await next();
        cached.set(key, result);
        return result;
      },
      afterCommit: () => cached.clear(),
    };
    await withStore([cache], async (store) => {
      await store.append({ aggregateId: 'a', type: 'T' });
      const first = await store.getEvents('a');
      const second = await store.getEvents('a');
      expect(second).toBe(first); // the same array: answered from the cache
      await store.append({ aggregateId: 'a', type: 'T' });
      expect(await store.getEvents('a')).toHaveLength(2);
      expect(calls[0]).toMatchObject({ kind: 'stream', method: 'getEvents', request: { aggregateId: 'a' } });
    });
  });

  test('a plugin that throws is counted in stats().plugins and never fails the call', async () => {
    const boom = (): never => {
      throw new Error('boom');
    };
    const bad: StorePlugin = {
      name: 'bad',
      afterCommit: boom,
      afterChange: boom,
      afterRead: boom,
      aroundRead: boom,
    };
    const good = recorder();
    await withStore([bad, good], async (store) => {
      const [event] = await store.append({ aggregateId: 'a', type: 'T' });
      expect(await store.getEvents('a')).toEqual([event]);
      expect(await store.deleteAggregate('a')).toBe(true);
      expect(good.commits).toHaveLength(1);
      expect(good.reads).toHaveLength(1);
      expect(store.stats().plugins).toEqual([
        { name: 'bad', errors: 4, lastError: 'boom' },
        { name: 'recorder', errors: 0, lastError: null },
      ]);
    });
  });

  test('a store without plugins reports none', async () => {
    await withStore([], async (store) => {
      expect(store.stats().plugins).toBeUndefined();
    });
  });

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
