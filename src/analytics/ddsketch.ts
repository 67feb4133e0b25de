/**
 * A DDSketch (Masson, Rim, Lee, VLDB 2019): values fall into logarithmic buckets of ratio
 * γ = (1+α)/(1−α), so any value read back is within relative error α of a value in its bucket.
 * Bucket counts add up, so two sketches merge exactly. Unbounded buckets (no collapsing): memory
 * grows with the log of the value range (about 4,200 buckets per side at α = 0.005 from 1e-9 to 1e9).
 */
export interface DDSketch {
  readonly positive: Map<number, number>;
  /** Negative values by the bucket of their magnitude. */
  readonly negative: Map<number, number>;
  zeros: number;
  count: number;
}

/** α: half the 1% bound, leaving room for a bucket boundary rounded the other way. */
export const RELATIVE_ACCURACY = 0.005;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);

export function emptySketch(): DDSketch {
  return { positive: new Map(), negative: new Map(), zeros: 0, count: 0 };
}

const bucketOf = (magnitude: number) => Math.ceil(Math.log(magnitude) / LOG_GAMMA);
/** The value that is within α of everything in bucket k, (γ^(k−1), γ^k]. */
const representative = (key: number) => (2 * Math.pow(GAMMA, key)) / (GAMMA + 1);

const bump = (buckets: Map<number, number>, key: number, by: number) =>
  buckets.set(key, (buckets.get(key) ?? 0) + by);

export function addToSketch(sketch: DDSketch, value: number): DDSketch {
  if (value === 0) sketch.zeros += 1;
  else if (value > 0) bump(sketch.positive, bucketOf(value), 1);
  else bump(sketch.negative, bucketOf(-value), 1);
  sketch.count += 1;
  return sketch;
}

export function mergeSketches(a: DDSketch, b: DDSketch): DDSketch {
  for (const [key, n] of b.positive) bump(a.positive, key, n);
  for (const [key, n] of b.negative) bump(a.negative, key, n);
  a.zeros += b.zeros;
  a.count += b.count;
  return a;
}

/** The sorted buckets, smallest value first: negatives by descending magnitude, zero, positives. */
function ordered(sketch: DDSketch): Array<[value: number, count: number]> {
  const negative = [...sketch.negative]
    .sort(([a], [b]) => b - a)
    .map(([k, n]): [number, number] => [-representative(k), n]);
  const positive = [...sketch.positive]
    .sort(([a], [b]) => a - b)
    .map(([k, n]): [number, number] => [representative(k), n]);
  return [...negative, ...(sketch.zeros > 0 ? [[0, sketch.zeros] as [number, number]] : []), ...positive];
}

/** An estimate of the value at 0-based rank r of the sorted input (r < count). */
function valueAtRank(buckets: Array<[number, number]>, rank: number): number {
  let seen = 0;
  for (const [value, n] of buckets) {
    seen += n;
    if (rank < seen) return value;
  }
  return buckets[buckets.length - 1]![0];
}

/**
 * percentile_cont over the sketch: the two neighbouring ranks are estimated and interpolated as the
 * exact path does, so for positive values the answer stays within α of the exact percentile.
 */
export function sketchPercentile(sketch: DDSketch, p: number): number | null {
  if (sketch.count === 0) return null;
  const buckets = ordered(sketch);
  const rank = p * (sketch.count - 1);
  const low = Math.floor(rank);
  const lowValue = valueAtRank(buckets, low);
  if (rank === low) return lowValue;
  return lowValue + (valueAtRank(buckets, low + 1) - lowValue) * (rank - low);
}
