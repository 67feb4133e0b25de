/**
 * Operator-tree plans: what the planner (query-optimizer.ts, plan-tree.ts) returns, the executor
 * (executor.ts, one operator per kind in operators/) runs and EXPLAIN (explain.ts) prints. One node
 * kind per step the executor really takes; each node carries the planner's estimates and what
 * EXPLAIN shows of it. A kind is added by adding its node type here and its operator in operators/:
 * the executor's operator table and every PlanVisitor fail to compile until they handle it.
 *
 * Rows flow upwards as row numbers (row = sequence - 1): access nodes find candidate rows, a filter
 * keeps those that match, Sort orders them, Limit cuts them, and Hydrate, the root, reads their
 * events.
 */
import type { Field, OrderTerm, PageCursor } from '../../../query/ast.js';
import type { AccessPath } from './access-path.js';
import type { ColumnFilter } from './column-filter.js';
import type { RowPredicate } from './compile-filter.js';

interface Estimates {
  /** Rows the planner expects the node to put out. */
  readonly estimatedRows: number;
  /** The planner's relative cost of the node and what is under it, where it weighs one (access nodes). */
  readonly cost?: number;
}

/** Access nodes yield their rows in sequence order: ascending, or descending for `orderBy sequence desc`. */
interface AccessEstimates extends Estimates {
  readonly descending: boolean;
  /** What the rows are, for EXPLAIN: `type in ("A")`, `all rows`. */
  readonly condition: string;
}

/**
 * The rows of one posting list: a built-in index (`type`, `aggregate`, `aggregate+type`,
 * `timestamp`, `tags.<key>`, the `sequence` run) or a user index. With a sequence bound in the
 * filter, the lookup seeks to it instead of reading the whole list. Its size is known exactly (or,
 * when cut to a sequence range, as an upper bound).
 */
export interface IndexLookupNode extends AccessEstimates {
  readonly kind: 'IndexLookup';
  readonly index: string;
  /** Reads the lookup's rows (lazily: a posting list, or a view of one). */
  readonly path: AccessPath;
}

/**
 * The rows in both of two lookups: each row of the smaller sought in the larger by binary search,
 * from where the last was found (intersection.ts). `bounds` cuts the result to a sequence range.
 */
export interface IntersectNode extends AccessEstimates {
  readonly kind: 'Intersect';
  /** `a & b`: what hints and the plan cache name it by. */
  readonly index: string;
  readonly bounds?: { readonly first: number; readonly end: number };
  /** The smaller lookup first. */
  readonly children: readonly [IndexLookupNode, IndexLookupNode];
}

/** Every row from `firstRow` (cleanup's cut) to the row count the plan was made at. */
export interface ScanNode extends AccessEstimates {
  readonly kind: 'Scan';
  readonly firstRow: number;
}

/**
 * A scan split into row ranges across the worker pool (parallel-scan.ts). The workers run the
 * column terms of the vectorized filter above it on their ranges, over shared column chunks: a
 * ParallelScan is only ever planned under a VectorizedFilter, whose terms it evaluates in place.
 */
export interface ParallelScanNode extends AccessEstimates {
  readonly kind: 'ParallelScan';
  readonly firstRow: number;
  readonly workers: number;
}

export type AccessNode = IndexLookupNode | IntersectNode | ScanNode | ParallelScanNode;

/** What both filter nodes hold. */
interface FilterEstimates extends Estimates {
  /**
   * The query has no filter: the node only leaves out the rows reads may not see (expired events,
   * deleted streams). EXPLAIN shows it only when ANALYZE saw it remove rows.
   */
  readonly visibilityOnly: boolean;
  /** The whole filter and the visibility test, row by row. */
  readonly predicate: RowPredicate;
  readonly child: AccessNode;
}

/** The whole filter, compiled to closures, called on each candidate row in the access node's order. */
export interface RowFilterNode extends FilterEstimates {
  readonly kind: 'Filter';
}

/**
 * The filter's top-level terms on columns, and visibility's, checked a window of rows at a time by
 * the column kernels (column-scan.ts); `rest`, the terms that read the record, row by row on what
 * they kept. Over a Scan the kernels read the scanned column range in place (Scan and Filter fused,
 * no list of candidate rows is made); over a ParallelScan they run on its workers. A stream, which
 * must stop at each page, checks `predicate` row by row instead.
 */
export interface VectorizedFilterNode extends FilterEstimates {
  readonly kind: 'VectorizedFilter';
  readonly columns: ColumnFilter;
  readonly rest: RowPredicate | undefined;
}

/**
 * Orders rows by the query's terms, ascending sequence breaking ties; with a Limit above, keeps only
 * the best offset + limit (top-k). With a page cursor, only rows after it. Only planned when the
 * query's order is not the access node's (sequence) order.
 */
