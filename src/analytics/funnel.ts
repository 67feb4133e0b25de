import { ValidationError } from '../errors.js';
import { describe } from '../support/describe.js';
import {
  partitionEvents,
  type SequencedEvent,
  windowMs,
  requirePartitionedSpec,
} from './partition-events.js';
import { requireFunction } from '../support/require-function.js';
import { selectKth } from './select-kth.js';
import { msAt, nextHit, stepPartitionOf, type StepPartition } from './step-partition.js';

/**
 * Funnels (issue 16, part 4), backend-neutral: steps and exclusions are plain predicates here. The
 * definitions (docs/analytics.md, "Funnels"); steps are numbered by their index in `steps`, from 0:
 *
 * - Per partition, events in (timestamp, sequence) order. A chain reaching step k is events
 *   c_0 … c_k, c_i matching `steps[i]`:
 *   - `'sequential'`: at increasing positions, `c_k.ts − c_0.ts ≤ withinMs`;
 *   - `'strict'`: at consecutive positions (no other event of the partition between), same window;
 *   - `'any'`: distinct events in any order, `max ts − min ts ≤ withinMs`.
 * - The partition's depth is the furthest step some chain reaches. Its best chain: for 'sequential'
 *   and 'strict', the chain reaching that depth whose positions are lexicographically smallest (the
 *   earliest start that gets there, then the earliest event for each step). For 'any', the best
 *   window is the earliest event matching some step from which events within `withinMs` reach the
 *   depth; the time to step k is from that event to the first event of the window by which steps
 *   0..k can all be matched to distinct events.
 * - Time to convert to step k: `c_k.ts − c_0.ts` of the best chain (for 'any', as above).
 * - Exclusions ('sequential' and 'strict' only): a partition whose best chain reaches step j and has
 *   an event matching `test` strictly between c_i and c_j (`between: [i, j]`) is dropped: it counts
 *   at no step.
 * - count_k: partitions (not dropped) whose depth is k or more; conversion = count_k / count_0,
 *   fromPrevious = count_k / count_{k−1} (step 0: 1); both null when the divisor is 0.
 *   medianTimeToConvertMs: the median (the mean of the middle two for an even count) over partitions
 *   counted at step k of their time to step k; null when there are none.
 */
export type FunnelMode = 'sequential' | 'strict' | 'any';

export interface FunnelExclusion<E> {
  readonly test: (event: E) => boolean;
  /** Two step indices `[i, j]`, `0 ≤ i < j < steps.length`. */
  readonly between: readonly [number, number];
}

export interface FunnelSpec<E> {
  readonly partitionBy: (event: E) => unknown;
  readonly steps: readonly ((event: E) => boolean)[];
  readonly withinMs: number;
  readonly mode?: FunnelMode;
  readonly exclusions?: readonly FunnelExclusion<E>[];
}

export interface FunnelStep {
  /** The step's index in `steps`. */
  readonly step: number;
  readonly count: number;
  readonly conversion: number | null;
  readonly fromPrevious: number | null;
  readonly medianTimeToConvertMs: number | null;
}

export interface FunnelResult {
  readonly steps: FunnelStep[];
}

function validate<E>(spec: FunnelSpec<E>): { mode: FunnelMode; within: number } {
  requirePartitionedSpec(spec);
  const { steps } = spec;
  if (!Array.isArray(steps) || steps.length === 0) {
    throw new ValidationError(
      'steps',
      `must be a non-empty array of predicates, got ${describe(steps)}`,
      'INVALID_OPTION',
    );
  }
  steps.forEach((step: unknown, i) => {
    requireFunction(step, `steps[${i}]`);
  });
  const within = windowMs(spec.withinMs, 'withinMs');
  const mode: unknown = spec.mode ?? 'sequential';
  if (mode !== 'sequential' && mode !== 'strict' && mode !== 'any') {
    throw new ValidationError(
      'mode',
      `must be 'sequential', 'strict' or 'any', got ${describe(mode)}`,
      'INVALID_OPTION',
    );
  }
  const exclusions: unknown = spec.exclusions ?? [];
  if (!Array.isArray(exclusions)) {
    throw new ValidationError(
      'exclusions',
      `must be an array, got ${describe(exclusions)}`,
      'INVALID_OPTION',
    );
  }
  if (mode === 'any' && exclusions.length > 0) {
    throw new ValidationError(
      'exclusions',
      "have no meaning in mode 'any' (its steps have no order)",
      'INVALID_OPTION',
    );
  }
  exclusions.forEach((exclusion: Partial<FunnelExclusion<E>> | null | undefined, i) => {
    requireFunction(exclusion?.test, `exclusions[${i}].test`);
    const between: unknown = exclusion?.between;
    const [from, to] = Array.isArray(between) ? (between as unknown[]) : [];
    const isIndex = (value: unknown): value is number =>
      Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) < steps.length;
    if (!Array.isArray(between) || between.length !== 2 || !isIndex(from) || !isIndex(to) || from >= to) {
      throw new ValidationError(
        `exclusions[${i}].between`,
        `must be two step indices [i, j] with 0 <= i < j < ${steps.length}, got ${describe(between)}`,
        'INVALID_OPTION',
      );
    }
  });
  return { mode, within };
}

