import { ValidationError } from '../errors.js';
import type { StoredEvent } from '../events/types.js';
import type { NormalizedCriteria, QueryEventsOptions } from '../query/criteria.js';
import type { RetentionPolicy } from '../retention/policy.js';
import { describe } from '../support/describe.js';

/**
 * `queryEvents(criteria, { includeArchived })`: which archive to read (the policy's), checked at the
 * door; undefined when the caller did not ask for archived events.
 */
/**
 * The archive directory `queryEvents` must read for these options, or undefined. Throws when the
 * options are bad, or ask for archived events where no archive is configured.
 */
export function archiveToQuery(options: unknown, policy: RetentionPolicy): string | undefined {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ValidationError('options', `must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (key !== 'includeArchived') {
      throw new ValidationError(`options.${key}`, 'unknown option; expected includeArchived');
    }
  }
  const { includeArchived } = options as QueryEventsOptions;
  if (includeArchived !== undefined && typeof includeArchived !== 'boolean') {
    throw new ValidationError(
      'options.includeArchived',
      `must be true or false, got ${describe(includeArchived)}`,
    );
  }
  if (includeArchived !== true) return undefined;
  if (policy.archiveDir === undefined) {
    throw new ValidationError(
      'options.includeArchived',
      'there is no archive to include: set retention.archive.dir (openEventStore or setRetention)',
    );
  }
  return policy.archiveDir;
}

/**
 * Merges archived and live results of the same criteria (each in the criteria's order, each already
 * cut to its limit) into one, cut to the limit. An event in both (archived, and not yet removed
 * from the log) appears once, as the live copy.
 */
export function mergeBySequence(
  archived: readonly StoredEvent[],
  live: readonly StoredEvent[],
  criteria: Pick<NormalizedCriteria, 'order' | 'limit'>,
): StoredEvent[] {
  const limit = criteria.limit ?? Infinity;
  const before = criteria.order === 'asc' ? (a: number, b: number) => a < b : (a: number, b: number) => a > b;
  const out: StoredEvent[] = [];
  let i = 0;
  let j = 0;
  while (out.length < limit && (i < archived.length || j < live.length)) {
    const a = archived[i];
    const l = live[j];
    if (l === undefined || (a !== undefined && before(a.sequence, l.sequence))) {
      out.push(a as StoredEvent);
      i++;
    } else {
      if (a !== undefined && a.sequence === l.sequence) i++;
      out.push(l);
      j++;
    }
  }
  return out;
}
