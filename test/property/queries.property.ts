/**
 * Every query path against a linear-scan oracle over the appended events.
 *
 * A scenario is a random event set (small pools of aggregates, types and tag values, out-of-order
 * timestamps, some defaulted from the clock) appended in random batch sizes; each property then runs
 * random queries of one kind and compares each result, in full, with the oracle's answer.
 *
 * `queriesProperties(factory)` runs them against one engine (runner: queries.property.test.ts); a
 * durable engine's store is closed and reopened before it is queried.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  ManualClock,
  type EventStore,
  type NewEvent,
  type QueryCriteria,
  type StoredEvent,
  type TagValue,
  type TimeInput,
} from '../../src/index.js';
import type { StoreFactory } from '../contract/factory.js';
import { prepareStore, type PreparedStore, type ReopenLayout } from '../support/property-store.js';
import { randomInt, seededRandom } from '../support/random.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2024, 2, 1);
const MAX_AGGREGATES = 6;
const MAX_TYPES = 4;
const TAG_VALUES = {
  color: ['red', 'blue', 'green'],
  size: [1, 2, '1', '2'],
  flag: [true, false],
} as const satisfies Record<string, readonly TagValue[]>;
type TagKey = keyof typeof TAG_VALUES;

const MEMORY_RUNS = Number(process.env.PROPERTY_RUNS ?? 100);
const DISK_RUNS = Number(process.env.PROPERTY_DISK_RUNS ?? 20);
const LARGE_MEMORY_RUNS = Number(process.env.PROPERTY_LARGE_RUNS ?? 10);
const LARGE_DISK_RUNS = Number(process.env.PROPERTY_LARGE_DISK_RUNS ?? 3);

// ---- time ----------------------------------------------------------------------------------------

interface TimeSpec {
  ms: number;
  form: 'number' | 'date' | 'iso';
}
const toInput = ({ ms, form }: TimeSpec): TimeInput =>
  form === 'number' ? ms : form === 'date' ? new Date(ms) : new Date(ms).toISOString();

const formArb = fc.constantFrom<TimeSpec['form']>('number', 'date', 'iso');
/** Event times on a minute grid over 10 hours, so hour buckets, ties and exact boundaries all occur. */
const eventTimeArb = fc.record({
  ms: fc.integer({ min: 0, max: 600 }).map((m) => T0 + m * MINUTE),
  form: formArb,
});
/** Query bounds: the grid, just off it, and outside the data. */
const boundArb = fc.record({
  ms: fc
    .tuple(fc.integer({ min: -10, max: 610 }), fc.constantFrom(0, 0, 0, 1, -1))
    .map(([m, d]) => T0 + m * MINUTE + d),
  form: formArb,
});

// ---- scenarios -----------------------------------------------------------------------------------

interface EventSpec {
  agg: number;
  type: number;
  tags: Partial<Record<TagKey, TagValue>>;
  /** Pass `tags: {}` rather than omitting it. */
  emptyTagsObject: boolean;
  time: TimeSpec | undefined;
  payload: { v: number; s: string } | undefined;
  metadata: { m: number } | undefined;
  explicitId: boolean;
}

interface Scenario {
  events: EventSpec[];
  /** Batch sizes, used cyclically. */
  batchSizes: number[];
  /** The clock (minutes after T0) before each batch, used cyclically. */
  batchClock: number[];
}

const tagsArb = fc.record(
  {
    color: fc.constantFrom(...TAG_VALUES.color),
    size: fc.constantFrom(...TAG_VALUES.size),
    flag: fc.constantFrom(...TAG_VALUES.flag),
  },
  { requiredKeys: [] },
);

function eventArb(aggregates: number, types: number): fc.Arbitrary<EventSpec> {
  return fc.record({
    agg: fc.integer({ min: 0, max: aggregates - 1 }),
    type: fc.integer({ min: 0, max: types - 1 }),
    tags: tagsArb,
    emptyTagsObject: fc.boolean(),
    time: fc.option(eventTimeArb, { nil: undefined, freq: 4 }),
    payload: fc.option(fc.record({ v: fc.integer(), s: fc.string({ maxLength: 8 }) }), {
      nil: undefined,
      freq: 5,
    }),
    metadata: fc.option(fc.record({ m: fc.nat(9) }), { nil: undefined }),
    explicitId: fc.boolean(),
  });
}

