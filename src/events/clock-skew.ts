import { ValidationError } from '../errors.js';
import { describe } from '../support/describe.js';
import { formatDuration, parseDuration } from './duration.js';
import { uuidv7 } from './ids.js';
import type { ValidEvent } from './validate.js';

/** What to do with an event timestamped further ahead of the store's clock than `futureTolerance`. */
export type OnFutureEvent = 'reject' | 'clamp';

export const DEFAULT_FUTURE_TOLERANCE_MS = 5 * 60_000;

/** The `futureTolerance` option in milliseconds: Infinity when turned off with `false`. */
export function resolveFutureTolerance(value: unknown): number {
  if (value === undefined) return DEFAULT_FUTURE_TOLERANCE_MS;
  if (value === false) return Infinity;
  // 0 is a real setting (nothing ahead of the clock), which parseDuration refuses as a retention age.
  if (value === 0) return 0;
  try {
    return parseDuration(value, 'futureTolerance');
  } catch {
    throw new ValidationError(
      'futureTolerance',
      `must be a duration like "5m", "30s", a number of milliseconds (0 allows none ahead), ` +
        `or false to turn the check off, got ${describe(value)}`,
      'INVALID_OPTION',
    );
  }
}

/**
 * How far ahead an event is, for the error: exact when short or round ("300.001s", "6m"), rounded
 * when long ("about 3.1y"), where the milliseconds would only hide the size of the skew.
 */
function describeGap(ms: number): string {
  const exact = formatDuration(ms);
  if (!exact.endsWith('ms') || ms < 1000) return exact;
  if (ms < 3_600_000) return `${ms / 1000}s`;
  const [unit, size] =
    ms >= 365 * 86_400_000
      ? ['y', 365 * 86_400_000]
      : ms >= 86_400_000
        ? ['d', 86_400_000]
        : ['h', 3_600_000];
  return `about ${(ms / size).toFixed(1)}${unit}`;
}

/**
 * Refuses, or clamps to `now`, events timestamped more than `tolerance` ms ahead of the store's
 * clock. A producer with a fast clock would otherwise write events that sort after everything
 * appended later and that outlive their retention. Runs before anything is written, so a refusal
 * leaves the store unchanged; clamping replaces entries of `events` in place.
 *
 * `callerIds[i]` tells whether event i came with its own id: a generated UUIDv7 carries the event
 * time, so a clamped event gets a new one from the clamped time, while a caller's id is kept.
 */
export function checkClockSkew(
  events: ValidEvent[],
  callerIds: (i: number) => boolean,
  now: number,
  tolerance: number,
  onFutureEvent: OnFutureEvent,
): void {
  if (tolerance === Infinity) return;
  const latest = now + tolerance;
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as ValidEvent;
    if (event.timestamp <= latest) continue;
    if (onFutureEvent === 'clamp') {
      events[i] = { ...event, timestamp: now, id: callerIds(i) ? event.id : uuidv7(now) };
      continue;
    }
    throw new ValidationError(
      `events[${i}].timestamp`,
      `${new Date(event.timestamp).toISOString()} is ${describeGap(event.timestamp - now)} ahead of ` +
        `the store's clock (${new Date(now).toISOString()}), beyond futureTolerance ${formatDuration(tolerance)}; ` +
        `nothing of the batch was written. Fix the producer's clock, raise futureTolerance, ` +
        `or open the store with onFutureEvent: 'clamp'`,
      'EVENT_IN_FUTURE',
    );
  }
}
