/**
 * User-defined indexes against the query model's oracle (test/support/query-model.ts).
 *
 * A run draws a random event set (tags with few distinct values and mixed types, payloads with
 * numbers, strings, booleans, nulls, nested objects, arrays and missing keys), one to three random
 * index definitions (1-3 fields, btree or hash, some partial), and random queries whose top-level
 * AND terms constrain the indexed fields (eq, in, lt/lte/gt/gte, between), sometimes include a
 * partial index's where, and mix in other terms. Every access path EXPLAIN considered, forced with
 * hints.forceIndex, and the scan must return exactly what the oracle computes, in order.
 *
 * The events are appended in three parts: before createIndex; while the builds are in flight (the
 * createIndex promises are awaited only afterwards); and after they are ready (on disk, after the
 * store was closed and reopened, sometimes without its checkpoint).
 *
 * `userIndexesProperties(factory)` runs this against one engine (runner:
 * user-indexes.property.test.ts); on a durable engine the store is closed and reopened between the
 * second and third parts.
 */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import {
  f,
  ManualClock,
  type EventStore,
  type ExplainNode,
  type FilterNode,
  type IndexDefinition,
  type Scalar,
  type StoredEvent,
} from '../../src/index.js';
import type { StoreFactory } from '../contract/factory.js';
import { requires } from '../contract/requires.js';
import {
  AGGREGATES,
  ALL_FIELDS,
  appendScenario,
  build,
  describeQuery,
  firstInvalid,
  leafOfArb,
  operandArb,
  oracle,
  orderByArb,
  scenarioArb,
  T0,
  treeArb,
  TYPES,
  walk,
  type EventSpec,
  type Query,
  type Scenario,
} from '../support/query-model.js';

const MEMORY_RUNS = Number(process.env.USER_INDEX_RUNS ?? 60);
const DISK_RUNS = Number(process.env.USER_INDEX_DISK_RUNS ?? 15);
/** Each run takes milliseconds; this bounds the shrinking of a failure (every step reruns appends and queries). */
const TIME_LIMIT = Number(process.env.USER_INDEX_TIME_LIMIT_MS ?? 45_000);

/** Fields an index may have: tags and payload paths of every shape the events give, and core fields. */
const INDEX_FIELDS = [
  'tags.k',
  'tags.n',
  'tags.s',
  'payload.x',
  'payload.s',
  'payload.o.x',
  'payload.o.y',
  'payload.arr.0',
  'payload.x.0',
  'type',
  'aggregateId',
  'version',
  'timestamp',
] as const;

/** A where for a partial index: one leaf, or two under an and. */
const whereArb: fc.Arbitrary<FilterNode> = fc
  .oneof(
    fc.constantFrom('type', 'tags.k', 'tags.s', 'payload.s', 'payload.x').chain(leafOfArb),
    fc
      .tuple(
        fc.constantFrom('type', 'aggregateId').chain(leafOfArb),
        fc.constantFrom('tags.n', 'payload.o.y').chain(leafOfArb),
      )
      .map(([a, b]) => f.and(a, b)),
  )
  .filter((node) => firstInvalid(node) === undefined);

const definitionArb = (name: string): fc.Arbitrary<IndexDefinition> =>
  fc.record(
    {
      name: fc.constant(name),
      fields: fc.uniqueArray(fc.constantFrom(...INDEX_FIELDS), { minLength: 1, maxLength: 3 }),
      type: fc.constantFrom<'btree' | 'hash'>('btree', 'btree', 'hash'),
      where: whereArb,
    },
    { requiredKeys: ['name', 'fields', 'type'], noNullPrototype: true },
  );

const definitionsArb: fc.Arbitrary<IndexDefinition[]> = fc
  .integer({ min: 1, max: 3 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => definitionArb(`idx_${i}`))));

const RANGE_KINDS = ['lt', 'lte', 'gt', 'gte'] as const;

/**
 * The value of a tag, payload, aggregateId or type field in an event as generated (undefined when it
 * is not a scalar or null, or not known before the append): operands drawn from one event's values
 * make queries that match at least that event, nulls and mixed types included.
 */