function scenarioArb(o: {
  minN: number;
  maxN: number;
  aggregates?: number;
  types?: number;
}): fc.Arbitrary<Scenario> {
  return fc
    .record({
      n: fc.integer({ min: o.minN, max: o.maxN }),
      aggregates:
        o.aggregates === undefined ? fc.integer({ min: 1, max: MAX_AGGREGATES }) : fc.constant(o.aggregates),
      types: o.types === undefined ? fc.integer({ min: 1, max: MAX_TYPES }) : fc.constant(o.types),
    })
    .chain(({ n, aggregates, types }) =>
      fc.record({
        events: fc.array(eventArb(aggregates, types), { minLength: n, maxLength: n }),
        batchSizes: fc.array(fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 60 })), {
          minLength: 1,
          maxLength: 12,
        }),
        batchClock: fc.array(fc.integer({ min: 0, max: 600 }), { minLength: 1, maxLength: 12 }),
      }),
    );
}

/** Random sets, plus the edge cases as their own arbitraries so every run mix includes them. */
const scenarios: fc.Arbitrary<Scenario> = fc.oneof(
  { weight: 6, arbitrary: scenarioArb({ minN: 0, maxN: 300 }) },
  { weight: 1, arbitrary: scenarioArb({ minN: 0, maxN: 0 }) },
  { weight: 1, arbitrary: scenarioArb({ minN: 1, maxN: 1 }) },
  { weight: 1, arbitrary: scenarioArb({ minN: 1, maxN: 200, aggregates: 1 }) },
  { weight: 1, arbitrary: scenarioArb({ minN: 1, maxN: 200, types: 1 }) },
);

/**
 * Larger sets, generated from a seed (fast-check still picks and shrinks the parameters), to cross
 * the engine's internal thresholds: posting lists promoted to arrays, row blocks of 8192, the time
 * index's late-row buffer (1024) and its merged runs, reads coalesced across records and segments.
 */
const largeScenarios: fc.Arbitrary<Scenario> = fc
  .record({
    seed: fc.nat(),
    n: fc.integer({ min: 1500, max: 12_000 }),
    aggregates: fc.integer({ min: 1, max: MAX_AGGREGATES }),
    types: fc.integer({ min: 1, max: MAX_TYPES }),
    timeMode: fc.constantFrom('random', 'mostly-in-order', 'reverse'),
  })
  .map(({ seed, n, aggregates, types, timeMode }): Scenario => {
    const random = seededRandom(seed);
    const pick = <T>(list: readonly T[]): T => list[randomInt(random, 0, list.length - 1)]!;
    const events = Array.from({ length: n }, (_, i): EventSpec => {
      let minute: number;
      if (timeMode === 'random') minute = randomInt(random, 0, 600);
      else if (timeMode === 'reverse') minute = Math.floor(((n - i) * 600) / n);
      else minute = random() < 0.1 ? randomInt(random, 0, 600) : Math.floor((i * 600) / n);
      const tags: Partial<Record<TagKey, TagValue>> = {};
      if (random() < 0.7) tags.color = pick(TAG_VALUES.color);
      if (random() < 0.5) tags.size = pick(TAG_VALUES.size);
      if (random() < 0.3) tags.flag = pick(TAG_VALUES.flag);
      return {
        agg: randomInt(random, 0, aggregates - 1),
        type: randomInt(random, 0, types - 1),
        tags,
        emptyTagsObject: false,
        time: random() < 0.05 ? undefined : { ms: T0 + minute * MINUTE, form: 'number' },
        payload: { v: i, s: '' },
        metadata: undefined,
        explicitId: random() < 0.1,
      };
    });
    const batchSizes = Array.from({ length: 16 }, () => randomInt(random, 1, 500));
    return { events, batchSizes, batchClock: [0, 300, 600] };
  });

// ---- appending and the oracle --------------------------------------------------------------------

const aggregateName = (i: number) => `agg-${i}`;
const typeName = (i: number) => `T${i}`;

