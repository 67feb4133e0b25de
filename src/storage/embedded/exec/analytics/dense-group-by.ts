import { bucketGrid } from '../../../../analytics/time-bucket.js';
import type { AggregateSpec } from '../../../../query/aggregate-spec.js';
import { DAY_MS } from '../../../../analytics/civil-days.js';
import type { EventTable } from '../../table/event-table.js';
import type { QueryGuard } from '../query-guard.js';
import { accumulatorFor } from '../../../../analytics/accumulator-for.js';
import type { Accumulator } from '../../../../analytics/accumulator.js';
import { sketchMapping } from '../../../../analytics/approx-percentile.js';
import { SketchFold } from './sketch-fold.js';
import type { ColumnGroupSpec } from './group-by-columns.js';
import {
  BLOCK,
  foldRows,
  forBlocks,
  PercentileFold,
  SIMPLE_KINDS,
  SimpleFold,
  type CodeSource,
  type Fold,
  type NumberSource,
} from './dense-fold.js';
import {
  codeSourceOf,
  fieldCodesKey,
  fieldNumbersKey,
  gatherChunks,
  numberSourceOf,
  type CodeSpec,
  type NumberSpec,
} from './chunk-sources.js';
import { tableChunks } from './table-chunks.js';
import { foldOnWorkers, type ParallelFold } from './parallel-group-by.js';
import { positiveDurationMs } from '../../../../analytics/stages/stage-duration.js';
import type { HoppingWindow } from '../../../../query/analytics-ast.js';

/**
 * The group-by the hot analytics queries take: every group key an integer code from a column
 * (a time bucket, a type or aggregate id from its dictionary, a field column's value code) and
 * every aggregate a numeric one over a numeric column (count, sum, avg, min, max, exact and
 * approximate percentiles, stddev, variance). Each row's group is one integer (the keys' codes
 * mixed by their cardinalities), the groups' states live in typed arrays indexed by it, and each
 * aggregate is folded by its own tight loop over the rows (dense-fold.ts): no Map, no object and
 * no call per row. Large inputs fold on the scan workers when every key and aggregate can be read
 * there (parallel-group-by.ts). Anything else (first/last, payload fields without a field column,
 * too many groups) is group-by-columns.ts's.
 */

/** A group key, with its description as data when a worker can read it from column chunks. */
export interface DenseCodeSource extends CodeSource {
  readonly spec?: CodeSpec;
}

/** A numeric field, with its description as data when a worker can read it from column chunks. */
export interface DenseNumberSource extends NumberSource {
  readonly spec?: NumberSpec;
}

/** Where the dense group-by reads fields: the table's own columns, and field columns when there are any. */
export interface DenseSources {
  codes(field: string): DenseCodeSource | undefined;
  /** `counting`: for count(field), which counts present values of any kind, not only numbers. */
  numbers(field: string, counting: boolean): DenseNumberSource | undefined;
}

const DENSE_KINDS = new Set([
  ...SIMPLE_KINDS,
  'median',
  'percentile',
  // Numeric ones folded by their accumulator, fed numbers from the typed arrays:
  'stddev',
  'variance',
  'approxPercentile',
]);
const ACCUMULATED = new Set(['stddev', 'variance']);
/** Most groups the typed arrays are sized for (the product of the keys' cardinalities). */
const MAX_DENSE_GROUPS = 1 << 22;
/** The ISO week grid's origin: Monday 1969-12-29 (time-bucket.ts). */
const WEEK_ORIGIN = -3 * DAY_MS;

/** A number source read from the table's chunks, described as data for the workers. */
function chunkNumbers(table: EventTable, spec: NumberSpec): DenseNumberSource {
  return { ...numberSourceOf(spec, tableChunks(table)), spec };
}

/**
 * The table's columns as dense sources: core columns, and `payload.*` / `tags.*` fields through
 * their field columns (extracted on first use). A field column is a group key when it holds only
 * strings (objects key by their JSON, which only the general path canonicalizes), and numbers for
 * sum, avg, min and max; count(field) counts any present value, so it takes a field column only
 * when every value there is a number.
 */
export function tableSources(table: EventTable): DenseSources {
  const dictionaryCodes = (field: 'type' | 'aggregateId'): DenseCodeSource => {
    const dictionary = field === 'type' ? table.types : table.aggregates;
    const spec: CodeSpec = {
      kind: 'codes',
      key: field === 'type' ? 'typeId' : 'aggregateId',
      cardinality: dictionary.size,
    };
    return {
      ...codeSourceOf(spec, tableChunks(table), BLOCK),
      column: field,
      valueOf: (code) => dictionary.valueOf(code),
      spec,
    };
  };
  const isFieldColumn = (field: string) => field.startsWith('payload.') || field.startsWith('tags.');
  return {
    codes: (field) => {
      if (field === 'type' || field === 'aggregateId') return dictionaryCodes(field);
      if (!isFieldColumn(field)) return undefined;
      const column = table.fieldColumn(field);
      const codes = column.kind === 'string' ? column.keyCodes() : undefined;
      if (codes === undefined) return undefined;
      const { cardinality, missing } = codes;
      return { ...codes, spec: { kind: 'codes', key: fieldCodesKey(field), cardinality, missing } };
    },
    numbers: (field, counting) => {
      if (field === 'timestamp' || field === 'version')
        return chunkNumbers(table, { kind: 'column', key: field });
      if (field === 'sequence') return chunkNumbers(table, { kind: 'sequence' });
      if (!isFieldColumn(field)) return undefined;
      const column = table.fieldColumn(field);
      if (counting && column.kind !== 'number') return undefined;
      return chunkNumbers(table, { kind: 'column', key: fieldNumbersKey(field) });
    },
  };
}