function valueIn(spec: EventSpec | undefined, field: string): Scalar | undefined {
  if (spec === undefined) return undefined;
  let value: unknown;
  if (field === 'aggregateId') value = AGGREGATES[spec.agg];
  else if (field === 'type') value = TYPES[spec.type];
  else if (field.startsWith('tags.')) value = walk(spec.tags, [field.slice(5)]);
  else if (field.startsWith('payload.')) value = walk(spec.payload ?? null, field.slice(8).split('.'));
  return value === null || ['string', 'number', 'boolean'].includes(typeof value)
    ? (value as Scalar)
    : undefined;
}

/** An operand for the field: usually the target event's value, else any of the field's domain. */
function operand(field: string, target: Scalar | undefined, ordered: boolean): fc.Arbitrary<Scalar> {
  const usable =
    target !== undefined &&
    (ordered
      ? typeof target === 'number' || typeof target === 'string'
      : target !== null || field.startsWith('payload.'));
  return usable
    ? fc.oneof(
        { weight: 4, arbitrary: fc.constant(target) },
        { weight: 1, arbitrary: operandArb(field, ordered) },
      )
    : operandArb(field, ordered);
}

/** A term an index can seek with, on one of its fields. */
function indexTermArb(field: string, target: Scalar | undefined): fc.Arbitrary<FilterNode> {
  const any = operand(field, target, false);
  const ordered = operand(field, target, true);
  return fc.oneof(
    { weight: 4, arbitrary: any.map((v) => f.eq(field, v)) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.array(any, { minLength: 1, maxLength: 4 }), fc.boolean())
        // A null (valid on payload fields) matches null values, which no index holds.
        .map(([v, withNull]) => f.in(field, withNull && field.startsWith('payload.') ? [...v, null] : v)),
    },
    {
      weight: 3,
      // Inclusive bounds more often: with the target's value they keep the target in.
      arbitrary: fc
        .tuple(fc.constantFrom(...RANGE_KINDS, 'lte', 'gte'), ordered)
        .map(([kind, v]) => f[kind](field, v)),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(ordered, ordered)
        .filter(([a, b]) => typeof a === typeof b)
        .map(([a, b]) => ((a as number) <= (b as number) ? f.between(field, a, b) : f.between(field, b, a))),
    },
  );
}

/** The AND terms of a query aimed at one of the indexes. */
function filterFor(definitions: readonly IndexDefinition[], scenario: Scenario): fc.Arbitrary<FilterNode> {
  return fc
    .tuple(fc.constantFrom(...definitions), fc.nat(Math.max(0, scenario.events.length - 1)))
    .chain(([definition, target]) =>
      fc.tuple(
        // Terms on the index's fields, leading ones more often; sometimes two on one field.
        fc.tuple(
          ...definition.fields.map((field, i) =>
            fc.array(indexTermArb(field, valueIn(scenario.events[target], field)), {
              minLength: i === 0 ? 1 : 0,
              maxLength: i === 0 ? 2 : 1,
            }),
          ),
        ),
        definition.where === undefined ? fc.constant([]) : fc.subarray([definition.where]),
        fc.oneof(
          { weight: 2, arbitrary: fc.constant([]) },
          {
            weight: 1,
            arbitrary: fc.array(
              fc.oneof(
                { weight: 2, arbitrary: fc.constantFrom(...ALL_FIELDS).chain(leafOfArb) },
                { weight: 1, arbitrary: treeArb(1) },
              ),
              { minLength: 1, maxLength: 2 },
            ),
          },
        ),
      ),
    )
    .chain(([fieldTerms, where, others]) => {
      const terms = [...fieldTerms.flat(), ...where, ...others].filter(
        (term) => firstInvalid(term) === undefined,
      );
      return fc.shuffledSubarray(terms, { minLength: terms.length, maxLength: terms.length });
    })
    .map((terms) =>
      terms.length === 0 ? f.and(f.exists('type')) : terms.length === 1 ? terms[0]! : f.and(...terms),
    );
}

