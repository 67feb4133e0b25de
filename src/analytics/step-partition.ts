import type { OrderedEvent } from './partition-events.js';

/**
 * One partition as the sequence matchers (patterns, funnels) read it: its events 0 .. length-1 in
 * (timestamp, sequence) order, each event's time, and for each test (the steps, then any
 * exclusions) which events match it. Over plain events (the library functions) it is built from
 * the tests' answers (stepPartitionOf); the embedded engine fills one from typed arrays over all
 * partitions at once (storage/embedded/exec/analytics/step-columns.ts), so that matching millions of
 * events makes no object per event.
 */
export interface StepPartition {
  readonly length: number;
  /** Event i's time, epoch ms: `ms[base + i]`. */
  readonly ms: ArrayLike<number>;
  readonly base: number;
  /** Test t's events, ascending: positions `pos[start[t]]` .. `pos[start[t + 1] - 1]`. */
  readonly pos: ArrayLike<number>;
  readonly start: ArrayLike<number>;
  /** Whether event i matches test t. */
  matches(t: number, i: number): boolean;
}

/** Where in `pos` test t's first position above `after` is (`start[t + 1]` when there is none). */
export function hitAbove(part: StepPartition, t: number, after: number): number {
  const { pos } = part;
  let low = part.start[t] as number;
  let high = part.start[t + 1] as number;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((pos[mid] as number) > after) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** The position of test t's first event above `after`, or -1. */
export function nextHit(part: StepPartition, t: number, after: number): number {
  const at = hitAbove(part, t, after);
  return at < (part.start[t + 1] as number) ? (part.pos[at] as number) : -1;
}

/** Event i's time. */
export const msAt = (part: StepPartition, i: number): number => part.ms[part.base + i] as number;

/** A partition of plain events, each test asked once per event. */
export function stepPartitionOf<E>(
  ordered: readonly OrderedEvent<E>[],
  tests: readonly ((event: E) => boolean)[],
): StepPartition {
  const length = ordered.length;
  const hit = new Uint8Array(length * tests.length);
  const lists: number[][] = tests.map(() => []);
  for (let i = 0; i < length; i++) {
    const event = (ordered[i] as OrderedEvent<E>).event;
    tests.forEach((test, t) => {
      if (test(event)) {
        hit[i * tests.length + t] = 1;
        (lists[t] as number[]).push(i);
      }
    });
  }
  const start = [0];
  for (const list of lists) start.push((start[start.length - 1] as number) + list.length);
  return {
    length,
    ms: ordered.map((entry) => entry.ms),
    base: 0,
    pos: lists.flat(),
    start,
    matches: (t, i) => hit[i * tests.length + t] === 1,
  };
}
