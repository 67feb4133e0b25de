import { ValidationError } from '../errors.js';
import type { Accumulator, AggregateEvent } from './accumulator.js';
import type { HistogramBucket } from '../query/aggregate-spec.js';
import { isFiniteNumber, plain } from './numeric-accumulators.js';

/** Exact percentiles and histograms need every value: the state is the list, merged by concatenation. */
function collectNumbers<R>(result: (sorted: readonly number[]) => R): Accumulator<number[], R | null> {
  return {
    init: () => [],
    add: (state, value) => (isFiniteNumber(value) ? (state.push(plain(value)), state) : state),
    merge: (a, b) => {
      for (const value of b) a.push(value);
      return a;
    },
    result: (state) => (state.length === 0 ? null : result(state.sort((x, y) => x - y))),
  };
}

/** percentile_cont: the value at rank p·(n−1) of the sorted values, interpolated between neighbours. */
export function interpolate(lowValue: number, highValue: number, fraction: number): number {
  return fraction === 0 ? lowValue : lowValue + (highValue - lowValue) * fraction;
}

export function continuousPercentile(sorted: readonly number[], p: number): number {
  const rank = p * (sorted.length - 1);
  const low = Math.floor(rank);
  return interpolate(sorted[low]!, sorted[Math.min(low + 1, sorted.length - 1)]!, rank - low);
}

export function percentile(p: number): Accumulator<number[], number | null> {
  return collectNumbers((sorted) => continuousPercentile(sorted, p));
}

/**
 * Equal-width buckets from the smallest value to the largest: bucket i holds [low_i, high_i), the
 * last one also its high (the largest value). When every value is the same there is one bucket.
 */
export function histogram(buckets: number): Accumulator<number[], HistogramBucket[] | null> {
  return collectNumbers((sorted) => {
    const low = sorted[0]!;
    const high = sorted[sorted.length - 1]!;
    if (low === high) return [{ low, high, count: sorted.length }];
    // low·(1−t) + high·t rather than low + (high − low)·t: high − low overflows for values near ±1.8e308.
    const bound = (i: number) => (i === buckets ? high : low * (1 - i / buckets) + high * (i / buckets));
    const counts = new Array<number>(buckets).fill(0);
    let bucket = 0;
    for (const value of sorted) {
      while (bucket < buckets - 1 && value >= bound(bucket + 1)) bucket += 1;
      counts[bucket]! += 1;
    }
    return counts.map((count, i) => ({ low: bound(i), high: bound(i + 1), count }));
  });
}

interface Positioned {
  value: unknown;
  timestamp: number;
  sequence: number;
}

function position(event: AggregateEvent | undefined, kind: string): { timestamp: number; sequence: number } {
  if (event === undefined) {
    throw new ValidationError(
      `agg.${kind}`,
      'add needs the event (its timestamp and sequence) to order values',
    );
  }
  const timestamp = typeof event.timestamp === 'number' ? event.timestamp : event.timestamp.getTime();
  return { timestamp, sequence: event.sequence };
}

const before = (a: Positioned, b: { timestamp: number; sequence: number }) =>
  a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.sequence < b.sequence);

/** The present value at the earliest (`first`) or latest (`last`) event, by timestamp then sequence. */
function positional(kind: 'first' | 'last'): Accumulator<{ best: Positioned | null }, unknown> {
  const wins = (candidate: Positioned, current: Positioned | null) =>
    current === null || (kind === 'first' ? before(candidate, current) : before(current, candidate));
  return {
    init: () => ({ best: null }),
    add: (state, value, event) => {
      if (value === undefined || value === null) return state;
      const candidate = { value, ...position(event, kind) };
      if (wins(candidate, state.best)) state.best = candidate;
      return state;
    },
    merge: (a, b) => (b.best !== null && wins(b.best, a.best) ? ((a.best = b.best), a) : a),
    result: (state) => (state.best === null ? null : state.best.value),
  };
}

export const first = positional('first');
export const last = positional('last');
