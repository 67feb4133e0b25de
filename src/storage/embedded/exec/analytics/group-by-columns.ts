import { accumulatorFor } from '../../../../analytics/accumulator-for.js';
import type { Accumulator } from '../../../../analytics/accumulator.js';
import { bucketGrid, type BucketGrid } from '../../../../analytics/time-bucket.js';
import type { AggregateSpec } from '../../../../query/aggregate-spec.js';
import type { HoppingWindow, TimeBucketSpec } from '../../../../query/analytics-ast.js';
import { canonicalJson } from '../../../../query/canonical.js';
import { resolveField } from '../../../../query/fields.js';
import type { EventTable } from '../../table/event-table.js';
import { fieldGetter, type BodyReader } from '../compile-filter.js';
import type { QueryGuard } from '../query-guard.js';

/** What the column group-by computes: groups by bucket and fields, aggregates over events. */
export interface ColumnGroupSpec {
  readonly bucket?: TimeBucketSpec;
  /** Hopping windows as the first key (`windowStart`, `windowEnd`): the dense group-by's only. */
  readonly window?: HoppingWindow;
  readonly groupBy: readonly string[];
  readonly aggregates: readonly { readonly alias: string; readonly spec: AggregateSpec }[];
}

/**
 * Reads a field of a row for analytics: core fields from their columns, `payload.*` and `tags.*`
 * from their field column (extracted on first use, each record decoded once, ever), never from a
 * record per query.
 */
export function analyticsGetter(
  field: string,
  table: EventTable,
  body: BodyReader,
): (row: number) => unknown {
  const ref = resolveField(field, 'field');
  if (ref.kind === 'core') return fieldGetter(ref, table, body);
  const column = table.fieldColumn(field);
  return (row) => column.value(row);
}

/** One group key: how to read it from a row as something a Map can hold, and how to give it back. */
interface KeyReader {
  readonly column: string;
  read(row: number): unknown;
  output(key: unknown): unknown;
}

const identity = (key: unknown) => key;

/** A value read as a group key: missing is null (its own group); objects by their canonical JSON. */
function keyOf(value: unknown, objects: Map<string, unknown>): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object') return value;
  const text = canonicalJson(value);
  if (!objects.has(text)) objects.set(text, value);
  return `\u0000${text}`;
}

/**
 * The reader of one group field: dictionary codes for aggregateId and type (ints hash fastest, each
 * turned back into its string once per group), the field's value otherwise.
 */
function fieldKey(field: string, table: EventTable, body: BodyReader): KeyReader {
  const ref = resolveField(field, 'groupBy');
  if (ref.kind === 'core' && (ref.name === 'type' || ref.name === 'aggregateId')) {
    const [dictionary, column] =
      ref.name === 'type' ? [table.types, table.typeId] : [table.aggregates, table.aggregateId];
    return {
      column: field,
      read: (row) => column.get(row),
      output: (key) => dictionary.valueOf(key as number),
    };
  }
  const get = analyticsGetter(field, table, body);
  const objects = new Map<string, unknown>();
  return {
    column: field,
    read: (row) => keyOf(get(row), objects),
    output: (key) => (typeof key === 'string' && key.startsWith('\u0000') ? objects.get(key.slice(1)) : key),
  };
}

function bucketKey(spec: TimeBucketSpec, table: EventTable, body: BodyReader): KeyReader {
  const grid: BucketGrid = bucketGrid(spec.width, {
    ...(spec.origin === undefined ? {} : { origin: spec.origin }),
    ...(spec.timezone === undefined ? {} : { timezone: spec.timezone }),
  });
  const field = spec.field ?? 'timestamp';
  const get = analyticsGetter(field, table, body);
  return {
    column: 'bucket',
    read: (row) => {
      const value = get(row);
      // An event without the field (or with a value that is not an instant) has no bucket: null.
      return typeof value === 'number' && Number.isSafeInteger(value) ? grid.start(value) : null;
    },
    output: identity,
  };
}

