import { ValidationError } from '../errors.js';
import { describe } from '../support/describe.js';
import {
  partitionEvents,
  type SequencedEvent,
  windowMs,
  requirePartitionedSpec,
} from './partition-events.js';
import { requireFunction } from '../support/require-function.js';
import { msAt, nextHit, stepPartitionOf, type StepPartition } from './step-partition.js';

/**
 * Sequence patterns (issue 16, part 3), backend-neutral: each step's condition is a plain predicate
 * here; the query layer will compile `where: FilterNode` into one. Semantics (docs/analytics.md, "Patterns"):
 *
 * - Per partition, events in (timestamp, sequence) order, so results do not depend on input order.
 * - A match starts at the earliest unused event matching step 1. Each following step takes the earliest
 *   later event matching it whose timestamp is at most `withinMs` after the first step's; with
 *   `contiguity: 'strict'` it must be the very next event of the partition.
 * - A found match is emitted and the search resumes after its last event; a failed attempt resumes
 *   after its first event.
 * - An `absent` step (last step only, not the first) holds when no event matching it comes after the
 *   previous step's event with a timestamp at most `withinMs` after the first step's, and only once
 *   that window has closed: `now > start + withinMs`. Contiguity does not apply to it. Its row value
 *   is null; `end` is the last present step's timestamp. Until the window closes the attempt counts
 *   as failed (no row), so a later call with a later `now` may emit it.
 */
export interface PatternStep<E> {
  readonly name: string;
  readonly test: (event: E) => boolean;
  readonly absent?: true;
}

export interface PatternSpec<E> {
  readonly partitionBy: (event: E) => unknown;
  readonly steps: readonly PatternStep<E>[];
  readonly withinMs: number;
  readonly contiguity?: 'relaxed' | 'strict';
  /** The store's clock, epoch ms: decides whether an absent step's window has closed. Default `Date.now()`. */
  readonly now?: number;
}

/** One match; `start`, `end` in epoch ms. */
export interface PatternRow {
  partition: unknown;
  start: number;
  end: number;
  durationMs: number;
  /** Each step's event (of type E) under the step's name; null for an absent step. */
  [step: string]: unknown;
}

const RESERVED_NAMES = new Set(['partition', 'start', 'end', 'durationMs']);

function validateSteps<E>(steps: unknown): readonly PatternStep<E>[] {
  if (!Array.isArray(steps) || steps.length === 0) {
    throw new ValidationError(
      'steps',
      `must be a non-empty array of steps, got ${describe(steps)}`,
      'INVALID_OPTION',
    );
  }
  const names = new Set<string>();
  steps.forEach((step: Partial<PatternStep<E>> | null | undefined, i) => {
    const name: unknown = step?.name;
    if (typeof name !== 'string' || name === '' || RESERVED_NAMES.has(name) || names.has(name)) {
      throw new ValidationError(
        `steps[${i}].name`,
        `must be a non-empty string, unique, and not partition, start, end or durationMs; got ${describe(name)}`,
        'INVALID_OPTION',
      );
    }
    names.add(name);
    requireFunction(step?.test, `steps[${i}].test`);
    const absent: unknown = step?.absent;
    if (absent !== undefined && absent !== true) {
      throw new ValidationError(
        `steps[${i}].absent`,
        `must be true or left out, got ${describe(absent)}`,
        'INVALID_OPTION',
      );
    }
    if (absent === true && (i === 0 || i !== steps.length - 1)) {
      throw new ValidationError(
        `steps[${i}].absent`,
        'only the last step may be absent, and not the first (a match starts at a present event)',
        'INVALID_OPTION',
      );
    }
  });
  return steps as readonly PatternStep<E>[];
}

/** All matches of the pattern, ordered by start time, then by the first event's sequence. */
export function matchPattern<E extends SequencedEvent>(
  events: readonly E[],
  spec: PatternSpec<E>,
): PatternRow[] {
  requirePartitionedSpec(spec);
  const steps = validateSteps<E>(spec.steps);
  const within = windowMs(spec.withinMs, 'withinMs');
  const contiguity: unknown = spec.contiguity ?? 'relaxed';
  if (contiguity !== 'relaxed' && contiguity !== 'strict') {
    throw new ValidationError(
      'contiguity',
      `must be 'relaxed' or 'strict', got ${describe(contiguity)}`,
      'INVALID_OPTION',
    );
  }
  const now: unknown = spec.now ?? Date.now();
  if (typeof now !== 'number' || !Number.isFinite(now)) {
    throw new ValidationError(
      'now',
      `must be epoch ms (a finite number), got ${describe(now)}`,
      'INVALID_OPTION',
    );
  }
  const rows: { row: PatternRow; sequence: number }[] = [];
  const tests = steps.map((step) => step.test);
  const absent = steps.map((step) => step.absent === true);
  for (const [partition, ordered] of partitionEvents(events, spec.partitionBy)) {
    const part = stepPartitionOf(ordered, tests);
    patternMatches(part, absent, within, contiguity === 'strict', now, (found) => {
      const row: PatternRow = { partition, start: 0, end: 0, durationMs: 0 };
      steps.forEach((step, i) => (row[step.name] = found[i] === -1 ? null : ordered[found[i]!]!.event));
      const first = ordered[found[0]!]!;
      const last = ordered[found.findLast((at) => at !== -1)!]!;
      row.start = first.ms;
      row.end = last.ms;
      row.durationMs = last.ms - first.ms;
      rows.push({ row, sequence: first.sequence });
    });
  }
  rows.sort((a, b) => a.row.start - b.row.start || a.sequence - b.sequence);
  return rows.map(({ row }) => row);
}

/**
 * One partition's matches, each given to `emit` as its events' positions by step (-1 for the absent
 * step; the array is reused, so copy what you keep). Each step's matching positions are listed once
 * (the partition's), so finding "the earliest later match" is a binary search: O(n·k·log n).
 */
export function patternMatches(
  part: StepPartition,
  absent: readonly boolean[],
  within: number,
  strict: boolean,
  now: number,
  emit: (found: readonly number[]) => void,
): void {
  const steps = absent.length;
  const found = new Array<number>(steps);
  let from = 0;
  for (;;) {
    const startAt = nextHit(part, 0, from - 1);
    if (startAt === -1) return;
    const deadline = msAt(part, startAt) + within;
    found[0] = startAt;
    let previous = startAt;
    let complete = true;
    for (let s = 1; s < steps; s++) {
      const next = nextHit(part, s, previous);
      const inWindow = next !== -1 && msAt(part, next) <= deadline;
      if (absent[s]) {
        complete = !inWindow && now > deadline;
        found[s] = -1;
      } else if (inWindow && (!strict || next === previous + 1)) {
        found[s] = next;
        previous = next;
      } else {
        complete = false;
      }
      if (!complete) break;
    }
    if (complete) {
      emit(found);
      from = previous + 1;
    } else {
      from = startAt + 1;
    }
  }
}
