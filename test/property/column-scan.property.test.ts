/**
 * The vectorized column scan (column-filter.ts compiles, column-scan.ts evaluates) against a
 * linear-scan oracle, and against the per-row compiled filter it replaces.
 *
 * A table is a random set of rows over small pools of aggregates and types, with out-of-order and
 * repeated timestamps; filters are random trees (depth <= 3) of every operator over the column
 * fields, with operands of the wrong type too (`timestamp < "x"`, `type = 5`), which the engine's
 * validation rejects but whose compiled meaning must still be compile-filter.ts's. Each filter runs
 * over random row ranges and random candidate rows; big tables cross chunk boundaries.
 *
 * Then the same with rows hidden: a random retention policy (a default maxAge, per-type overrides,
 * some kept forever, maxEvents), deleted streams, removed rows (recordLength 0) and a clock.
 * Visibility.columnFilter() must leave exactly the rows hidden() leaves and an oracle computes, and
 * plans with hidden rows must stay vectorized, serial and on the worker pool, over the scan and over
 * index paths, and still return only visible rows.
 *
 * The oracles (valueOf, matches, isVisible) are written from the documented semantics and run no
 * engine code.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { f, ManualClock, type FilterNode, type QueryHints, type Scalar } from '../../src/index.js';
import { compileColumnFilter, splitColumnTerms } from '../../src/storage/embedded/exec/column-filter.js';
import { ColumnScan, tableChunks } from '../../src/storage/embedded/exec/column-scan.js';
import { compileFilter } from '../../src/storage/embedded/exec/compile-filter.js';
import { selectRows } from '../../src/storage/embedded/exec/executor.js';
import { ParallelScanPool } from '../../src/storage/embedded/exec/parallel-scan.js';
import { QueryGuard } from '../../src/storage/embedded/exec/query-guard.js';
import { findNode } from '../../src/storage/embedded/exec/plan-nodes.js';
import { createExecutionPlan } from '../../src/storage/embedded/exec/query-optimizer.js';
import { RetentionPolicy } from '../../src/retention/policy.js';
import { Tombstones } from '../../src/storage/embedded/retention/tombstones.js';
import { Visibility } from '../../src/storage/embedded/retention/visibility.js';
import { ArrayCursor, type RawArray } from '../../src/storage/embedded/table/snapshot.js';
import { CHUNK_ROWS } from '../../src/storage/embedded/table/chunked-column.js';
import { EventTable } from '../../src/storage/embedded/table/event-table.js';
import { matchesBy } from '../support/query-model.js';
import { randomInt, seededRandom } from '../support/random.js';

const RUNS = Number(process.env.COLUMN_SCAN_RUNS ?? 300);
const T0 = Date.UTC(2024, 5, 1);
const AGGREGATES = ['acc-1', 'acc-10', 'acc-2', 'b'] as const;
const TYPES = ['user.created', 'user.deleted', 'order.placed', 'Order'] as const;

interface Row {
  aggregateId: string;
  type: string;
  timestamp: number;
  version: number;
}

/** Rows as the store would number them: versions count up per aggregate. */
function withVersions(specs: readonly { agg: number; type: number; minute: number }[]): Row[] {
  const versions = new Map<string, number>();
  return specs.map(({ agg, type, minute }) => {
    const aggregateId = AGGREGATES[agg] as string;
    const version = (versions.get(aggregateId) ?? 0) + 1;
    versions.set(aggregateId, version);
    return { aggregateId, type: TYPES[type] as string, timestamp: T0 + minute * 60_000, version };
  });
}

/** Every row holds a record (recordLength 1): 0 would mark it removed, which the visibility tests set. */
function tableOf(rows: readonly Row[]): EventTable {
  const table = new EventTable();
  for (const row of rows) table.addRow(row.aggregateId, row.type, row.timestamp, row.version, 0, 1, {});
  return table;
}

