import { describe, expect, test } from 'vitest';
import { WindowedSketch } from '../../../src/live/performance-monitor/windowed-sketch.js';

/** A seeded generator (mulberry32): the same samples on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The exact quantile the sketch estimates: the sample at rank q × (n − 1), rounded down. */
function exact(sorted: readonly number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))] as number;
}

const T0 = Date.UTC(2025, 0, 1);

const DISTRIBUTIONS: Record<string, (next: () => number) => number> = {
  // Latencies: mostly ~50 µs with a long tail, in milliseconds.
  'log-normal': (next) =>
    Math.exp(
      Math.log(0.05) + 1.2 * Math.sqrt(-2 * Math.log(next() || 1e-12)) * Math.cos(2 * Math.PI * next()),
    ),
  uniform: (next) => 0.01 + next() * 100,
  // A cache in front: most answers in microseconds, some in tens of milliseconds.
  bimodal: (next) => (next() < 0.9 ? 0.005 + next() * 0.01 : 20 + next() * 30),
  'six decades': (next) => 10 ** (next() * 6 - 3),
};

describe('WindowedSketch percentiles', () => {
  for (const [name, draw] of Object.entries(DISTRIBUTIONS)) {
    test(`p50, p95, p99 within 1% of the exact ones, max exact (${name})`, () => {
      const next = random(name.length * 7919);
      const sketch = new WindowedSketch(T0);
      const samples: number[] = [];
      // Spread over 50 s: the '1m' window merges ten 5-second slots, 'all' the same through the rings.
      for (let i = 0; i < 20_000; i++) {
        const value = draw(next);
        samples.push(value);
        sketch.record(value, T0 + Math.floor(i / 400) * 1000);
      }
      const sorted = [...samples].sort((a, b) => a - b);
      for (const window of ['1m', 'all'] as const) {
        const summary = sketch.summary(window, T0 + 50_000);
        expect(summary.count).toBe(samples.length);
        expect(summary.max).toBe(sorted[sorted.length - 1]);
        for (const [q, got] of [
          [0.5, summary.p50],
          [0.95, summary.p95],
          [0.99, summary.p99],
        ] as const) {
          const want = exact(sorted, q);
          expect(
            Math.abs((got as number) - want),
            `${window} p${q * 100}: ${got} vs ${want}`,
          ).toBeLessThanOrEqual(0.01 * want);
        }
        const mean = samples.reduce((sum, v) => sum + v, 0) / samples.length;
        expect(summary.mean).toBeCloseTo(mean, 6);
      }
    });
  }

  test('an empty window reports count 0 and no percentiles', () => {
    const sketch = new WindowedSketch(T0);
    expect(sketch.summary('5m', T0)).toEqual({
      count: 0,
      p50: null,
      p95: null,
      p99: null,
      max: null,
      mean: null,
    });
  });
});

describe('WindowedSketch rolling windows (time from the caller, moved without sleeping)', () => {
  test('values leave 1m, then 5m, then 1h, and stay in all', () => {
    const sketch = new WindowedSketch(T0);
    for (let i = 0; i < 100; i++) sketch.record(1 + i, T0);
    const counts = (now: number) =>
      (['1m', '5m', '1h', 'all'] as const).map((window) => sketch.summary(window, now).count);
    expect(counts(T0 + 30_000)).toEqual([100, 100, 100, 100]);
    // A window covers its length plus at most one slot of its ring (5 s, 30 s, 5 min).
    expect(counts(T0 + 66_000)).toEqual([0, 100, 100, 100]);
    expect(counts(T0 + 331_000)).toEqual([0, 0, 100, 100]);
    expect(counts(T0 + 3_901_000)).toEqual([0, 0, 0, 100]);
  });

  test('each window holds exactly the values of its span, with their percentiles', () => {
    const sketch = new WindowedSketch(T0);
    // 10 ms values two hours ago … 1 ms values now: each window's p50 says which ones it holds.
    sketch.record(10, T0);
    const t1 = T0 + 2 * 3_600_000;
    for (let i = 0; i < 10; i++) sketch.record(5, t1);
    const t2 = t1 + 30 * 60_000;
    for (let i = 0; i < 10; i++) sketch.record(3, t2);
    const t3 = t2 + 3 * 60_000;
    for (let i = 0; i < 10; i++) sketch.record(1, t3);
    const now = t3 + 10_000;
    const at = (window: '1m' | '5m' | '1h' | 'all') => sketch.summary(window, now);
    expect(at('1m')).toMatchObject({ count: 10, max: 1 });
    expect(at('5m')).toMatchObject({ count: 20, max: 3 });
    expect(at('1h')).toMatchObject({ count: 30, max: 5 });
    expect(at('all')).toMatchObject({ count: 31, max: 10 });
    expect(at('5m').p50).toBeCloseTo(1, 1);
    expect(at('5m').p95).toBeCloseTo(3, 1);
  });

  test('a clock set back records into the current slot; windows never go backwards', () => {
    const sketch = new WindowedSketch(T0);
    sketch.record(1, T0 + 20_000);
    sketch.record(2, T0); // earlier than the current slot
    expect(sketch.summary('1m', T0 + 20_000).count).toBe(2);
  });

  test('memory stays bounded: a day of values at one per second keeps a fixed number of slots', () => {
    const sketch = new WindowedSketch(T0);
    for (let s = 0; s < 86_400; s += 1) sketch.record(1 + (s % 7), T0 + s * 1000);
    const rings = (sketch as unknown as { rings: unknown[][] }).rings.map((ring) => ring.length);
    expect(rings[0]).toBeLessThanOrEqual(13);
    expect(rings[1]).toBeLessThanOrEqual(11);
    expect(rings[2]).toBeLessThanOrEqual(13);
    expect(sketch.summary('all', T0 + 86_400_000).count).toBe(86_400);
  });
});
