import { ValidationError } from '../errors.js';
import { CORE_FIELDS, resolveField } from '../query/fields.js';
import { describe } from '../support/describe.js';
import type {
  AggregateSpec,
  ApproxPercentileSpec,
  CorrSpec,
  CountDistinctSpec,
  CountFieldSpec,
  CountSpec,
  CustomAggregate,
  CustomAggregateSpec,
  FieldAggregateSpec,
  HistogramSpec,
  NumericAggregateKind,
  PercentileSpec,
  PositionalAggregateKind,
} from '../query/aggregate-spec.js';
import { requireFunction } from '../support/require-function.js';
import type { DeltaSpec, MovingSpec } from '../query/analytics-ast.js';
import { validateAggregateSpec } from './stages/aggregate-map.js';

/**
 * A field an aggregate reads: an event field (checked here: `payload.`, `tags.x.` are refused), or
 * the name of a column of earlier output rows (a pipeline's projected `ms`), which the query that
 * uses the aggregate checks against what its rows hold.
 */
function field(value: unknown, where: string): string {
  if (typeof value === 'string' && /^[A-Za-z_$][\w$]*(\.[^.]+)*$/.test(value)) {
    const head = value.split('.')[0] as string;
    if (!(head in CORE_FIELDS) && head !== 'payload' && head !== 'tags') return value;
  }
  resolveField(value, where);
  return value as string;
}

function fraction(p: unknown, where: string): number {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
    throw new ValidationError(where, `must be a number from 0 to 1, got ${describe(p)}`, 'INVALID_OPERAND');
  }
  return p;
}

function fieldAggregate(kind: NumericAggregateKind | PositionalAggregateKind) {
  return (name: string): FieldAggregateSpec =>
    Object.freeze({ kind, field: field(name, `agg.${kind}(field)`) });
}

/** An output column a running aggregate reads (e.g. an alias `n`): any non-empty name. */
function outputColumn(value: unknown, where: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new ValidationError(
      where,
      `must be an output column name (a non-empty string), got ${describe(value)}`,
      'UNKNOWN_FIELD',
    );
  }
  return value;
}

/**
 * The aggregate a running one applies over output rows: its field names an output column (`n`),
 * which agg.avg('n') refuses as an event field, so it is usually written as JSON: `{ kind: 'avg', field: 'n' }`.
 */
function overOutput(of: unknown, where: string): AggregateSpec {
  validateAggregateSpec(of, where, false);
  return of as AggregateSpec;
}

const COUNT_ALL: CountSpec = Object.freeze({ kind: 'count' });

/**
 * The aggregates: each call checks its arguments (a ValidationError naming the bad value) and
 * returns a frozen spec. docs/analytics.md gives each one's SQL equivalent and null semantics.
 */
