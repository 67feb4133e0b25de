/**
 * The planner's estimates (src/storage/embedded/indexes/statistics.ts, EXPLAIN's estimatedRows), field analysis,
 * and the intersection of two posting lists (src/storage/embedded/exec/intersection.ts). Estimates from posting
 * lists and btrees are exact; those from the sample are checked within 2x; every plan returns
 * what a forced scan returns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ManualClock,
  openEventStore,
  type AdvancedQueryBuilder,
  type EventStore,
  type ExplainNode,
  type NewEvent,
} from '../../src/index.js';
import { seededRandom } from '../support/random.js';
import { T0, SECOND, cacheDelta, fill, sameAsScan, seqs, usage } from './support.js';

const N = 6000;
const random = seededRandom(20250101);
// Payload numbers drawn at random, so they are independent of the built-in fields.
const amounts = Array.from({ length: N }, () => Math.floor(random() * 1000));
const scores = Array.from({ length: N }, () => Math.floor(random() * 100));
const regions = Array.from({ length: N }, () => ['eu', 'us', 'ap'][Math.floor(random() * 3)]!);

/** Type by i % 20 and tenant by (i / 20) % 50: every pair equally often. One in ten arrives late. */
function event(i: number): NewEvent {
  const late = i % 10 === 9 && i >= 300;
  return {
    aggregateId: `agg-${Math.floor(i / 7) % 60}`,
    type: `T${i % 20}`,
    timestamp: T0 + (late ? i - 300 : i) * SECOND,
    tags: { tenant: `t${Math.floor(i / 20) % 50}`, region: regions[i]! },
    payload: { amount: amounts[i]!, score: scores[i]!, ...(i % 2 === 0 ? { opt: i % 7 } : {}) },
  };
}

interface Row {
  sequence: number;
  type: string;
  aggregateId: string;
  timestamp: number;
  tenant: string;
  region: string;
  amount: number;
  score: number;
}
const rows: Row[] = Array.from({ length: N }, (_, i) => {
  const e = event(i);
  const payload = e.payload as { amount: number; score: number };
  return {
    sequence: i + 1,
    type: e.type,
    aggregateId: e.aggregateId,
    timestamp: e.timestamp as number,
    tenant: e.tags!.tenant as string,
    region: e.tags!.region as string,
    amount: payload.amount,
    score: payload.score,
  };
});
const count = (predicate: (row: Row) => boolean) => rows.filter(predicate).length;

let store: EventStore;

beforeAll(async () => {
  // The clock stands after the last event time: events may not be from the store's future.
  store = await openEventStore({ clock: new ManualClock(T0 + N * SECOND) });
  await fill(store, N, event);
  await store.indexes.createIndex({ name: 'by_amount', fields: ['payload.amount'] });
});

afterAll(async () => {
  await store.close();
});

function operators(node: ExplainNode): string[] {
  return [node.operator, ...node.children.flatMap(operators)];
}

