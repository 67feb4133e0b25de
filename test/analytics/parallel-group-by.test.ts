/**
 * The group-by folded on the scan workers (parallel-group-by.ts): over several column chunks, with
 * gaps in the rows (a filter), field columns of strings (some rows missing) and of numbers (some
 * not numbers), fixed buckets, exact percentiles and every mergeable aggregate, the workers' answer
 * equals the main thread's (hints.parallel false) and a plain JavaScript oracle's; EXPLAIN ANALYZE
 * says where it folded; shapes the workers cannot fold (calendar buckets, stddev) fold on the main
 * thread and say so; and a share whose query stopped gives up.
 *
 * The group-by property test (test/property/analytics-query.property.ts) also runs every random
 * query with hints.parallel true, over small inputs.
 */
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { agg, f, ManualClock, openEventStore, type EventStore, type NewEvent } from '../../src/index.js';
import { CHUNK_ROWS } from '../../src/storage/embedded/table/chunked-column.js';
import { EventTable } from '../../src/storage/embedded/table/event-table.js';
import { ParallelScanPool } from '../../src/storage/embedded/exec/parallel-scan.js';
import { randomInt, seededRandom } from '../support/random.js';

const T0 = Date.UTC(2024, 5, 1);
const HOUR = 3_600_000;
const EVENTS = 2 * CHUNK_ROWS + 12_345;
const WORKERS = Math.min(2, availableParallelism());
const REGIONS = ['eu', 'us', 'ap'];

type Row = Record<string, unknown>;

interface Spec {
  type: string;
  timestamp: number;
  region: string | undefined;
  ms: number | string | undefined;
}

const random = seededRandom(16);
const specs: Spec[] = Array.from({ length: EVENTS }, (_, i) => ({
  type: `T${randomInt(random, 0, 4)}`,
  timestamp: T0 + Math.floor((i / EVENTS) * 30 * HOUR) + randomInt(random, 0, 600_000),
  region: randomInt(random, 0, 9) === 0 ? undefined : REGIONS[randomInt(random, 0, 2)],
  ms: randomInt(random, 0, 19) === 0 ? 'slow' : randomInt(random, 0, 9) === 0 ? undefined : random() * 1000,
}));

const toEvent = (spec: Spec, i: number): NewEvent => ({
  aggregateId: `a${i % 97}`,
  type: spec.type,
  timestamp: spec.timestamp,
  ...(spec.region === undefined ? {} : { tags: { region: spec.region } }),
  payload: spec.ms === undefined ? {} : { ms: spec.ms },
});

let store: EventStore;

beforeAll(async () => {
  store = await openEventStore({ clock: new ManualClock(T0 + 40 * HOUR) });
  const events = specs.map(toEvent);
  for (let i = 0; i < events.length; i += 20_000) await store.append(events.slice(i, i + 20_000));
}, 60_000);

afterAll(async () => {
  await store.close();
});

function percentileCont(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = p * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.min(low + 1, sorted.length - 1);
  return (sorted[low] as number) + ((sorted[high] as number) - (sorted[low] as number)) * (rank - low);
}

/** The oracle: per hour bucket and region, over the events of types T0..T2. */
function oracle(): Row[] {
  const groups = new Map<string, { bucket: number; region: string | null; events: Spec[] }>();
  for (const spec of specs) {
    if (!['T0', 'T1', 'T2'].includes(spec.type)) continue;
    const bucket = Math.floor(spec.timestamp / HOUR) * HOUR;
    const region = spec.region ?? null;
    const key = `${bucket}/${region}`;
    const group = groups.get(key) ?? { bucket, region, events: [] };
    group.events.push(spec);
    groups.set(key, group);
  }
  return [...groups.values()].map(({ bucket, region, events }) => {
    const numbers = events.flatMap((e) => (typeof e.ms === 'number' ? [e.ms] : [])).sort((a, b) => a - b);
    const sum = numbers.reduce((a, b) => a + b, 0);
    return {
      bucket,
      'tags.region': region,
      n: events.length,
      sum: numbers.length === 0 ? null : sum,
      avg: numbers.length === 0 ? null : sum / numbers.length,
      min: numbers.length === 0 ? null : numbers[0],
      max: numbers.length === 0 ? null : numbers[numbers.length - 1],
      p50: percentileCont(numbers, 0.5),
      p95: percentileCont(numbers, 0.95),
      median: percentileCont(numbers, 0.5),
    };
  });
}