const rowSpecArb = fc.record({
  agg: fc.nat(AGGREGATES.length - 1),
  type: fc.nat(TYPES.length - 1),
  minute: fc.oneof(
    { weight: 4, arbitrary: fc.nat(12) },
    { weight: 1, arbitrary: fc.integer({ min: -5, max: 100 }) },
  ),
});
const rowsArb = fc
  .oneof({ weight: 1, arbitrary: fc.nat(3) }, { weight: 6, arbitrary: fc.nat(300) })
  .chain((n) => fc.array(rowSpecArb, { minLength: n, maxLength: n }))
  .map(withVersions);

// ---- filters -------------------------------------------------------------------------------------

const FIELDS = ['sequence', 'version', 'timestamp', 'aggregateId', 'type'] as const;
const WRONG_TYPE: readonly Scalar[] = [null, true, 'x', '1', 0];

function operandArb(field: string): fc.Arbitrary<Scalar> {
  const own = (() => {
    switch (field) {
      case 'sequence':
        return fc.oneof(
          fc.integer({ min: -1, max: 310 }),
          fc.integer({ min: 0, max: 40 }).map((n) => n + 0.5),
        );
      case 'version':
        return fc.integer({ min: -1, max: 90 });
      case 'timestamp':
        return fc
          .tuple(fc.integer({ min: -6, max: 101 }), fc.constantFrom(0, 0, 1, -1))
          .map(([m, d]) => T0 + m * 60_000 + d);
      case 'aggregateId':
        return fc.constantFrom<Scalar>(...AGGREGATES, 'acc', 'acc-3', 'zzz', '');
      default:
        return fc.constantFrom<Scalar>(...TYPES, 'user', 'order', 'x');
    }
  })();
  return fc.oneof({ weight: 8, arbitrary: own }, { weight: 1, arbitrary: fc.constantFrom(...WRONG_TYPE) });
}

const comparisonArb = (field: string) =>
  fc
    .tuple(
      fc.constantFrom<'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte'>('eq', 'ne', 'lt', 'lte', 'gt', 'gte'),
      operandArb(field),
    )
    .map(([kind, value]) => f[kind](field, value));

const leafArb: fc.Arbitrary<FilterNode> = fc.constantFrom(...FIELDS).chain((field) =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constant(f.exists(field)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('', 'acc', 'acc-1', 'user.', 'O', 'b').map((p) => f.prefix(field, p)),
    },
    {
      weight: 2,
      arbitrary: fc
        .array(operandArb(field), { minLength: 1, maxLength: 4 })
        .map((values) => f.in(field, values)),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(operandArb(field), operandArb(field))
        .filter(([a, b]) => typeof a === typeof b)
        .map(([a, b]) => f.between(field, a, b)),
    },
    { weight: 6, arbitrary: comparisonArb(field) },
  ),
);

function treeArb(depth: number): fc.Arbitrary<FilterNode> {
  if (depth === 0) return leafArb;
  const child = treeArb(depth - 1);
  const children = fc.array(child, { minLength: 1, maxLength: 3 });
  return fc.oneof(
    { weight: 3, arbitrary: leafArb },
    { weight: 2, arbitrary: children.map((list) => f.and(...list)) },
    { weight: 2, arbitrary: children.map((list) => f.or(...list)) },
    { weight: 1, arbitrary: child.map((node) => f.not(node)) },
    { weight: 1, arbitrary: fc.constant(f.and()) },
  );
}
const filterArb = treeArb(3);

// ---- the oracle ----------------------------------------------------------------------------------

function valueOf(row: Row, index: number, field: string): string | number {
  return field === 'sequence' ? index + 1 : row[field as keyof Row];
}

function matches(node: FilterNode, row: Row, index: number): boolean {
  return matchesBy(node, (field) => valueOf(row, index, field));
}

function oracle(rows: readonly Row[], filter: FilterNode, candidates: Iterable<number>): number[] {
  return [...candidates].filter((index) => matches(filter, rows[index] as Row, index));
}

const range = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

