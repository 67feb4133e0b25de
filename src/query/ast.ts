/**
 * The query model: plain, frozen, discriminated-union nodes. Every front end (the builder, the
 * criteria object, later the HTTP body and CLI flags) produces it; every back end consumes it (the
 * embedded executor runs it, the PostgreSQL backend will compile it to SQL). Nothing else parses
 * queries.
 */

import { requireDense } from '../events/dense-list.js';
import type { AnalyticsSpec, EventSource } from './analytics-ast.js';

/** A scalar a filter compares with. Timestamps are epoch milliseconds. */
export type Scalar = string | number | boolean | null;

/**
 * A field: a core column (`sequence`, `id`, `aggregateId`, `type`, `timestamp`, `version`), a tag
 * (`tags.issueId`) or a path into the payload (`payload.order.total`).
 */
export type Field = string;

export type ComparisonOperator = 'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte';

export type FilterNode =
  | { readonly kind: 'all' }
  | { readonly kind: ComparisonOperator; readonly field: Field; readonly value: Scalar }
  | { readonly kind: 'in'; readonly field: Field; readonly values: readonly Scalar[] }
  /** low <= field <= high, both inclusive as in SQL. */
  | { readonly kind: 'between'; readonly field: Field; readonly low: Scalar; readonly high: Scalar }
  | { readonly kind: 'exists'; readonly field: Field }
  | { readonly kind: 'prefix'; readonly field: Field; readonly value: string }
  | { readonly kind: 'and'; readonly filters: readonly FilterNode[] }
  | { readonly kind: 'or'; readonly filters: readonly FilterNode[] }
  | { readonly kind: 'not'; readonly filter: FilterNode };

export interface OrderTerm {
  readonly field: Field;
  readonly direction: 'asc' | 'desc';
}

export interface QueryHints {
  /** Prefer these indexes when they can serve the query. */
  readonly useIndex?: readonly string[];
  /** Use exactly these indexes (or `scan`), whatever the cost model says. */
  readonly forceIndex?: readonly string[];
  /**
   * Split work across worker threads: a full scan (true forces it when the filter has terms on
   * columns; absent, the planner does it for scans of 4M rows or more) and the analytics operators
   * over columns (Aggregate, Pattern, Funnel; absent, for 512K input rows or more). False forbids both.
   */
  readonly parallel?: boolean;
  /** Milliseconds before the query fails with QueryTimeoutError. */
  readonly timeout?: number;
  /** Rows per page when streaming. */
  readonly batchSize?: number;
  /**
   * The result cache (a store opened with `cache`): `false` reads past it; `{ ttl }` keeps this
   * query's answer at most that long (`'30s'`, ms). Absent or `true`: the store's default.
   */
  readonly cache?: boolean | { readonly ttl: number | string };
}

/**
 * Where the previous page ended: its last row's sequence and, for orders other than sequence, its
 * sort key values (null for missing). The next page starts strictly after it in the query's order.
 */
export interface PageCursor {
  readonly sequence: number;
  readonly keys?: readonly Scalar[];
}

export interface EventQuery {
  readonly kind: 'query';
  readonly filter: FilterNode;
  /** Fields to return; all of StoredEvent when absent. */
  readonly select?: readonly Field[];
  /** Sort terms; ascending sequence when empty. Sequence always breaks ties. */
  readonly orderBy: readonly OrderTerm[];
  readonly limit?: number;
  readonly offset?: number;
  /** Keyset pagination: only rows after this cursor (see executePage). */
  readonly after?: PageCursor;
  readonly hints: QueryHints;
  /** Live events (default), archived ones, or both. */
  readonly source?: EventSource;
  /**
   * Group-by, aggregates, time buckets, windows, patterns, joins (analytics-ast.ts). With it,
   * orderBy, offset and limit apply to the output rows, by their column names.
   */
  readonly analytics?: AnalyticsSpec;
}

export const MATCH_ALL: FilterNode = Object.freeze({ kind: 'all' });

function freeze<T extends object>(node: T): T {
  return Object.freeze(node);
}

/** Node constructors: the only way the builder makes nodes, so every node is frozen. */
export const f = {
  eq: (field: Field, value: Scalar): FilterNode => freeze({ kind: 'eq', field, value }),
  ne: (field: Field, value: Scalar): FilterNode => freeze({ kind: 'ne', field, value }),
  lt: (field: Field, value: Scalar): FilterNode => freeze({ kind: 'lt', field, value }),
  lte: (field: Field, value: Scalar): FilterNode => freeze({ kind: 'lte', field, value }),
  gt: (field: Field, value: Scalar): FilterNode => freeze({ kind: 'gt', field, value }),
  gte: (field: Field, value: Scalar): FilterNode => freeze({ kind: 'gte', field, value }),
  in: (field: Field, values: readonly Scalar[]): FilterNode => {
    if (Array.isArray(values)) requireDense(values, 'in');
    return freeze({ kind: 'in', field, values: Object.freeze([...values]) });
  },
  between: (field: Field, low: Scalar, high: Scalar): FilterNode =>
    freeze({ kind: 'between', field, low, high }),
  exists: (field: Field): FilterNode => freeze({ kind: 'exists', field }),
  prefix: (field: Field, value: string): FilterNode => freeze({ kind: 'prefix', field, value }),
  and: (...filters: FilterNode[]): FilterNode => freeze({ kind: 'and', filters: Object.freeze(filters) }),
  or: (...filters: FilterNode[]): FilterNode => freeze({ kind: 'or', filters: Object.freeze(filters) }),
  not: (filter: FilterNode): FilterNode => freeze({ kind: 'not', filter }),
};
