import { DDSketch } from '@datadog/sketches-js';
import type { Accumulator } from './accumulator.js';
import { isFiniteNumber } from './numeric-accumulators.js';
import { interpolate } from './order-accumulators.js';

/**
 * α: half the 1% bound. A DDSketch (Datadog's, Masson et al. VLDB 2019) keeps counts in
 * logarithmic buckets of ratio (1+α)/(1−α), so a value read back is within α of the input at that
 * rank; bucket counts add, so two sketches merge exactly.
 */
export const RELATIVE_ACCURACY = 0.005;

/**
 * The sketch's estimate of the value at 0-based rank r: the same walk as its getValueAtQuantile,
 * but from an integer rank, so no quantile → rank rounding can land on the neighbour.
 */
function valueAtRank(sketch: DDSketch, rank: number): number {
  const negatives = sketch.negativeStore.count;
  if (rank < negatives)
    return -sketch.mapping.value(sketch.negativeStore.keyAtRank(negatives - rank - 1, false));
  if (rank < negatives + sketch.zeroCount) return 0;
  return sketch.mapping.value(sketch.store.keyAtRank(rank - negatives - sketch.zeroCount));
}

/**
 * percentile_cont over the sketch: the two ranks around p·(n−1) are estimated and interpolated as
 * the exact path does, so for positive values the answer stays within α of the exact percentile.
 */
export function sketchPercentile(sketch: DDSketch, p: number): number | null {
  if (sketch.count === 0) return null;
  const rank = p * (sketch.count - 1);
  const low = Math.floor(rank);
  const lowValue = valueAtRank(sketch, low);
  return rank === low ? lowValue : interpolate(lowValue, valueAtRank(sketch, low + 1), rank - low);
}

export function approxPercentile(p: number): Accumulator<DDSketch, number | null> {
  return {
    init: () => new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY }),
    add: (state, value) => (isFiniteNumber(value) ? (state.accept(value), state) : state),
    merge: (a, b) => (a.merge(b), a),
    result: (state) => sketchPercentile(state, p),
  };
}
