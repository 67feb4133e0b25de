import { agg } from '../../analytics/aggregates.js';
import type { StoredEvent } from '../../events/types.js';
import type { EventQuery, FilterNode } from '../../query/ast.js';
import type { ResultRow } from '../../query/results.js';
import type { RetentionPolicy } from '../../retention/policy.js';
import type { KeyedRead } from './cache-key.js';
import type { Dependencies } from './dependencies.js';

/**
 * Retention hides an event the moment the store's clock passes its timestamp plus its type's
 * maxAge, with no write and no notice. A cached answer that holds such an event is right until
 * then and wrong after: its deadline is the earliest of those moments over the events it read.
 * This module finds it, from the answer's own rows where they are the events read, else by a probe.
 */

const ageLimited = new WeakMap<RetentionPolicy, boolean>();

/** Whether any type can expire by age under the policy (maxEvents is not about the clock). */
function expiresByAge(policy: RetentionPolicy): boolean {
  let answer = ageLimited.get(policy);
  if (answer === undefined) {
    answer =
      policy.maxAge !== Infinity || Object.values(policy.describe().types).some((age) => age !== 'forever');
    ageLimited.set(policy, answer);
  }
  return answer;
}

/** How a read's deadline is found: none needed, from its rows, or by probing before it runs. */
export type DeadlinePlan = { readonly kind: 'none' } | { readonly kind: 'rows' } | { readonly kind: 'probe' };

export function planDeadline(read: KeyedRead, deps: Dependencies, policy: RetentionPolicy): DeadlinePlan {
  if (!deps.live || !expiresByAge(policy)) return { kind: 'none' };
  if (deps.types !== undefined && [...deps.types].every((type) => policy.maxAgeOf(type) === Infinity)) {
    return { kind: 'none' };
  }
  const { query } = read;
  // Rows that are the events themselves, the first ones of the selection in its order: an event
  // the answer left out (past the limit) changes nothing when it expires. An offset skips events
  // that do matter, and select, analytics or a from('all') drop what the rows would tell.
  if (
    query.analytics === undefined &&
    query.select === undefined &&
    (query.offset ?? 0) === 0 &&
    (query.source ?? 'events') === 'events'
  ) {
    return { kind: 'rows' };
  }
  return { kind: 'probe' };
}

/** The deadline from the answer's rows (plan `rows`): the first moment one of them expires. */
export function deadlineFromRows(rows: readonly ResultRow[], policy: RetentionPolicy): number {
  let deadline = Infinity;
  for (const row of rows) {
    const event = row as StoredEvent;
    const expires = event.timestamp.getTime() + policy.maxAgeOf(event.type);
    if (expires < deadline) deadline = expires;
  }
  return deadline;
}

const probeOf = (filter: FilterNode): EventQuery => ({
  kind: 'query',
  filter,
  orderBy: [],
  hints: {},
  analytics: { groupBy: ['type'], aggregates: { earliest: agg.min('timestamp') } },
});

/**
 * The deadline by a probe (plan `probe`), run BEFORE the read: the earliest event time per type
 * among the events the read's filters select. The read then sees these events or fewer (the clock
 * only hides more), so the deadline is never later than the read's own.
 */
export async function probeDeadline(
  filters: readonly FilterNode[],
  policy: RetentionPolicy,
  executeLive: (query: EventQuery) => Promise<ResultRow[]>,
): Promise<number> {
  let deadline = Infinity;
  for (const filter of filters) {
    const groups = (await executeLive(probeOf(filter))) as { type?: unknown; earliest?: unknown }[];
    for (const group of groups) {
      if (typeof group.type !== 'string' || typeof group.earliest !== 'number') {
        // A shape the probe did not expect: no deadline it can vouch for, so none to serve by.
        return -Infinity;
      }
      const expires = group.earliest + policy.maxAgeOf(group.type);
      if (expires < deadline) deadline = expires;
    }
  }
  return deadline;
}
