import { InvalidArgumentError } from 'commander';

/**
 * Argument parsers for commander options. They throw InvalidArgumentError, which commander reports
 * as `error: option '--limit <n>' argument 'x' is invalid. ...` and which the CLI maps to exit 2.
 */

/** A safe integer of at least `min`. */
export function integerArg(min: number): (value: string) => number {
  return (value) => {
    const trimmed = value.trim();
    const number = /^[+-]?\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
    if (!Number.isSafeInteger(number) || number < min) {
      throw new InvalidArgumentError(`expected an integer of at least ${min}.`);
    }
    return number;
  };
}

/** Repeatable option: each occurrence adds to a list (undefined until first seen, so `--json` values survive). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** One of a fixed set of words. */
export function choiceArg<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`expected one of ${choices.join(', ')}.`);
    }
    return value as T;
  };
}

/**
 * A time as epoch milliseconds (all digits) or anything else the store parses (ISO-8601). Only the
 * digits case is converted here; the store validates the rest and names the bad value.
 */
export function timeArg(value: string): number | string {
  const trimmed = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  if (Number.isNaN(Date.parse(trimmed))) {
    throw new InvalidArgumentError('expected an ISO-8601 time (2024-05-01T12:00:00Z) or epoch milliseconds.');
  }
  return trimmed;
}

/** A finite number of at least `min` (e.g. milliseconds). */
export function numberArg(min: number): (value: string) => number {
  return (value) => {
    const trimmed = value.trim();
    const number = trimmed === '' ? Number.NaN : Number(trimmed);
    if (!Number.isFinite(number) || number < min) {
      throw new InvalidArgumentError(`expected a number of at least ${min}.`);
    }
    return number;
  };
}