/** The earliest and latest timestamp of the rows (Infinity and -Infinity for none). */
function timeSpan(
  rows: Int32Array,
  chunks: ReturnType<typeof tableChunks>,
  times: Float64Array,
): { low: number; high: number } {
  let low = Infinity;
  let high = -Infinity;
  forBlocks(rows, (block) => {
    gatherChunks(chunks, 'timestamp', block, times);
    for (let i = 0; i < block.length; i++) {
      const t = times[i] as number;
      if (t < low) low = t;
      if (t > high) high = t;
    }
  });
  return { low, high };
}

/**
 * Hopping windows as a key of codes over the windows the rows fall in, plus a discard code
 * (chunk-sources.ts): each row is read once per pass, and counts in every window that holds it.
 */
function windowCodes(window: HoppingWindow, table: EventTable, rows: Int32Array): DenseCodeSource {
  const size = positiveDurationMs(window.size, 'window.size');
  const every = positiveDurationMs(window.every, 'window.every');
  const chunks = tableChunks(table);
  const times = new Float64Array(Math.min(BLOCK, rows.length));
  const { low, high } = timeSpan(rows, chunks, times);
  const first = rows.length === 0 ? 0 : Math.floor((low - size) / every) + 1;
  const windows = rows.length === 0 ? 0 : Math.floor(high / every) - first + 1;
  const spec: CodeSpec = {
    kind: 'window',
    every,
    size,
    first,
    cardinality: windows + 1,
    passes: Math.ceil(size / every),
  };
  return { ...codeSourceOf(spec, chunks, times.length), spec };
}

/**
 * The bucket of each row as codes 0 .. n-1 over the buckets the rows span (fixed widths in UTC by
 * arithmetic; months, years and time zones through the grid, one call per row). Reads the rows'
 * timestamps once to find the span first.
 */
function bucketCodes(
  spec: NonNullable<ColumnGroupSpec['bucket']>,
  table: EventTable,
  rows: Int32Array,
): DenseCodeSource | undefined {
  if ((spec.field ?? 'timestamp') !== 'timestamp') return undefined;
  const grid = bucketGrid(spec.width, {
    ...(spec.origin === undefined ? {} : { origin: spec.origin }),
    ...(spec.timezone === undefined ? {} : { timezone: spec.timezone }),
  });
  const chunks = tableChunks(table);
  const times = new Float64Array(Math.min(BLOCK, rows.length));
  const fixed = grid.width.fixedMs !== null && spec.timezone === undefined ? grid.width.fixedMs : null;
  const origin = spec.origin ?? (grid.width.unit === 'w' ? WEEK_ORIGIN : 0);
  if (fixed !== null) {
    const { low, high } = timeSpan(rows, chunks, times);
    const first = rows.length === 0 ? 0 : Math.floor((low - origin) / fixed);
    const cardinality = rows.length === 0 ? 1 : Math.floor((high - origin) / fixed) - first + 1;
    const bucket: CodeSpec = { kind: 'bucket', origin, width: fixed, first, cardinality };
    return { ...codeSourceOf(bucket, chunks, times.length), spec: bucket };
  }
  // Calendar and zoned buckets: each distinct start gets a code as it is first seen.
  const starts: number[] = [];
  const index = new Map<number, number>();
  const codeOf = (ms: number): number => {
    const start = grid.start(ms);
    let code = index.get(start);
    if (code === undefined) {
      code = starts.length;
      starts.push(start);
      index.set(start, code);
    }
    return code;
  };
  // A first pass fixes the codes, so the cardinality is known before grouping.
  forBlocks(rows, (block) => {
    gatherChunks(chunks, 'timestamp', block, times);
    for (let i = 0; i < block.length; i++) codeOf(times[i] as number);
  });
  return {
    column: 'bucket',
    cardinality: Math.max(1, starts.length),
    codes(block, out) {
      gatherChunks(chunks, 'timestamp', block, times);
      for (let i = 0; i < block.length; i++) out[i] = codeOf(times[i] as number);
    },
    valueOf: (code) => starts[code],
  };
}

/**
 * Any numeric aggregate by its own accumulator (the general path's, so the results are the same),
 * one state per group, fed the block's numbers (NaN, the missing and non-numbers, it skips).
 */
