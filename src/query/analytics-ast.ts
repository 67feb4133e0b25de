/**
 * The analytics part of the query model: plain JSON (apart from custom aggregates and function
 * stages) that the builder, `store.analytics.pipeline`, the CLI and later the HTTP API produce, and
 * every back end consumes. A builder query carries it as `EventQuery.analytics`; a pipeline is a
 * list of stages run in order over the output of the previous one. docs/analytics.md says what
 * each part means.
 */

import type { EventQuery, Field, FilterNode, OrderTerm } from './ast.js';
import type { AggregateSpec } from './aggregate-spec.js';

/** A length of time: milliseconds, or text such as `'10m'`, `'1h'`, `'1d'`. */
export type Duration = number | string;

/** Where a query reads: live events (default), archived ones, or both. */
export type EventSource = 'events' | 'archive' | 'all';

/** What empty buckets across the query's time range hold: 0, null, or the previous bucket's values. */
export type BucketFill = 0 | null | 'previous';

/**
 * Adds the group key `bucket`: the start (epoch ms) of the bucket of `field` (default `timestamp`).
 * Widths `ms s m h d` align to the Unix epoch in UTC, `w` to ISO weeks, `mo`/`y` to calendar months
 * and years; with `timezone` days and longer follow local midnight.
 */
export interface TimeBucketSpec {
  readonly width: string;
  readonly field?: Field;
  readonly origin?: number;
  readonly timezone?: string;
  /** Absent: only buckets that hold events. */
  readonly fill?: BucketFill;
}

/**
 * Hopping windows (`size`, `every`: an event counts in every window holding it; keys `windowStart`,
 * `windowEnd`) or session windows per group (`gap`: a window ends after `gap` with no event).
 */
/** Hopping windows: `size` long, one starting every `every` (tumbling when they are equal). */
export interface HoppingWindow {
  readonly size: Duration;
  readonly every: Duration;
}

export type TimeWindowSpec = HoppingWindow | { readonly gap: Duration };

/**
 * A running aggregate over the ordered buckets (or windows) of each group, computed from the
 * output rows: `of` reads an output column (e.g. `agg.avg('n')` over the aggregate named `n`).
 * `buckets`: how many buckets up to and including the current one; `'all'` for a cumulative one.
 */
export interface MovingSpec {
  readonly kind: 'moving';
  readonly of: AggregateSpec;
  readonly buckets: number | 'all';
}

/** The difference of an output column from its value in the previous bucket of the group (null for the first). */
export interface DeltaSpec {
  readonly kind: 'delta';
  readonly field: string;
}

export type RunningSpec = MovingSpec | DeltaSpec;

/** What `aggregate({...})` takes: aliases to aggregates over events, or running ones over output rows. */
export type AggregateMap = Readonly<Record<string, AggregateSpec | RunningSpec>>;

export interface PatternStepSpec {
  readonly name: string;
  readonly where: FilterNode;
  /** Last step only: matches when no event matching `where` follows within `within` of the first step. */
  readonly absent?: true;
}

/** See docs/analytics.md, Patterns, for the exact matching rules. */
export interface PatternQuerySpec {
  readonly partitionBy: Field;
  readonly steps: readonly PatternStepSpec[];
  readonly within: Duration;
  readonly contiguity?: 'relaxed' | 'strict';
}

/**
 * An equi-join of the query's events with those of `right` on a field (`on`, or
 * `[leftField, rightField]`). Each row is the left event with the matching right event under `as`
 * (one row per pair; a `left` join keeps unmatched left events with `as: null`). `within`: the right
 * event's timestamp is at or after the left one's and at most this much later.
 */
export interface JoinSpec {
  readonly right: EventQuery;
  readonly on: Field | readonly [Field, Field];
  readonly as: string;
  readonly type?: 'inner' | 'left';
  readonly within?: Duration;
}

/**
 * A conversion funnel as the query model carries it (what `store.analytics.funnel` sends the
 * engine): journeys by `partitionBy`, one filter per step. See docs/analytics.md, Funnels.
 */
export interface FunnelQuerySpec {
  readonly partitionBy: Field;
  readonly steps: readonly FilterNode[];
  readonly within: Duration;
  readonly mode?: 'sequential' | 'strict' | 'any';
  readonly exclusions?: readonly {
    readonly where: FilterNode;
    readonly between: readonly [number, number];
  }[];
  /**
   * Also the funnel of each value of this field (a journey's value: the field on its earliest
   * event, in (timestamp, sequence) order, that holds it; null when none does), as `breakdown`.
   */
  readonly breakdownBy?: Field;
}

/**
 * The analytics a builder query adds, applied in this order: join, pattern, time bucket or window,
 * group and aggregate, having. The query's orderBy, offset and limit then apply to the output rows,
 * by output column names (`bucket`, group fields, aggregate aliases).
 */
export interface AnalyticsSpec {
  readonly join?: JoinSpec;
  readonly pattern?: PatternQuerySpec;
  readonly bucket?: TimeBucketSpec;
  readonly window?: TimeWindowSpec;
  readonly groupBy?: readonly Field[];
  readonly aggregates?: AggregateMap;
  /** A filter over output rows: fields are output column names. */
  readonly having?: FilterNode;
  /** A funnel over the events: one row, `{ steps, breakdown? }`; not combined with the parts above. */
  readonly funnel?: FunnelQuerySpec;
}

/**
 * A projection expression: a field reference (text), a number, or arithmetic over expressions.
 * `{ literal: v }` is a constant of any JSON type (e.g. a string that is not a field).
 */
export type Expression =
  | string
  | number
  | { readonly literal: unknown }
  | { readonly add: readonly [Expression, Expression] }
  | { readonly sub: readonly [Expression, Expression] }
  | { readonly mul: readonly [Expression, Expression] }
  | { readonly div: readonly [Expression, Expression] };

/** Rows of a pipeline: events (StoredEvent) until a stage makes other records of them. */
export type PipelineRow = Record<string, unknown>;

/**
 * One stage of `store.analytics.pipeline(stages)`. The first `match` is the query that reads events
 * (indexes serve it); a later `match` filters rows like `having`. Everything but `stage` is JSON.
 */
export type PipelineStage =
  | { readonly match: FilterNode }
  | { readonly timeBucket: TimeBucketSpec }
  | { readonly window: TimeWindowSpec }
  | { readonly group: { readonly by?: readonly Field[]; readonly aggregates: AggregateMap } }
  | { readonly having: FilterNode }
  | { readonly pattern: PatternQuerySpec }
  | {
      readonly join: Omit<JoinSpec, 'right'> & {
        /** The right side: a filter over live events, or a whole query. */
        readonly right: FilterNode | EventQuery;
      };
    }
  | { readonly project: Readonly<Record<string, Expression>> }
  | { readonly sort: readonly OrderTerm[] }
  | { readonly limit: number }
  | { readonly stage: (rows: PipelineRow[]) => PipelineRow[] | Promise<PipelineRow[]> };
