import { ValidationError } from '../errors.js';
import { describe } from '../support/describe.js';
import { type BucketWidth, parseBucketWidth } from './bucket-width.js';
import { civilFromDays, DAY_MS, daysFromCivil } from './civil-days.js';
import { type ZoneClock, zoneClock } from './zone-clock.js';

/**
 * Time buckets: which bucket an instant falls in, and where the next one starts. The rules
 * (docs/analytics.md, "Time buckets"):
 *
 * - `ms s m h d` without a time zone: fixed lengths on a grid through the Unix epoch (UTC), or
 *   through `origin` when given. For widths that divide a day this is DuckDB's `time_bucket` grid;
 *   for others (e.g. `7h`) the grid runs through 1970-01-01 00:00 UTC, not DuckDB's 2000-01-03.
 * - `w`: ISO weeks, Monday 00:00; `n` weeks are counted from Monday 1969-12-29.
 * - `mo`, `y`: calendar months and years; `n` of them counted from 1970-01 / 1970.
 * - With `timezone`: `d w mo y` follow local midnight (a 23- or 25-hour day is one bucket; where a
 *   transition skips midnight, the day starts at the first instant after the skipped span). Sub-day
 *   widths cut each local day into `width`-long spans of elapsed time from its start, the last one
 *   cut short at the next local day.
 * - `origin` (epoch ms) moves the grid of a fixed-length width without a time zone; with `mo`, `y`
 *   or a time zone it is refused.
 */
export interface BucketOptions {
  /** Epoch ms the grid runs through (fixed-length widths in UTC only). Default: the epoch (Monday 1969-12-29 for weeks). */
  readonly origin?: number;
  /** An IANA time-zone name, e.g. `'Europe/London'`. */
  readonly timezone?: string;
}

/** One width and its options, validated once: for callers that bucket many instants. */
export interface BucketGrid {
  readonly width: BucketWidth;
  /** The start (epoch ms) of the bucket holding `ms`. */
  start(ms: number): number;
  /** The start of the bucket after the one holding `ms`. */
  next(ms: number): number;
}

/** The widest instant a JavaScript Date holds: ±8.64e15 ms (about ±275 000 years). */
const MAX_INSTANT = 8.64e15;
/** bucketRange refuses to list more buckets than this (a width far too fine for the range). */
export const MAX_RANGE_BUCKETS = 1_000_000;
/** Monday 1969-12-29, the ISO week holding the epoch, as a day number. */
const FIRST_MONDAY = -3;

const UTC_CLOCK: ZoneClock = Object.freeze({
  timeZone: 'UTC',
  localDay: (ms: number) => Math.floor(ms / DAY_MS),
  dayStart: (day: number) => day * DAY_MS,
});

/** Validates the width and options once and returns the grid they describe. */
export function bucketGrid(width: string | BucketWidth, options: BucketOptions = {}): BucketGrid {
  const spec = typeof width === 'string' ? parseBucketWidth(width) : parseBucketWidth(width.text);
  const clock = options.timezone === undefined ? null : zoneClock(options.timezone, 'timezone');
  const { origin } = options;
  if (origin !== undefined) {
    if (typeof origin !== 'number' || !Number.isSafeInteger(origin) || Math.abs(origin) > MAX_INSTANT) {
      throw new ValidationError(
        'origin',
        `must be epoch milliseconds (a whole number), got ${describe(origin)}`,
        'INVALID_OPTION',
      );
    }
    if (spec.fixedMs === null || clock !== null) {
      throw new ValidationError(
        'origin',
        `applies only to fixed-length widths (ms s m h d w) without a timezone, got width ${JSON.stringify(spec.text)}${clock ? ` with timezone ${JSON.stringify(clock.timeZone)}` : ''}`,
        'INVALID_OPTION',
      );
    }
  }
  const grid =
    spec.fixedMs !== null && clock === null
      ? fixedGrid(spec.fixedMs, origin ?? (spec.unit === 'w' ? FIRST_MONDAY * DAY_MS : 0))
      : spec.unit === 'd' || spec.unit === 'w' || spec.unit === 'mo' || spec.unit === 'y'
        ? calendarGrid(spec, clock ?? UTC_CLOCK)
        : subDayGrid(spec.fixedMs as number, clock as ZoneClock);
  return Object.freeze({
    width: spec,
    start: (ms: number) => grid.start(instant(ms, 'ms')),
    next: (ms: number) => grid.next(instant(ms, 'ms')),
  });
}