describe('estimates', () => {
  const exact: [string, (q: AdvancedQueryBuilder) => AdvancedQueryBuilder, (r: Row) => boolean, string][] = [
    ['type equality', (q) => q.where('type', 'eq', 'T3'), (r) => r.type === 'T3', 'type'],
    [
      'type in',
      (q) => q.where('type', 'in', ['T1', 'T2', 'none']),
      (r) => ['T1', 'T2'].includes(r.type),
      'type',
    ],
    ['a missing type', (q) => q.where('type', 'eq', 'none'), () => false, 'type'],
    [
      'aggregate equality',
      (q) => q.where('aggregateId', 'eq', 'agg-7'),
      (r) => r.aggregateId === 'agg-7',
      'aggregate',
    ],
    ['tag equality', (q) => q.where('tags.tenant', 'eq', 't7'), (r) => r.tenant === 't7', 'tags.tenant'],
    [
      'tag in',
      (q) => q.where('tags.tenant', 'in', ['t1', 't2', 't3']),
      (r) => ['t1', 't2', 't3'].includes(r.tenant),
      'tags.tenant',
    ],
    [
      'a timestamp range [a, b)',
      (q) => q.where('timestamp', 'gte', T0 + 1000 * SECOND).where('timestamp', 'lt', T0 + 1400 * SECOND),
      (r) => r.timestamp >= T0 + 1000 * SECOND && r.timestamp < T0 + 1400 * SECOND,
      'timestamp',
    ],
    [
      'a timestamp between (inclusive, across late events)',
      (q) => q.where('timestamp', 'between', T0 + 2950 * SECOND, T0 + 3150 * SECOND),
      (r) => r.timestamp >= T0 + 2950 * SECOND && r.timestamp <= T0 + 3150 * SECOND,
      'timestamp',
    ],
    [
      'a timestamp upper bound',
      (q) => q.where('timestamp', 'lte', T0 + 200 * SECOND),
      (r) => r.timestamp <= T0 + 200 * SECOND,
      'timestamp',
    ],
    [
      'btree equality',
      (q) => q.where('payload.amount', 'eq', amounts[17]!),
      (r) => r.amount === amounts[17],
      'by_amount',
    ],
    [
      'btree in',
      (q) => q.where('payload.amount', 'in', [1, 2, 3]),
      (r) => [1, 2, 3].includes(r.amount),
      'by_amount',
    ],
    [
      'btree range (gt, lt)',
      (q) => q.where('payload.amount', 'gt', 100).where('payload.amount', 'lt', 150),
      (r) => r.amount > 100 && r.amount < 150,
      'by_amount',
    ],
    [
      'btree between',
      (q) => q.where('payload.amount', 'between', 500, 520),
      (r) => r.amount >= 500 && r.amount <= 520,
      'by_amount',
    ],
    ['btree lower bound', (q) => q.where('payload.amount', 'gte', 960), (r) => r.amount >= 960, 'by_amount'],
  ];

  it.each(exact)('is exact for %s', async (_, build, predicate, index) => {
    const query = build(store.query());
    const actual = count(predicate);
    const explanation = await store.explain(query, { analyze: true });
    expect(explanation.indexesUsed).toEqual([index]);
    expect(explanation.plan).toMatchObject({
      operator: 'Filter',
      estimatedRows: actual,
      actualRows: actual,
      children: [{ operator: 'IndexLookup', index, estimatedRows: actual, actualRows: actual }],
    });
    expect(explanation.estimatedRows).toBe(actual);
    expect(await sameAsScan(query)).toHaveLength(actual);
  });

  const pairs: [string, (q: AdvancedQueryBuilder) => AdvancedQueryBuilder, (r: Row) => boolean][] = [
    [
      'type and a payload range',
      (q) => q.where('type', 'eq', 'T3').where('payload.score', 'lt', 50),
      (r) => r.type === 'T3' && r.score < 50,
    ],
    [
      'tenant and a payload bound',
      (q) => q.where('tags.tenant', 'eq', 't7').where('payload.score', 'gte', 40),
      (r) => r.tenant === 't7' && r.score >= 40,
    ],
    [
      'type and a tag',
      (q) => q.where('type', 'eq', 'T5').where('tags.region', 'eq', 'eu'),
      (r) => r.type === 'T5' && r.region === 'eu',
    ],
    [
      'a tag and an indexed range',
      (q) => q.where('tags.region', 'eq', 'us').where('payload.amount', 'lt', 100),
      (r) => r.region === 'us' && r.amount < 100,
    ],
    [
      'two payload ranges',
      (q) => q.where('payload.score', 'lt', 20).where('payload.amount', 'gte', 600),
      (r) => r.score < 20 && r.amount >= 600,
    ],
    [
      'an aggregate and a time range',
      (q) => q.where('aggregateId', 'eq', 'agg-3').where('timestamp', 'lt', T0 + 3000 * SECOND),
      (r) => r.aggregateId === 'agg-3' && r.timestamp < T0 + 3000 * SECOND,
    ],
    // A sequence bound is pushed into the lookup: its rows are the lookup's share of that run.
    [
      'type and a sequence bound',
      (q) => q.where('type', 'eq', 'T3').where('sequence', 'lte', 1000),
      (r) => r.type === 'T3' && r.sequence <= 1000,
    ],
    [
      'tenant and a sequence bound',
      (q) => q.where('tags.tenant', 'eq', 't3').where('sequence', 'gt', 4000),
      (r) => r.tenant === 't3' && r.sequence > 4000,
    ],
  ];

  it.each(pairs)('is within 2x for %s', async (_, build, predicate) => {
    const query = build(store.query());
    const actual = count(predicate);
    expect(actual).toBeGreaterThan(20);
    const explanation = await store.explain(query, { analyze: true });
    const filter = explanation.plan;
    expect(filter.operator).toBe('Filter');
    expect(filter.actualRows).toBe(actual);
    expect(filter.estimatedRows).toBeGreaterThanOrEqual(actual / 2);
    expect(filter.estimatedRows).toBeLessThanOrEqual(actual * 2);
    expect(await sameAsScan(query)).toHaveLength(actual);
  });

  it('cuts the Limit estimate to the limit and offset, but not the Filter estimate', async () => {
    const query = store.query().where('type', 'eq', 'T3').limit(10).offset(5);
    const explanation = await store.explain(query);
    expect(operators(explanation.plan)).toEqual(['Limit', 'Filter', 'IndexLookup']);
    expect(explanation.plan.estimatedRows).toBe(15);
    expect(explanation.plan.children[0]!.estimatedRows).toBe(count((r) => r.type === 'T3'));
  });
});

