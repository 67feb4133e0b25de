import { f, ValidationError, type EventQuery, type FilterNode, type QueryCriteria } from '../index.js';
import { criteriaToQuery } from '../query/criteria-to-query.js';
import { normalizeCriteria } from '../query/criteria.js';
import { validateFilter, validateQuery } from '../query/validate-query.js';
import { describe } from '../support/describe.js';
import { UsageError } from './errors.js';

const QUERY_KEYS = ['kind', 'filter', 'select', 'orderBy', 'limit', 'offset', 'hints'];

/**
 * Reads `--query`: a whole EventQuery (`{"kind":"query",...}`) or just a filter node
 * (`{"kind":"eq",...}`). `orderBy` and `hints` may be left out. Checked with the store's own
 * validation, so a bad node is named by its path (`filter.and[1].value`) before the store opens.
 */
export function parseQueryArg(text: string): EventQuery {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--query must be JSON: an EventQuery or a filter node: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(
      `--query must be a JSON object, an EventQuery or a filter node, e.g. ` +
        `'{"kind":"eq","field":"tags.provider","value":"openai"}'; got ${describe(parsed)}`,
    );
  }
  const input = parsed as Record<string, unknown>;
  if (input.kind === undefined && 'filter' in input) {
    throw new ValidationError(
      'kind',
      'an EventQuery needs "kind":"query"; a filter node alone needs no wrapper',
    );
  }
  if (input.kind !== 'query') {
    validateFilter(input);
    return { kind: 'query', filter: input as unknown as FilterNode, orderBy: [], hints: {} };
  }
  for (const key of Object.keys(input)) {
    if (!QUERY_KEYS.includes(key)) {
      throw new ValidationError(key, `is not an EventQuery field; expected one of ${QUERY_KEYS.join(', ')}`);
    }
  }
  const { orderBy = [], hints = {} } = input;
  if (!Array.isArray(orderBy)) {
    throw new ValidationError('orderBy', `must be an array of {field, direction}, got ${describe(orderBy)}`);
  }
  orderBy.forEach((term: unknown, i) => {
    if (term === null || typeof term !== 'object' || Array.isArray(term)) {
      throw new ValidationError(`orderBy[${i}]`, `must be {field, direction}, got ${describe(term)}`);
    }
  });
  if (hints === null || typeof hints !== 'object' || Array.isArray(hints)) {
    throw new ValidationError('hints', `must be an object, got ${describe(hints)}`);
  }
  if (input.select !== undefined && !Array.isArray(input.select)) {
    throw new ValidationError('select', `must be an array of field names, got ${describe(input.select)}`);
  }
  const query = { ...input, orderBy, hints } as unknown as EventQuery;
  validateQuery(query);
  return query;
}

/**
 * The query `query` runs and `explain` plans: the criteria become the AST queryEvents runs (its own
 * translation), ANDed with `--query` when given. `--limit` and `--order` (from the flags or
 * `--criteria`) replace the limit and the order of `--query`.
 */
export function buildQuery(criteria: QueryCriteria, queryText: string | undefined): EventQuery {
  const fromCriteria = criteriaToQuery(normalizeCriteria(criteria));
  if (queryText === undefined) return fromCriteria;
  const query = parseQueryArg(queryText);
  const filters = [fromCriteria.filter, query.filter].filter((filter) => filter.kind !== 'all');
  const limit = criteria.limit ?? query.limit;
  const merged: EventQuery = {
    ...query,
    filter: filters.length === 2 ? f.and(...filters) : (filters[0] ?? query.filter),
    orderBy: criteria.order === undefined ? query.orderBy : fromCriteria.orderBy,
    ...(limit === undefined ? {} : { limit }),
  };
  validateQuery(merged);
  return merged;
}
