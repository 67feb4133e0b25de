/**
 * The analytics operators of a plan: what runs above the rows the filter selects. The bottom of
 * every analytics plan is `Events`, the ordinary row plan of the query's filter (indexes, scans,
 * filters; plan-nodes.ts); above it, in the order the query model applies them, Join, Pattern,
 * TimeBucket or Window, Aggregate, Fill, Having, Sort and Limit, each over the rows of the one
 * below. EXPLAIN prints this chain on top of the row plan, with estimated and (ANALYZE) actual rows.
 */
import type { AggregateSpec } from '../../../../query/aggregate-spec.js';
import type {
  FunnelQuerySpec,
  HoppingWindow,
  JoinSpec,
  PatternQuerySpec,
  RunningSpec,
  TimeBucketSpec,
  TimeWindowSpec,
} from '../../../../query/analytics-ast.js';
import type { FilterNode, OrderTerm } from '../../../../query/ast.js';
import type { QueryPlan } from '../query-optimizer.js';

interface Estimated {
  readonly estimatedRows: number;
}

/** The events the query's filter selects, by its row plan. */
export interface EventsNode extends Estimated {
  readonly kind: 'Events';
  readonly plan: QueryPlan;
}

/**
 * Where a join reads a side's key from without decoding records: a column (`type` and
 * `aggregateId` as dictionary ids; `timestamp`, `version`, `sequence`), a field column (a
 * `tags.*` / `payload.*` field's codes or numbers), or values (`id`, from the record; or a field
 * column that mixes kinds, keyed by canonical JSON so 1 never meets "1").
 */
export type JoinKeyRead = 'column' | 'field column' | 'values';

/**
 * An equi-join of the rows below (left) with the right side's row plan. Over the filter's row
 * numbers (`overRows`), it is a hash join over row ids and key codes that decodes only the events
 * of output pairs (join-over-rows.ts); over records from below (a Funnel's row), joinRows.
 */
export interface JoinNode extends Estimated {
  readonly kind: 'Join';
  readonly child: AnalyticsNode;
  /** The right side's own row plan. */
  readonly right: QueryPlan;
  readonly spec: JoinSpec;
  /** The left rows are the filter's row numbers (true), or records from below (false). */
  readonly overRows: boolean;
  /** Where each side's key is expected to be read from (over rows; the run may fall back to values). */
  readonly reads: readonly [JoinKeyRead, JoinKeyRead];
}

export interface PatternNode extends Estimated {
  readonly kind: 'Pattern';
  readonly child: AnalyticsNode;
  readonly spec: PatternQuerySpec;
  /** Scan workers its partitions are matched on (over the filter's rows only; 0: the main thread). */
  readonly workers: number;
}

export interface WindowNode extends Estimated {
  readonly kind: 'Window';
  readonly child: AnalyticsNode;
  readonly spec: TimeWindowSpec;
  /** The fields sessions are kept apart by (session windows). */
  readonly groupBy: readonly string[];
}

/**
 * Where an Aggregate reads a field: a column of the table, a field column (one this query extracts
 * first, decoding each record once, when there is none yet), or each decoded record (`id`).
 */
export type FieldRead = 'column' | 'field column' | 'field column, extracted now' | 'record';

export interface AggregateNode extends Estimated {
  readonly kind: 'Aggregate';
  readonly child: AnalyticsNode;
  readonly bucket?: TimeBucketSpec;
  /**
   * Hopping windows as the first key (`windowStart`, `windowEnd`), when they come straight over the
   * events: each event folds into every window that holds it, with no Window node below.
   */
  readonly window?: HoppingWindow;
  readonly groupBy: readonly string[];
  readonly aggregates: readonly { readonly alias: string; readonly spec: AggregateSpec }[];
  /** Running aggregates over the output rows, in bucket (or window) order per group. */
  readonly running: readonly { readonly alias: string; readonly spec: RunningSpec }[];
  /** A Fill above adds the running aggregates, after the empty buckets (they count as 0 or null). */
  readonly filled: boolean;
  /** Grouped over the table's columns by row number (true), or over records from below (false). */
  readonly overColumns: boolean;
  /**
   * Scan workers the rows fold on (over columns only; 0: on the main thread). The run may still
   * fold on the main thread: fewer rows than planned, or a key or aggregate the workers cannot do.
   */
  readonly workers: number;
  /** Each field read and where from (columns only). */
  readonly reads: readonly { readonly field: string; readonly from: FieldRead }[];
}

/** A conversion funnel over the events: one row, the steps' counts and conversions. */
export interface FunnelNode extends Estimated {
  readonly kind: 'Funnel';
  readonly child: AnalyticsNode;
  readonly spec: FunnelQuerySpec;
  /** Scan workers its partitions are matched on (0: the main thread). */
  readonly workers: number;
}

/** Empty buckets across the query's time range. */
export interface FillNode extends Estimated {
  readonly kind: 'Fill';
  readonly child: AggregateNode;
  readonly fill: 0 | null | 'previous';
  /** The time range [from, to) filled: the query's timestamp bounds, else the data's. */
  readonly range?: { readonly from: number; readonly to: number };
}

export interface HavingNode extends Estimated {
  readonly kind: 'Having';
  readonly child: AnalyticsNode;
  readonly filter: FilterNode;
}

export interface SortRowsNode extends Estimated {
  readonly kind: 'SortRows';
  readonly child: AnalyticsNode;
  readonly order: readonly OrderTerm[];
}

export interface LimitRowsNode extends Estimated {
  readonly kind: 'LimitRows';
  readonly child: AnalyticsNode;
  readonly offset: number;
  readonly limit?: number;
}

export type AnalyticsNode =
  | EventsNode
  | JoinNode
  | PatternNode
  | WindowNode
  | AggregateNode
  | FunnelNode
  | FillNode
  | HavingNode
  | SortRowsNode
  | LimitRowsNode;

export type AnalyticsKind = AnalyticsNode['kind'];

/** Every row plan in the tree (the input's and a join's right side): EXPLAIN's indexes used. */
export function rowPlansOf(node: AnalyticsNode): QueryPlan[] {
  switch (node.kind) {
    case 'Events':
      return [node.plan];
    case 'Join':
      return [...rowPlansOf(node.child), node.right];
    default:
      return rowPlansOf(node.child);
  }
}