describe('analyzeField', () => {
  it('is exact for a small store: presence, distinct values, histogram', async () => {
    const small = await openEventStore({ clock: new ManualClock(T0) });
    try {
      await fill(small, 200, (i) => ({
        aggregateId: `s-${i % 4}`,
        type: `K${i % 5}`,
        tags: { region: ['eu', 'us', 'ap'][i % 3]! },
        payload: {
          k: i % 40,
          ...(i % 4 === 0 ? { half: i } : {}),
          mixed: i % 3 === 0 ? true : i % 3 === 1 ? i : `s${i}`,
        },
      }));
      const k = await small.indexes.analyzeField('payload.k');
      expect(k).toMatchObject({
        field: 'payload.k',
        sampledRows: 200,
        exact: true,
        present: 1,
        distinctValues: 40,
      });
      expectSaneHistogram(k.histogram, 1);
      expect(k.histogram).toHaveLength(10);
      expect(k.histogram[0]).toMatchObject({ from: 0, to: 3, share: 0.1 });
      expect(k.histogram.at(-1)).toMatchObject({ from: 36, to: 39, share: 0.1 });

      const half = await small.indexes.analyzeField('payload.half');
      expect(half).toMatchObject({ present: 0.25, distinctValues: 50, exact: true });
      expectSaneHistogram(half.histogram, 0.25);

      expect(await small.indexes.analyzeField('type')).toMatchObject({ present: 1, distinctValues: 5 });
      expect(await small.indexes.analyzeField('tags.region')).toMatchObject({
        present: 1,
        distinctValues: 3,
      });
      const region = await small.indexes.analyzeField('tags.region');
      expect(region.histogram.map((b) => [b.from, b.to])).toEqual(expect.arrayContaining([['ap', 'ap']]));

      const missing = await small.indexes.analyzeField('payload.nothing');
      expect(missing).toMatchObject({ present: 0, distinctValues: 0, histogram: [] });

      // Booleans sort before numbers, numbers before strings.
      const mixed = await small.indexes.analyzeField('payload.mixed');
      expect(mixed.present).toBe(1);
      expect(mixed.histogram[0]!.from).toBe(true);
      expect(typeof mixed.histogram.at(-1)!.to).toBe('string');
      expectSaneHistogram(mixed.histogram, 1);

      // Re-drawn as the store grows.
      await fill(small, 100, (i) => ({ aggregateId: 'x', type: 'K9', payload: { k: 40 + (i % 10) } }), 200);
      const grown = await small.indexes.analyzeField('payload.k');
      expect(grown).toMatchObject({ sampledRows: 300, exact: true, distinctValues: 50 });
    } finally {
      await small.close();
    }
  });

  it('samples a large store', async () => {
    const opt = await store.indexes.analyzeField('payload.opt');
    expect(opt.exact).toBe(false);
    expect(opt.sampledRows).toBe(1024);
    expect(opt.present).toBeGreaterThan(0.45);
    expect(opt.present).toBeLessThan(0.55);
    expect(opt.distinctValues).toBe(7);
    expectSaneHistogram(opt.histogram, opt.present);
    expect((await store.indexes.analyzeField('type')).distinctValues).toBe(20);
    const amount = await store.indexes.analyzeField('payload.amount');
    expect(amount.present).toBe(1);
    expect(amount.histogram[0]!.from).toBeLessThan(20);
    expect(amount.histogram.at(-1)!.to).toBeGreaterThan(980);
  });
});

function expectSaneHistogram(
  histogram: { from: unknown; to: unknown; share: number }[],
  present: number,
): void {
  expect(histogram.length).toBeLessThanOrEqual(10);
  const total = histogram.reduce((sum, bucket) => sum + bucket.share, 0);
  expect(total).toBeCloseTo(present, 9);
  const rank = (v: unknown) => (typeof v === 'boolean' ? 0 : typeof v === 'number' ? 1 : 2);
  const le = (a: unknown, b: unknown) =>
    rank(a) < rank(b) || (rank(a) === rank(b) && (a as number) <= (b as number));
  for (const [i, bucket] of histogram.entries()) {
    expect(bucket.share).toBeGreaterThan(0);
    expect(le(bucket.from, bucket.to), JSON.stringify(bucket)).toBe(true);
    const next = histogram[i + 1];
    if (next !== undefined) expect(le(bucket.to, next.from), JSON.stringify([bucket, next])).toBe(true);
  }
}

