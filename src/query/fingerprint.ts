import type { EventQuery, FilterNode } from './ast.js';
import { visitFilter, type FilterVisitor } from './visit-filter.js';

// Constants go: `in` lists of any length share a plan shape too.
const leaf = (node: { readonly kind: string; readonly field: string }): string =>
  `${node.kind}(${node.field})`;
const list = (node: { readonly kind: 'and' | 'or'; readonly filters: readonly FilterNode[] }): string =>
  `${node.kind}(${node.filters.map(shape).join(',')})`;

const SHAPE: FilterVisitor<string> = {
  all: () => '*',
  and: list,
  or: list,
  not: (node) => `not(${shape(node.filter)})`,
  eq: leaf,
  ne: leaf,
  lt: leaf,
  lte: leaf,
  gt: leaf,
  gte: leaf,
  in: leaf,
  between: leaf,
  exists: leaf,
  prefix: leaf,
};

function shape(node: FilterNode): string {
  return visitFilter(node, SHAPE);
}

/**
 * The query with its constants removed: queries that differ only in values share a fingerprint, so
 * they share a cached plan and one line in the query statistics the index advisor reads.
 */
export function fingerprint(query: EventQuery): string {
  const { useIndex, forceIndex, parallel } = query.hints;
  return [
    shape(query.filter),
    query.orderBy.map((term) => `${term.field} ${term.direction}`).join(','),
    query.select?.join(',') ?? '',
    query.limit === undefined ? '' : 'limit',
    query.offset === undefined ? '' : 'offset',
    useIndex?.join(',') ?? '',
    forceIndex?.join(',') ?? '',
    parallel === undefined ? '' : String(parallel),
  ].join('|');
}
