/**
 * Group-by queries through store.query() against a plain JavaScript oracle over the appended
 * events: random events (out-of-order timestamps, missing and non-numeric payload fields, a tag on
 * some events only), a random filter, random group keys (core fields, a tag, a payload field, a
 * time bucket of random width, some in a time zone, or hopping windows of random size and hop) and
 * random aggregates; every output row must
 * equal the oracle's. Both the typed-array group-by (buckets, type, aggregateId with
 * count/sum/avg/min/max over numeric columns), its fold on the scan workers (hints.parallel: true)
 * and the general one are reached.
 *
 * `analyticsQueryProperties(factory)` runs them against one engine.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  agg,
  aggregateEvents,
  bucketStart,
  f,
  ManualClock,
  type AggregateSpec,
  type EventStore,
  type NewEvent,
  type StoredEvent,
} from '../../src/index.js';
import type { StoreFactory } from '../contract/factory.js';
import { prepareStore } from '../support/property-store.js';

const T0 = Date.UTC(2024, 2, 30); // a daylight-saving weekend in Europe
const RUNS = Number(process.env.PROPERTY_RUNS ?? 60);
const TYPES = ['T0', 'T1', 'T2', 'T3'];
const KEYS = ['type', 'aggregateId', 'tags.color', 'payload.kind'] as const;
const WIDTHS = ['1m', '15m', '1h', '1d', '1w', '1mo'];
const ZONES = [undefined, undefined, 'Europe/Berlin', 'America/New_York'];
const NUMERIC_FIELDS = ['payload.delay', 'timestamp', 'version', 'sequence'];

const eventArb: fc.Arbitrary<NewEvent> = fc
  .record({
    aggregate: fc.integer({ min: 0, max: 5 }),
    type: fc.constantFrom(...TYPES),
    minutes: fc.integer({ min: 0, max: 4 * 24 * 60 }),
    color: fc.option(fc.constantFrom('red', 'blue'), { nil: undefined }),
    delay: fc.oneof(
      fc.integer({ min: -50, max: 500 }),
      fc.double({ min: -1e3, max: 1e3, noNaN: true }),
      fc.constant('late'),
      fc.constant(undefined),
    ),
    kind: fc.option(fc.constantFrom('a', 'b', 1), { nil: undefined }),
  })
  .map((r) => ({
    aggregateId: `a${r.aggregate}`,
    type: r.type,
    timestamp: new Date(T0 + r.minutes * 60_000),
    ...(r.color === undefined ? {} : { tags: { color: r.color } }),
    payload: {
      ...(r.delay === undefined ? {} : { delay: r.delay }),
      ...(r.kind === undefined ? {} : { kind: r.kind }),
    },
  }));

const aggregateArb: fc.Arbitrary<[string, AggregateSpec]> = fc.oneof(
  fc.constant<[string, AggregateSpec]>(['n', agg.count()]),
  fc
    .constantFrom(...NUMERIC_FIELDS)
    .chain((field) =>
      fc.constantFrom<[string, AggregateSpec]>(
        ['s', agg.sum(field)],
        ['a', agg.avg(field)],
        ['lo', agg.min(field)],
        ['hi', agg.max(field)],
        ['c', agg.count(field)],
      ),
    ),
  fc.constantFrom<[string, AggregateSpec]>(
    ['med', agg.median('payload.delay')],
    ['p9', agg.percentile('payload.delay', 0.9)],
    ['first', agg.first('payload.delay')],
    ['last', agg.last('type')],
    ['kinds', agg.countDistinct('payload.kind')],
    ['sd', agg.stddev('payload.delay')],
    ['ap', agg.approxPercentile('payload.delay', 0.9)],
    ['ap5', agg.approxPercentile('payload.delay', 0.5)],
    ['var', agg.variance('timestamp')],
  ),
);

const MINUTE = 60_000;
/** Hopping windows: tumbling, overlapping (size a multiple of the hop or not), and gapped (hop > size). */
const windowArb = fc.record({
  size: fc.constantFrom(10, 60, 90, 24 * 60).map((minutes) => minutes * MINUTE),
  every: fc.constantFrom(10, 25, 60, 120).map((minutes) => minutes * MINUTE),
});