describe('intersection', () => {
  const selective = () =>
    store
      .query()
      .where('type', 'eq', 'T3')
      .where('tags.tenant', 'eq', 't7')
      .where('payload.score', 'gte', 10);
  const expected = () =>
    rows.filter((r) => r.type === 'T3' && r.tenant === 't7' && r.score >= 10).map((r) => r.sequence);

  it('intersects two selective lookups on different fields when the filter reads records', async () => {
    const query = selective();
    const explanation = await store.explain(query, { analyze: true });
    expect(explanation.indexesUsed).toEqual(['tags.tenant', 'type']);
    expect(explanation.considered[0]!.index).toBe('tags.tenant & type');
    const both = count((r) => r.type === 'T3' && r.tenant === 't7');
    expect(explanation.plan).toMatchObject({
      operator: 'Filter',
      actualRows: expected().length,
      children: [
        {
          operator: 'Intersect',
          actualRows: both,
          children: [
            { operator: 'IndexLookup', index: 'tags.tenant', estimatedRows: count((r) => r.tenant === 't7') },
            { operator: 'IndexLookup', index: 'type', estimatedRows: count((r) => r.type === 'T3') },
          ],
        },
      ],
    });
    // Estimated assuming independence: here the fields are exactly independent.
    expect(explanation.plan.children[0]!.estimatedRows).toBe(both);
    expect(explanation.text).toContain('Intersect');

    const before = await usage(store);
    expect(await sameAsScan(query)).toEqual(expected());
    const after = await usage(store);
    // Both lookups count as used (the forced scan uses neither).
    expect(after['tags.tenant']).toBe((before['tags.tenant'] ?? 0) + 1);
    expect(after.type).toBe((before.type ?? 0) + 1);
  });

  it('is cached like any path, and re-built for new constants', async () => {
    const query = (type: string, tenant: string) =>
      store
        .query()
        .where('type', 'eq', type)
        .where('tags.tenant', 'eq', tenant)
        .where('payload.score', 'gte', 10)
        .select(['sequence']);
    const run = async (type: string, tenant: string) => {
      const got = (await query(type, tenant).execute()).map((r) => (r as { sequence: number }).sequence);
      expect(got).toEqual(
        rows.filter((r) => r.type === type && r.tenant === tenant && r.score >= 10).map((r) => r.sequence),
      );
    };
    await run('T1', 't1');
    expect((await store.explain(query('T1', 't1'))).indexesUsed).toEqual(['tags.tenant', 'type']);
    expect(await cacheDelta(store, () => run('T3', 't7'))).toMatchObject({ hits: 1, invalidations: 0 });
    expect(await cacheDelta(store, () => run('T19', 't49'))).toMatchObject({ hits: 1, invalidations: 0 });
    // An unknown tenant: its empty posting list alone is the cheapest path, and the planner
    // drops the cached intersection for it (cost ties go to the simpler path).
    expect((await store.explain(query('T0', 'none'))).indexesUsed).toEqual(['tags.tenant']);
    expect(await cacheDelta(store, () => run('T0', 'none'))).toMatchObject({ misses: 1, invalidations: 1 });
  });

  it('intersects a user btree with a built-in lookup', async () => {
    const amount = amounts[123]!;
    const query = store
      .query()
      .where('payload.amount', 'eq', amount)
      .where('type', 'eq', rows[123]!.type)
      .where('payload.score', 'gte', 0);
    const explanation = await store.explain(query);
    expect(explanation.indexesUsed).toEqual(['by_amount', 'type']);
    expect(operators(explanation.plan)).toEqual(['Filter', 'Intersect', 'IndexLookup', 'IndexLookup']);
    expect(await sameAsScan(query)).toEqual(
      rows.filter((r) => r.amount === amount && r.type === rows[123]!.type).map((r) => r.sequence),
    );
  });

  it('can be forced by its `a & b` name, even where the planner would not pick it', async () => {
    // Not selective: the planner scans...
    const wide = store
      .query()
      .where('tags.region', 'eq', 'eu')
      .where('payload.amount', 'lt', 900)
      .where('payload.score', 'gte', 5);
    expect((await store.explain(wide)).indexesUsed).not.toEqual(['by_amount', 'tags.region']);
    // ...unless told to intersect. Names come smaller list first.
    const forced = wide.hint({ forceIndex: ['tags.region & by_amount'] });
    const explanation = await store.explain(forced);
    expect(explanation.indexesUsed).toEqual(['tags.region', 'by_amount']);
    expect(explanation.considered.map((c) => c.index)).toEqual(['tags.region & by_amount']);
    const want = rows
      .filter((r) => r.region === 'eu' && r.amount < 900 && r.score >= 5)
      .map((r) => r.sequence);
    expect(seqs(await forced.execute())).toEqual(want);
    expect(seqs(await forced.execute())).toEqual(want); // from the plan cache

    const selected = selective().hint({ forceIndex: ['tags.tenant & type'] });
    expect(seqs(await selected.execute())).toEqual(expected());
  });
});
