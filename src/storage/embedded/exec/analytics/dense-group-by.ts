import { bucketGrid } from '../../../../analytics/time-bucket.js';
import type { AggregateSpec } from '../../../../query/aggregate-spec.js';
import { DAY_MS } from '../../../../analytics/civil-days.js';
import type { EventTable } from '../../table/event-table.js';
import { CHUNK_ROWS, CHUNK_SHIFT, type ChunkedColumn } from '../../table/chunked-column.js';

const CHUNK_MASK = CHUNK_ROWS - 1;
import type { QueryGuard } from '../query-guard.js';
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
  numbers(field: string): NumberSource | undefined;
}

const DENSE_KINDS = new Set(['count', 'countField', 'sum', 'avg', 'min', 'max']);
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

/** The table's core columns as dense sources. */
export function coreSources(table: EventTable): DenseSources {
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
  return {
    codes: (field) => (field === 'type' || field === 'aggregateId' ? dictionaryCodes(field) : undefined),
    numbers: (field) => {
      if (field === 'timestamp') return timestampNumbers(table);
      if (field === 'version') {
        return { numbers: (rows, out) => gather(table.version, rows, out) };
      }
      if (field === 'sequence') {
        return {
          numbers(rows, out) {
            for (let i = 0; i < rows.length; i++) out[i] = (rows[i] as number) + 1;
          },
        };
      }
      return undefined;
    },
  };
}

/**
 * The bucket of each row as codes 0 .. n-1 over the buckets the rows span (fixed widths in UTC by
 * arithmetic; months, years and time zones through the grid, one call per row).
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
  const times = new Float64Array(rows.length);
  timestampNumbers(table).numbers(rows, times);
  const fixed = grid.width.fixedMs !== null && spec.timezone === undefined ? grid.width.fixedMs : null;
  const origin = spec.origin ?? (grid.width.unit === 'w' ? WEEK_ORIGIN : 0);
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < times.length; i++) {
    const t = times[i] as number;
    if (t < low) low = t;
    if (t > high) high = t;
  }
  if (fixed !== null) {
    const first = rows.length === 0 ? 0 : Math.floor((low - origin) / fixed);
    const cardinality = rows.length === 0 ? 1 : Math.floor((high - origin) / fixed) - first + 1;
    return {
      column: 'bucket',
      cardinality,
      codes(_, out) {
        for (let i = 0; i < times.length; i++)
          out[i] = Math.floor(((times[i] as number) - origin) / fixed) - first;
      },
      valueOf: (code) => origin + (code + first) * fixed,
    };
  }
  const starts: number[] = [];
  const index = new Map<number, number>();
  const codes = new Int32Array(rows.length);
  for (let i = 0; i < times.length; i++) {
    const start = grid.start(times[i] as number);
    let code = index.get(start);
    if (code === undefined) {
      code = starts.length;
      starts.push(start);
      index.set(start, code);
    }
    codes[i] = code;
  }
  return {
    column: 'bucket',
    cardinality: Math.max(1, starts.length),
    codes: (_, out) => out.set(codes),
    valueOf: (code) => starts[code],
  };
}

/** Folds one aggregate over the rows' group indices; returns the per-group result reader. */
function fold(
  kind: string,
  values: Float64Array | undefined,
  groupOf: Int32Array,
  groups: number,
): (group: number) => number | null {
  const n = new Float64Array(groups);
  if (kind === 'count') {
    for (let i = 0; i < groupOf.length; i++) n[groupOf[i] as number]! += 1;
    return (g) => n[g] as number;
  }
  const v = values as Float64Array;
  if (kind === 'countField') {
    for (let i = 0; i < groupOf.length; i++) if (!Number.isNaN(v[i])) n[groupOf[i] as number]! += 1;
    // As the general path's count(field) (numeric-accumulators.ts): null when nothing was counted.
    return (g) => ((n[g] as number) === 0 ? null : (n[g] as number));
  }
  const acc = new Float64Array(groups).fill(kind === 'min' ? Infinity : kind === 'max' ? -Infinity : 0);
  for (let i = 0; i < groupOf.length; i++) {
    const x = v[i] as number;
    if (x !== x) continue; // NaN: missing or not a number, skipped as SQL skips NULL
    const g = groupOf[i] as number;
    n[g]! += 1;
    if (kind === 'min') {
      if (x < (acc[g] as number)) acc[g] = x;
    } else if (kind === 'max') {
      if (x > (acc[g] as number)) acc[g] = x;
    } else acc[g]! += x;
  }
  return (g) => {
    const count = n[g] as number;
    if (count === 0) return null;
    const value = acc[g] as number;
    return (kind === 'avg' ? value / count : value) + 0;
  };
}

function fieldOf(spec: AggregateSpec): string | undefined {
  return 'field' in spec ? spec.field : undefined;
}

/**
 * Groups and aggregates the rows with typed arrays, or returns undefined when the query is not one
 * it can do (see the top of this file): the caller then takes the general path.
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
    return field === undefined ? null : sources.numbers(field);
  });
  if (numberSources.some((source) => source === undefined)) return undefined;
  const keys: CodeSource[] = [];
  if (spec.bucket !== undefined) {
    const bucket = bucketCodes(spec.bucket, table, rows);
    if (bucket === undefined) return undefined;
    keys.push(bucket);
  }
  for (const field of spec.groupBy) {
    const source = sources.codes(field);
    if (source === undefined) return undefined;
    keys.push(source);
  }
  const groups = keys.reduce((product, key) => product * key.cardinality, 1);
  if (groups > MAX_DENSE_GROUPS) return undefined;
  guard.check();
  // Each row's group: the keys' codes in mixed radix, the first key most significant.
  const groupOf = new Int32Array(rows.length);
  const codes = new Int32Array(rows.length);
  for (const key of keys) {
    key.codes(rows, codes);
    const radix = key.cardinality;
    for (let i = 0; i < rows.length; i++) groupOf[i] = (groupOf[i] as number) * radix + (codes[i] as number);
  }
  guard.check();
  const present = new Uint8Array(groups);
  for (let i = 0; i < groupOf.length; i++) present[groupOf[i] as number] = 1;
  const values = new Float64Array(rows.length);
  const results = spec.aggregates.map(({ spec: a }, index) => {
    const source = numberSources[index];
    if (source) source.numbers(rows, values);
    const result = fold(a.kind, source ? values : undefined, groupOf, groups);
    guard.check();
    return result;
  });
  const out: Record<string, unknown>[] = [];
  // With no key, SQL's one row of an aggregate over no rows: count 0, the others null.
  if (keys.length === 0) present[0] = 1;
  for (let g = 0; g < groups; g++) {
    if (present[g] === 0) continue;
    const row: Record<string, unknown> = {};
    let rest = g;
    for (let k = keys.length - 1; k >= 0; k--) {
      const key = keys[k] as CodeSource;
      row[key.column] = key.valueOf(rest % key.cardinality);
      rest = Math.floor(rest / key.cardinality);
    }
    const ordered: Record<string, unknown> = {};
    for (const key of keys) ordered[key.column] = row[key.column];
    spec.aggregates.forEach(
      ({ alias }, index) => (ordered[alias] = (results[index] as (g: number) => unknown)(g)),
    );
    out.push(ordered);
  }
  return out;
}