function toNewEvent(spec: EventSpec, index: number): NewEvent {
  const event: NewEvent = { aggregateId: aggregateName(spec.agg), type: typeName(spec.type) };
  if (Object.keys(spec.tags).length > 0) event.tags = spec.tags as Record<string, TagValue>;
  else if (spec.emptyTagsObject) event.tags = {};
  if (spec.time) event.timestamp = toInput(spec.time);
  if (spec.payload !== undefined) event.payload = spec.payload;
  if (spec.metadata !== undefined) event.metadata = spec.metadata;
  if (spec.explicitId) event.id = `id-${index}`;
  return event;
}

/**
 * Appends the scenario and returns the oracle's view: the StoredEvents the store must hold, computed
 * from the inputs alone (only default ids are taken from the store, and checked for shape).
 */
async function appendScenario(
  store: EventStore,
  clock: ManualClock,
  scenario: Scenario,
): Promise<StoredEvent[]> {
  const expected: StoredEvent[] = [];
  const versions = new Map<string, number>();
  let index = 0;
  let batch = 0;
  while (index < scenario.events.length) {
    const size = Math.min(
      scenario.batchSizes[batch % scenario.batchSizes.length]!,
      scenario.events.length - index,
    );
    const specs = scenario.events.slice(index, index + size);
    // Event times are drawn independently of the clock; the store refuses any more than
    // futureTolerance (5 minutes) ahead, so the clock is moved up to that, exactly, when needed.
    const latest = Math.max(...specs.map((spec) => spec.time?.ms ?? -Infinity));
    const now = Math.max(
      T0 + scenario.batchClock[batch % scenario.batchClock.length]! * MINUTE,
      latest - 5 * MINUTE,
    );
    clock.set(now);
    const result = await store.append(specs.map((spec, i) => toNewEvent(spec, index + i)));
    expect(result).toHaveLength(size);
    const oracle = specs.map((spec, i): StoredEvent => {
      const aggregateId = aggregateName(spec.agg);
      const version = (versions.get(aggregateId) ?? 0) + 1;
      versions.set(aggregateId, version);
      const returnedId = result[i]!.id;
      if (!spec.explicitId)
        expect(returnedId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      return {
        sequence: index + i + 1,
        id: spec.explicitId ? `id-${index + i}` : returnedId,
        aggregateId,
        version,
        type: typeName(spec.type),
        timestamp: new Date(spec.time ? spec.time.ms : now),
        tags: { ...spec.tags },
        payload: spec.payload ?? null,
        metadata: spec.metadata ?? {},
      };
    });
    expect(result).toEqual(oracle);
    expected.push(...oracle);
    index += size;
    batch++;
  }
  return expected;
}

const ms = (t: TimeInput): number =>
  t instanceof Date ? t.getTime() : typeof t === 'number' ? t : Date.parse(t);
const limited = <T>(list: T[], limit: number | undefined): T[] =>
  limit === undefined ? list : list.slice(0, limit);
const asList = <T>(v: T | readonly T[]): readonly T[] => (Array.isArray(v) ? (v as readonly T[]) : [v as T]);

// ---- queries -------------------------------------------------------------------------------------

const limitValueArb = fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 320 }));
const limitArb = fc.option(limitValueArb, { nil: undefined });
const aggArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: MAX_AGGREGATES - 1 }).map(aggregateName) },
  { weight: 1, arbitrary: fc.constant('missing') },
);
const typeArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: MAX_TYPES - 1 }).map(typeName) },
  { weight: 1, arbitrary: fc.constant('NOPE') },
);
const sequenceArb = fc.oneof(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 310 }));

interface GetEventsQuery {
  aggregateId: string;
  fromVersion?: number;
  toVersion?: number;
  limit?: number;
}
const getEventsQueryArb: fc.Arbitrary<GetEventsQuery> = fc
  .record({
    aggregateId: aggArb,
    a: fc.option(fc.integer({ min: 1, max: 310 }), { nil: undefined }),
    b: fc.option(fc.integer({ min: 1, max: 310 }), { nil: undefined }),
    limit: limitArb,
  })
  .map(({ aggregateId, a, b, limit }) => {
    const q: GetEventsQuery = { aggregateId };
    const [lo, hi] = a !== undefined && b !== undefined ? [Math.min(a, b), Math.max(a, b)] : [a, b];
    if (lo !== undefined) q.fromVersion = lo;
    if (hi !== undefined) q.toVersion = hi;
    if (limit !== undefined) q.limit = limit;
    return q;
  });