export const agg = Object.freeze({
  /** `count()`: events in the group (0 for an empty group); `count(field)`: events where the field is present and not null. */
  count(name?: string): CountSpec | CountFieldSpec {
    if (name === undefined) return COUNT_ALL;
    return Object.freeze({ kind: 'countField', field: field(name, 'agg.count(field)') });
  },
  /** Distinct present values, exact; objects and arrays compare by their JSON with sorted keys. */
  countDistinct(name: string): CountDistinctSpec {
    return Object.freeze({ kind: 'countDistinct', field: field(name, 'agg.countDistinct(field)') });
  },
  sum: fieldAggregate('sum'),
  avg: fieldAggregate('avg'),
  /** Numbers only: strings, booleans and other values are skipped like missing ones. */
  min: fieldAggregate('min'),
  /** Numbers only: strings, booleans and other values are skipped like missing ones. */
  max: fieldAggregate('max'),
  /** Sample standard deviation (SQL stddev_samp): null for fewer than 2 values. */
  stddev: fieldAggregate('stddev'),
  /** Sample variance (SQL var_samp): null for fewer than 2 values. */
  variance: fieldAggregate('variance'),
  median: fieldAggregate('median'),
  /** Exact continuous percentile, interpolated like SQL percentile_cont(p). */
  percentile(name: string, p: number): PercentileSpec {
    const where = 'agg.percentile';
    return Object.freeze({
      kind: 'percentile',
      field: field(name, `${where}(field)`),
      p: fraction(p, `${where}(p)`),
    });
  },
  /** A mergeable relative-error sketch (DDSketch): within 1% of the exact percentile for positive values. */
  approxPercentile(name: string, p: number): ApproxPercentileSpec {
    const where = 'agg.approxPercentile';
    return Object.freeze({
      kind: 'approxPercentile',
      field: field(name, `${where}(field)`),
      p: fraction(p, `${where}(p)`),
    });
  },
  /** The field's value at the earliest event (by timestamp, then sequence) that has it. */
  first: fieldAggregate('first'),
  /** The field's value at the latest event (by timestamp, then sequence) that has it. */
  last: fieldAggregate('last'),
  /** Pearson correlation (SQL corr): over events where both are finite numbers; null for fewer than 2 or a constant side. */
  corr(x: string, y: string): CorrSpec {
    return Object.freeze({ kind: 'corr', x: field(x, 'agg.corr(x)'), y: field(y, 'agg.corr(y)') });
  },
  /** `buckets` equal-width buckets from the smallest to the largest value (docs/analytics.md). */
  histogram(name: string, options: { readonly buckets: number }): HistogramSpec {
    const buckets: unknown = options?.buckets;
    if (typeof buckets !== 'number' || !Number.isSafeInteger(buckets) || buckets < 1) {
      throw new ValidationError(
        'agg.histogram(options.buckets)',
        `must be a positive integer, got ${describe(buckets)}`,
        'INVALID_OPTION',
      );
    }
    return Object.freeze({ kind: 'histogram', field: field(name, 'agg.histogram(field)'), buckets });
  },
  /**
   * A running aggregate over the ordered buckets (or windows) of each group: `of` over the last
   * `buckets` output rows up to and including the current one (`'all'`: cumulative). `of` reads an
   * output column, e.g. `agg.moving({ kind: 'avg', field: 'n' }, { buckets: 3 })` is a 3-bucket moving average of the
   * aggregate named `n` (agg.avg('n') would refuse `n`, which is not an event field).
   */
  moving(of: AggregateSpec, options: { readonly buckets: number | 'all' }): MovingSpec {
    const buckets: unknown = options?.buckets;
    if (buckets !== 'all' && (typeof buckets !== 'number' || !Number.isSafeInteger(buckets) || buckets < 1)) {
      throw new ValidationError(
        'agg.moving(options.buckets)',
        `must be a positive integer or 'all', got ${describe(buckets)}`,
        'INVALID_OPTION',
      );
    }
    return Object.freeze({ kind: 'moving', of: overOutput(of, 'agg.moving(of)'), buckets });
  },
  /** `of` over every bucket of the group so far: `agg.cumulative(agg.sum('n'))` is a running total. */
  cumulative(of: AggregateSpec): MovingSpec {
    return Object.freeze({ kind: 'moving', of: overOutput(of, 'agg.cumulative(of)'), buckets: 'all' });
  },
  /** An output column's value minus its value in the group's previous bucket (null for the first). */
  delta(column: string): DeltaSpec {
    return Object.freeze({ kind: 'delta', field: outputColumn(column, 'agg.delta(field)') });
  },
  /** A user-defined aggregate: not JSON (it holds functions), but mergeable like the others. */
  custom<S, R>(definition: CustomAggregate<S, R>): CustomAggregateSpec<S, R> {
    for (const part of ['init', 'add', 'merge', 'result'] as const) {
      requireFunction(definition?.[part], `agg.custom(${part})`);
    }
    const { init, add, merge, result } = definition;
    if (definition.field === undefined) return Object.freeze({ kind: 'custom', init, add, merge, result });
    return Object.freeze({
      kind: 'custom',
      field: field(definition.field, 'agg.custom(field)'),
      init,
      add,
      merge,
      result,
    });
  },
});

export type Agg = typeof agg;
/** Re-exported so a caller narrowing on `kind` needs one import. */
export type { AggregateSpec };
