import { DDSketch } from '@datadog/sketches-js';
import type { Accumulator } from './accumulator.js';
import { isFiniteNumber } from './numeric-accumulators.js';
import { interpolate } from './order-accumulators.js';

/**
 * α: half the 1% bound. A DDSketch (Datadog's, Masson et al. VLDB 2019) keeps counts in
 * logarithmic bins of ratio (1+α)/(1−α), so a value read back is within α of the input at that
 * rank; bin counts add, so two sketches merge exactly.
 *
 * The bins are ours, the mapping (value ↔ bin key) is the library's. The library's own stores grow
 * by spreading a JavaScript array into a call, which overflows the stack once a sketch's values
 * span a wide range of magnitudes (1e-300 and 1e300 in one group: a raw RangeError), and its
 * merge drops the other sketch's negative values. Here a sketch is a count per *ordinal*: one
 * integer per bin that sorts the bins in value order (negatives, zero, positives), so reading rank
 * r is a walk over the sorted ordinals, and the dense group-by (sketch-fold.ts) keeps the same
 * ordinals in typed arrays and answers the same.
 */
export const RELATIVE_ACCURACY = 0.005;

/** The sketch's key mapping (value ↔ bin key). */
export type SketchMapping = DDSketch['mapping'];

/** The mapping every approxPercentile sketch uses. */
export function sketchMapping(): SketchMapping {
  return new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY }).mapping;
}

/** Past the largest key any double maps to (about 71,000 at 0.5% accuracy): ordinals keep signs apart. */
const SIDE = 1 << 20;

/**
 * A finite value's ordinal: its bin key, moved past SIDE, negated for negatives; 0 for zero (and
 * magnitudes below the mapping's smallest, as the sketch counts them).
 */
export function sketchOrdinal(mapping: SketchMapping, x: number): number {
  const { minPossible } = mapping;
  if (x > minPossible) return mapping.key(x) + SIDE;
  if (x < -minPossible) return -(mapping.key(-x) + SIDE);
  return 0;
}

/** The value a bin stands for: within α of every value in it. */
export function sketchValue(mapping: SketchMapping, ordinal: number): number {
  if (ordinal > 0) return mapping.value(ordinal - SIDE);
  if (ordinal < 0) return -mapping.value(-ordinal - SIDE);
  return 0;
}

/**
 * percentile_cont over a sketch of `count` values: the two ranks around p·(n−1) are estimated and
 * interpolated as the exact path does, so for positive values the answer stays within α of the
 * exact percentile. `ordinalAt(r)` gives the bin of the value at 0-based rank r.
 */
export function sketchPercentile(
  mapping: SketchMapping,
  count: number,
  p: number,
  ordinalAt: (rank: number) => number,
): number | null {
  if (count === 0) return null;
  const rank = p * (count - 1);
  const low = Math.floor(rank);
  const lowValue = sketchValue(mapping, ordinalAt(low));
  if (rank === low) return lowValue;
  return interpolate(lowValue, sketchValue(mapping, ordinalAt(low + 1)), rank - low);
}

/** A sketch: how many values, and how many in each bin, by ordinal. */
export interface Sketch {
  count: number;
  readonly bins: Map<number, number>;
}

const MAPPING = sketchMapping();

/** The ordinal of the value at rank r: the first bin, in ordinal order, whose running count passes r. */
function ordinalAtRank(sorted: readonly (readonly [number, number])[], rank: number): number {
  let running = 0;
  for (const [ordinal, count] of sorted) {
    running += count;
    if (running > rank) return ordinal;
  }
  return (sorted[sorted.length - 1] as readonly [number, number])[0];
}

export function approxPercentile(p: number): Accumulator<Sketch, number | null> {
  return {
    init: () => ({ count: 0, bins: new Map() }),
    add: (state, value) => {
      if (!isFiniteNumber(value)) return state;
      const ordinal = sketchOrdinal(MAPPING, value);
      state.bins.set(ordinal, (state.bins.get(ordinal) ?? 0) + 1);
      state.count += 1;
      return state;
    },
    merge: (a, b) => {
      for (const [ordinal, count] of b.bins) a.bins.set(ordinal, (a.bins.get(ordinal) ?? 0) + count);
      a.count += b.count;
      return a;
    },
    result: (state) => {
      const sorted = [...state.bins].sort((x, y) => x[0] - y[0]);
      return sketchPercentile(MAPPING, state.count, p, (rank) => ordinalAtRank(sorted, rank));
    },
  };
}
