/**
 * The plan cache (src/storage/embedded/exec/plan-cache.ts): the access path chosen for a query shape (fingerprint)
 * is reused for later queries of that shape, and re-made when indexes change, when the table's size
 * drifts 2x, or when the cached path yields far more rows for new constants. Whatever the cache
 * does, results must equal a forced scan's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ManualClock,
  openEventStore,
  type AdvancedQueryBuilder,
  type EventStore,
  type NewEvent,
} from '../../src/index.js';
import { T0, SECOND, cacheDelta, fill, sameAsScan, seqs, usage } from './support.js';

// 4,000 'common' events, 100 each of T0..T9, one 'rare': 5,001 in all.
const N = 5001;
function event(i: number): NewEvent {
  return {
    aggregateId: `a-${i % 100}`,
    type: i < 4000 ? 'common' : i < 5000 ? `T${i % 10}` : 'rare',
    timestamp: T0 + i * SECOND,
    tags: { region: ['eu', 'us', 'ap'][i % 3]! },
    payload: { n: i % 500, amount: i % 97 },
  };
}
const events = Array.from({ length: N }, (_, i) => ({ sequence: i + 1, ...event(i) }));
const where = (predicate: (e: (typeof events)[number]) => boolean) =>
  events.filter(predicate).map((e) => e.sequence);
const payloadOf = (e: (typeof events)[number]) => e.payload as { n: number; amount: number };

let store: EventStore;

beforeAll(async () => {
  // The clock stands after the last event time: events may not be from the store's future.
  store = await openEventStore({ clock: new ManualClock(T0 + N * SECOND) });
  await fill(store, N, event);
});

afterAll(async () => {
  await store.close();
});

describe('plan cache', () => {
  it('hits for repeated queries of one shape with different constants', async () => {
    const delta = await cacheDelta(store, async () => {
      for (let t = 0; t < 10; t++) {
        const rows = seqs(await store.query().where('type', 'eq', `T${t}`).execute());
        expect(rows).toEqual(where((e) => e.type === `T${t}`));
      }
    });
    expect(delta).toEqual({ entries: 1, hits: 9, misses: 1, invalidations: 0 });

    // `in` lists of any length share a shape; so does streaming.
    const lists = await cacheDelta(store, async () => {
      for (const types of [['T1'], ['T2', 'T3'], ['T4', 'T5', 'T6', 'nope']]) {
        const query = store.query().where('type', 'in', types);
        expect(seqs(await query.execute())).toEqual(where((e) => types.includes(e.type)));
      }
      const streamed = [];
      for await (const row of store.query().where('type', 'in', ['T7']).executeStream()) streamed.push(row);
      expect(seqs(streamed)).toEqual(where((e) => e.type === 'T7'));
    });
    expect(lists).toEqual({ entries: 1, hits: 3, misses: 1, invalidations: 0 });
  });

  it('misses for each new shape: other fields, operators, order, limit, select', async () => {
    const shapes = [
      store.query().where('aggregateId', 'eq', 'a-1'),
      store.query().where('aggregateId', 'eq', 'a-1').where('type', 'eq', 'T1'),
      store.query().where('aggregateId', 'ne', 'a-1'),
      store.query().where('aggregateId', 'eq', 'a-1').orderBy('timestamp', 'desc'),
      store.query().where('aggregateId', 'eq', 'a-1').limit(3),
      store.query().where('aggregateId', 'eq', 'a-1').select(['id']),
      store.query().where('payload.amount', 'lt', 3),
    ];
    const delta = await cacheDelta(store, async () => {
      for (const query of shapes) await query.execute();
    });
    expect(delta).toEqual({ entries: shapes.length, hits: 0, misses: shapes.length, invalidations: 0 });
    // Run again, each is a hit.
    const again = await cacheDelta(store, async () => {
      for (const query of shapes) await query.execute();
    });
    expect(again).toEqual({ entries: 0, hits: shapes.length, misses: 0, invalidations: 0 });
    for (const query of shapes) await sameAsScan(query);
  });

  it('is invalidated by createIndex, rebuildIndex and dropIndex, and then uses the new set of indexes', async () => {
    const byN = (n: number) => store.query().where('payload.n', 'eq', n);
    const expected = (n: number) => where((e) => payloadOf(e).n === n);

    expect(seqs(await byN(1).execute())).toEqual(expected(1));
    expect(await cacheDelta(store, () => byN(2).execute())).toMatchObject({ hits: 1, misses: 0 });
    expect((await store.explain(byN(2))).indexesUsed).toEqual([]);

    await store.indexes.createIndex({ name: 'by_n', fields: ['payload.n'] });
    const before = (await usage(store)).by_n ?? 0;
    let rows: number[] = [];
    const created = await cacheDelta(store, async () => {
      rows = seqs(await byN(3).execute());
    });
    expect(created).toEqual({ entries: 0, hits: 0, misses: 1, invalidations: 1 });
    expect(rows).toEqual(expected(3));
    expect((await usage(store)).by_n).toBe(before + 1);
    expect((await store.explain(byN(3))).indexesUsed).toEqual(['by_n']);
    expect(await cacheDelta(store, () => byN(4).execute())).toMatchObject({ hits: 1, invalidations: 0 });
    expect((await usage(store)).by_n).toBe(before + 2);

    await store.indexes.rebuildIndex('by_n');
    const rebuilt = await cacheDelta(store, async () => {
      rows = seqs(await byN(5).execute());
    });
    expect(rebuilt).toMatchObject({ hits: 0, misses: 1, invalidations: 1 });
    expect(rows).toEqual(expected(5));
    expect((await usage(store)).by_n).toBe(before + 3);

    await store.indexes.dropIndex('by_n');
    const dropped = await cacheDelta(store, async () => {
      rows = seqs(await byN(6).execute());
    });
    expect(dropped).toEqual({ entries: 0, hits: 0, misses: 1, invalidations: 1 });
    expect(rows).toEqual(expected(6));
    expect((await store.explain(byN(6))).indexesUsed).toEqual([]);
    await sameAsScan(byN(7));
  });

  it('re-plans when the cached path yields 10x (+1000) the rows it was chosen for', async () => {
    const byType = (type: string) => store.query().where('type', 'eq', type);
    // A fresh shape (select makes it one): planned for the rare type, it looks the type index up.
    const rare = byType('rare').select(['sequence']);
    const common = byType('common').select(['sequence']);
    expect(await cacheDelta(store, () => rare.execute())).toMatchObject({ entries: 1, misses: 1 });
    expect((await store.explain(rare)).indexesUsed).toEqual(['type']);

    // 4,000 rows is more than 10 x 1 + 1000: the cached type lookup is rejected, and the planner
    // scans instead (4,000 of 5,001 rows: the lookup costs more than reading the column).
    const typeUses = (await usage(store)).type ?? 0;
    let rows: unknown[] = [];
    const surprised = await cacheDelta(store, async () => {
      rows = await common.execute();
    });
    expect(surprised).toEqual({ entries: 0, hits: 0, misses: 1, invalidations: 1 });
    expect(rows).toEqual(where((e) => e.type === 'common').map((sequence) => ({ sequence })));
    expect((await usage(store)).type).toBe(typeUses);
    expect((await store.explain(common)).indexesUsed).toEqual([]);

    // The re-made choice is cached: the next common query hits.
    expect(await cacheDelta(store, () => common.execute())).toEqual({
      entries: 0,
      hits: 1,
      misses: 0,
      invalidations: 0,
    });
    // A cached lookup that yields fewer rows than it was chosen for is no surprise.
    const small = byType('T1').select(['id']);
    await small.execute();
    expect(await cacheDelta(store, () => byType('T2').select(['id']).execute())).toMatchObject({
      hits: 1,
      invalidations: 0,
    });
    for (const type of ['rare', 'common', 'T3', 'nope']) await sameAsScan(byType(type).select(['sequence']));
  });

  it('weighs a cached scan afresh, so a selective constant later gets its index', async () => {
    // All but 'rare' is 5,000 of 5,001 events: with a payload term a scan beats the type postings.
    const query = (types: string[]) => store.query().where('type', 'in', types).where('payload.n', 'gte', 0);
    const broad = ['common', ...Array.from({ length: 10 }, (_, i) => `T${i}`)];
    expect((await store.explain(query(broad))).indexesUsed).toEqual([]);
    await query(broad).execute();
    const delta = await cacheDelta(store, async () => {
      expect(seqs(await query(['rare']).execute())).toEqual(where((e) => e.type === 'rare'));
    });
    // The cached scan was weighed again, lost to the type lookup, and the lookup cached in its place.
    expect(delta).toMatchObject({ hits: 0, misses: 1, invalidations: 1 });
    expect((await store.explain(query(['T3']))).indexesUsed).toEqual(['type']);
    expect(await cacheDelta(store, () => query(['T3']).execute())).toMatchObject({ hits: 1, misses: 0 });
    expect(await sameAsScan(query(['T3']))).toEqual(where((e) => e.type === 'T3'));
  });

  it('re-plans once the table has grown 2x (plus 100 rows) since the choice was made', async () => {
    const small = await openEventStore({ clock: new ManualClock(T0 + N * SECOND) });
    try {
      await fill(small, 1000, event);
      const query = (n: number) => small.query().where('payload.n', 'eq', n);
      await query(1).execute();
      // 1,000 -> 2,000 rows: within the drift allowed (2 x 1,000 + 100).
      await fill(small, 1000, event, 1000);
      expect(await cacheDelta(small, () => query(2).execute())).toMatchObject({ hits: 1, invalidations: 0 });
      // -> 2,101 rows: past it.
      await fill(small, 101, event, 2000);
      expect(await cacheDelta(small, () => query(3).execute())).toEqual({
        entries: 0,
        hits: 0,
        misses: 1,
        invalidations: 1,
      });
      expect(await cacheDelta(small, () => query(4).execute())).toMatchObject({ hits: 1, invalidations: 0 });
      expect(seqs(await query(4).execute())).toEqual(
        Array.from({ length: 2101 }, (_, i) => i)
          .filter((i) => i % 500 === 4)
          .map((i) => i + 1),
      );
    } finally {
      await small.close();
    }
  });

  it('gives the same fingerprint to queries differing only in constants, and a different one otherwise', async () => {
    const fp = async (query: AdvancedQueryBuilder) => (await store.explain(query)).fingerprint;
    const base = await fp(store.query().where('type', 'eq', 'T1').where('payload.amount', 'lt', 5));
    expect(base).toEqual(expect.any(String));
    expect(await fp(store.query().where('type', 'eq', 'rare').where('payload.amount', 'lt', 90))).toBe(base);

    const others = [
      store.query().where('type', 'eq', 'T1').where('payload.amount', 'lte', 5),
      store.query().where('type', 'eq', 'T1').where('payload.n', 'lt', 5),
      store.query().where('payload.amount', 'lt', 5).where('type', 'eq', 'T1'),
      store.query().where('type', 'eq', 'T1'),
      store.query().where('type', 'eq', 'T1').where('payload.amount', 'lt', 5).orderBy('timestamp'),
      store.query().where('type', 'eq', 'T1').where('payload.amount', 'lt', 5).limit(1),
      store.query().where('type', 'eq', 'T1').where('payload.amount', 'lt', 5).offset(1),
      store.query().where('type', 'eq', 'T1').where('payload.amount', 'lt', 5).select(['id']),
    ];
    const prints = await Promise.all(others.map(fp));
    expect(new Set([base, ...prints]).size).toBe(others.length + 1);

    // Limits and offsets of any value share a shape.
    expect(await fp(store.query().where('type', 'eq', 'T1').limit(5))).toBe(
      await fp(store.query().where('type', 'eq', 'T9').limit(500)),
    );
  });

  it('makes hints part of the fingerprint, so a hinted query never reuses an unhinted choice', async () => {
    const query = store
      .query()
      .where('type', 'eq', 'T5')
      .where('timestamp', 'lt', T0 + 4500 * SECOND);
    const plain = await store.explain(query);
    const hinted = [
      query.hint({ useIndex: ['timestamp'] }),
      query.hint({ useIndex: ['aggregate'] }),
      query.hint({ forceIndex: ['timestamp'] }),
      query.hint({ forceIndex: ['scan'] }),
    ];
    const prints = await Promise.all(hinted.map(async (q) => (await store.explain(q)).fingerprint));
    expect(new Set([plain.fingerprint, ...prints]).size).toBe(hinted.length + 1);
    // Timeouts and batch sizes do not change the plan, and share it.
    expect((await store.explain(query.hint({ timeout: 5000, batchSize: 7 }))).fingerprint).toBe(
      plain.fingerprint,
    );

    expect(plain.indexesUsed).toEqual(['type']);
    await query.execute(); // caches the type lookup for the unhinted shape
    const timestampUses = (await usage(store)).timestamp ?? 0;
    const rows = seqs(await hinted[0]!.execute());
    expect((await usage(store)).timestamp).toBe(timestampUses + 1);
    expect(rows).toEqual(where((e) => e.type === 'T5' && (e.timestamp as number) < T0 + 4500 * SECOND));
    for (const q of hinted) expect(seqs(await q.execute())).toEqual(rows);
  });

  it('shows in EXPLAIN whether the shape is cached, without counting a lookup', async () => {
    const query = store.query().where('version', 'gte', 7).where('tags.region', 'eq', 'ap');
    const delta = await cacheDelta(store, async () => {
      const first = await store.explain(query);
      expect(first.planCache).toBe('miss');
      await query.execute();
      const second = await store.explain(query, { analyze: true });
      expect(second.planCache).toBe('hit');
      expect(second.fingerprint).toBe(first.fingerprint);
    });
    expect(delta).toEqual({ entries: 1, hits: 0, misses: 1, invalidations: 0 });
  });
});
