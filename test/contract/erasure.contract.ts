/**
 * deleteAggregate: erasure by tombstone, hiding a stream from every read path at once. (How the
 * tombstones are kept on disk, and what they refuse, is in test/retention/tombstones.test.ts.)
 */
import { afterEach, beforeEach, expect, test } from 'vitest';
import { ManualClock, type EventStore, type StoredEvent } from '../../src/index.js';
import { fill, live, seqs, T0 } from '../support/erasure-sample.js';
import type { ContractContext, StoreFactory } from './factory.js';
import { requires } from './requires.js';

export function erasureSuite(factory: StoreFactory): void {
  requires(factory, 'erasure', 'explainAnalyze').describe('deleteAggregate (tombstones)', () => {
    let ctx: ContractContext;
    let store: EventStore;

    beforeEach(async () => {
      ctx = await factory.open({ clock: new ManualClock(T0) });
      store = ctx.store;
    });

    afterEach(async () => {
      await ctx.cleanup();
    });

    test('hides a deleted stream from every read at once', async () => {
      await fill(store);
      expect(await store.deleteAggregate('s2')).toBe(true);
      expect(await store.deleteAggregate('s2')).toBe(false);
      const expected = live(new Set(['s2']));
      expect(await store.getEvents('s2')).toEqual([]);
      expect(seqs(await store.getEvents('s3'))).toHaveLength(10);
      expect(seqs(await store.read())).toEqual(expected);
      expect(seqs(await store.read({ fromSequence: 1, limit: 5 }))).toEqual(expected.slice(0, 5));
      expect(seqs(await store.getEventsByType('B'))).toEqual(expected.filter((s) => (s - 1) % 2 === 0));
      expect(seqs(await store.getEventsInRange(T0, T0 + 60_000))).toEqual(expected);
      expect(seqs(await store.queryEvents({ tags: { k: 'v2' } }))).toEqual(
        expected.filter((s) => (s - 1) % 3 === 2),
      );
      const query = store.query().where('aggregateId', 'in', ['s1', 's2']);
      for (const index of ['aggregate', 'scan']) {
        expect(seqs(await query.hint({ forceIndex: [index] }).execute())).toEqual(
          expected.filter((s) => (s - 1) % 6 === 1),
        );
      }
      const streamed: StoredEvent[] = [];
      for await (const event of store.query().hint({ batchSize: 7 }).executeStream())
        streamed.push(event as StoredEvent);
      expect(seqs(streamed)).toEqual(expected);
      expect(seqs(await store.query().orderBy('payload.n', 'desc').limit(3).execute())).toEqual(
        expected.slice(-3).reverse(),
      );
      const analyzed = await store.explain(store.query().where('type', 'eq', 'A'), { analyze: true });
      expect(analyzed.plan.actualRows).toBe(expected.filter((s) => (s - 1) % 2 === 1).length);
      expect(store.stats()).toMatchObject({
        events: 50,
        aggregates: 5,
        deletedAggregates: 1,
        lastSequence: 60,
      });
      await store.close();
    });
  });
}