function accumulatedFold(accumulator: Accumulator, groups: number): Fold {
  const states = new Array<unknown>(groups);
  return {
    add(groupOf, values, length) {
      const v = values as Float64Array;
      for (let i = 0; i < length; i++) {
        const g = groupOf[i] as number;
        states[g] = accumulator.add(states[g] === undefined ? accumulator.init() : states[g], v[i]);
      }
    },
    result: (g) =>
      accumulator.result(states[g] === undefined ? accumulator.init() : states[g]) as number | null,
  };
}

function fieldOf(spec: AggregateSpec): string | undefined {
  return 'field' in spec ? spec.field : undefined;
}

/**
 * Groups and aggregates the rows with typed arrays, or returns undefined when the query is not one
 * it can do (see the top of this file): the caller then takes the general path. Rows are taken a
 * block at a time: the arrays per row are one block long. With `parallel`, shares of the rows fold
 * on the scan workers when every key and aggregate can be read there (see foldOnWorkers); the
 * answer is `workers`: how many folded it (0 when it ran here).
 */
export async function denseGroupBy(
  rows: Int32Array,
  spec: ColumnGroupSpec,
  table: EventTable,
  sources: DenseSources,
  guard: QueryGuard,
  parallel?: ParallelFold,
): Promise<{ rows: Record<string, unknown>[]; workers: number } | undefined> {
  if (!spec.aggregates.every(({ spec: a }) => DENSE_KINDS.has(a.kind))) return undefined;
  const numberSources = spec.aggregates.map(({ spec: a }) => {
    const field = fieldOf(a);
    return field === undefined ? null : sources.numbers(field, a.kind === 'countField');
  });
  if (numberSources.some((source) => source === undefined)) return undefined;
  const keys: DenseCodeSource[] = [];
  for (const field of spec.groupBy) {
    const source = sources.codes(field);
    if (source === undefined) return undefined;
    keys.push(source);
  }
  if (spec.bucket !== undefined) {
    const bucket = bucketCodes(spec.bucket, table, rows);
    if (bucket === undefined) return undefined;
    keys.unshift(bucket);
  }
  if (spec.window !== undefined) keys.unshift(windowCodes(spec.window, table, rows));
  const groups = keys.reduce((product, key) => product * key.cardinality, 1);
  if (groups > MAX_DENSE_GROUPS) return undefined;
  // approxPercentile aggregates over one field share its sketches, exact ones its runs:
  // p50, p95 and p99 sketch, or place, the field's values once.
  const sketches = new Map<string, SketchFold>();
  const mapping = sketchMapping();
  const sketchFold = (field: string, p: number): SketchFold => {
    const owner = sketches.get(field);
    const fold = new SketchFold(groups, p, mapping, owner);
    if (owner === undefined) sketches.set(field, fold);
    return fold;
  };
  const runs = new Map<string, PercentileFold>();
  const percentileFold = (field: string, p: number): PercentileFold => {
    const owner = runs.get(field);
    const fold = new PercentileFold(groups, p, owner);
    if (owner === undefined) runs.set(field, fold);
    return fold;
  };
  const folds: Fold[] = spec.aggregates.map(({ spec: a }) =>
    a.kind === 'percentile'
      ? percentileFold(a.field, a.p)
      : a.kind === 'median'
        ? percentileFold(a.field, 0.5)
        : a.kind === 'approxPercentile'
          ? sketchFold(a.field, a.p)
          : ACCUMULATED.has(a.kind)
            ? accumulatedFold(accumulatorFor(a), groups)
            : new SimpleFold(a.kind, groups),
  );
  const numbers = numberSources as (DenseNumberSource | null)[];
  const onWorkers =
    parallel === undefined
      ? undefined
      : await foldOnWorkers(rows, keys, numbers, folds, groups, guard, parallel);
  const present = onWorkers ?? foldRows(rows, keys, numbers, folds, groups, () => guard.check());
  const out: Record<string, unknown>[] = [];
  // With no key, SQL's one row of an aggregate over no rows: count 0, the others null.
  if (keys.length === 0) present[0] = 1;
  const digits = new Array<number>(keys.length);
  groups: for (let g = 0; g < groups; g++) {
    if (present[g] === 0) continue;
    let rest = g;
    for (let k = keys.length - 1; k >= 0; k--) {
      const key = keys[k] as CodeSource;
      const code = rest % key.cardinality;
      // A group of rows a window pass discarded is no group.
      if (code === key.discard) continue groups;
      digits[k] = code;
      rest = Math.floor(rest / key.cardinality);
    }
    const row: Record<string, unknown> = {};
    keys.forEach((key, k) => {
      const code = digits[k] as number;
      if (key.columnsOf === undefined) row[key.column] = key.valueOf(code);
      else Object.assign(row, key.columnsOf(code));
    });
    spec.aggregates.forEach(({ alias }, a) => (row[alias] = (folds[a] as Fold).result(g)));
    out.push(row);
  }
  return { rows: out, workers: onWorkers === undefined ? 0 : (parallel?.workers ?? 0) };
}
