import { ValidationError } from '../errors.js';
import { describe } from '../support/describe.js';

/** A length of time: `'500ms'`, `'30s'`, `'15m'`, `'12h'`, `'7d'`, `'2w'`, `'1y'` (365 days), or milliseconds. */
export type Duration = string | number;

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  y: 365 * 86_400_000,
};

const FORM = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w|y)$/;

/** Milliseconds of a duration, or a ValidationError naming `path` and the bad value. */
export function parseDuration(value: unknown, path: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value > 0) return value;
  } else if (typeof value === 'string') {
    const match = FORM.exec(value.trim());
    if (match) {
      const ms = Number(match[1]) * (UNIT_MS[match[2] as string] as number);
      if (ms > 0 && Number.isFinite(ms)) return ms;
    }
  }
  throw new ValidationError(
    path,
    `must be a duration like "30d", "12h", "15m" or a positive number of milliseconds, got ${describe(value)}`,
    'INVALID_OPTION',
  );
}

/** A duration as the shortest exact text, for stats and the CLI: 2592000000 → "30d". */
export function formatDuration(ms: number): string {
  for (const unit of ['y', 'w', 'd', 'h', 'm', 's'] as const) {
    const size = UNIT_MS[unit] as number;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