const noRecords = () => {
  throw new Error('a column filter must not read records');
};

// ---- the properties ------------------------------------------------------------------------------

/** Checks one filter on one table: the whole range, a sub-range, and a random set of candidates. */
function check(table: EventTable, rows: readonly Row[], filter: FilterNode, picks: readonly number[]): void {
  const label = JSON.stringify(filter);
  const compiled = compileColumnFilter(filter, table);
  expect(compiled, label).toBeDefined();
  const scan = new ColumnScan(compiled!, tableChunks(table));
  const predicate = compileFilter(filter, table, noRecords);

  const everything = oracle(rows, filter, range(0, rows.length));
  expect([...scan.range(0, rows.length)], label).toEqual(everything);
  expect(
    range(0, rows.length).filter((row) => predicate(row)),
    `${label} (per-row compiled filter)`,
  ).toEqual(everything);

  const [a = 0, b = 0] = picks.map((pick) => pick % (rows.length + 1));
  const [lo, hi] = [Math.min(a, b), Math.max(a, b)];
  expect([...scan.range(lo, hi)], `${label} rows [${lo}, ${hi})`).toEqual(
    oracle(rows, filter, range(lo, hi)),
  );

  const candidates = [...new Set(picks.map((p) => p % Math.max(1, rows.length)))]
    .filter((row) => row < rows.length)
    .sort((x, y) => x - y);
  expect([...scan.filterRows(Uint32Array.from(candidates))], `${label} candidates`).toEqual(
    oracle(rows, filter, candidates),
  );
}

/** Random rows over two chunks and a bit: enough to cross both chunk boundaries. */
function acrossChunks(random: () => number): Row[] {
  return withVersions(
    Array.from({ length: 2 * CHUNK_ROWS + 777 }, () => ({
      agg: randomInt(random, 0, AGGREGATES.length - 1),
      type: randomInt(random, 0, TYPES.length - 1),
      minute: randomInt(random, -5, 100),
    })),
  );
}

