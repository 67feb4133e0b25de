import { bucketGrid } from '../../../../analytics/time-bucket.js';
import type { AggregateSpec } from '../../../../query/aggregate-spec.js';
import { DAY_MS } from '../../../../analytics/civil-days.js';
import type { EventTable } from '../../table/event-table.js';
import { CHUNK_ROWS, CHUNK_SHIFT, type ChunkedColumn } from '../../table/chunked-column.js';

const CHUNK_MASK = CHUNK_ROWS - 1;
import type { QueryGuard } from '../query-guard.js';
import { continuousPercentile } from '../../../../analytics/order-accumulators.js';
import { accumulatorFor } from '../../../../analytics/accumulator-for.js';
import type { Accumulator } from '../../../../analytics/accumulator.js';
import { DDSketch } from '@datadog/sketches-js';
import { RELATIVE_ACCURACY, sketchPercentile } from '../../../../analytics/approx-percentile.js';
import type { ColumnGroupSpec } from './group-by-columns.js';

/**
 * The group-by the hot analytics queries take: every group key an integer code from a column
 * (a time bucket, a type or aggregate id from its dictionary, a field column's value code) and
 * every aggregate a count, sum, avg, min or max over a numeric column. Each row's group is one
 * integer (the keys' codes mixed by their cardinalities), the groups' states live in typed arrays
 * indexed by it, and each aggregate is folded by its own tight loop over the rows: no Map, no
 * object and no call per row. Anything else (percentiles, first/last, payload fields without a
 * field column, too many groups) is group-by-columns.ts's.
 */

/** A group key read as integer codes 0 .. cardinality-1. */
export interface CodeSource {
  readonly column: string;
  readonly cardinality: number;
  codes(rows: Int32Array, out: Int32Array): void;
  valueOf(code: number): unknown;
}

/** A numeric field read per row; NaN where the event has no number there. */
export interface NumberSource {
  numbers(rows: Int32Array, out: Float64Array): void;
}

/** Where the dense group-by reads fields: the table's own columns, and field columns when there are any. */
export interface DenseSources {
  codes(field: string): CodeSource | undefined;
  /** `counting`: for count(field), which counts present values of any kind, not only numbers. */
  numbers(field: string, counting: boolean): NumberSource | undefined;
}

