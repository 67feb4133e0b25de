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
 * The oracle (valueOf, matches) is written from the documented semantics and runs no engine code.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { f, type FilterNode, type Scalar } from '../../src/index.js';
import { compileColumnFilter, splitColumnTerms } from '../../src/query/column-filter.js';
import { ColumnScan, tableChunks } from '../../src/query/column-scan.js';
import { compileFilter } from '../../src/query/compile-filter.js';
import { CHUNK_ROWS } from '../../src/table/chunked-column.js';
import { EventTable } from '../../src/table/event-table.js';
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

function tableOf(rows: readonly Row[]): EventTable {
  const table = new EventTable();
  for (const row of rows) table.addRow(row.aggregateId, row.type, row.timestamp, row.version, 0, 0, {});
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
    const random = seededRandom(7);
    const rows = withVersions(
      Array.from({ length: 2 * CHUNK_ROWS + 777 }, () => ({
        agg: randomInt(random, 0, AGGREGATES.length - 1),
        type: randomInt(random, 0, TYPES.length - 1),
        minute: randomInt(random, -5, 100),
      })),
    );
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
