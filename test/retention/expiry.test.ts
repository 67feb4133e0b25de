/**
 * Expiry in the embedded engine: scans stay vectorized with a policy and deletions, and every read
 * path equals an oracle over the visible events. (How a policy hides events, for any engine, is in
 * test/contract/retention.contract.ts.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock, openEventStore, type AdvancedQueryBuilder, type StoredEvent } from '../../src/index.js';

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const seqs = (rows: readonly unknown[]) => (rows as StoredEvent[]).map((event) => event.sequence);

describe('retention: expired events disappear at once', () => {
  it('keeps scans and large index lookups vectorized with a policy and deletions (EXPLAIN)', async () => {
    const clock = new ManualClock(T0);
    const store = await openEventStore({ clock });
    try {
      // 6,000 events an hour apart, oldest first, appended before the policy; s0 is deleted.
      const events = Array.from({ length: 6000 }, (_, i) => ({
        aggregateId: `s${i % 5}`,
        type: i % 4 === 0 ? 'B.x' : 'A',
        timestamp: T0 - (6000 - i) * HOUR + 1,
        payload: { n: i % 3 },
      }));
      await store.append(events);
      store.setRetention({ maxAge: '1d', types: { 'B.*': '2h' } });
      await store.deleteAggregate('s0');
      clock.advance(30 * 60_000);
      const visible = events
        .map((e, i) => ({ ...e, sequence: i + 1 }))
        .filter(
          (e) =>
            e.aggregateId !== 's0' && T0 + 30 * 60_000 - e.timestamp <= (e.type === 'A' ? DAY : 2 * HOUR),
        );
      expect(visible.length).toBeGreaterThan(10);

      const scan = store
        .query()
        .where('type', 'prefix', 'A')
        .hint({ forceIndex: ['scan'] });
      const analyzed = await store.explain(scan, { analyze: true });
      expect(analyzed.plan).toMatchObject({
        operator: 'Filter',
        detail: 'vectorized over column chunks',
        actualRows: visible.filter((e) => e.type === 'A').length,
        children: [{ operator: 'Scan', actualRows: 6000 }],
      });
      const parallel = await store.explain(scan.hint({ parallel: true }), { analyze: true });
      expect(parallel.plan).toMatchObject({
        operator: 'Filter',
        detail: 'vectorized over column chunks',
        actualRows: visible.filter((e) => e.type === 'A').length,
        children: [{ operator: 'ParallelScan' }],
      });
      const mixed = await store.explain(
        store
          .query()
          .where('payload.n', 'eq', 2)
          .hint({ forceIndex: ['scan'] }),
      );
      expect(mixed.plan.detail).toBe('column terms vectorized over column chunks, the rest compiled');

      // An index path of at least 4,096 rows is filtered vectorized too, the visibility terms with it.
      const lookup = store
        .query()
        .where('type', 'eq', 'A')
        .hint({ forceIndex: ['type'] });
      const plan = (await store.explain(lookup, { analyze: true })).plan;
      expect(plan).toMatchObject({
        operator: 'Filter',
        detail: 'vectorized over column chunks',
        children: [{ operator: 'IndexLookup', index: 'type', estimatedRows: 4500 }],
      });
      expect(seqs(await lookup.execute())).toEqual(
        visible.filter((e) => e.type === 'A').map((e) => e.sequence),
      );
      expect(
        seqs(
          await store
            .query()
            .where('payload.n', 'eq', 2)
            .hint({ forceIndex: ['scan'] })
            .execute(),
        ),
      ).toEqual(visible.filter((e) => (e.sequence - 1) % 3 === 2).map((e) => e.sequence));
    } finally {
      await store.close();
    }
  });

  it('every query equals an oracle over the visible events, whatever the clock and policy', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            agg: fc.integer({ min: 0, max: 3 }),
            type: fc.constantFrom('A', 'B.x', 'B.y'),
            ageH: fc.integer({ min: 0, max: 100 }),
          }),
          { maxLength: 40 },
        ),
        fc.record({
          maxAgeH: fc.integer({ min: 1, max: 120 }),
          bH: fc.option(fc.integer({ min: 1, max: 120 })),
          maxEvents: fc.option(fc.integer({ min: 1, max: 50 })),
        }),
        fc.integer({ min: 0, max: 48 }),
        fc.option(fc.integer({ min: 0, max: 3 })),
        // The worker pool takes a while to start: some runs only.
        fc.oneof({ weight: 1, arbitrary: fc.constant(true) }, { weight: 5, arbitrary: fc.constant(false) }),
        async (events, policy, laterH, deleted, onWorkers) => {
          const clock = new ManualClock(T0);
          const store = await openEventStore({ clock });
          await store.append(
            events.map((e, i) => ({
              aggregateId: `a${e.agg}`,
              type: e.type,
              timestamp: T0 - e.ageH * HOUR,
              payload: { n: i % 3 },
            })),
          );
          if (deleted !== null) await store.deleteAggregate(`a${deleted}`);
          store.setRetention({
            maxAge: policy.maxAgeH * HOUR,
            ...(policy.bH === null ? {} : { types: { 'B.*': policy.bH * HOUR } }),
            ...(policy.maxEvents === null ? {} : { maxEvents: policy.maxEvents }),
          });
          clock.advance(laterH * HOUR);
          const now = T0 + laterH * HOUR;
          const firstKept = policy.maxEvents === null ? 0 : Math.max(0, events.length - policy.maxEvents);
          const visible = events
            .map((e, i) => ({ ...e, sequence: i + 1 }))
            .filter((e, i) => {
              const maxAge =
                (e.type.startsWith('B.') && policy.bH !== null ? policy.bH : policy.maxAgeH) * HOUR;
              return i >= firstKept && now - (T0 - e.ageH * HOUR) <= maxAge && e.agg !== deleted;
            });
          expect(seqs(await store.read())).toEqual(visible.map((e) => e.sequence));
          expect(seqs(await store.getEventsByType('A'))).toEqual(
            visible.filter((e) => e.type === 'A').map((e) => e.sequence),
          );
          expect(
            seqs(
              await store
                .query()
                .where('type', 'prefix', 'B.')
                .hint({ forceIndex: ['scan'] })
                .execute(),
            ),
          ).toEqual(visible.filter((e) => e.type.startsWith('B.')).map((e) => e.sequence));
          expect(seqs(await store.getEvents('a1'))).toEqual(
            visible.filter((e) => e.agg === 1).map((e) => e.sequence),
          );
          // Forced scans stay vectorized with rows hidden, the hidden ones left out by column terms: with
          // column terms of the query's own or none, with terms on the record, in either order.
          const n = (e: { sequence: number }) => (e.sequence - 1) % 3;
          const scans: [AdvancedQueryBuilder, (e: (typeof visible)[number]) => boolean][] = [
            [store.query(), () => true],
            [store.query().where('aggregateId', 'in', ['a1', 'a2']), (e) => e.agg === 1 || e.agg === 2],
            [store.query().where('payload.n', 'eq', 1), (e) => n(e) === 1],
            [
              store.query().where('type', 'ne', 'A').where('payload.n', 'gte', 1),
              (e) => e.type !== 'A' && n(e) >= 1,
            ],
          ];
          for (const parallel of onWorkers ? [false, true] : [false]) {
            for (const [query, keep] of scans) {
              const expected = visible.filter(keep).map((e) => e.sequence);
              const forced = query.hint({ forceIndex: ['scan'], parallel });
              expect(seqs(await forced.execute())).toEqual(expected);
              expect(seqs(await forced.orderBy('sequence', 'desc').limit(3).execute())).toEqual(
                expected.reverse().slice(0, 3),
              );
            }
          }
          expect(store.stats().events).toBe(visible.length);
          await store.close();
        },
      ),
      { numRuns: 80 },
    );
  });
});