export interface SortNode extends Estimates {
  readonly kind: 'Sort';
  readonly order: readonly OrderTerm[];
  readonly after: PageCursor | undefined;
  readonly child: RowNode;
}

/** Skips `offset` rows and keeps `limit`; asks the node below for no more than offset + limit rows. */
export interface LimitNode extends Estimates {
  readonly kind: 'Limit';
  readonly offset: number;
  readonly limit: number | undefined;
  /** The rows below come in the query's order, so the filter stops at offset + limit matches. */
  readonly stopsEarly: boolean;
  readonly child: RowNode;
}

/**
 * The root: reads the events of the rows selected (those a cleanup did not remove meanwhile), with
 * only the `select` fields when the query names some. EXPLAIN does not show it, as PostgreSQL shows
 * no node for fetching the select list.
 */
export interface HydrateNode extends Estimates {
  readonly kind: 'Hydrate';
  readonly select: readonly Field[] | undefined;
  readonly child: RowNode;
}

export type RowNode = AccessNode | RowFilterNode | VectorizedFilterNode | SortNode | LimitNode;
export type PlanNode = RowNode | HydrateNode;
export type PlanKind = PlanNode['kind'];
export type PlanNodeOf<K extends PlanKind> = Extract<PlanNode, { readonly kind: K }>;

/** One method per node kind: a visitor missing a kind fails to compile. */
export type PlanVisitor<R, A extends unknown[] = []> = {
  readonly [K in PlanKind]: (node: PlanNodeOf<K>, ...args: A) => R;
};

/** Calls the visitor's method for the node's kind. */
export function visitPlan<R, A extends unknown[]>(node: PlanNode, visitor: PlanVisitor<R, A>, ...args: A): R {
  // TypeScript cannot pair `node.kind` with the method's node type: the method takes any node here.
  const visit = visitor[node.kind] as (node: PlanNode, ...args: A) => R;
  return visit(node, ...args);
}

const none = (): readonly PlanNode[] => [];
const onlyChild = (node: { readonly child: PlanNode }): readonly PlanNode[] => [node.child];

const CHILDREN: PlanVisitor<readonly PlanNode[]> = {
  IndexLookup: none,
  Intersect: (node) => node.children,
  Scan: none,
  ParallelScan: none,
  Filter: onlyChild,
  VectorizedFilter: onlyChild,
  Sort: onlyChild,
  Limit: onlyChild,
  Hydrate: onlyChild,
};

/** The nodes the node reads rows from. */
export function childrenOf(node: PlanNode): readonly PlanNode[] {
  return visitPlan(node, CHILDREN);
}

/** The nodes of the tree, parents before children. */
export function nodesOf(root: PlanNode): PlanNode[] {
  return [root, ...childrenOf(root).flatMap(nodesOf)];
}

/** The first node of a kind in the tree (parents first), if any. */
export function findNode<K extends PlanKind>(root: PlanNode, kind: K): PlanNodeOf<K> | undefined {
  return nodesOf(root).find((node): node is PlanNodeOf<K> => node.kind === kind);
}

const itself = (node: AccessNode): AccessNode => node;
const below = (node: { readonly child: PlanNode }): AccessNode => accessOf(node.child);

const ACCESS: PlanVisitor<AccessNode> = {
  IndexLookup: itself,
  Intersect: itself,
  Scan: itself,
  ParallelScan: itself,
  Filter: below,
  VectorizedFilter: below,
  Sort: below,
  Limit: below,
  Hydrate: below,
};

/** The access node the tree reads its candidate rows from: its rows are the rows a run examines. */
export function accessOf(node: PlanNode): AccessNode {
  return visitPlan(node, ACCESS);
}

const noIndexes = (): void => undefined;
const indexesBelow = (node: { readonly child: PlanNode }, out: string[]): void =>
  visitPlan(node.child, INDEXES, out);

// Run after every query (index usage): a walk that only pushes, no list of nodes made.
const INDEXES: PlanVisitor<void, [string[]]> = {
  IndexLookup: (node, out) => {
    out.push(node.index);
  },
  Intersect: (node, out) => {
    for (const child of node.children) visitPlan(child, INDEXES, out);
  },
  Scan: noIndexes,
  ParallelScan: noIndexes,
  Filter: indexesBelow,
  VectorizedFilter: indexesBelow,
  Sort: indexesBelow,
  Limit: indexesBelow,
  Hydrate: indexesBelow,
};

/** The indexes the tree looks rows up in, in the order it reads them (none for a scan). */
export function indexesOf(root: PlanNode): string[] {
  const out: string[] = [];
  visitPlan(root, INDEXES, out);
  return out;
}
