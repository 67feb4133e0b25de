import { ValidationError } from '../../errors.js';
import type { Field } from '../../query/ast.js';
import type { Duration, PipelineRow, TimeWindowSpec } from '../../query/analytics-ast.js';
import { describe } from '../../support/describe.js';
import { groupBy, groupKeyText } from './group-key.js';
import { readRowField } from './read-row-field.js';
import { positiveDurationMs } from './stage-duration.js';

/** An event is copied into at most this many hopping windows (size / every): more is refused. */
export const MAX_WINDOWS_PER_ROW = 10_000;

export interface HoppingOptions {
  readonly size: Duration;
  readonly every: Duration;
  /** The time field, epoch ms or a Date (default `timestamp`). */
  readonly field?: Field;
}

export interface SessionOptions {
  readonly gap: Duration;
  /** Sessions are per group: rows with equal values of these fields. */
  readonly by?: readonly Field[];
  readonly field?: Field;
}

/**
 * A hopping window's size and hop in ms. Every engine reads an event once per window holding it,
 * so more than MAX_WINDOWS_PER_ROW windows an event is refused up front, before any read.
 */
function hoppingMs(
  options: { size?: unknown; every?: unknown },
  path: string,
): { size: number; every: number } {
  const size = positiveDurationMs(options.size, `${path}.size`);
  const every = positiveDurationMs(options.every, `${path}.every`);
  if (size / every > MAX_WINDOWS_PER_ROW) {
    throw new ValidationError(
      path,
      `size ${describe(options.size)} over every ${describe(options.every)} puts each event in more than ${MAX_WINDOWS_PER_ROW} windows`,
      'INVALID_OPTION',
    );
  }
  return { size, every };
}

function timeOf(row: object, field: string): number | null {
  const ms = readRowField(row, field);
  return typeof ms === 'number' && Number.isFinite(ms) ? ms : null;
}

/**
 * Hopping windows: each row copied into every window `[windowStart, windowEnd)` that holds it, with
 * those two keys added (epoch ms). Window starts are the multiples of `every` since the Unix epoch;
 * a window is `size` long, so a row at time t is in every window with
 * `windowStart <= t < windowStart + size`. `size === every` gives tumbling windows. Rows without a
 * finite time are dropped (as stream processors drop events without timestamps). Copies come in
 * input order, each row's windows in ascending order.
 */
export function hoppingWindows(rows: readonly object[], options: HoppingOptions): PipelineRow[] {
  const { size, every } = hoppingMs(options ?? {}, 'window');
  const field = options.field ?? 'timestamp';
  const out: PipelineRow[] = [];
  for (const row of rows) {
    const t = timeOf(row, field);
    if (t === null) continue;
    // Windows start after t - size and at or before t.
    for (let k = Math.floor((t - size) / every) + 1; k * every <= t; k++) {
      const windowStart = k * every;
      if (windowStart + size > t) out.push({ ...row, windowStart, windowEnd: windowStart + size });
    }
  }
  return out;
}

/**
 * Session windows per group (rows with equal `by` values), Flink's semantics: rows in (time,
 * sequence) order; a row more than `gap` after the previous one starts a new session (exactly
 * `gap` after still joins it). `windowStart` is the session's first time, `windowEnd` its last
 * time + gap, so a session is `[windowStart, windowEnd)` and sessions of a group never overlap.
 * Rows without a finite time are dropped. Returns the rows with the two keys added, each group's
 * rows in time order, groups in first-seen order.
 */
export function sessionWindows(rows: readonly object[], options: SessionOptions): PipelineRow[] {
  const gap = positiveDurationMs(options?.gap, 'window.gap');
  const by = options.by ?? [];
  const field = options.field ?? 'timestamp';
  const timed = rows.flatMap((row, position) => {
    const t = timeOf(row, field);
    const sequence = readRowField(row, 'sequence');
    return t === null ? [] : [{ row, t, order: typeof sequence === 'number' ? sequence : position }];
  });
  const out: PipelineRow[] = [];
  const groups = groupBy(timed, ({ row }) => groupKeyText(by.map((key) => readRowField(row, key))));
  for (const group of groups.values()) {
    group.sort((a, b) => a.t - b.t || a.order - b.order);
    let from = 0;
    for (let i = 1; i <= group.length; i++) {
      if (i < group.length && group[i]!.t - group[i - 1]!.t <= gap) continue;
      const windowStart = group[from]!.t;
      const windowEnd = group[i - 1]!.t + gap;
      for (let j = from; j < i; j++) out.push({ ...group[j]!.row, windowStart, windowEnd });
      from = i;
    }
  }
  return out;
}

/** Checks a window spec: `{ size, every }` or `{ gap }`, durations. */
export function validateWindowSpec(spec: unknown, path: string): asserts spec is TimeWindowSpec {
  if (spec === null || typeof spec !== 'object') {
    throw new ValidationError(
      path,
      `must be { size, every } or { gap }, got ${describe(spec)}`,
      'INVALID_OPTION',
    );
  }
  const keys = Object.keys(spec).sort().join(',');
  const s = spec as Record<string, unknown>;
  if (keys === 'every,size') hoppingMs(s, path);
  else if (keys === 'gap') positiveDurationMs(s.gap, `${path}.gap`);
  else
    throw new ValidationError(
      path,
      `must be { size, every } or { gap }, got ${describe(spec)}`,
      'INVALID_OPTION',
    );
}

/** The rows of a window spec: hopping or session windows (sessions per `by`). */
export function windowRows(
  rows: readonly object[],
  spec: TimeWindowSpec,
  by: readonly Field[] = [],
): PipelineRow[] {
  return 'gap' in spec ? sessionWindows(rows, { gap: spec.gap, by }) : hoppingWindows(rows, spec);
}
