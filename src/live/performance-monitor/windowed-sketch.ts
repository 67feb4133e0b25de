import { LogCollapsingLowestDenseDDSketch } from '@datadog/sketches-js';
import type { LatencySummary, LatencyWindow } from '../../store/store-monitor.js';

/** DDSketch's guarantee: every quantile within 1% of the exact one. */
const RELATIVE_ACCURACY = 0.01;
/**
 * Bins per sketch at most (8 bytes each): at 1% accuracy 2048 bins span a ratio of 1.02^2048, far
 * more than any latency spread, so the cap only bounds memory and never collapses in practice.
 */
const BIN_LIMIT = 2048;

type Sketch = LogCollapsingLowestDenseDDSketch;
const newSketch = (): Sketch =>
  new LogCollapsingLowestDenseDDSketch({ relativeAccuracy: RELATIVE_ACCURACY, binLimit: BIN_LIMIT });

/**
 * The rings, finest first: slots of 5 s over the last minute, of 30 s over five minutes, of 5 min
 * over the hour (one slot more than the length each, so that a window covers at least its length).
 * A value goes into the current finest slot only (one sketch insert); a slot leaving its ring is
 * merged into the next ring's slot for its time (DDSketch merges exactly), and out of the last ring
 * into the total. So a window is a merge of whole slots: it covers its length plus at most one slot
 * of its own ring.
 */
const RINGS = [
  { slotMs: 5_000, slots: 13 },
  { slotMs: 30_000, slots: 11 },
  { slotMs: 300_000, slots: 13 },
] as const;

/** How many rings (finest first) a window merges; `all` adds the total of what left them. */
const WINDOW_RINGS: Record<LatencyWindow, number> = { '1m': 1, '5m': 2, '1h': 3, all: 3 };

/** Every window's length, for `since`: `all` starts when the series did. */
export const WINDOW_MS: Record<Exclude<LatencyWindow, 'all'>, number> = {
  '1m': 60_000,
  '5m': 300_000,
  '1h': 3_600_000,
};

interface Slot {
  /** floor(time / slotMs) of the ring. */
  index: number;
  sketch: Sketch;
}

/**
 * Latency values over rolling windows ('1m' | '5m' | '1h' | 'all') in fixed memory: rings of
 * per-interval DDSketches (see RINGS). Time is the store's clock, passed in, so tests move it.
 */
export class WindowedSketch {
  /** Per ring, its slots by index, oldest first. */
  private readonly rings: Slot[][] = RINGS.map(() => []);
  /** The finest ring's current slot: where values go. */
  private current: Slot | undefined;
  /** What left the last ring. */
  private older: Sketch | undefined;
  /** Exact, since the series started. */
  private total = 0;
  readonly startedAt: number;

  constructor(now: number) {
    this.startedAt = now;
  }

  get count(): number {
    return this.total;
  }

  /** Adds one value (ms) at time `now` (ms since the epoch, the store's clock). */
  record(value: number, now: number): void {
    const index = Math.floor(now / 5_000);
    let current = this.current;
    if (current === undefined || index > current.index) current = this.advance(index);
    // A clock set back lands in the current slot: windows never go backwards.
    current.sketch.accept(value);
    this.total++;
  }

  /** The figures over a window ending now. */
  summary(window: LatencyWindow, now: number): LatencySummary {
    const merged = this.merged(window, now);
    if (merged === undefined || merged.count === 0) return emptySummary();
    return {
      count: merged.count,
      p50: quantileOf(merged, 0.5),
      p95: quantileOf(merged, 0.95),
      p99: quantileOf(merged, 0.99),
      max: merged.max,
      mean: merged.sum / merged.count,
    };
  }

  /** One quantile over a window, or undefined with no value in it. */
  quantile(window: LatencyWindow, q: number, now: number): number | undefined {
    const merged = this.merged(window, now);
    return merged === undefined || merged.count === 0 ? undefined : quantileOf(merged, q);
  }

  /** Whether anything was recorded since `time`. */
  activeSince(time: number): boolean {
    const current = this.current;
    return current !== undefined && (current.index + 1) * 5_000 > time;
  }

  private merged(window: LatencyWindow, now: number): Sketch | undefined {
    this.expire(Math.floor(now / 5_000));
    const merged = newSketch();
    for (let ring = 0; ring < WINDOW_RINGS[window]; ring++) {
      for (const slot of this.rings[ring] as Slot[]) merged.merge(slot.sketch);
    }
    if (window === 'all' && this.older !== undefined) merged.merge(this.older);
    return merged;
  }

  /** A new finest slot for `index`, after moving what has aged out of each ring down a ring. */
  private advance(index: number): Slot {
    this.expire(index);
    const finest = this.rings[0] as Slot[];
    const last = finest[finest.length - 1];
    if (last !== undefined && last.index >= index) return (this.current = last);
    const slot = { index, sketch: newSketch() };
    finest.push(slot);
    this.current = slot;
    return slot;
  }

  /** Moves every slot older than its ring's span (ending at finest slot `index`) to the next ring. */
  private expire(index: number): void {
    const now = index * 5_000;
    for (let ring = 0; ring < RINGS.length; ring++) {
      const { slotMs, slots } = RINGS[ring] as (typeof RINGS)[number];
      const first = Math.floor(now / slotMs) - slots + 1;
      const held = this.rings[ring] as Slot[];
      while (held.length > 0 && (held[0] as Slot).index < first) {
        const gone = held.shift() as Slot;
        if (gone === this.current) this.current = undefined;
        this.moveDown(ring, gone, slotMs);
      }
    }
  }

  private moveDown(ring: number, slot: Slot, slotMs: number): void {
    const next = RINGS[ring + 1];
    if (next === undefined) {
      if (this.older === undefined) this.older = slot.sketch;
      else this.older.merge(slot.sketch);
      return;
    }
    const index = Math.floor((slot.index * slotMs) / next.slotMs);
    const below = this.rings[ring + 1] as Slot[];
    const last = below[below.length - 1];
    if (last !== undefined && last.index === index) last.sketch.merge(slot.sketch);
    else below.push({ index, sketch: slot.sketch });
  }
}

/**
 * A bin's representative value may lie just past the exact extremes (the sketch keeps those
 * exactly): held within them, which only brings it closer to the exact quantile.
 */
function quantileOf(sketch: Sketch, q: number): number {
  return Math.min(sketch.max, Math.max(sketch.min, sketch.getValueAtQuantile(q)));
}

export function emptySummary(): LatencySummary {
  return { count: 0, p50: null, p95: null, p99: null, max: null, mean: null };
}