interface ByTypeQuery {
  type: string;
  afterSequence?: number;
  limit?: number;
}
const byTypeQueryArb: fc.Arbitrary<ByTypeQuery> = fc.record(
  { type: typeArb, afterSequence: sequenceArb, limit: limitValueArb },
  { requiredKeys: ['type'] },
);

interface RangeQuery {
  start: TimeSpec;
  end: TimeSpec;
  limit?: number;
}
const rangeQueryArb: fc.Arbitrary<RangeQuery> = fc
  .record({ a: boundArb, b: boundArb, limit: limitArb })
  .map(({ a, b, limit }) => {
    const [start, end] = a.ms <= b.ms ? [a, b] : [b, a];
    return limit === undefined ? { start, end } : { start, end, limit };
  });

interface ReadQuery {
  fromSequence?: number;
  limit?: number;
}
const readQueryArb: fc.Arbitrary<ReadQuery> = fc.record(
  { fromSequence: fc.integer({ min: 1, max: 310 }), limit: limitValueArb },
  { requiredKeys: [] },
);

const valueOrList = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof(arb, fc.uniqueArray(arb, { minLength: 1, maxLength: 3 }) as fc.Arbitrary<T[]>);

const tagCriteriaArb = fc.record(
  {
    color: valueOrList(fc.constantFrom<TagValue>(...TAG_VALUES.color, 'purple')),
    size: valueOrList(fc.constantFrom<TagValue>(...TAG_VALUES.size, 3)),
    flag: valueOrList(fc.constantFrom<TagValue>(...TAG_VALUES.flag, 'true')),
  },
  { requiredKeys: [] },
);

const criteriaArb: fc.Arbitrary<QueryCriteria> = fc
  .record(
    {
      aggregateId: valueOrList(aggArb),
      type: valueOrList(typeArb),
      from: boundArb,
      to: boundArb,
      tags: tagCriteriaArb,
      afterSequence: sequenceArb,
      limit: limitValueArb,
      order: fc.constantFrom<'asc' | 'desc'>('asc', 'desc'),
    },
    { requiredKeys: [] },
  )
  .map((c) => {
    const criteria: QueryCriteria = {};
    if (c.aggregateId !== undefined) criteria.aggregateId = c.aggregateId;
    if (c.type !== undefined) criteria.type = c.type;
    let from = c.from;
    let to = c.to;
    if (from && to && from.ms > to.ms) [from, to] = [to, from];
    if (from) criteria.from = toInput(from);
    if (to) criteria.to = toInput(to);
    if (c.tags !== undefined) criteria.tags = c.tags;
    // With order 'desc', afterSequence means "a smaller sequence": keep it at least 1 there.
    if (c.afterSequence !== undefined)
      criteria.afterSequence = c.order === 'desc' ? c.afterSequence + 1 : c.afterSequence;
    if (c.limit !== undefined) criteria.limit = c.limit;
    if (c.order !== undefined) criteria.order = c.order;
    return criteria;
  });

