/**
 * Where an event sits in time order: what `first` and `last` compare (timestamp, then sequence).
 * A StoredEvent fits; `timestamp` may also be epoch ms.
 */
export interface AggregateEvent {
  readonly timestamp: Date | number;
  readonly sequence: number;
}

/**
 * An aggregate, described as plain JSON (apart from `custom`): what `agg.*` builds and what a
 * pipeline stage or the CLI can carry as text. `field` is a field name as queries take it: a core
 * field, `tags.<key>` or `payload.<path>`.
 */
export type AggregateSpec =
  | CountSpec
  | CountFieldSpec
  | CountDistinctSpec
  | FieldAggregateSpec
  | PercentileSpec
  | ApproxPercentileSpec
  | CorrSpec
  | HistogramSpec
  | CustomAggregateSpec;

/** The aggregates over one numeric field that take no other argument. */
export type NumericAggregateKind = 'sum' | 'avg' | 'min' | 'max' | 'stddev' | 'variance' | 'median';

/** The aggregates over one field of any value type, ordered by event time then sequence. */
export type PositionalAggregateKind = 'first' | 'last';

export interface CountSpec {
  readonly kind: 'count';
}

export interface CountFieldSpec {
  readonly kind: 'countField';
  readonly field: string;
}

export interface CountDistinctSpec {
  readonly kind: 'countDistinct';
  readonly field: string;
}

export interface FieldAggregateSpec {
  readonly kind: NumericAggregateKind | PositionalAggregateKind;
  readonly field: string;
}

export interface PercentileSpec {
  readonly kind: 'percentile';
  readonly field: string;
  readonly p: number;
}

export interface ApproxPercentileSpec {
  readonly kind: 'approxPercentile';
  readonly field: string;
  readonly p: number;
}

export interface CorrSpec {
  readonly kind: 'corr';
  readonly x: string;
  readonly y: string;
}

export interface HistogramSpec {
  readonly kind: 'histogram';
  readonly field: string;
  readonly buckets: number;
}

/** One bucket of a histogram result: values in [low, high), the last bucket also holding high. */
export interface HistogramBucket {
  readonly low: number;
  readonly high: number;
  readonly count: number;
}

/** A user-defined aggregate: mergeable, so it can run in parallel and be cached per part. */
export interface CustomAggregate<S = unknown, R = unknown> {
  /** The field whose value `add` receives; without it `add` receives undefined and the event. */
  readonly field?: string;
  // Methods, not function properties: their parameters are bivariant, so a CustomAggregateSpec<number>
  // is an AggregateSpec like the others.
  init(): S;
  add(state: S, value: unknown, event?: AggregateEvent): S;
  merge(a: S, b: S): S;
  result(state: S): R;
}

export interface CustomAggregateSpec<S = unknown, R = unknown> extends CustomAggregate<S, R> {
  readonly kind: 'custom';
}
