import { ValidationError } from '../../errors.js';
import type { Field } from '../../query/ast.js';
import type { AggregateSpec } from '../../query/aggregate-spec.js';
import type { AggregateMap, PipelineRow, TimeBucketSpec } from '../../query/analytics-ast.js';
import { describe } from '../../support/describe.js';
import type { Accumulator, AggregateEvent } from '../accumulator.js';
import { accumulatorFor } from '../accumulator-for.js';
import { splitAggregates, validateAggregateMap } from './aggregate-map.js';
import { gridOf, validateTimeBucketSpec } from './bucket-rows.js';
import { GroupIndex, keyValue } from './group-key.js';
import { readRowField, rowFieldReader } from './read-row-field.js';

export interface GroupRowsOptions {
  /** Group key fields, read with readRowField; missing values group under null. */
  readonly by?: readonly Field[];
  readonly aggregates: AggregateMap;
  /** Adds the group key `bucket` (first): the start of the time bucket of `field` (default timestamp). */
  readonly bucket?: TimeBucketSpec;
}

/** What `add` receives for a row: the field's value, `[x, y]` for corr, nothing for count(). */
export function rowInput(spec: AggregateSpec): (row: object) => unknown {
  switch (spec.kind) {
    case 'count':
      return () => undefined;
    case 'corr': {
      const [x, y] = [rowFieldReader(spec.x), rowFieldReader(spec.y)];
      return (row) => [x(row), y(row)];
    }
    case 'custom':
      return spec.field === undefined ? () => undefined : rowFieldReader(spec.field);
    default:
      return rowFieldReader(spec.field);
  }
}

/**
 * Where a row sits in time for first/last: its timestamp (Date or epoch ms) and sequence; a record
 * without a timestamp (a group or pattern row) by its position in the input, which also stands in
 * for a missing sequence.
 */
export function rowPosition(row: object, position: number): AggregateEvent {
  const timestamp = readRowField(row, 'timestamp');
  const sequence = readRowField(row, 'sequence');
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp))
    return { timestamp: position, sequence: position };
  return {
    timestamp,
    sequence: typeof sequence === 'number' && Number.isFinite(sequence) ? sequence : position,
  };
}

function bucketReader(spec: TimeBucketSpec): (row: object) => number | null {
  validateTimeBucketSpec(spec, 'group.bucket');
  const grid = gridOf(spec, 'group.bucket');
  const read = rowFieldReader(spec.field ?? 'timestamp');
  return (row) => {
    const ms = read(row);
    return typeof ms === 'number' && Number.isFinite(ms) ? grid.start(ms) : null;
  };
}

function requireFields(by: unknown, path: string): asserts by is readonly Field[] {
  if (!Array.isArray(by) || by.some((field) => typeof field !== 'string' || field === '')) {
    throw new ValidationError(
      path,
      `must be an array of field names (non-empty strings), got ${describe(by)}`,
      'UNKNOWN_FIELD',
    );
  }
  if (new Set(by).size !== by.length) {
    throw new ValidationError(path, `names a field twice: ${describe(by)}`, 'INVALID_OPTION');
  }
}

/**
 * Group-by with aggregates over rows. Each output row is
 * `{ bucket?, [by field]: key value (null when missing), [alias]: result }`, groups in first-seen
 * order (the caller sorts). Group keys that are objects compare by canonical JSON. Running
 * aggregates (agg.moving, agg.delta) in the map are not computed here: applyRunning adds them.
 * No rows give no groups, except without `by` and `bucket`: one row, as SQL's aggregate without
 * GROUP BY (`count()` 0, the others null).
 */
export function groupRows(rows: readonly object[], options: GroupRowsOptions): PipelineRow[] {
  const by = options.by ?? [];
  requireFields(by, 'group.by');
  const keys = options.bucket ? ['bucket', ...by] : [...by];
  if (options.bucket && by.includes('bucket')) {
    throw new ValidationError(
      'group.by',
      `names "bucket", which the time bucket adds already`,
      'INVALID_OPTION',
    );
  }
  validateAggregateMap(options.aggregates, 'group.aggregates', keys);
  const { plain } = splitAggregates(options.aggregates);
  const accumulators: Accumulator[] = plain.map(([, spec]) => accumulatorFor(spec));
  const inputs = plain.map(([, spec]) => rowInput(spec));
  const bucket = options.bucket ? bucketReader(options.bucket) : null;
  const readers = by.map(rowFieldReader);
  // Only first, last and custom aggregates look at where a row sits in time.
  const positioned = plain.some(([, spec]) => ['first', 'last', 'custom'].includes(spec.kind));
  const index = new GroupIndex<{ key: unknown[]; states: unknown[] }>();
  const offset = bucket ? 1 : 0;
  const parts: unknown[] = new Array(keys.length);
  const create = () => ({
    key: parts.map(keyValue),
    states: accumulators.map((accumulator) => accumulator.init()),
  });
  for (let position = 0; position < rows.length; position++) {
    const row = rows[position]!;
    if (bucket) parts[0] = bucket(row);
    for (let k = 0; k < readers.length; k++) parts[k + offset] = readers[k]!(row);
    const group = index.find(parts, create);
    const at = positioned ? rowPosition(row, position) : undefined;
    for (let i = 0; i < accumulators.length; i++) {
      group.states[i] = accumulators[i]!.add(group.states[i], inputs[i]!(row), at);
    }
  }
  if (index.groups.length === 0 && keys.length === 0) index.find([], create);
  return index.groups.map(({ key, states }) => {
    const out: PipelineRow = {};
    keys.forEach((name, i) => (out[name] = key[i]));
    plain.forEach(([alias], i) => (out[alias] = accumulators[i]!.result(states[i])));
    return out;
  });
}