/** The start (epoch ms) of the bucket of `width` that holds instant `ms`. */
export function bucketStart(ms: number, width: string | BucketWidth, options?: BucketOptions): number {
  return bucketGrid(width, options).start(ms);
}

/** The start of the bucket after the one holding `start` (usually `start` is a bucket start). */
export function nextBucket(start: number, width: string | BucketWidth, options?: BucketOptions): number {
  return bucketGrid(width, options).next(start);
}

/**
 * The start of every bucket that overlaps [fromMs, toMs), in order: the first is
 * bucketStart(fromMs), which is at or before fromMs. Empty when fromMs === toMs.
 */
export function bucketRange(
  fromMs: number,
  toMs: number,
  width: string | BucketWidth,
  options?: BucketOptions,
): number[] {
  const grid = bucketGrid(width, options);
  const from = instant(fromMs, 'from');
  const to = instant(toMs, 'to');
  if (from > to) {
    throw new ValidationError('from', `must not be after to, got from ${from} and to ${to}`, 'INVALID_RANGE');
  }
  const starts: number[] = [];
  for (let start = from === to ? to : grid.start(from); start < to; start = grid.next(start)) {
    if (starts.length === MAX_RANGE_BUCKETS) {
      throw new ValidationError(
        'width',
        `${JSON.stringify(grid.width.text)} cuts [${from}, ${to}) into more than ${MAX_RANGE_BUCKETS} buckets; use a wider width or a shorter range`,
        'INVALID_OPTION',
      );
    }
    starts.push(start);
  }
  return starts;
}

interface Steps {
  start(ms: number): number;
  next(ms: number): number;
}

function fixedGrid(size: number, origin: number): Steps {
  const start = (ms: number): number => origin + Math.floor((ms - origin) / size) * size;
  return { start, next: (ms) => start(ms) + size };
}

/** Buckets of whole local days: the first day of the bucket holding day `day`, and the first of the one after. */
function calendarGrid(spec: BucketWidth, clock: ZoneClock): Steps {
  const { count, unit } = spec;
  const firstDay = (day: number): number => {
    if (unit === 'd') return Math.floor(day / count) * count;
    if (unit === 'w') return Math.floor((day - FIRST_MONDAY) / (7 * count)) * 7 * count + FIRST_MONDAY;
    const { year, month } = civilFromDays(day);
    if (unit === 'y') return daysFromCivil(1970 + Math.floor((year - 1970) / count) * count, 1, 1);
    const index = Math.floor(((year - 1970) * 12 + month - 1) / count) * count;
    return monthDay(index);
  };
  const followingDay = (first: number): number => {
    if (unit === 'd') return first + count;
    if (unit === 'w') return first + 7 * count;
    const { year, month } = civilFromDays(first);
    const index = (year - 1970) * 12 + month - 1;
    return monthDay(index + (unit === 'y' ? 12 * count : count));
  };
  return {
    start: (ms) => clock.dayStart(firstDay(clock.localDay(ms))),
    next: (ms) => clock.dayStart(followingDay(firstDay(clock.localDay(ms)))),
  };
}

/** The day number of the first day of month `index` (months since 1970-01). */
function monthDay(index: number): number {
  const yearOffset = Math.floor(index / 12);
  return daysFromCivil(1970 + yearOffset, index - yearOffset * 12 + 1, 1);
}

/** Sub-day widths in a zone: spans of elapsed time from each local day's first instant, the last cut at the next day. */
function subDayGrid(size: number, clock: ZoneClock): Steps {
  const locate = (ms: number): { start: number; dayEnd: number } => {
    const day = clock.localDay(ms);
    const dayStart = clock.dayStart(day);
    return { start: dayStart + Math.floor((ms - dayStart) / size) * size, dayEnd: clock.dayStart(day + 1) };
  };
  return {
    start: (ms) => locate(ms).start,
    next: (ms) => {
      const { start, dayEnd } = locate(ms);
      return Math.min(start + size, dayEnd);
    },
  };
}

function instant(ms: unknown, path: string): number {
  if (typeof ms === 'number' && Number.isSafeInteger(ms) && Math.abs(ms) <= MAX_INSTANT) return ms;
  throw new ValidationError(
    path,
    `must be epoch milliseconds (a whole number within ±8.64e15), got ${describe(ms)}`,
    'INVALID_OPERAND',
  );
}
