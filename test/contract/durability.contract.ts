/** A durable store closed and reopened: data, versions and indexes survive; rejected appends leave no trace. */
import { expect, test } from 'vitest';
import type { EventStore } from '../../src/index.js';
import { appendSample, sampleQueries } from '../support/contract-sample.js';
import { rejection, sequences } from '../support/helpers.js';
import { eachFreshStore, type ContractContext, type StoreFactory } from './factory.js';
import { requires } from './requires.js';

export function durabilitySuite(factory: StoreFactory): void {
  requires(factory, 'durable').describe('persistence (close + reopen)', () => {
    let ctx: ContractContext;
    let store: EventStore;
    eachFreshStore(factory, (opened) => {
      ctx = opened;
      store = opened.store;
    });

    test('data, versions and indexes survive; appends continue the sequence', async () => {
      const all = await appendSample(store);
      await store.appendToStream('s', [{ id: 'cmd-e1', type: 'A' }], { expectedVersion: 0 });
      const before = await sampleQueries(store);
      const statsBefore = store.stats();
      await store.close();

      store = await ctx.reopen!();
      expect(store.stats()).toMatchObject({
        events: statsBefore.events,
        aggregates: statsBefore.aggregates,
        types: statsBefore.types,
        lastSequence: 9,
      });
      expect(await sampleQueries(store)).toEqual(before);
      expect((await store.read()).slice(0, 8)).toEqual(all);

      // Versions survive: optimistic concurrency and idempotent retry see the old stream.
      await expect(store.appendToStream('a1', { type: 'X' }, { expectedVersion: 3 })).rejects.toMatchObject({
        code: 'CONCURRENCY_CONFLICT',
        actual: 4,
      });
      const retry = await store.appendToStream('s', [{ id: 'cmd-e1', type: 'A' }], { expectedVersion: 0 });
      expect(retry[0]).toMatchObject({ sequence: 9, version: 1 });
      const [next] = await store.appendToStream(
        'a1',
        { type: 'ORDER.REOPENED', tags: { region: 'eu' } },
        { expectedVersion: 4 },
      );
      expect(next).toMatchObject({ sequence: 10, version: 5 });
      const [other] = await store.append({ aggregateId: 'new', type: 'ORDER.PLACED' });
      expect(other).toMatchObject({ sequence: 11, version: 1 });
      expect(sequences(await store.queryEvents({ tags: { region: 'eu' } }))).toEqual([1, 3, 5, 8, 10]);
      expect(sequences(await store.getEventsByType('ORDER.PLACED'))).toEqual([1, 2, 11]);

      // And once more, including what was appended after the first reopen.
      const final = await store.read();
      await store.close();
      store = await ctx.reopen!();
      expect(await store.read()).toEqual(final);
      expect(store.stats()).toMatchObject({ events: 11, lastSequence: 11 });
      const [last] = await store.append({ aggregateId: 'a1', type: 'T' });
      expect(last).toMatchObject({ sequence: 12, version: 6 });
    });

    test('an empty store reopens empty and starts at sequence 1', async () => {
      await store.close();
      store = await ctx.reopen!();
      expect(store.stats()).toMatchObject({ events: 0, lastSequence: 0 });
      expect(await store.read()).toEqual([]);
      const [first] = await store.append({ aggregateId: 'a', type: 'T' });
      expect(first!.sequence).toBe(1);
    });

    test('rejected appends leave no trace after reopen', async () => {
      await store.append({ aggregateId: 'a', type: 'T', payload: 1 });
      await rejection(() =>
        store.append([
          { aggregateId: 'a', type: 'T' },
          { aggregateId: 'a', type: 'T', payload: 'x'.repeat(3_000_000) },
        ]),
      );
      await rejection(() => store.appendToStream('a', { type: 'T' }, { expectedVersion: 0 }));
      await store.append({ aggregateId: 'a', type: 'T', payload: 2 });
      const before = await store.read();
      await store.close();
      store = await ctx.reopen!();
      expect(await store.read()).toEqual(before);
      expect(before.map((e) => [e.sequence, e.version, e.payload])).toEqual([
        [1, 1, 1],
        [2, 2, 2],
      ]);
    });
  });
}