const queryArb = fc
  .record({
    types: fc.option(fc.subarray(TYPES, { minLength: 1 }), { nil: undefined }),
    keys: fc.subarray([...KEYS]),
    bucket: fc.option(fc.record({ width: fc.constantFrom(...WIDTHS), timezone: fc.constantFrom(...ZONES) }), {
      nil: undefined,
    }),
    window: fc.option(windowArb, { nil: undefined, freq: 3 }),
    aggregates: fc.uniqueArray(aggregateArb, { minLength: 1, maxLength: 4, selector: ([alias]) => alias }),
    // hints.parallel: true folds on the scan workers however few the rows (parallel-group-by.ts).
    parallel: fc.constantFrom(false, false, false, true),
  })
  // A query takes a time bucket or a window, not both.
  .map((query) => (query.bucket === undefined ? query : { ...query, window: undefined }));
type Query = typeof queryArb extends fc.Arbitrary<infer Q> ? Q : never;

/** A field of a stored event as the query model reads it: timestamp as epoch ms, undefined when missing. */
function read(event: StoredEvent, field: string): unknown {
  if (field === 'timestamp') return event.timestamp.getTime();
  if (field.startsWith('tags.')) return (event.tags as Record<string, unknown>)[field.slice(5)];
  if (field.startsWith('payload.')) return (event.payload as Record<string, unknown>)[field.slice(8)];
  return (event as unknown as Record<string, unknown>)[field];
}

const numbers = (events: StoredEvent[], field: string) =>
  events.map((e) => read(e, field)).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = p * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return (sorted[low] as number) + ((sorted[high] as number) - (sorted[low] as number)) * (rank - low);
}

function oracleAggregate(spec: AggregateSpec, events: StoredEvent[]): unknown {
  const field = 'field' in spec ? (spec.field ?? '') : '';
  const values = numbers(events, field);
  const byTime = [...events].sort(
    (a, b) => a.timestamp.getTime() - b.timestamp.getTime() || a.sequence - b.sequence,
  );
  switch (spec.kind) {
    case 'count':
      return events.length;
    case 'countField': {
      // count(field) counts present values; like the other aggregates it is null when there are none.
      const present = events.filter((e) => read(e, field) !== undefined && read(e, field) !== null).length;
      return present === 0 ? null : present;
    }
    case 'sum':
      return values.length === 0 ? null : values.reduce((a, b) => a + b, 0);
    case 'avg':
      return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
    case 'min':
      return values.length === 0 ? null : Math.min(...values);
    case 'max':
      return values.length === 0 ? null : Math.max(...values);
    case 'median':
      return percentile(values, 0.5);
    case 'percentile':
      return percentile(values, spec.p);
    case 'stddev':
    case 'variance': {
      if (values.length < 2) return null;
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1);
      return spec.kind === 'variance' ? variance : Math.sqrt(variance);
    }
    case 'approxPercentile':
      // The sketch is the library's own (its error bound is tested in test/analytics/): here the
      // store's answer must be exactly the sketch's over the same events.
      return aggregateEvents(spec, events);
    case 'countDistinct': {
      const present = events.map((e) => read(e, field)).filter((v) => v !== undefined && v !== null);
      return present.length === 0 ? null : new Set(present.map((v) => JSON.stringify(v))).size;
    }
    case 'first':
    case 'last': {
      const present = byTime.filter((e) => read(e, field) !== undefined && read(e, field) !== null);
      const event = spec.kind === 'first' ? present[0] : present[present.length - 1];
      return event === undefined ? null : read(event, field);
    }
    default:
      throw new Error(`no oracle for ${spec.kind}`);
  }
}