function queriesFor(definitions: readonly IndexDefinition[], scenario: Scenario): fc.Arbitrary<Query[]> {
  const queryArb = fc.record(
    {
      filter: filterFor(definitions, scenario),
      orderBy: fc.oneof(
        { weight: 2, arbitrary: fc.constant<Query['orderBy']>([]) },
        { weight: 1, arbitrary: orderByArb },
      ),
      offset: fc.nat(3),
      limit: fc.integer({ min: 0, max: 20 }),
      select: fc.uniqueArray(fc.constantFrom(...ALL_FIELDS), { minLength: 1, maxLength: 3 }),
    },
    { requiredKeys: ['filter', 'orderBy'], noNullPrototype: true },
  );
  return fc.array(queryArb, { minLength: 1, maxLength: 8 });
}

/** How often user indexes took part: a generator that never reaches them would pass vacuously. */
const reached = { queries: 0, withUserIndex: 0, chosen: 0, nonEmpty: 0 };

async function checkQuery(
  store: EventStore,
  all: readonly StoredEvent[],
  q: Query,
  stage: string,
): Promise<void> {
  const label = `${stage}: ${describeQuery(q)}`;
  const expected = oracle(all, q);
  const base = build(store, q);
  expect(await base.execute(), label).toEqual(expected);

  const explanation = await store.explain(base);
  const paths = [...new Set([...explanation.considered.map((path) => path.index), 'scan'])];
  reached.queries++;
  if (expected.length > 0 && q.limit === undefined) reached.nonEmpty++;
  if (paths.some((path) => path.startsWith('idx_'))) reached.withUserIndex++;
  if (explanation.indexesUsed.some((path) => path.startsWith('idx_'))) reached.chosen++;

  for (const index of paths) {
    const forced = base.hint({ forceIndex: [index] });
    expect(await forced.execute(), `${label} forceIndex ${index}`).toEqual(expected);
    if (!index.startsWith('idx_')) continue;
    // The estimate of a user index is its exact row count, what the access path yields; clipped to
    // a sequence range (`rows [a, b)`) it is an upper bound.
    const analyzed = await store.explain(forced, { analyze: true });
    let access: ExplainNode = analyzed.plan;
    while (access.children[0] !== undefined && access.operator !== 'Intersect') access = access.children[0];
    if (access.operator === 'Intersect') {
      // An intersection's size is a statistical estimate; each of its lookups' is an upper bound.
      expect(analyzed.indexesUsed.join(' & '), label).toBe(index);
      for (const part of access.children)
        expect(access.actualRows, `${label} ${index}`).toBeLessThanOrEqual(part.estimatedRows);
      continue;
    }
    expect(access.index, label).toBe(index);
    expect(access.actualRows, `${label} forceIndex ${index}`).toBeLessThanOrEqual(access.estimatedRows);
    if (q.limit === undefined && !access.detail?.includes('rows ['))
      expect(access.actualRows, `${label} ${index}`).toBe(access.estimatedRows);
  }
}

async function checkAll(
  store: EventStore,
  all: readonly StoredEvent[],
  queries: readonly Query[],
  stage: string,
): Promise<void> {
  for (const q of queries) {
    await checkQuery(store, all, q, stage);
    await checkQuery(store, all, { filter: q.filter, orderBy: [] }, `${stage}, whole result`);
  }
}

interface Run {
  scenario: Scenario;
  definitions: IndexDefinition[];
  queries: Query[];
  /** Where the event set is cut into its three parts, as fractions. */
  cuts: [number, number];
}

const runArb = (maxEvents: number): fc.Arbitrary<Run> =>
  fc
    .record({
      // Mostly event sets big enough for every part to hold some; a few tiny or empty ones.
      scenario: fc.oneof(
        { weight: 1, arbitrary: scenarioArb(4) },
        { weight: 4, arbitrary: scenarioArb(maxEvents).filter((s) => s.events.length >= 20) },
      ),
      definitions: definitionsArb,
      cuts: fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })),
    })
    .chain((run) =>
      queriesFor(run.definitions, run.scenario).map((queries) => ({ ...run, queries, cuts: run.cuts })),
    );