interface Group {
  readonly keys: unknown[];
  readonly states: unknown[];
}

interface Input {
  readonly accumulator: Accumulator;
  readonly read: (row: number) => unknown;
}

function inputOf(spec: AggregateSpec, table: EventTable, body: BodyReader): Input {
  const getter = (field: string) => analyticsGetter(field, table, body);
  const accumulator = accumulatorFor(spec);
  switch (spec.kind) {
    case 'count':
      return { accumulator, read: () => undefined };
    case 'corr': {
      const [x, y] = [getter(spec.x), getter(spec.y)];
      return { accumulator, read: (row) => [x(row), y(row)] };
    }
    case 'custom':
      return { accumulator, read: spec.field === undefined ? () => undefined : getter(spec.field) };
    default:
      return { accumulator, read: getter(spec.field) };
  }
}

/** Aggregates that look at where an event sits in time (first, last, custom ones) get it. */
const POSITIONAL = new Set(['first', 'last', 'custom']);

/** A row checked for cancellation and timeout every this many rows. */
const CHECK_EVERY = 65_536;

/**
 * Groups the rows by the bucket and fields and folds each group's aggregates, reading every field
 * from the table's columns where it lives there (core fields, dictionary codes) and from the
 * decoded record otherwise, each record decoded at most once. Rows come out one per group, in the
 * order groups were first seen: `{ bucket?, <group field>: key, <alias>: result }`.
 */
export function groupByColumns(
  rows: ArrayLike<number>,
  spec: ColumnGroupSpec,
  table: EventTable,
  body: BodyReader,
  guard: QueryGuard,
): Record<string, unknown>[] {
  const keys: KeyReader[] = [
    ...(spec.bucket === undefined ? [] : [bucketKey(spec.bucket, table, body)]),
    ...spec.groupBy.map((field) => fieldKey(field, table, body)),
  ];
  const inputs = spec.aggregates.map(({ spec: aggregate }) => inputOf(aggregate, table, body));
  const positional = spec.aggregates.some(({ spec: aggregate }) => POSITIONAL.has(aggregate.kind));
  const groups: Group[] = [];
  // A tree of maps, one level per key: no composite key strings built per row.
  const root = new Map<unknown, unknown>();
  const depth = keys.length;
  const scratch: unknown[] = new Array<unknown>(depth);
  const global: Group | undefined =
    depth === 0 ? { keys: [], states: inputs.map((input) => input.accumulator.init()) } : undefined;
  if (global !== undefined) groups.push(global);
  for (let i = 0; i < rows.length; i++) {
    if ((i & (CHECK_EVERY - 1)) === CHECK_EVERY - 1) guard.check();
    const row = rows[i] as number;
    let group = global;
    if (group === undefined) {
      let level = root;
      for (let k = 0; k < depth - 1; k++) {
        const key = (scratch[k] = (keys[k] as KeyReader).read(row));
        let next = level.get(key) as Map<unknown, unknown> | undefined;
        if (next === undefined) level.set(key, (next = new Map()));
        level = next;
      }
      const last = (scratch[depth - 1] = (keys[depth - 1] as KeyReader).read(row));
      group = level.get(last) as Group | undefined;
      if (group === undefined) {
        group = { keys: scratch.slice(), states: inputs.map((input) => input.accumulator.init()) };
        level.set(last, group);
        groups.push(group);
      }
    }
    const event = positional ? { timestamp: table.timestamp.get(row), sequence: row + 1 } : undefined;
    const states = (group as Group).states;
    for (let a = 0; a < inputs.length; a++) {
      const input = inputs[a] as Input;
      states[a] = input.accumulator.add(states[a], input.read(row), event);
    }
  }
  return groups.map((group) => {
    const out: Record<string, unknown> = {};
    keys.forEach((key, k) => (out[key.column] = key.output(group.keys[k])));
    spec.aggregates.forEach(({ alias }, a) => {
      out[alias] = (inputs[a] as Input).accumulator.result(group.states[a]);
    });
    return out;
  });
}
