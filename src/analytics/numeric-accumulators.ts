import { canonicalJson } from '../query/canonical.js';
import type { Accumulator } from './accumulator.js';

/** The values numeric aggregates take: finite numbers; anything else is skipped like a missing value. */
export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** −0 reads as 0 (as in SQL): otherwise min, max and percentiles would depend on which of two equal values came first. */
export const plain = (value: number) => value + 0;

export const countAll: Accumulator<{ n: number }, number> = {
  init: () => ({ n: 0 }),
  add: (state) => ((state.n += 1), state),
  merge: (a, b) => ((a.n += b.n), a),
  result: (state) => state.n,
};

/** SQL count(field): null is SQL NULL, so only values that are present and not null count. */
export const countPresent: Accumulator<{ n: number }, number | null> = {
  init: () => ({ n: 0 }),
  add: (state, value) => ((state.n += value === undefined || value === null ? 0 : 1), state),
  merge: (a, b) => ((a.n += b.n), a),
  result: (state) => (state.n === 0 ? null : state.n),
};

/** Keys carry the type so 1 and "1" stay distinct; objects and arrays compare by canonical JSON. */
function distinctKey(value: unknown): string {
  return typeof value === 'object' ? `j${canonicalJson(value)}` : `${(typeof value)[0]}${String(value)}`;
}

export const countDistinct: Accumulator<Set<string>, number | null> = {
  init: () => new Set(),
  add: (state, value) => (value === undefined || value === null ? state : state.add(distinctKey(value))),
  merge: (a, b) => {
    for (const key of b) a.add(key);
    return a;
  },
  result: (state) => (state.size === 0 ? null : state.size),
};

/**
 * Plain summation: the property tests hold sum and avg to 1e-12 of the sum of magnitudes, which
 * ordinary floating-point addition meets at these sizes (its bound is n·ε·Σ|x|), so no Kahan step.
 */
export const sum: Accumulator<{ n: number; sum: number }, number | null> = {
  init: () => ({ n: 0, sum: 0 }),
  add: (state, value) => {
    if (!isFiniteNumber(value)) return state;
    state.sum = state.n === 0 ? plain(value) : state.sum + value;
    state.n += 1;
    return state;
  },
  merge: (a, b) => {
    if (b.n === 0) return a;
    a.sum = a.n === 0 ? b.sum : a.sum + b.sum;
    a.n += b.n;
    return a;
  },
  result: (state) => (state.n === 0 ? null : state.sum),
};

export const avg: Accumulator<{ n: number; sum: number }, number | null> = {
  ...sum,
  result: (state) => (state.n === 0 ? null : state.sum / state.n),
};

function extreme(
  better: (a: number, b: number) => boolean,
): Accumulator<{ value: number | null }, number | null> {
  const pick = (current: number | null, value: number) =>
    current === null || better(value, current) ? value : current;
  return {
    init: () => ({ value: null }),
    add: (state, value) =>
      isFiniteNumber(value) ? ((state.value = pick(state.value, plain(value))), state) : state,
    merge: (a, b) => (b.value === null ? a : ((a.value = pick(a.value, b.value)), a)),
    result: (state) => state.value,
  };
}

export const min = extreme((a, b) => a < b);
export const max = extreme((a, b) => a > b);

/** Welford's running mean and sum of squared deviations; Chan et al.'s formula merges two. */
export interface Moments {
  n: number;
  mean: number;
  m2: number;
}

function addMoment(state: Moments, value: number): Moments {
  state.n += 1;
  const delta = value - state.mean;
  state.mean += delta / state.n;
  state.m2 += delta * (value - state.mean);
  return state;
}

function mergeMoments(a: Moments, b: Moments): Moments {
  if (b.n === 0) return a;
  if (a.n === 0) return Object.assign(a, b);
  const n = a.n + b.n;
  const delta = b.mean - a.mean;
  a.m2 += b.m2 + (delta * delta * a.n * b.n) / n;
  a.mean += (delta * b.n) / n;
  a.n = n;
  return a;
}

export const variance: Accumulator<Moments, number | null> = {
  init: () => ({ n: 0, mean: 0, m2: 0 }),
  add: (state, value) => (isFiniteNumber(value) ? addMoment(state, value) : state),
  merge: mergeMoments,
  result: (state) => (state.n < 2 ? null : Math.max(0, state.m2) / (state.n - 1)),
};

export const stddev: Accumulator<Moments, number | null> = {
  ...variance,
  result: (state) => (state.n < 2 ? null : Math.sqrt(Math.max(0, state.m2) / (state.n - 1))),
};

/** Welford's co-moment: means, the two sums of squared deviations and the sum of cross products. */
export interface CoMoments {
  n: number;
  meanX: number;
  meanY: number;
  m2x: number;
  m2y: number;
  cxy: number;
}

function addPair(state: CoMoments, x: number, y: number): CoMoments {
  state.n += 1;
  const dx = x - state.meanX;
  const dy = y - state.meanY;
  state.meanX += dx / state.n;
  state.meanY += dy / state.n;
  state.m2x += dx * (x - state.meanX);
  state.m2y += dy * (y - state.meanY);
  state.cxy += dx * (y - state.meanY);
  return state;
}

function mergeCoMoments(a: CoMoments, b: CoMoments): CoMoments {
  if (b.n === 0) return a;
  if (a.n === 0) return Object.assign(a, b);
  const n = a.n + b.n;
  const dx = b.meanX - a.meanX;
  const dy = b.meanY - a.meanY;
  const weight = (a.n * b.n) / n;
  a.m2x += b.m2x + dx * dx * weight;
  a.m2y += b.m2y + dy * dy * weight;
  a.cxy += b.cxy + dx * dy * weight;
  a.meanX += (dx * b.n) / n;
  a.meanY += (dy * b.n) / n;
  a.n = n;
  return a;
}

/** SQL corr: null for fewer than 2 pairs or when either side is constant (its variance is 0). */
export const corr: Accumulator<CoMoments, number | null> = {
  init: () => ({ n: 0, meanX: 0, meanY: 0, m2x: 0, m2y: 0, cxy: 0 }),
  add: (state, value) => {
    if (!Array.isArray(value)) return state;
    const [x, y] = value as unknown[];
    return isFiniteNumber(x) && isFiniteNumber(y) ? addPair(state, x, y) : state;
  },
  merge: mergeCoMoments,
  result: (state) => {
    if (state.n < 2 || state.m2x <= 0 || state.m2y <= 0) return null;
    return Math.max(-1, Math.min(1, state.cxy / Math.sqrt(state.m2x * state.m2y)));
  },
};
