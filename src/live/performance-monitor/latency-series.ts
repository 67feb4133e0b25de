import type { LatencySummary, LatencyWindow } from '../../store/store-monitor.js';
import { WindowedSketch } from './windowed-sketch.js';

/**
 * The Prometheus histogram's bucket bounds, in seconds: from 10 µs (a cached point lookup) to 10 s,
 * 1-2.5-5 per decade.
 */
export const DURATION_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
  0.5, 1, 2.5, 5, 10,
]);
const BOUNDS_MS = Float64Array.from(DURATION_BUCKETS_SECONDS, (seconds) => seconds * 1000);

/**
 * One method's or query shape's latency: the windowed sketch (percentiles) and exact histogram
 * bucket counts for Prometheus, both fixed in size. Recording is a bucket search over a few bounds
 * (most calls stop in the first ones) and one sketch insert.
 */
export class LatencySeries {
  readonly windows: WindowedSketch;
  /** Calls per bucket (not cumulative); the last is above the largest bound (+Inf). */
  readonly buckets = new Float64Array(BOUNDS_MS.length + 1);
  /** Milliseconds, over every call. */
  sumMs = 0;
  count = 0;
  /** The store clock's time of the last call. */
  lastAt = 0;

  constructor(now: number) {
    this.windows = new WindowedSketch(now);
  }

  record(ms: number, now: number): void {
    let bucket = 0;
    while (bucket < BOUNDS_MS.length && ms > (BOUNDS_MS[bucket] as number)) bucket++;
    this.buckets[bucket] = (this.buckets[bucket] as number) + 1;
    this.sumMs += ms;
    this.count++;
    this.lastAt = now;
    this.windows.record(ms, now);
  }

  summary(window: LatencyWindow, now: number): LatencySummary {
    return this.windows.summary(window, now);
  }

  /** Adds another series' buckets into `into` (the `other` line of the Prometheus shapes). */
  static addBuckets(into: Float64Array, from: LatencySeries): void {
    for (let i = 0; i < into.length; i++) into[i] = (into[i] as number) + (from.buckets[i] as number);
  }
}
