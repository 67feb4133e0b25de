/**
 * The facade's hooks (src/store/hooks.ts), over any engine: plugins see every commit, every change
 * and every read, through the one read runner, whatever the read method; a plugin can answer a
 * read itself (a cache); a plugin that throws never fails the call it observes. (The facade's own
 * options, `engine` and `plugins` themselves, are in test/store/plugins.test.ts.)
 */
import { describe, expect, test } from 'vitest';
import { ManualClock, type EventStore, type ReadCall, type StorePlugin } from '../../src/index.js';
import { recorder } from '../support/recorder-plugin.js';
import type { StoreFactory } from './factory.js';
import { requires } from './requires.js';

const T0 = Date.UTC(2024, 0, 1);

export function hooksSuite(factory: StoreFactory): void {
  describe('plugins', () => {
    async function withStore(
      plugins: StorePlugin[],
      fn: (store: EventStore) => Promise<void>,
    ): Promise<void> {
      const ctx = await factory.open({ clock: new ManualClock(T0), plugins });
      try {
        await fn(ctx.store);
      } finally {
        await ctx.cleanup();
      }
    }

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
        const [streamed] = await store.appendToStream('s', [{ type: 'X' }], { expectedVersion: 'no_stream' });
        expect(plugin.commits[2]?.events).toEqual([
          expect.objectContaining({ aggregateId: 's', version: 1, sequence: streamed!.sequence }),
        ]);
        expect(first[0]?.sequence).toBe(1);
        // A refused append (wrong expected version) commits nothing.
        await expect(store.appendToStream('s', [{ type: 'X' }], { expectedVersion: 0 })).rejects.toThrow();
        expect(plugin.commits).toHaveLength(3);
      });
    });

    requires(factory, 'erasure').test(
      'afterChange sees deletions, retention changes and cleanups',
      async () => {
        const plugin = recorder();
        await withStore([plugin], async (store) => {
          await store.append({ aggregateId: 'a', type: 'T' });
          expect(await store.deleteAggregate('a')).toBe(true);
          expect(await store.deleteAggregate('a')).toBe(false);
          store.setRetention({ maxAge: '30d' });
          await store.cleanup();
          expect(plugin.changes.map((change) => change.kind)).toEqual([
            'deleteStream',
            'retention',
            'cleanup',
          ]);
          expect(plugin.changes[0]).toEqual({ kind: 'deleteStream', aggregateId: 'a' });
        });
      },
    );

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
        expect(calls[0]).toMatchObject({
          kind: 'stream',
          method: 'getEvents',
          request: { aggregateId: 'a' },
        });
      });
    });

    requires(factory, 'erasure').test(
      'a plugin that throws is counted in stats().plugins and never fails the call',
      async () => {
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
      },
    );

    test('a store without plugins reports none', async () => {
      await withStore([], async (store) => {
        expect(store.stats().plugins).toBeUndefined();
      });
    });
  });
}