describe('the vectorized column scan matches a linear scan', () => {
  test('random tables and filters, over row ranges and candidate rows', () => {
    fc.assert(
      fc.property(
        rowsArb,
        fc.array(fc.tuple(filterArb, fc.array(fc.nat(400), { maxLength: 40 })), {
          minLength: 1,
          maxLength: 8,
        }),
        (rows, cases) => {
          const table = tableOf(rows);
          for (const [filter, picks] of cases) check(table, rows, filter, picks);
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('across chunk boundaries', () => {
    const rows = acrossChunks(seededRandom(7));
    const table = tableOf(rows);
    const near = (edge: number) => [edge - 3, edge - 1, edge, edge + 1, edge + 2];
    const boundaries = [...near(CHUNK_ROWS), ...near(2 * CHUNK_ROWS)];
    fc.assert(
      fc.property(
        filterArb,
        fc.array(fc.integer({ min: 0, max: rows.length + 10 }), { maxLength: 60 }),
        fc.subarray(boundaries),
        (filter, picks, edges) => check(table, rows, filter, [...edges, ...picks]),
      ),
      { numRuns: 8 },
    );
    // Version and sequence conditions around the boundaries, which random operands rarely hit.
    for (const edge of [CHUNK_ROWS, 2 * CHUNK_ROWS]) {
      check(table, rows, f.between('sequence', edge - 1, edge + 2), boundaries);
      check(table, rows, f.or(f.eq('sequence', edge), f.gt('sequence', edge + 700)), boundaries);
      check(table, rows, f.and(f.gte('sequence', edge - 5), f.not(f.in('type', ['Order']))), boundaries);
    }
  });

  test('returns undefined for filters on the record, and where a dictionary walk is over budget', () => {
    const rows = withVersions([
      { agg: 0, type: 0, minute: 1 },
      { agg: 1, type: 1, minute: 2 },
    ]);
    const table = tableOf(rows);
    for (const filter of [
      f.eq('id', 'x'),
      f.exists('tags.k'),
      f.gt('payload.n', 1),
      f.and(f.eq('type', TYPES[0]), f.eq('tags.k', 1)),
      f.or(f.eq('type', TYPES[0]), f.not(f.prefix('id', 'a'))),
      // Bounds of mixed types (validation rejects them) are left to the per-row filter.
      f.between('timestamp', T0, 'x'),
    ]) {
      expect(compileColumnFilter(filter, table), JSON.stringify(filter)).toBeUndefined();
    }
    expect(compileColumnFilter(f.prefix('aggregateId', 'acc'), table, 1)).toBeUndefined();
    expect(compileColumnFilter(f.prefix('aggregateId', 'acc'), table, 2)).toEqual({
      kind: 'ids',
      column: 'aggregateId',
      ids: Uint32Array.from([0, 1]),
      universe: 2,
    });
    // Equality needs no walk, whatever the budget.
    expect(compileColumnFilter(f.eq('aggregateId', AGGREGATES[1]), table, 0)).toEqual({
      kind: 'ids',
      column: 'aggregateId',
      ids: Uint32Array.from([1]),
      universe: 2,
    });
  });

  test('splits top-level AND terms into the column part and the rest', () => {
    const table = tableOf(withVersions([{ agg: 0, type: 0, minute: 1 }]));
    const onTags = f.eq('tags.k', 1);
    const onPayload = f.or(f.eq('type', TYPES[0]), f.gt('payload.n', 1));
    const split = splitColumnTerms(
      f.and(f.gte('version', 2), onTags, f.and(f.lt('timestamp', T0), onPayload)),
      table,
    );
    expect(split?.columns).toEqual({
      kind: 'and',
      filters: [
        { kind: 'range', column: 'version', from: 2, to: Infinity },
        { kind: 'range', column: 'timestamp', from: -Infinity, to: T0 },
      ],
    });
    expect(split?.rest).toEqual(f.and(onTags, onPayload));
    expect(splitColumnTerms(f.and(f.eq('type', TYPES[0]), onTags), table)?.rest).toBe(onTags);
    expect(splitColumnTerms(f.eq('type', TYPES[0]), table)?.rest).toBeUndefined();
    expect(splitColumnTerms(f.and(onTags, onPayload), table)).toBeUndefined();
  });
});

// ---- hidden rows: retention, deletions and removed rows as column terms -------------------------

const VISIBILITY_RUNS = Number(process.env.VISIBILITY_RUNS ?? 150);
const MINUTE = 60_000;

type Age = number | 'forever' | null;

/** What hides rows: a policy (ages in minutes; null: no such rule), deletions, removed rows, the clock. */
interface Hiding {
  maxAge: number | null;
  /** The override for the pattern 'user.*'. */
  user: Age;
  /** The override for the exact type 'Order'. */
  order: Age;
  maxEvents: number | null;
  /** Deleted streams; 'ghost' has no events. */
  deleted: readonly string[];
  /** Rows whose event cleanup removed (recordLength 0), as picks modulo the row count. */
  removed: readonly number[];
  /** The clock, in minutes after T0. */
  now: number;
}

const ageArb: fc.Arbitrary<Age> = fc.oneof(
  fc.constant(null),
  fc.constant('forever' as const),
  fc.integer({ min: 1, max: 60 }),
);

const hidingArb: fc.Arbitrary<Hiding> = fc.record({
  maxAge: fc.option(fc.integer({ min: 1, max: 60 })),
  user: ageArb,
  order: ageArb,
  maxEvents: fc.option(fc.integer({ min: 1, max: 320 })),
  deleted: fc.subarray([...AGGREGATES, 'ghost']),
  removed: fc.array(fc.nat(400), { maxLength: 6 }),
  now: fc.integer({ min: -5, max: 110 }),
});

/** Whether a policy or deletion can hide rows (removed rows hide too: see the tests' own checks). */
const hides = (h: Hiding) =>
  h.maxAge !== null ||
  typeof h.user === 'number' ||
  typeof h.order === 'number' ||
  h.maxEvents !== null ||
  h.deleted.length > 0;

const removedRows = (h: Hiding, rows: number) =>
  new Set(rows === 0 ? [] : h.removed.map((pick) => pick % rows));

/** A type's maxAge in ms, as the policy documents it: an exact type's rule, a pattern's, the default. */
function maxAgeOf(h: Hiding, type: string): number {
  const ms = (age: Age) => (age === 'forever' ? Infinity : (age as number) * MINUTE);
  if (type === 'Order' && h.order !== null) return ms(h.order);
  if (type.startsWith('user.') && h.user !== null) return ms(h.user);
  return h.maxAge === null ? Infinity : h.maxAge * MINUTE;
}

/** The oracle: the rows reads may see. */
function visibleRows(rows: readonly Row[], h: Hiding, removed: ReadonlySet<number>): number[] {
  const now = T0 + h.now * MINUTE;
  return range(0, rows.length).filter((index) => {
    const row = rows[index] as Row;
    return (
      (h.maxEvents === null || index >= rows.length - h.maxEvents) &&
      !h.deleted.includes(row.aggregateId) &&
      !removed.has(index) &&
      now - row.timestamp <= maxAgeOf(h, row.type)
    );
  });
}

/** Applies a Hiding to a table: marks the removed rows, deletes the streams, makes the policy. */
function hide(table: EventTable, h: Hiding, removed: ReadonlySet<number>): Visibility {
  // What cleanup leaves: no record at the row, and one event fewer present.
  for (const row of removed) table.recordLength.set(row, 0);
  table.present -= removed.size;
  const tombstones = new Tombstones(table, undefined);
  for (const aggregateId of h.deleted) tombstones.delete(aggregateId);
  const age = (minutes: Age) => (minutes === 'forever' ? 'forever' : (minutes as number) * MINUTE);
  const types = {
    ...(h.user === null ? {} : { 'user.*': age(h.user) }),
    ...(h.order === null ? {} : { Order: age(h.order) }),
  };
  const policy = RetentionPolicy.from({
    ...(h.maxAge === null ? {} : { maxAge: h.maxAge * MINUTE }),
    types,
    ...(h.maxEvents === null ? {} : { maxEvents: h.maxEvents }),
  });
  return new Visibility(table, tombstones, new ManualClock(T0 + h.now * MINUTE), policy);
}

const queryOf = (filter: FilterNode, hints: QueryHints, descending: boolean, limit?: number) => ({
  kind: 'query' as const,
  filter,
  orderBy: descending ? [{ field: 'sequence', direction: 'desc' as const }] : [],
  hints,
  ...(limit === undefined ? {} : { limit }),
});

/**
 * Runs `filter` with rows hidden through a plan on `path` (serial, and on `pool` when given): the plan
 * must be vectorized, and return the visible rows that match, as does its per-row predicate.
 */
async function checkPlans(
  table: EventTable,
  rows: readonly Row[],
  visibility: Visibility,
  visible: readonly number[],
  filter: FilterNode,
  {
    path = 'scan',
    pool,
    descending = false,
    limit,
  }: { path?: string; pool?: ParallelScanPool; descending?: boolean; limit?: number },
): Promise<void> {
  const label = `${JSON.stringify(filter)} via ${path}${descending ? ' desc' : ''} limit ${limit}`;
  let expected = visible.filter((index) => matches(filter, rows[index] as Row, index));
  if (descending) expected.reverse();
  if (limit !== undefined) expected = expected.slice(0, limit);
  const context = {
    isHidden: visibility.hidden(),
    visible: visibility.columnFilter(),
    workers: pool?.size ?? 0,
  };
  const guard = () => new QueryGuard('test', undefined, undefined);
  const scanPool = pool ?? new ParallelScanPool(table);
  for (const parallel of pool === undefined ? [false] : [false, true]) {
    const query = queryOf(filter, { forceIndex: [path], parallel }, descending, limit);
    const plan = createExecutionPlan(table, query, noRecords, context);
    expect(plan.access.index, label).toBe(path);
    // A visibility that hides nothing right now (no floor, no expiry, no holes) may leave nothing
    // to vectorize, when the query's own column terms fold away too; results are checked either way.
    if (context.visible?.kind !== 'all') {
      expect(findNode(plan.root, 'VectorizedFilter'), `${label}: vectorized`).toBeDefined();
      expect(findNode(plan.root, 'ParallelScan') !== undefined, `${label}: on the workers`).toBe(parallel);
    }
    expect(
      await selectRows(plan, table, noRecords, guard(), scanPool),
      `${label} parallel ${parallel}`,
    ).toEqual(expected);
    const perRow = createExecutionPlan(table, query, noRecords, { ...context, vectorize: false });
    expect(findNode(perRow.root, 'VectorizedFilter'), `${label}: per row`).toBeUndefined();
    expect(await selectRows(perRow, table, noRecords, guard(), scanPool), `${label} per row`).toEqual(
      expected,
    );
  }
}

/** Checks the visibility filter alone against hidden() and the oracle, over ranges and candidates. */
function checkVisibility(
  table: EventTable,
  visibility: Visibility,
  visible: readonly number[],
  picks: readonly number[],
): void {
  const rows = table.rows;
  const hidden = visibility.hidden();
  const columns = visibility.columnFilter();
  expect(hidden).toBeDefined();
  expect(columns).toBeDefined();
  const label = JSON.stringify(columns, (_, value: unknown) =>
    value instanceof Uint32Array ? [...value] : value,
  );
  expect(
    range(0, rows).filter((row) => !hidden!(row)),
    'hidden()',
  ).toEqual(visible);
  const scan = new ColumnScan(columns!, tableChunks(table));
  expect([...scan.range(0, rows)], label).toEqual(visible);
  const [a = 0, b = 0] = picks.map((pick) => pick % (rows + 1));
  const [lo, hi] = [Math.min(a, b), Math.max(a, b)];
  expect([...scan.range(lo, hi)], `${label} rows [${lo}, ${hi})`).toEqual(
    visible.filter((row) => row >= lo && row < hi),
  );
  const candidates = [...new Set(picks.map((p) => p % Math.max(1, rows)))]
    .filter((row) => row < rows)
    .sort((x, y) => x - y);
  const kept = new Set(visible);
  expect([...scan.filterRows(Uint32Array.from(candidates))], `${label} candidates`).toEqual(
    candidates.filter((row) => kept.has(row)),
  );
}

/** Frees chunk 0 of every column, as cleanup may once every row in it is removed: reads give 0 there. */
function freeFirstChunk(table: EventTable): void {
  for (const column of [
    table.timestamp,
    table.typeId,
    table.aggregateId,
    table.version,
    table.recordLength,
  ]) {
    const arrays: RawArray[] = [];
    const present = column.snapshot(arrays);
    expect(present[0]).toBe(0);
    column.restore(present.slice(1), new ArrayCursor(arrays.slice(1)));
  }
}

describe('hidden rows as column terms: the vectorized scan leaves out what reads must not see', () => {
  test('Visibility.columnFilter() leaves exactly the rows hidden() and the oracle leave', () => {
    fc.assert(
      fc.property(rowsArb, hidingArb, fc.array(fc.nat(400), { maxLength: 40 }), (rows, h, picks) => {
        const table = tableOf(rows);
        const removed = removedRows(h, rows.length);
        const visibility = hide(table, h, removed);
        if (!hides(h) && removed.size === 0) {
          // Nothing to hide keeps reads free of any check.
          expect(visibility.hidden()).toBeUndefined();
          expect(visibility.columnFilter()).toBeUndefined();
          return;
        }
        checkVisibility(table, visibility, visibleRows(rows, h, removed), picks);
      }),
      { numRuns: VISIBILITY_RUNS },
    );
  });

  test('plans with hidden rows stay vectorized and return only visible rows', async () => {
    await fc.assert(
      fc.asyncProperty(
        rowsArb,
        hidingArb.filter(hides),
        fc.array(fc.tuple(filterArb, fc.boolean(), fc.option(fc.nat(20), { nil: undefined })), {
          minLength: 1,
          maxLength: 6,
        }),
        async (rows, h, cases) => {
          const table = tableOf(rows);
          const removed = removedRows(h, rows.length);
          const visibility = hide(table, h, removed);
          const visible = visibleRows(rows, h, removed);
          // A filter with no term on columns too: visibility's terms alone are vectorized.
          for (const [filter, descending, limit] of [[f.and(), false, undefined] as const, ...cases])
            await checkPlans(table, rows, visibility, visible, filter, { descending, limit });
        },
      ),
      { numRuns: VISIBILITY_RUNS },
    );
  });

  test('on the worker pool: the visibility terms are posted with the filter', async () => {
    await fc.assert(
      fc.asyncProperty(
        rowsArb,
        hidingArb.filter(hides),
        filterArb,
        fc.boolean(),
        async (rows, h, filter, descending) => {
          const table = tableOf(rows);
          const removed = removedRows(h, rows.length);
          const visibility = hide(table, h, removed);
          const pool = new ParallelScanPool(table);
          try {
            await checkPlans(table, rows, visibility, visibleRows(rows, h, removed), filter, {
              pool,
              descending,
            });
          } finally {
            await pool.close();
          }
        },
      ),
      { numRuns: 12 },
    );
  });

  test('across chunk boundaries, over index paths, a large aggregate dictionary and freed chunks', async () => {
    const rows = acrossChunks(seededRandom(13));
    const table = tableOf(rows);
    // Past 2^16 aggregates a NOT of deleted ids stays a NOT (marks) instead of becoming the ids it leaves.
    for (let i = 0; i < 70_000; i++) table.aggregates.intern(`other-${i}`);
    const edges = [CHUNK_ROWS - 1, CHUNK_ROWS, 2 * CHUNK_ROWS - 1, 2 * CHUNK_ROWS, 2 * CHUNK_ROWS + 776];
    const h: Hiding = {
      maxAge: 60,
      user: 'forever',
      order: 20,
      maxEvents: 2 * CHUNK_ROWS + 100,
      deleted: [AGGREGATES[1], 'ghost'],
      removed: [...edges, 5, 4000],
      now: 70,
    };
    const removed = new Set(h.removed);
    const visibility = hide(table, h, removed);
    const pool = new ParallelScanPool(table);
    try {
      const cases: [FilterNode, string][] = [
        [f.and(), 'scan'],
        [f.or(f.eq('type', TYPES[0]), f.gte('version', 90)), 'scan'],
        [f.in('type', [TYPES[0], TYPES[3]]), 'type'],
        [f.and(f.eq('aggregateId', AGGREGATES[2]), f.lt('timestamp', T0 + 50 * MINUTE)), 'aggregate'],
      ];
      const check = async () => {
        const visible = visibleRows(rows, h, removed);
        checkVisibility(table, visibility, visible, edges);
        for (const [filter, path] of cases) {
          await checkPlans(table, rows, visibility, visible, filter, {
            path,
            pool: path === 'scan' ? pool : undefined,
          });
          await checkPlans(table, rows, visibility, visible, filter, { path, descending: true, limit: 7 });
        }
      };
      await check();
      // Cleanup frees the first chunk once every event in it is removed: its rows then read 0, so
      // recordLength 0, removed. Workers that hold the chunk's old arrays are told to drop them.
      for (let row = 0; row < CHUNK_ROWS; row++) removed.add(row);
      freeFirstChunk(table);
      expect(table.recordLength.chunk(0)).toBeUndefined();
      await check();
    } finally {
      await pool.close();
    }
  });
});