const byKey = (rows: Row[]) =>
  [...rows].sort(
    (a, b) =>
      (a.bucket as number) - (b.bucket as number) ||
      String(a['tags.region']).localeCompare(String(b['tags.region'])),
  );

/** Equal, numbers within a relative 1e-9 (the shares' sums add in another order than one pass's). */
function expectSame(actual: Row[], expected: Row[]): void {
  const [got, want] = [byKey(actual), byKey(expected)];
  expect(got.length).toBe(want.length);
  got.forEach((row, i) => {
    const wanted = want[i] as Row;
    expect(Object.keys(row).sort()).toEqual(Object.keys(wanted).sort());
    for (const [key, value] of Object.entries(wanted)) {
      const v = row[key];
      if (typeof v === 'number' && typeof value === 'number') {
        expect(Math.abs(v - value)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(value)));
      } else expect(v).toEqual(value);
    }
  });
}

const grouped = (parallel: boolean) =>
  store
    .query()
    .where(f.in('type', ['T0', 'T1', 'T2']))
    .timeBucket('1h')
    .groupBy(['tags.region'])
    .aggregate({
      n: agg.count(),
      sum: agg.sum('payload.ms'),
      avg: agg.avg('payload.ms'),
      min: agg.min('payload.ms'),
      max: agg.max('payload.ms'),
      p50: agg.percentile('payload.ms', 0.5),
      p95: agg.percentile('payload.ms', 0.95),
      median: agg.median('payload.ms'),
    })
    .hint({ parallel });

describe('a group-by folded on the scan workers', () => {
  test.skipIf(WORKERS < 2)(
    'equals the main thread’s fold and the oracle, and EXPLAIN ANALYZE says where it ran',
    async () => {
      const serial = (await grouped(false).execute()) as Row[];
      const parallel = (await grouped(true).execute()) as Row[];
      const expected = oracle();
      expectSame(serial, expected);
      expectSame(parallel, expected);
      // Counts, minima, maxima and percentiles are the serial fold's exactly.
      const exact = (rows: Row[]) => byKey(rows).map(({ sum: _sum, avg: _avg, ...rest }) => rest);
      expect(exact(parallel)).toEqual(exact(serial));

      const analyzed = await store.explain(grouped(true), { analyze: true });
      expect(analyzed.text).toContain(`folded on ${WORKERS} workers`);
      const planned = await store.explain(grouped(true));
      expect(planned.text).toContain(`parallel on ${WORKERS} workers`);
      const forbidden = await store.explain(grouped(false), { analyze: true });
      expect(forbidden.text).not.toContain('workers');
    },
  );

  test.skipIf(WORKERS < 2)(
    'keys from dictionaries, sequence and version numbers, no key at all',
    async () => {
      for (const [groupBy, field] of [
        [['type', 'aggregateId'], 'version'],
        [[], 'sequence'],
        [['type'], 'timestamp'],
      ] as const) {
        const query = (parallel: boolean) =>
          store
            .query()
            .groupBy([...groupBy])
            .aggregate({
              n: agg.count(),
              lo: agg.min(field),
              hi: agg.max(field),
              p: agg.percentile(field, 0.9),
              ap: agg.approxPercentile(field, 0.9),
              ap5: agg.approxPercentile(field, 0.5),
            })
            .hint({ parallel });
        const serial = (await query(false).execute()) as Row[];
        const parallel = (await query(true).execute()) as Row[];
        expect(parallel).toEqual(serial);
        expect((await store.explain(query(true), { analyze: true })).text).toContain(
          `folded on ${WORKERS} workers`,
        );
      }
    },
  );

  test.skipIf(WORKERS < 2)(
    'hopping windows: each event in every window holding it, on the workers as on the main thread',
    async () => {
      const [size, every] = [90 * 60_000, HOUR];
      const windowed = (parallel: boolean) =>
        store
          .query()
          .where(f.eq('type', 'T1'))
          .timeWindow({ size: '90m', every: '1h' })
          .groupBy(['tags.region'])
          .aggregate({ n: agg.count(), max: agg.max('payload.ms'), p90: agg.percentile('payload.ms', 0.9) })
          .hint({ parallel });
      const expected = new Map<string, { key: Row; values: number[]; n: number }>();
      for (const spec of specs) {
        if (spec.type !== 'T1') continue;
        const t = spec.timestamp;
        for (let start = Math.floor(t / every) * every; start > t - size; start -= every) {
          const key = { windowStart: start, windowEnd: start + size, 'tags.region': spec.region ?? null };
          const group = expected.get(JSON.stringify(key)) ?? { key, values: [] as number[], n: 0 };
          group.n += 1;
          if (typeof spec.ms === 'number') group.values.push(spec.ms);
          expected.set(JSON.stringify(key), group);
        }
      }
      const oracleRows = [...expected.values()].map(({ key, values, n }) => {
        const sorted = [...values].sort((a, b) => a - b);
        return { ...key, n, max: sorted.at(-1) ?? null, p90: percentileCont(sorted, 0.9) };
      });
      const order = (rows: Row[]) =>
        [...rows].sort(
          (a, b) =>
            (a.windowStart as number) - (b.windowStart as number) ||
            String(a['tags.region']).localeCompare(String(b['tags.region'])),
        );
      const serial = (await windowed(false).execute()) as Row[];
      expect(order(serial)).toEqual(order(oracleRows));
      expect(order((await windowed(true).execute()) as Row[])).toEqual(order(serial));
      const analyzed = await store.explain(windowed(true), { analyze: true });
      expect(analyzed.text).toContain('group by window(90m every 1h), tags.region');
      expect(analyzed.text).toContain(`folded on ${WORKERS} workers`);
      expect(analyzed.text).not.toContain('Window');
    },
  );

  test.skipIf(WORKERS < 2)(
    'calendar buckets and stddev fold on the main thread, and EXPLAIN ANALYZE says so',
    async () => {
      for (const query of [
        store.query().timeBucket('1mo').aggregate({ n: agg.count() }).hint({ parallel: true }),
        store
          .query()
          .groupBy(['type'])
          .aggregate({ s: agg.stddev('payload.ms') })
          .hint({ parallel: true }),
      ]) {
        const analyzed = await store.explain(query, { analyze: true });
        expect(analyzed.text).toContain('folded on the main thread');
        expect(await query.execute()).toEqual(await query.hint({ parallel: false }).execute());
      }
    },
  );
});

