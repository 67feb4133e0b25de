import type { EventQuery, FilterNode } from './ast.js';

function shape(node: FilterNode): string {
  switch (node.kind) {
    case 'all':
      return '*';
    case 'and':
    case 'or':
      return `${node.kind}(${node.filters.map(shape).join(',')})`;
    case 'not':
      return `not(${shape(node.filter)})`;
    case 'exists':
      return `exists(${node.field})`;
    // Constants go: `in` lists of any length share a plan shape too.
    default:
      return `${node.kind}(${node.field})`;
  }
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
