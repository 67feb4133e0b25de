import type { EventQuery } from '../../../query/ast.js';
import type { AccessPath } from './access-path.js';
import type { RowPredicate } from './compile-filter.js';
import type { AccessNode, HydrateNode, IndexLookupNode, RowNode } from './plan-nodes.js';
import type { VectorizedFilter } from './vectorize.js';

/** What the planner decided, for the tree to be built from. */
export interface PlanChoices {
  readonly query: EventQuery;
  readonly access: AccessPath;
  /** Rows come out of the access path in the query's order (sequence), so they need no Sort. */
  readonly sorted: boolean;
  readonly descending: boolean;
  /** Set when the column terms are checked a window at a time. */
  readonly vectorized: VectorizedFilter | undefined;
  /** The whole filter and the visibility test. */
  readonly predicate: RowPredicate;
  /** Whether rows are hidden from reads (a Filter is needed even for a query with no filter). */
  readonly hidden: boolean;
  /** Rows expected to pass the filter. */
  readonly matchedRows: number;
  /** Rows expected out: matchedRows cut by offset and limit. */
  readonly estimatedRows: number;
}

function lookup(path: AccessPath, descending: boolean): IndexLookupNode {
  const { index, condition, estimatedRows, cost } = path;
  return { kind: 'IndexLookup', index, condition, estimatedRows, cost, descending, path };
}

/** The access node for the chosen path: a lookup, an intersection of two, or a scan (on the workers). */
function accessNode(path: AccessPath, descending: boolean, workers: number): AccessNode {
  const { index, condition, estimatedRows, cost } = path;
  if (path.parts !== undefined) {
    const [small, large] = path.parts as [AccessPath, AccessPath];
    return {
      kind: 'Intersect',
      index,
      condition,
      estimatedRows,
      cost,
      descending,
      ...(path.bounds === undefined ? {} : { bounds: path.bounds }),
      children: [lookup(small, descending), lookup(large, descending)],
    };
  }
  if (index !== 'scan') return lookup(path, descending);
  const firstRow = path.firstRow ?? 0;
  return workers > 0
    ? { kind: 'ParallelScan', condition, estimatedRows, cost, descending, firstRow, workers }
    : { kind: 'Scan', condition, estimatedRows, cost, descending, firstRow };
}

/**
 * The operator tree for the planner's choices, bottom up: the access node; the filter (vectorized
 * when its column terms are), none when the query has none and no row is hidden; a Sort unless the
 * rows already come in the query's order; a Limit for offset and limit; Hydrate at the root.
 */
export function planTree(choices: PlanChoices): HydrateNode {
  const { query, access, sorted, descending, vectorized, predicate, matchedRows, estimatedRows } = choices;
  const source = accessNode(access, descending, vectorized?.workers ?? 0);
  const visibilityOnly = query.filter.kind === 'all';
  let node: RowNode = source;
  if (vectorized !== undefined) {
    const { columns, rest } = vectorized;
    node = {
      kind: 'VectorizedFilter',
      columns,
      rest,
      predicate,
      visibilityOnly,
      estimatedRows: matchedRows,
      child: source,
    };
  } else if (!visibilityOnly || choices.hidden) {
    node = { kind: 'Filter', predicate, visibilityOnly, estimatedRows: matchedRows, child: source };
  }
  if (!sorted) {
    node = {
      kind: 'Sort',
      order: query.orderBy,
      after: query.after,
      estimatedRows: node.estimatedRows,
      child: node,
    };
  }
  if (query.limit !== undefined || query.offset !== undefined) {
    const { offset = 0, limit } = query;
    node = { kind: 'Limit', offset, limit, stopsEarly: sorted, estimatedRows, child: node };
  }
  return { kind: 'Hydrate', select: query.select, estimatedRows, child: node };
}