const DENSE_KINDS = new Set([
  'count',
  'countField',
  'sum',
  'avg',
  'min',
  'max',
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

/**
 * Copies a column's values of the rows into `out`: chunk by chunk where the rows run without a gap
 * (a whole-table scan), one read per row otherwise.
 */
function gather(
  column: ChunkedColumn<Float64Array | Uint32Array>,
  rows: Int32Array,
  out: Float64Array,
): void {
  const n = rows.length;
  if (n > 0 && (rows[n - 1] as number) - (rows[0] as number) === n - 1) {
    let i = 0;
    while (i < n) {
      const row = rows[i] as number;
      const index = row >>> CHUNK_SHIFT;
      const offset = row & CHUNK_MASK;
      const take = Math.min(n - i, CHUNK_ROWS - offset);
      const chunk = column.chunk(index);
      if (chunk === undefined) out.fill(column.get(row), i, i + take);
      else out.set(chunk.subarray(offset, offset + take), i);
      i += take;
    }
    return;
  }
  for (let i = 0; i < n; i++) out[i] = column.get(rows[i] as number);
}

function timestampNumbers(table: EventTable): NumberSource {
  return { numbers: (rows, out) => gather(table.timestamp, rows, out) };
}

/**
 * The table's columns as dense sources: core columns, and `payload.*` / `tags.*` fields through
 * their field columns (extracted on first use). A field column is a group key when it holds only
 * strings (objects key by their JSON, which only the general path canonicalizes), and numbers for
 * sum, avg, min and max; count(field) counts any present value, so it takes a field column only
 * when every value there is a number.
 */
export function tableSources(table: EventTable): DenseSources {
  const dictionaryCodes = (field: 'type' | 'aggregateId'): CodeSource => {
    const [dictionary, column] =
      field === 'type' ? [table.types, table.typeId] : [table.aggregates, table.aggregateId];
    return {
      column: field,
      cardinality: dictionary.size,
      codes(rows, out) {
        for (let i = 0; i < rows.length; i++) out[i] = column.get(rows[i] as number);
      },
      valueOf: (code) => dictionary.valueOf(code),
    };
  };
  const isFieldColumn = (field: string) => field.startsWith('payload.') || field.startsWith('tags.');
  return {
    codes: (field) => {
      if (field === 'type' || field === 'aggregateId') return dictionaryCodes(field);
      if (!isFieldColumn(field)) return undefined;
      const column = table.fieldColumn(field);
      return column.kind === 'string' ? column.keyCodes() : undefined;
    },
    numbers: (field, counting) => {
      if (field === 'timestamp') return timestampNumbers(table);
      if (field === 'version') return { numbers: (rows, out) => gather(table.version, rows, out) };
      if (field === 'sequence') {
        return {
          numbers(rows, out) {
            for (let i = 0; i < rows.length; i++) out[i] = (rows[i] as number) + 1;
          },
        };
      }
      if (!isFieldColumn(field)) return undefined;
      const column = table.fieldColumn(field);
      if (counting && column.kind !== 'number') return undefined;
      return { numbers: (rows, out) => column.numbersOf(rows, out) };
    },
  };
}

/** Rows per block: every per-row array is one block long, so memory stays flat however many rows. */
const BLOCK = 65_536;

function forBlocks(rows: Int32Array, each: (block: Int32Array, start: number) => void): void {
  for (let start = 0; start < rows.length; start += BLOCK) each(rows.subarray(start, start + BLOCK), start);
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
): CodeSource | undefined {
  if ((spec.field ?? 'timestamp') !== 'timestamp') return undefined;
  const grid = bucketGrid(spec.width, {
    ...(spec.origin === undefined ? {} : { origin: spec.origin }),
    ...(spec.timezone === undefined ? {} : { timezone: spec.timezone }),
  });
  const times = new Float64Array(Math.min(BLOCK, rows.length));
  const fixed = grid.width.fixedMs !== null && spec.timezone === undefined ? grid.width.fixedMs : null;
  const origin = spec.origin ?? (grid.width.unit === 'w' ? WEEK_ORIGIN : 0);
  if (fixed !== null) {
    let low = Infinity;
    let high = -Infinity;
    forBlocks(rows, (block) => {
      gather(table.timestamp, block, times);
      for (let i = 0; i < block.length; i++) {
        const t = times[i] as number;
        if (t < low) low = t;
        if (t > high) high = t;
      }
    });
    const first = rows.length === 0 ? 0 : Math.floor((low - origin) / fixed);
    const cardinality = rows.length === 0 ? 1 : Math.floor((high - origin) / fixed) - first + 1;
    return {
      column: 'bucket',
      cardinality,
      codes(block, out) {
        gather(table.timestamp, block, times);
        for (let i = 0; i < block.length; i++)
          out[i] = Math.floor(((times[i] as number) - origin) / fixed) - first;
      },
      valueOf: (code) => origin + (code + first) * fixed,
    };
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
    gather(table.timestamp, block, times);
    for (let i = 0; i < block.length; i++) codeOf(times[i] as number);
  });
  return {
    column: 'bucket',
    cardinality: Math.max(1, starts.length),
    codes(block, out) {
      gather(table.timestamp, block, times);
      for (let i = 0; i < block.length; i++) out[i] = codeOf(times[i] as number);
    },
    valueOf: (code) => starts[code],
  };
}

/** One aggregate's per-group state: a count, and the running sum, min or max. */
interface Fold {
  add(groupOf: Int32Array, values: Float64Array | undefined, length: number): void;
  result(group: number): number | null;
}

function foldOf(kind: string, groups: number): Fold {
  const n = new Float64Array(groups);
  if (kind === 'count' || kind === 'countField') {
    const all = kind === 'count';
    return {
      add(groupOf, values, length) {
        if (all) for (let i = 0; i < length; i++) n[groupOf[i] as number]! += 1;
        else {
          const v = values as Float64Array;
          for (let i = 0; i < length; i++) if (v[i] === v[i]) n[groupOf[i] as number]! += 1;
        }
      },
      // count(field) is null when nothing was counted, as on the general path (numeric-accumulators.ts).
      result: (g) => (all || (n[g] as number) > 0 ? (n[g] as number) : null),
    };
  }
  const acc = new Float64Array(groups).fill(kind === 'min' ? Infinity : kind === 'max' ? -Infinity : 0);
  const add =
    kind === 'min'
      ? (groupOf: Int32Array, v: Float64Array, length: number) => {
          for (let i = 0; i < length; i++) {
            const x = v[i] as number;
            if (x !== x) continue; // NaN: missing or not a number, skipped as SQL skips NULL
            const g = groupOf[i] as number;
            n[g]! += 1;
            if (x < (acc[g] as number)) acc[g] = x;
          }
        }
      : kind === 'max'
        ? (groupOf: Int32Array, v: Float64Array, length: number) => {
            for (let i = 0; i < length; i++) {
              const x = v[i] as number;
              if (x !== x) continue;
              const g = groupOf[i] as number;
              n[g]! += 1;
              if (x > (acc[g] as number)) acc[g] = x;
            }
          }
        : (groupOf: Int32Array, v: Float64Array, length: number) => {
            for (let i = 0; i < length; i++) {
              const x = v[i] as number;
              if (x !== x) continue;
              const g = groupOf[i] as number;
              n[g]! += 1;
              acc[g]! += x;
            }
          };
  return {
    add: (groupOf, values, length) => add(groupOf, values as Float64Array, length),
    result: (g) => {
      const count = n[g] as number;
      if (count === 0) return null;
      const value = acc[g] as number;
      return (kind === 'avg' ? value / count : value) + 0;
    },
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

/**
 * approxPercentile by DDSketch per group (approx-percentile.ts: the general path's sketch and
 * reading, so the results are the same). The first such aggregate over a field fills the field's
 * sketches; the others over it only read them.
 */
function sketchFold(shared: Map<string, DDSketch[]>, field: string, p: number, groups: number): Fold {
  const existing = shared.get(field);
  const sketches = existing ?? new Array<DDSketch>(groups);
  if (existing === undefined) shared.set(field, sketches);
  const sketch = (g: number): DDSketch =>
    (sketches[g] ??= new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY }));
  return {
    add(groupOf, values, length) {
      if (existing !== undefined) return;
      const v = values as Float64Array;
      for (let i = 0; i < length; i++) {
        const x = v[i] as number;
        if (x === x) sketch(groupOf[i] as number).accept(x);
      }
    },
    result: (g) => (sketches[g] === undefined ? null : sketchPercentile(sketches[g], p)),
  };
}

/**
 * An exact percentile (percentile_cont) per group on typed arrays: the first pass counts each
 * group's numbers, the second places them in one array, a run per group, and each run is sorted
 * numerically; the result interpolates as the general path does (order-accumulators.ts).
 */
class PercentileFold implements Fold {
  private readonly n: Float64Array;
  private starts = new Float64Array(0);
  private filled = new Float64Array(0);
  private all = new Float64Array(0);

  /** With an `owner` (an earlier percentile over the same field), this one only reads its sorted runs. */
  constructor(
    groups: number,
    private readonly p: number,
    readonly owner?: PercentileFold,
  ) {
    this.n = owner?.n ?? new Float64Array(groups);
  }

  add(groupOf: Int32Array, values: Float64Array | undefined, length: number): void {
    if (this.owner !== undefined) return;
    const v = values as Float64Array;
    for (let i = 0; i < length; i++) if (v[i] === v[i]) this.n[groupOf[i] as number]! += 1;
  }

  allocate(): void {
    const groups = this.n.length;
    this.starts = new Float64Array(groups + 1);
    for (let g = 0; g < groups; g++) this.starts[g + 1] = (this.starts[g] as number) + (this.n[g] as number);
    this.filled = this.starts.slice(0, groups);
    this.all = new Float64Array(this.starts[groups] as number);
  }

  place(groupOf: Int32Array, v: Float64Array, length: number): void {
    for (let i = 0; i < length; i++) {
      const x = v[i] as number;
      if (x !== x) continue;
      const g = groupOf[i] as number;
      this.all[this.filled[g]!++] = x + 0;
    }
  }

  sortRuns(): void {
    for (let g = 0; g < this.n.length; g++) {
      if ((this.n[g] as number) > 1) this.all.subarray(this.starts[g], this.starts[g + 1]).sort();
    }
  }

  result(group: number): number | null {
    const count = this.n[group] as number;
    if (count === 0) return null;
    const runs = this.owner ?? this;
    const run = runs.all.subarray(runs.starts[group], runs.starts[group + 1]);
    return continuousPercentile(run as unknown as number[], this.p) + 0;
  }
}

function fieldOf(spec: AggregateSpec): string | undefined {
  return 'field' in spec ? spec.field : undefined;
}

/**
 * Groups and aggregates the rows with typed arrays, or returns undefined when the query is not one
 * it can do (see the top of this file): the caller then takes the general path. Rows are taken a
 * block at a time: the arrays per row are one block long.
 */
export function denseGroupBy(
  rows: Int32Array,
  spec: ColumnGroupSpec,
  table: EventTable,
  sources: DenseSources,
  guard: QueryGuard,
): Record<string, unknown>[] | undefined {
  if (!spec.aggregates.every(({ spec: a }) => DENSE_KINDS.has(a.kind))) return undefined;
  const numberSources = spec.aggregates.map(({ spec: a }) => {
    const field = fieldOf(a);
    return field === undefined ? null : sources.numbers(field, a.kind === 'countField');
  });
  if (numberSources.some((source) => source === undefined)) return undefined;
  const keys: CodeSource[] = [];
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
  const groups = keys.reduce((product, key) => product * key.cardinality, 1);
  if (groups > MAX_DENSE_GROUPS) return undefined;
  const length = Math.min(BLOCK, rows.length);
  const groupOf = new Int32Array(length);
  const codes = new Int32Array(length);
  const values = new Float64Array(length);
  const present = new Uint8Array(groups);
  // approxPercentile aggregates over one field share its sketches, exact ones its sorted runs:
  // p50, p95 and p99 sketch, or place and sort, the field's values once.
  const sketches = new Map<string, DDSketch[]>();
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
          ? sketchFold(sketches, a.field, a.p, groups)
          : ACCUMULATED.has(a.kind)
            ? accumulatedFold(accumulatorFor(a), groups)
            : foldOf(a.kind, groups),
  );
  // Each row's group: the keys' codes in mixed radix, the first key most significant.
  const groupsOf = (block: Int32Array): void => {
    groupOf.fill(0);
    for (const key of keys) {
      key.codes(block, codes);
      const radix = key.cardinality;
      for (let i = 0; i < block.length; i++)
        groupOf[i] = (groupOf[i] as number) * radix + (codes[i] as number);
    }
  };
  forBlocks(rows, (block) => {
    guard.check();
    groupsOf(block);
    for (let i = 0; i < block.length; i++) present[groupOf[i] as number] = 1;
    folds.forEach((fold, a) => {
      const source = numberSources[a];
      if (source) source.numbers(block, values);
      fold.add(groupOf, source ? values : undefined, block.length);
    });
  });
  // Exact percentiles: a second pass puts each group's values side by side, then sorts each run.
  const percentiles = folds.flatMap((fold, a) =>
    fold instanceof PercentileFold && fold.owner === undefined ? [[fold, a] as const] : [],
  );
  if (percentiles.length > 0) {
    for (const [fold] of percentiles) fold.allocate();
    forBlocks(rows, (block) => {
      guard.check();
      groupsOf(block);
      for (const [fold, a] of percentiles) {
        (numberSources[a] as NumberSource).numbers(block, values);
        fold.place(groupOf, values, block.length);
      }
    });
    for (const [fold] of percentiles) fold.sortRuns();
  }
  const out: Record<string, unknown>[] = [];
  // With no key, SQL's one row of an aggregate over no rows: count 0, the others null.
  if (keys.length === 0) present[0] = 1;
  const digits = new Array<unknown>(keys.length);
  for (let g = 0; g < groups; g++) {
    if (present[g] === 0) continue;
    let rest = g;
    for (let k = keys.length - 1; k >= 0; k--) {
      const key = keys[k] as CodeSource;
      digits[k] = key.valueOf(rest % key.cardinality);
      rest = Math.floor(rest / key.cardinality);
    }
    const row: Record<string, unknown> = {};
    keys.forEach((key, k) => (row[key.column] = digits[k]));
    spec.aggregates.forEach(({ alias }, a) => (row[alias] = (folds[a] as Fold).result(g)));
    out.push(row);
  }
  return out;
}