function oracle(all: StoredEvent[], query: Query): Record<string, unknown>[] {
  const events = all.filter((e) => query.types === undefined || query.types.includes(e.type));
  const groups = new Map<string, { key: Record<string, unknown>; events: StoredEvent[] }>();
  for (const event of events) {
    const t = event.timestamp.getTime();
    // Every window [start, start + size) with start a multiple of the hop that holds the event.
    const windows: Record<string, unknown>[] = [];
    if (query.window) {
      const { size, every } = query.window;
      for (let start = Math.floor(t / every) * every; start > t - size; start -= every)
        windows.push({ windowStart: start, windowEnd: start + size });
    } else windows.push({});
    for (const window of windows) {
      const key: Record<string, unknown> = { ...window };
      if (query.bucket) {
        key.bucket = bucketStart(t, query.bucket.width, {
          ...(query.bucket.timezone === undefined ? {} : { timezone: query.bucket.timezone }),
        });
      }
      for (const field of query.keys) key[field] = read(event, field) ?? null;
      const text = JSON.stringify(key);
      const group = groups.get(text) ?? { key, events: [] };
      group.events.push(event);
      groups.set(text, group);
    }
  }
  if (groups.size === 0 && query.keys.length === 0 && !query.bucket && !query.window)
    groups.set('{}', { key: {}, events: [] });
  return [...groups.values()].map(({ key, events: members }) => ({
    ...key,
    ...Object.fromEntries(query.aggregates.map(([alias, spec]) => [alias, oracleAggregate(spec, members)])),
  }));
}

function run(store: EventStore, query: Query): Promise<Record<string, unknown>[]> {
  let builder = query.parallel ? store.query().hint({ parallel: true }) : store.query();
  if (query.types !== undefined) builder = builder.where(f.in('type', query.types));
  let grouped = query.bucket
    ? builder.timeBucket(
        query.bucket.width,
        query.bucket.timezone === undefined ? {} : { timezone: query.bucket.timezone },
      )
    : query.window
      ? builder.timeWindow(query.window)
      : builder;
  if (query.keys.length > 0) grouped = grouped.groupBy(query.keys);
  return grouped.aggregate(Object.fromEntries(query.aggregates)).execute() as Promise<
    Record<string, unknown>[]
  >;
}

const sortKey = (row: Record<string, unknown>, keys: string[]) => JSON.stringify(keys.map((k) => row[k]));

function expectSameRows(
  actual: Record<string, unknown>[],
  expected: Record<string, unknown>[],
  query: Query,
): void {
  const keys = [
    ...(query.bucket ? ['bucket'] : []),
    ...(query.window ? ['windowStart', 'windowEnd'] : []),
    ...query.keys,
  ];
  const order = (rows: Record<string, unknown>[]) =>
    [...rows].sort((a, b) => sortKey(a, keys).localeCompare(sortKey(b, keys)));
  const [got, want] = [order(actual), order(expected)];
  expect(got.map((row) => sortKey(row, keys))).toEqual(want.map((row) => sortKey(row, keys)));
  got.forEach((row, i) => {
    const wanted = want[i] as Record<string, unknown>;
    expect(Object.keys(row).sort()).toEqual(Object.keys(wanted).sort());
    for (const [alias] of query.aggregates) {
      const [a, b] = [row[alias], wanted[alias]];
      if (typeof a === 'number' && typeof b === 'number') {
        // Relative: variances of epoch-ms timestamps are ~1e11, where summation order shows at 1e-10.
        expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(b)));
      } else expect(a).toEqual(b);
    }
  });
}

export function analyticsQueryProperties(factory: StoreFactory): void {
  describe(`${factory.name}: group-by queries against an oracle`, () => {
    test('every group, key and aggregate equals the oracle’s', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(eventArb, { maxLength: 120 }),
          fc.array(queryArb, { minLength: 1, maxLength: 6 }),
          async (events, queries) => {
            const prepared = await prepareStore(
              factory,
              new ManualClock(T0 + 10 * 86_400_000),
              { writer: {}, reader: {}, dropCheckpoint: false },
              async (store) => (events.length === 0 ? [] : store.append(events)),
            );
            try {
              for (const query of queries)
                expectSameRows(await run(prepared.store, query), oracle(prepared.all, query), query);
            } finally {
              await prepared.cleanup();
            }
          },
        ),
        { numRuns: factory.capabilities.durable ? Math.ceil(RUNS / 4) : RUNS },
      );
    });
  });
}