/** The funnel over `events`: how many partitions reach each step, and how fast. */
export function funnel<E extends SequencedEvent>(events: readonly E[], spec: FunnelSpec<E>): FunnelResult {
  const { mode, within } = validate(spec);
  const exclusions = spec.exclusions ?? [];
  const tests = [...spec.steps, ...exclusions.map((exclusion) => exclusion.test)];
  const between = exclusions.map((exclusion) => exclusion.between);
  const tally = new FunnelTally(spec.steps.length);
  for (const ordered of partitionEvents(events, spec.partitionBy).values()) {
    tally.add(funnelTimes(stepPartitionOf(ordered, tests), spec.steps.length, within, mode, between));
  }
  return tally.result();
}

/**
 * A partition's times to each step its best chain reaches (from its first step), or null when an
 * exclusion drops it. Tests `steps` .. `steps + between.length - 1` of `part` are the exclusions'.
 */
export function funnelTimes(
  part: StepPartition,
  steps: number,
  within: number,
  mode: FunnelMode,
  between: readonly (readonly [number, number])[],
): number[] | null {
  if (mode === 'any') return anyOrderTimes(part, steps, within);
  const chain = bestChain(part, steps, within, mode === 'strict');
  if (excluded(part, chain, steps, between)) return null;
  return chain.map((p) => msAt(part, p) - msAt(part, chain[0]!));
}

/**
 * The funnel's counts and times, partition by partition; tallies of shares of the partitions (a
 * worker's) merge by adding their times.
 */
export class FunnelTally {
  /** Per step, the time to it of each partition that reached it. */
  readonly times: number[][];

  constructor(steps: number) {
    this.times = Array.from({ length: steps }, () => []);
  }

  add(times: readonly number[] | null): void {
    times?.forEach((time, k) => this.times[k]!.push(time));
  }

  merge(times: readonly ArrayLike<number>[]): void {
    times.forEach((reached, k) => {
      for (let i = 0; i < reached.length; i++) this.times[k]!.push(reached[i] as number);
    });
  }

  result(): FunnelResult {
    const times = this.times;
    const first = times[0]!.length;
    return {
      steps: times.map((reached, k) => {
        const previous = k === 0 ? first : times[k - 1]!.length;
        return {
          step: k,
          count: reached.length,
          conversion: first === 0 ? null : reached.length / first,
          fromPrevious: previous === 0 ? null : reached.length / previous,
          medianTimeToConvertMs: median(reached),
        };
      }),
    };
  }
}

/** The median (the mean of the middle two for an even count), by selection rather than a full sort. */
function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const copy = Float64Array.from(values);
  const mid = copy.length >> 1;
  const upper = selectKth(copy, mid);
  if (copy.length % 2 === 1) return upper;
  // After selecting `mid`, the elements below it hold the lower half: its largest is the other middle.
  let lower = -Infinity;
  for (let i = 0; i < mid; i++) if ((copy[i] as number) > lower) lower = copy[i] as number;
  return (lower + upper) / 2;
}

/** Whether the chain has an exclusion's event strictly between its two steps' events. */
function excluded(
  part: StepPartition,
  chain: readonly number[],
  steps: number,
  between: readonly (readonly [number, number])[],
): boolean {
  return between.some(([i, j], x) => {
    if (j >= chain.length) return false;
    for (let p = chain[i]! + 1; p < chain[j]!; p++) if (part.matches(steps + x, p)) return true;
    return false;
  });
}

/**
 * Sequential and strict: from each step-0 event in order, the greedy chain (the earliest later match
 * of each step within the window; for strict, the very next event) reaches as far as any chain from
 * that start can, so the first start reaching the furthest depth gives the lexicographically smallest
 * best chain. Binary search over each step's positions: O(n·k·log n).
 */
function bestChain(part: StepPartition, steps: number, within: number, strict: boolean): number[] {
  let best: number[] = [];
  for (let at = part.start[0] as number; at < (part.start[1] as number); at++) {
    const start = part.pos[at] as number;
    const chain = [start];
    const deadline = msAt(part, start) + within;
    for (let s = 1; s < steps; s++) {
      const previous = chain[s - 1]!;
      const next = nextHit(part, s, previous);
      if (next === -1 || msAt(part, next) > deadline || (strict && next !== previous + 1)) break;
      chain.push(next);
    }
    if (chain.length > best.length) best = chain;
    if (best.length === steps) break;
  }
  return best;
}

/**
 * Any order: for each window start (an event matching some step), events are added in order while
 * within the window, and steps 0, 1, … are matched to distinct events by augmenting paths (a
 * bipartite matching); the depth is the longest prefix of steps matched.
 */
function anyOrderTimes(part: StepPartition, steps: number, within: number): number[] {
  const matchesSome = (p: number): boolean => {
    for (let s = 0; s < steps; s++) if (part.matches(s, p)) return true;
    return false;
  };
  let best: number[] = [];
  for (let start = 0; start < part.length && best.length < steps; start++) {
    if (!matchesSome(start)) continue;
    const times: number[] = [];
    const owner = new Map<number, number>(); // event position -> step
    const augment = (step: number, end: number, seen: Set<number>): boolean => {
      for (let p = start; p <= end; p++) {
        if (!part.matches(step, p) || seen.has(p)) continue;
        seen.add(p);
        const holder = owner.get(p);
        if (holder === undefined || augment(holder, end, seen)) {
          owner.set(p, step);
          return true;
        }
      }
      return false;
    };
    const deadline = msAt(part, start) + within;
    for (let end = start; end < part.length && msAt(part, end) <= deadline; end++) {
      while (times.length < steps && augment(times.length, end, new Set())) {
        times.push(msAt(part, end) - msAt(part, start));
      }
    }
    if (times.length > best.length) best = times;
  }
  return best;
}