const oracle = {
  getEvents(all: StoredEvent[], q: GetEventsQuery): StoredEvent[] {
    return limited(
      all.filter(
        (e) =>
          e.aggregateId === q.aggregateId &&
          e.version >= (q.fromVersion ?? 1) &&
          e.version <= (q.toVersion ?? Number.POSITIVE_INFINITY),
      ),
      q.limit,
    );
  },
  getEventsByType(all: StoredEvent[], q: ByTypeQuery): StoredEvent[] {
    return limited(
      all.filter((e) => e.type === q.type && e.sequence > (q.afterSequence ?? 0)),
      q.limit,
    );
  },
  getEventsInRange(all: StoredEvent[], q: RangeQuery): StoredEvent[] {
    return limited(
      all.filter((e) => e.timestamp.getTime() >= q.start.ms && e.timestamp.getTime() < q.end.ms),
      q.limit,
    );
  },
  read(all: StoredEvent[], q: ReadQuery): StoredEvent[] {
    return limited(
      all.filter((e) => e.sequence >= (q.fromSequence ?? 1)),
      q.limit,
    );
  },
  queryEvents(all: StoredEvent[], c: QueryCriteria): StoredEvent[] {
    const desc = c.order === 'desc';
    const matches = all.filter((e) => {
      if (c.aggregateId !== undefined && !asList(c.aggregateId).includes(e.aggregateId)) return false;
      if (c.type !== undefined && !asList(c.type).includes(e.type)) return false;
      const t = e.timestamp.getTime();
      if (c.from !== undefined && t < ms(c.from)) return false;
      if (c.to !== undefined && t >= ms(c.to)) return false;
      for (const [key, wanted] of Object.entries(c.tags ?? {})) {
        if (!Object.hasOwn(e.tags, key)) return false;
        if (!asList(wanted).includes(e.tags[key]!)) return false;
      }
      if (
        c.afterSequence !== undefined &&
        (desc ? e.sequence >= c.afterSequence : e.sequence <= c.afterSequence)
      ) {
        return false;
      }
      return true;
    });
    return limited(desc ? matches.reverse() : matches, c.limit);
  },
};

const describeQuery = (q: unknown): string =>
  JSON.stringify(q, (_k, v: unknown) => (v instanceof Date ? `Date(${v.toISOString()})` : v));

// ---- stores ------------------------------------------------------------------------------------

/**
 * Appends the scenario and returns a store ready to query, the oracle's events and a cleanup. A
 * durable store is closed and reopened before querying; the variant picks how: small segments; a
 * checkpoint every few events; no checkpoint at all on reopen; and with or without re-checking
 * every frame's CRC on reopen (the replay path differs).
 */
function prepare(factory: StoreFactory, scenario: Scenario, variant: number): Promise<PreparedStore> {
  const clock = new ManualClock(T0);
  const segmentSize = variant % 3 === 0 ? 4096 : 128 * 1024 * 1024;
  const layout: ReopenLayout = {
    writer: { fsync: 'never', segmentSize, checkpointEvery: variant % 3 === 1 ? 7 : 0 },
    dropCheckpoint: variant % 3 === 2,
    reader: { segmentSize, verifyOnOpen: variant % 2 === 0 },
  };
  return prepareStore(factory, clock, layout, (store) => appendScenario(store, clock, scenario));
}

/** The engine a property runs against, and how often (a durable store is reopened in every run: fewer). */
interface Target {
  factory: StoreFactory;
  runs: number;
}

function queryProperty<Q>(
  target: Target,
  queries: fc.Arbitrary<Q>,
  run: (store: EventStore, q: Q) => Promise<StoredEvent[]>,
  expected: (all: StoredEvent[], q: Q) => StoredEvent[],
  options: { scenarios?: fc.Arbitrary<Scenario>; runs?: number } = {},
): Promise<void> {
  return fc.assert(
    fc.asyncProperty(
      options.scenarios ?? scenarios,
      fc.array(queries, { minLength: 1, maxLength: 20 }),
      fc.nat(2),
      async (scenario, qs, variant) => {
        const { store, all, cleanup } = await prepare(target.factory, scenario, variant);
        try {
          for (const q of qs) {
            expect(await run(store, q), describeQuery(q)).toEqual(expected(all, q));
          }
        } finally {
          await cleanup();
        }
      },
    ),
    { numRuns: options.runs ?? target.runs },
  );
}

/** One query of any kind, for the mixed property at scale. */
type AnyQuery =
  | { kind: 'getEvents'; q: GetEventsQuery }
  | { kind: 'getEventsByType'; q: ByTypeQuery }
  | { kind: 'getEventsInRange'; q: RangeQuery }
  | { kind: 'queryEvents'; q: QueryCriteria }
  | { kind: 'read'; q: ReadQuery };

