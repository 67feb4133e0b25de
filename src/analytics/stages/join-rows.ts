import { TammaError, ValidationError } from '../../errors.js';
import type { Field } from '../../query/ast.js';
import type { Duration, PipelineRow } from '../../query/analytics-ast.js';
import { describe } from '../../support/describe.js';
import { groupKeyText } from './group-key.js';
import { readRowField } from './read-row-field.js';
import { durationMs } from './stage-duration.js';

export interface JoinOptions {
  /** The join key: one field on both sides, or `[leftField, rightField]`. */
  readonly on: Field | readonly [Field, Field];
  /** The name the right row goes under in each output row. */
  readonly as: string;
  readonly type?: 'inner' | 'left';
  /** The right row's timestamp is at or after the left one's and at most this much later. */
  readonly within?: Duration;
}

const fieldName = (value: unknown) => typeof value === 'string' && value !== '';

/** Checks join options (the `right` side is the caller's). */
export function validateJoinOptions(options: unknown, path: string): asserts options is JoinOptions {
  if (options === null || typeof options !== 'object') {
    throw new ValidationError(
      path,
      `must be { on, as, type?, within? }, got ${describe(options)}`,
      'INVALID_OPTION',
    );
  }
  const { on, as, type, within } = options as Partial<Record<keyof JoinOptions, unknown>>;
  const pair = Array.isArray(on) && on.length === 2 && on.every(fieldName);
  if (!fieldName(on) && !pair) {
    throw new ValidationError(
      `${path}.on`,
      `must be a field name or [leftField, rightField], got ${describe(on)}`,
      'UNKNOWN_FIELD',
    );
  }
  if (!fieldName(as)) {
    throw new ValidationError(
      `${path}.as`,
      `must be a non-empty name for the right row, got ${describe(as)}`,
      'INVALID_OPTION',
    );
  }
  if (type !== undefined && type !== 'inner' && type !== 'left') {
    throw new ValidationError(
      `${path}.type`,
      `must be 'inner' or 'left', got ${describe(type)}`,
      'INVALID_OPTION',
    );
  }
  if (within !== undefined) durationMs(within, `${path}.within`);
}

/**
 * Most rows a join puts out: each is an object in memory holding two events, so past this the
 * result cannot be held (gigabytes); the engines' typed arrays of pairs stay within their bounds.
 */
export const MAX_JOIN_ROWS = 1 << 25;

/** The error of a join past MAX_JOIN_ROWS: refused before its rows are built. */
export function joinTooLarge(): TammaError {
  return new TammaError(
    'RESULT_TOO_LARGE',
    `the join puts out more than ${MAX_JOIN_ROWS} rows (a key shared by many events on both sides); narrow either side's filter, add within, or aggregate the join's output`,
  );
}

const timeOf = (row: object) => {
  const ms = readRowField(row, 'timestamp');
  return typeof ms === 'number' && Number.isFinite(ms) ? ms : null;
};

/**
 * A hash equi-join: one output row `{ ...leftRow, [as]: rightRow }` per matching pair, in left order,
 * each left row's matches in the right rows' (timestamp, sequence) order. Keys equal by canonical
 * JSON (`1` and `"1"` differ); a null or missing key never matches (SQL). More than MAX_JOIN_ROWS
 * rows is refused (RESULT_TOO_LARGE). With `within`, a pair
 * matches only when `0 <= right.timestamp − left.timestamp <= within` (a row without a timestamp
 * then matches nothing). A `left` join keeps a left row without matches as `{ ...leftRow, [as]: null }`.
 */
export function joinRows(
  left: readonly object[],
  right: readonly object[],
  options: JoinOptions,
): PipelineRow[] {
  validateJoinOptions(options, 'join');
  const [leftField, rightField] = typeof options.on === 'string' ? [options.on, options.on] : options.on;
  const withinMs = options.within === undefined ? null : durationMs(options.within, 'join.within');
  const ordered = right
    .map((row, position) => {
      const sequence = readRowField(row, 'sequence');
      return { row, t: timeOf(row) ?? -Infinity, order: typeof sequence === 'number' ? sequence : position };
    })
    .sort((a, b) => a.t - b.t || a.order - b.order);
  const table = new Map<string, { row: object; t: number }[]>();
  for (const { row, t } of ordered) {
    const key = readRowField(row, rightField);
    if (key === undefined || key === null) continue;
    const text = groupKeyText([key]);
    const bucket = table.get(text);
    if (bucket === undefined) table.set(text, [{ row, t }]);
    else bucket.push({ row, t });
  }
  const matchesOf = (row: object): { row: object; t: number }[] => {
    const key = readRowField(row, leftField);
    const matches = key === undefined || key === null ? [] : (table.get(groupKeyText([key])) ?? []);
    if (withinMs === null) return matches;
    const t = timeOf(row);
    return t === null ? [] : matches.filter((m) => m.t - t >= 0 && m.t - t <= withinMs);
  };
  // Counted before any row is built: a join too large to hold is refused, not run out of memory.
  let total = 0;
  for (const row of left) {
    total += Math.max(matchesOf(row).length, options.type === 'left' ? 1 : 0);
    if (total > MAX_JOIN_ROWS) throw joinTooLarge();
  }
  const out: PipelineRow[] = [];
  for (const row of left) {
    const matches = matchesOf(row);
    for (const match of matches) out.push({ ...row, [options.as]: match.row });
    if (matches.length === 0 && options.type === 'left') out.push({ ...row, [options.as]: null });
  }
  return out;
}
