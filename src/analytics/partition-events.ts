import { ValidationError } from '../errors.js';
import { describe } from '../support/describe.js';
import { requireFunction } from '../support/require-function.js';
import { parseDuration } from '../events/duration.js';

/** What patterns and funnels need of an event: its time and its place in the log. */
export interface SequencedEvent {
  readonly timestamp: number | Date;
  readonly sequence: number;
}

/** An event with its timestamp read once as epoch ms. */
export interface OrderedEvent<E> {
  readonly event: E;
  readonly ms: number;
  readonly sequence: number;
}

function epochMs(value: unknown, path: string): number {
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new ValidationError(
      path,
      `must be epoch ms (a finite number) or a valid Date, got ${describe(value)}`,
    );
  }
  return ms;
}

/**
 * Groups events by partition key (compared as Map keys, so use primitives) and orders each group by
 * (timestamp, sequence): the order the semantics are defined in, whatever order the events came in.
 */
export function partitionEvents<E extends SequencedEvent>(
  events: readonly E[],
  partitionBy: (event: E) => unknown,
): Map<unknown, OrderedEvent<E>[]> {
  if (!Array.isArray(events))
    throw new ValidationError('events', `must be an array, got ${describe(events)}`);
  const groups = new Map<unknown, OrderedEvent<E>[]>();
  events.forEach((event, i) => {
    const ms = epochMs(event?.timestamp, `events[${i}].timestamp`);
    const sequence: unknown = event.sequence;
    if (typeof sequence !== 'number' || !Number.isFinite(sequence)) {
      throw new ValidationError(
        `events[${i}].sequence`,
        `must be a finite number, got ${describe(sequence)}`,
      );
    }
    const key = partitionBy(event);
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = []));
    group.push({ event, ms, sequence });
  });
  for (const group of groups.values()) group.sort((a, b) => a.ms - b.ms || a.sequence - b.sequence);
  return groups;
}

/** A window length: a finite, non-negative number of ms, or a duration text such as `'10m'`. */
export function windowMs(value: unknown, path: string): number {
  if (typeof value === 'string') return parseDuration(value, path);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ValidationError(
      path,
      `must be a finite number of ms, 0 or more, or a duration like '10m', got ${describe(value)}`,
      'INVALID_OPTION',
    );
  }
  return value;
}

/** A pattern's or a funnel's spec: an object with a partitionBy function (the rest each checks itself). */
export function requirePartitionedSpec(spec: unknown): void {
  if (spec === null || typeof spec !== 'object') {
    throw new ValidationError('spec', `must be an object, got ${describe(spec)}`, 'INVALID_OPTION');
  }
  const { partitionBy } = spec as { partitionBy?: unknown };
  requireFunction(partitionBy, 'partitionBy');
}