const anyQueryArb: fc.Arbitrary<AnyQuery> = fc.oneof(
  getEventsQueryArb.map((q) => ({ kind: 'getEvents' as const, q })),
  byTypeQueryArb.map((q) => ({ kind: 'getEventsByType' as const, q })),
  rangeQueryArb.map((q) => ({ kind: 'getEventsInRange' as const, q })),
  { weight: 3, arbitrary: criteriaArb.map((q) => ({ kind: 'queryEvents' as const, q })) },
  readQueryArb.map((q) => ({ kind: 'read' as const, q })),
);

function runAny(store: EventStore, query: AnyQuery): Promise<StoredEvent[]> {
  switch (query.kind) {
    case 'getEvents': {
      const { aggregateId, ...options } = query.q;
      return store.getEvents(aggregateId, options);
    }
    case 'getEventsByType': {
      const { type, ...options } = query.q;
      return store.getEventsByType(type, options);
    }
    case 'getEventsInRange': {
      const { start, end, limit } = query.q;
      return store.getEventsInRange(
        toInput(start),
        toInput(end),
        limit === undefined ? undefined : { limit },
      );
    }
    case 'queryEvents':
      return store.queryEvents(query.q);
    case 'read':
      return store.read(query.q);
  }
}

function expectAny(all: StoredEvent[], query: AnyQuery): StoredEvent[] {
  switch (query.kind) {
    case 'getEvents':
      return oracle.getEvents(all, query.q);
    case 'getEventsByType':
      return oracle.getEventsByType(all, query.q);
    case 'getEventsInRange':
      return oracle.getEventsInRange(all, query.q);
    case 'queryEvents':
      return oracle.queryEvents(all, query.q);
    case 'read':
      return oracle.read(all, query.q);
  }
}

export function queriesProperties(factory: StoreFactory): void {
  const durable = factory.capabilities.durable;
  const target: Target = { factory, runs: durable ? DISK_RUNS : MEMORY_RUNS };
  const mode = durable ? ', closed and reopened before querying' : '';
  describe(`query paths match a linear scan: ${factory.name}${mode}`, () => {
    test('append results and read()', async () => {
      await queryProperty(
        target,
        readQueryArb,
        (store, q) => store.read(q),
        (all, q) => oracle.read(all, q),
      );
    });

    test('getEvents(aggregateId, { fromVersion, toVersion, limit })', async () => {
      await queryProperty(
        target,
        getEventsQueryArb,
        (store, { aggregateId, ...options }) => store.getEvents(aggregateId, options),
        (all, q) => oracle.getEvents(all, q),
      );
    });

    test('getEventsByType(type, { afterSequence, limit })', async () => {
      await queryProperty(
        target,
        byTypeQueryArb,
        (store, { type, ...options }) => store.getEventsByType(type, options),
        (all, q) => oracle.getEventsByType(all, q),
      );
    });

    test('getEventsInRange(start, end, { limit })', async () => {
      await queryProperty(
        target,
        rangeQueryArb,
        (store, q) =>
          store.getEventsInRange(
            toInput(q.start),
            toInput(q.end),
            q.limit === undefined ? undefined : { limit: q.limit },
          ),
        (all, q) => oracle.getEventsInRange(all, q),
      );
    });

    test('queryEvents(criteria) with every combination of fields', async () => {
      await queryProperty(
        target,
        criteriaArb,
        (store, c) => store.queryEvents(c),
        (all, c) => oracle.queryEvents(all, c),
      );
    });

    test('every query kind at scale (1,500 to 12,000 events)', async () => {
      await queryProperty(target, anyQueryArb, runAny, expectAny, {
        scenarios: largeScenarios,
        runs: durable ? LARGE_DISK_RUNS : LARGE_MEMORY_RUNS,
      });
    });

    test('stats() counts match the oracle', async () => {
      await fc.assert(
        fc.asyncProperty(scenarios, fc.nat(2), async (scenario, variant) => {
          const { store, all, cleanup } = await prepare(factory, scenario, variant);
          try {
            expect(store.stats()).toMatchObject({
              events: all.length,
              aggregates: new Set(all.map((e) => e.aggregateId)).size,
              types: new Set(all.map((e) => e.type)).size,
              lastSequence: all.length,
            });
          } finally {
            await cleanup();
          }
        }),
        { numRuns: Math.max(10, Math.floor(target.runs / 2)) },
      );
    });
  });
}
