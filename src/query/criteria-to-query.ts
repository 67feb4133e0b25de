import { MATCH_ALL, f, type EventQuery, type FilterNode, type Scalar } from './ast.js';
import type { NormalizedCriteria } from './criteria.js';

/** `queryEvents(criteria)` is sugar: its criteria become the same AST the builder makes. */
export function criteriaToQuery(criteria: NormalizedCriteria): EventQuery {
  const terms: FilterNode[] = [];
  const oneOrIn = (field: string, values: readonly (string | number | boolean)[]) =>
    values.length === 1 ? f.eq(field, values[0] as Scalar) : f.in(field, values);
  if (criteria.aggregateIds) terms.push(oneOrIn('aggregateId', criteria.aggregateIds));
  if (criteria.types) terms.push(oneOrIn('type', criteria.types));
  for (const [key, values] of criteria.tags) terms.push(oneOrIn(`tags.${key}`, values));
  if (criteria.from !== undefined) terms.push(f.gte('timestamp', criteria.from));
  if (criteria.to !== undefined) terms.push(f.lt('timestamp', criteria.to));
  if (criteria.afterSequence !== undefined) {
    terms.push(
      criteria.order === 'asc'
        ? f.gt('sequence', criteria.afterSequence)
        : f.lt('sequence', criteria.afterSequence),
    );
  }
  return Object.freeze({
    kind: 'query',
    filter: terms.length === 0 ? MATCH_ALL : terms.length === 1 ? (terms[0] as FilterNode) : f.and(...terms),
    orderBy:
      criteria.order === 'desc' ? [Object.freeze({ field: 'sequence', direction: 'desc' as const })] : [],
    ...(criteria.limit !== undefined ? { limit: criteria.limit } : {}),
    hints: {},
  });
}