function parts(run: Run): [number, number, number] {
  const n = run.scenario.events.length;
  const [a, b] = run.cuts.map((cut) => Math.floor(cut * n)).sort((x, y) => x - y) as [number, number];
  return [a, b, n];
}

/** Appends part one, creates the indexes, appends part two while they build, then awaits them. */
async function createWhileAppending(
  store: EventStore,
  clock: ManualClock,
  run: Run,
  [first, second]: [number, number, number],
): Promise<StoredEvent[]> {
  const all = await appendScenario(store, clock, run.scenario, 0, first);
  const building = run.definitions.map((definition) => store.indexes.createIndex(definition));
  all.push(...(await appendScenario(store, clock, run.scenario, first, second)));
  const infos = await Promise.all(building);
  expect(infos.map((info) => info.state)).toEqual(run.definitions.map(() => 'ready'));
  return all;
}

/** Appends before, during and after createIndex, checking every access path after the builds and at the end. */
function appendsAroundTheBuilds(factory: StoreFactory): Promise<void> {
  return fc.assert(
    fc.asyncProperty(runArb(150), async (run) => {
      const clock = new ManualClock(T0);
      const { store, cleanup } = await factory.open({ clock });
      try {
        const cut = parts(run);
        const all = await createWhileAppending(store, clock, run, cut);
        await checkAll(store, all, run.queries, 'after the builds');
        all.push(...(await appendScenario(store, clock, run.scenario, cut[1], cut[2])));
        await checkAll(store, all, run.queries, 'after more appends');
      } finally {
        await store.close();
        await cleanup();
      }
    }),
    { numRuns: MEMORY_RUNS, interruptAfterTimeLimit: TIME_LIMIT },
  );
}

/**
 * The same on a durable store closed and reopened after the builds (from the checkpoint, or the log
 * alone on engines with checkpoints), then appended to.
 */
function reopenedAfterTheBuilds(factory: StoreFactory): Promise<void> {
  return fc.assert(
    fc.asyncProperty(runArb(100), fc.boolean(), async (run, dropCheckpoint) => {
      const clock = new ManualClock(T0);
      const ctx = await factory.open({ clock, fsync: 'never', checkpointEvery: 40 });
      try {
        const cut = parts(run);
        let all: StoredEvent[];
        try {
          all = await createWhileAppending(ctx.store, clock, run, cut);
        } finally {
          await ctx.store.close();
        }
        if (dropCheckpoint && factory.capabilities.checkpoints) await ctx.dropCheckpoint!();
        const store = await ctx.reopen!({ clock, fsync: 'never' });
        try {
          await checkAll(store, all, run.queries, 'after reopening');
          all.push(...(await appendScenario(store, clock, run.scenario, cut[1], cut[2])));
          await checkAll(store, all, run.queries, 'after reopening and appending');
        } finally {
          await store.close();
        }
      } finally {
        await ctx.cleanup();
      }
    }),
    { numRuns: DISK_RUNS, interruptAfterTimeLimit: TIME_LIMIT },
  );
}

export function userIndexesProperties(factory: StoreFactory): void {
  requires(factory, 'userIndexes', 'explainAnalyze').describe(
    `user-defined indexes return what a linear scan returns: ${factory.name}`,
    () => {
      if (factory.capabilities.durable) {
        test('closed and reopened (from the checkpoint, or the log alone), then appended to', async () => {
          await reopenedAfterTheBuilds(factory);
        });
      } else {
        test('appends before, during and after createIndex', async () => {
          await appendsAroundTheBuilds(factory);
          // The random queries reached what they are for: user indexes considered, chosen, and matching.
          // (The share that considers a user index is 25-40% from run to run, unseeded: a quarter failed
          // once in a clean CI run at 224 of 900; a fifth still proves the generator reaches them.)
          expect(reached.withUserIndex).toBeGreaterThan(reached.queries / 5);
          expect(reached.chosen).toBeGreaterThan(0);
          expect(reached.nonEmpty).toBeGreaterThan(reached.queries / 20);
        });
      }
    },
  );
}