describe('patterns and funnels matched on the scan workers', () => {
  test.skipIf(WORKERS < 2)('equal the main thread’s, and EXPLAIN ANALYZE says where they ran', async () => {
    for (const absent of [false, true]) {
      const pattern = (parallel: boolean) =>
        store
          .query()
          .pattern({
            partitionBy: 'aggregateId',
            steps: [
              { name: 'a', where: f.eq('type', 'T0') },
              { name: 'b', where: f.eq('type', 'T1'), ...(absent ? { absent: true as const } : {}) },
            ],
            within: '10m',
          })
          .hint({ parallel });
      const serial = await pattern(false).execute();
      expect(serial.length).toBeGreaterThan(100);
      expect(await pattern(true).execute()).toEqual(serial);
      expect((await store.explain(pattern(true), { analyze: true })).text).toContain(
        `matched on ${WORKERS} workers`,
      );
    }
    for (const mode of ['sequential', 'strict', 'any'] as const) {
      const funnel = (parallel: boolean) =>
        store.analytics.funnel({
          partitionBy: 'tags.region',
          steps: [f.eq('type', 'T0'), f.eq('type', 'T1'), f.eq('type', 'T2')],
          within: '5m',
          mode,
          hints: { parallel },
        });
      const serial = await funnel(false);
      expect(serial.steps[0]?.count).toBe(3);
      expect(await funnel(true)).toEqual(serial);
    }
  });
});

test('a share whose query stopped gives up with an error the query never sees', async () => {
  const table = new EventTable();
  for (let i = 0; i < 5000; i++) table.addRow('a', 'T', T0 + i, i + 1, 0, 0, {});
  const pool = new ParallelScanPool(table, 1);
  try {
    const rows = Int32Array.from({ length: 5000 }, (_, i) => i);
    const task = {
      keys: [{ kind: 'codes' as const, key: 'typeId', cardinality: 1 }],
      aggregates: [
        { kind: 'simple' as const, fold: 'max', numbers: { kind: 'column' as const, key: 'timestamp' } },
      ],
      groups: 1,
    };
    const running = new Int32Array(new SharedArrayBuffer(4));
    const partial = await pool.group(task, ['typeId', 'timestamp'], rows.slice(), running);
    expect(Array.from(partial.present)).toEqual([1]);
    expect(partial.folds[0]).toMatchObject({
      n: new Float64Array([5000]),
      acc: new Float64Array([T0 + 4999]),
    });
    const stopped = new Int32Array(new SharedArrayBuffer(4));
    Atomics.store(stopped, 0, 1);
    await expect(pool.group(task, ['typeId', 'timestamp'], rows.slice(), stopped)).rejects.toThrow(/stopped/);
  } finally {
    await pool.close();
  }
});
