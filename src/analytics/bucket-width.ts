import { ValidationError } from '../errors.js';
import { parseDuration } from '../events/duration.js';
import { describe } from '../support/describe.js';

/** The units a time-bucket width may use: `mo` is a calendar month, `y` a calendar year, `w` an ISO week. */
export type BucketUnit = 'ms' | 's' | 'm' | 'h' | 'd' | 'w' | 'mo' | 'y';

/** A parsed bucket width such as `'15m'` or `'3mo'`. */
export interface BucketWidth {
  /** The width as written, e.g. `'15m'`. */
  readonly text: string;
  /** How many units one bucket spans: a positive integer. */
  readonly count: number;
  readonly unit: BucketUnit;
  /** The bucket's length in UTC for `ms` … `w` (a day is 86 400 000 ms there); null for `mo` and `y`, whose length varies. */
  readonly fixedMs: number | null;
}

// `mo` before `m`, so that "3mo" is three months and not a bad "3m" followed by "o".
const FORM = /^([1-9]\d*)(ms|mo|s|m|h|d|w|y)$/;

/** A width string (`<n>ms|s|m|h|d|w|mo|y`, n a positive integer) as a frozen spec; a ValidationError otherwise. */
export function parseBucketWidth(value: unknown, path = 'width'): BucketWidth {
  const match = typeof value === 'string' ? FORM.exec(value) : null;
  const count = match ? Number(match[1]) : NaN;
  if (!match || !Number.isSafeInteger(count)) {
    throw new ValidationError(
      path,
      `must be a bucket width like "500ms", "30s", "15m", "1h", "1d", "1w", "3mo" or "1y" (a positive whole number and a unit), got ${describe(value)}`,
      'INVALID_OPTION',
    );
  }
  const unit = match[2] as BucketUnit;
  // The fixed units are durations.ts's (its `y` is 365 days, so calendar units stay out of it).
  const fixedMs = unit === 'mo' || unit === 'y' ? null : parseDuration(`${count}${unit}`, path);
  if (fixedMs !== null && !Number.isSafeInteger(fixedMs)) {
    throw new ValidationError(path, `is too wide (over 2^53 ms), got ${describe(value)}`, 'INVALID_OPTION');
  }
  return Object.freeze({ text: value as string, count, unit, fixedMs });
}
