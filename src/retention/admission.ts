import { ValidationError } from '../errors.js';
import type { ValidEvent } from '../events/validate.js';
import { formatDuration } from '../events/duration.js';
import type { RetentionPolicy } from './policy.js';

/** A batch split by whether each event is already past retention when it arrives. */
export interface Admission {
  fresh: ValidEvent[];
  /** Expired events with their place in the batch, for errors that name `events[i]`. */
  expired: { index: number; event: ValidEvent }[];
}

/**
 * Splits a batch by expiry on arrival, by the same rule reads use (Visibility): an event is expired
 * when its time is before `now - maxAge` of its type. `maxEvents` plays no part: it ranks by
 * sequence, and a new event is always the newest.
 */
export function partitionExpired(
  events: readonly ValidEvent[],
  now: number,
  policy: RetentionPolicy,
): Admission {
  const fresh: ValidEvent[] = [];
  const expired: Admission['expired'] = [];
  events.forEach((event, index) => {
    if (event.timestamp < now - policy.maxAgeOf(event.type)) expired.push({ index, event });
    else fresh.push(event);
  });
  return { fresh, expired };
}

/**
 * Refuses (onExpired 'reject') a batch holding an event that is already past retention: it would be invisible from the
 * moment it was written, which is a producer's mistake (a replay of old data, a wrong clock), not
 * something to drop silently. Runs before anything is written, so a refusal leaves the store unchanged.
 */
export function refuseExpired(events: readonly ValidEvent[], now: number, policy: RetentionPolicy): void {
  // The common case, no policy: keep appends free of the per-event lookup. With onExpired
  // 'archive' the batch is written whole: its expired events are hidden from the moment they are,
  // and the next cleanup archives them with their sequence numbers, like any other expired event.
  if (!policy.active || policy.onExpired === 'archive') return;
  const { expired } = partitionExpired(events, now, policy);
  const first = expired[0];
  if (first === undefined) return;
  const { index, event } = first;
  const maxAge = policy.maxAgeOf(event.type);
  const when = `${new Date(event.timestamp).toISOString()} is already past retention for type ${JSON.stringify(event.type)}`;
  const rule =
    `(maxAge ${formatDuration(maxAge)}; the store's clock is ${new Date(now).toISOString()}, ` +
    `so events before ${new Date(now - maxAge).toISOString()} have expired)`;
  const more = expired.length - 1;
  const others = more > 0 ? ` ${more} more ${more === 1 ? 'event' : 'events'} of the batch expired too.` : '';
  throw new ValidationError(
    `events[${index}].timestamp`,
    `${when} ${rule}; nothing of the batch was written.${others} Send events within retention, ` +
      `raise the type's maxAge in the retention policy, or check the producer's clock`,
    'EVENT_EXPIRED',
  );
}
