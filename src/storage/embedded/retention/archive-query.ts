import { ValidationError } from '../../../errors.js';
import type { StoredEvent } from '../../../events/types.js';
import type { EventQuery, FilterNode } from '../../../query/ast.js';
import { compilePredicate } from '../exec/compile-filter.js';
import type { NormalizedCriteria } from '../../../query/criteria.js';
import { criteriaToQuery } from '../../../query/criteria-to-query.js';
import { toView, VIEW_SOURCE } from '../exec/event-view.js';
import { narrow, nextUp, type Interval } from '../../../query/time-bounds.js';
import { inSequenceOrder, validateQuery } from '../../../query/validate-query.js';
import { describe } from '../../../support/describe.js';
import { readManifest } from './archive.js';
import { eventsOf, filesWithin, type Range } from './archive-reader.js';

/**
 * The archived events matching a query, in sequence order (descending when the query orders by
 * sequence descending), after `offset`, at most `limit`. The filter is compiled by the same compiler
 * live queries use, so a query means the same on both; only the files whose manifest ranges can
 * hold a match (by the filter's sequence and timestamp bounds) are read. Takes an EventQuery, or
 * normalized `queryEvents` criteria. Archived events return whole: a query with `select`, or
 * ordered by anything but sequence, is refused with a ValidationError.
 *
 * @example
 * queryArchived('./archive', store.query().where('type', '=', 'ORDER.PLACED').limit(10).toQuery());
 */
export function queryArchived(
  dir: string,
  input: EventQuery | NormalizedCriteria,
  /** Events to leave out whatever the query: a store passes its deleted streams (erasure). */
  erased: (event: StoredEvent) => boolean = () => false,
): StoredEvent[] {
  const query = isQuery(input) ? input : criteriaToQuery(input);
  validateQuery(query);
  if (!inSequenceOrder(query.orderBy)) {
    throw new ValidationError(
      'orderBy',
      `archived events come in sequence order only, got ${describe(query.orderBy)}; sort the result yourself`,
    );
  }
  if (query.select !== undefined) {
    throw new ValidationError('select', 'archived events are returned whole; leave select out');
  }
  const order = query.orderBy[0]?.direction ?? 'asc';
  const range = rangeOf(query.filter);
  if (query.after !== undefined) {
    if (order === 'asc') range.fromSequence = Math.max(range.fromSequence, query.after.sequence + 1);
    else range.toSequence = Math.min(range.toSequence, query.after.sequence - 1);
  }
  const limit = query.limit ?? Infinity;
  const out: StoredEvent[] = [];
  if (limit === 0 || range.fromSequence > range.toSequence || range.from >= range.to) return out;
  const matches = compilePredicate(query.filter, VIEW_SOURCE);
  let skip = query.offset ?? 0;
  for (const event of eventsOf(dir, filesWithin(readManifest(dir), range), range, order)) {
    if (erased(event) || !matches(toView(event))) continue;
    if (skip > 0) {
      skip--;
      continue;
    }
    out.push(event);
    if (out.length >= limit) break;
  }
  return out;
}

function isQuery(input: EventQuery | NormalizedCriteria): input is EventQuery {
  return (input as { kind?: unknown }).kind === 'query';
}

/**
 * The sequence and timestamp bounds every match must lie within, from the comparisons the filter
 * ANDs at its top: enough to skip archive files, never a substitute for the filter itself.
 */
export function rangeOf(filter: FilterNode): Range {
  let sequence: Interval = { from: -Infinity, to: Infinity };
  let timestamp: Interval = { from: -Infinity, to: Infinity };
  const visit = (node: FilterNode): void => {
    if (node.kind === 'and') return node.filters.forEach(visit);
    if (!('field' in node) || (node.field !== 'sequence' && node.field !== 'timestamp')) return;
    const current = node.field === 'sequence' ? sequence : timestamp;
    let narrowed: Interval | undefined;
    if (node.kind === 'in') {
      const values = node.values.filter((value): value is number => typeof value === 'number');
      narrowed =
        values.length === node.values.length
          ? {
              from: Math.max(current.from, Math.min(...values)),
              to: Math.min(current.to, nextUp(Math.max(...values))),
            }
          : undefined;
    } else if (node.kind === 'between') {
      narrowed =
        typeof node.low === 'number' && typeof node.high === 'number'
          ? narrow(current, 'between', node.low, node.high)
          : undefined;
    } else if ('value' in node && typeof node.value === 'number') {
      narrowed = narrow(current, node.kind, node.value);
    }
    if (narrowed === undefined) return;
    if (node.field === 'sequence') sequence = narrowed;
    else timestamp = narrowed;
  };
  visit(filter);
  // Sequences are whole numbers: the ones in [from, to) are ceil(from) .. ceil(to) - 1.
  return {
    fromSequence: Math.ceil(sequence.from),
    toSequence: Math.ceil(sequence.to) - 1,
    from: timestamp.from,
    to: timestamp.to,
  };
}
