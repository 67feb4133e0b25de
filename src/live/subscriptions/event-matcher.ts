import { ValidationError } from '../../errors.js';
import type { StoredEvent } from '../../events/types.js';
import type { FilterNode } from '../../query/ast.js';
import { normalizeCriteria, type QueryCriteria } from '../../query/criteria.js';
import { criteriaToQuery } from '../../query/criteria-to-query.js';
import { compilePredicate, type FieldSource } from '../../query/event-predicate.js';
import { ownTag, readPath, type FieldRef } from '../../query/fields.js';
import { validateFilter } from '../../query/validate-query.js';
import { describe } from '../../support/describe.js';

export type EventMatcher = (event: StoredEvent) => boolean;

/** Fields of a stored event as filters see them: timestamps in epoch milliseconds, as the engine compares them. */
const STORED_EVENT: FieldSource<StoredEvent> = {
  getter(ref: FieldRef) {
    if (ref.kind === 'tag') return (event) => ownTag(event.tags, ref.key);
    if (ref.kind === 'payload') return (event) => readPath(event.payload, ref.path);
    if (ref.name === 'timestamp') return (event) => event.timestamp.getTime();
    const name = ref.name;
    return (event) => event[name];
  },
};

/** Criteria keys that shape a read rather than say which events match: a subscription has none of them. */
const READ_SHAPING = ['limit', 'afterSequence', 'order'] as const;

/**
 * A subscription's `where` as a predicate over stored events: a filter node (anything with a `kind`)
 * checked as a query's filter is, or criteria as `queryEvents` takes them, compiled with the
 * engine's own filter semantics (query/event-predicate.ts), so a subscription and a query with the
 * same filter agree on every event. Undefined when there is no filter.
 */
export function compileWhere(where: unknown): EventMatcher | undefined {
  if (where === undefined) return undefined;
  if (where === null || typeof where !== 'object' || Array.isArray(where)) {
    throw new ValidationError(
      'where',
      `must be a filter node (e.g. f.eq('type', 'ORDER.PLACED')) or criteria (e.g. { type: 'ORDER.PLACED' }), got ${describe(where)}`,
    );
  }
  if ('kind' in where) {
    validateFilter(where, 'where');
    const node = where as FilterNode;
    return node.kind === 'all' ? undefined : compilePredicate(node, STORED_EVENT);
  }
  const criteria = normalizeCriteria(where as QueryCriteria);
  for (const key of READ_SHAPING) {
    if ((where as Record<string, unknown>)[key] !== undefined) {
      throw new ValidationError(
        `where.${key}`,
        `does not apply to a subscription (it delivers every matching event in sequence order; start with \`after\`); leave ${key} out`,
      );
    }
  }
  const filter = criteriaToQuery(criteria).filter;
  return filter.kind === 'all' ? undefined : compilePredicate(filter, STORED_EVENT);
}
