import { ValidationError } from '../../errors.js';
import { describe } from '../../support/describe.js';
import type { ColumnType } from './column-spec.js';

/**
 * One value of a row as its column's type holds it, or a coded error: an export never drops or
 * alters a value silently. `row` and `column` name the value (`rows[12].payload.total`) only when
 * an error is built, so the hot path makes no strings. Null and missing values are null in every type.
 */

export function mismatch(
  row: number,
  column: string,
  value: unknown,
  type: ColumnType,
  why = '',
): ValidationError {
  return new ValidationError(
    `rows[${row}].${column}`,
    `${describe(value)} does not fit the ${type} column${why}; declare the column's type in \`columns\` ` +
      `(utf8 or json hold any value)`,
    'EXPORT_SCHEMA_MISMATCH',
  );
}

export function numberCell(value: unknown, row: number, column: string): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint' && Number.isSafeInteger(Number(value))) return Number(value);
  throw mismatch(row, column, value, 'float64');
}

export function int64Cell(value: unknown, row: number, column: string): bigint | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'bigint' && value >= -(2n ** 63n) && value < 2n ** 63n) return value;
  throw mismatch(row, column, value, 'int64');
}

export function boolCell(value: unknown, row: number, column: string): boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value;
  throw mismatch(row, column, value, 'bool');
}

/** An instant as epoch milliseconds: a valid Date, or an integer number of milliseconds. */
export function timestampCell(value: unknown, row: number, column: string): number | null {
  if (value === null || value === undefined) return null;
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms === 'number' && Number.isSafeInteger(ms)) return ms;
  throw mismatch(row, column, value, 'timestamp', ' (a Date or integer epoch milliseconds)');
}

interface MaybeWellFormed {
  isWellFormed?(): boolean;
}

/** UTF-8 cannot hold a lone surrogate: encoding one would replace it, so it is refused instead. */
function wellFormed(text: string, row: number, column: string, type: ColumnType): string {
  if ((text as unknown as MaybeWellFormed).isWellFormed?.() === false) {
    throw mismatch(row, column, text, type, ' (it holds a lone UTF-16 surrogate, which UTF-8 cannot encode)');
  }
  return text;
}

/** Any value as text: strings as they are; Dates as ISO-8601; numbers, booleans and objects as JSON text. */
export function textCell(value: unknown, row: number, column: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return wellFormed(value, row, column, 'utf8');
  if (value instanceof Date) return isoOf(value.getTime(), value, row, column, 'utf8');
  if (typeof value === 'bigint') return String(value);
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return jsonCell(value, row, column, 'utf8');
}

/** Any JSON value as its JSON text (always well-formed: JSON.stringify escapes lone surrogates). */
export function jsonCell(
  value: unknown,
  row: number,
  column: string,
  type: ColumnType = 'json',
): string | null {
  if (value === null || value === undefined) return null;
  // JSON has no NaN or Infinity: JSON.stringify would write null.
  if (typeof value === 'number' && !Number.isFinite(value))
    throw mismatch(row, column, value, type, ' (JSON has no NaN or Infinity)');
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw mismatch(row, column, value, type, ` (not JSON: ${(error as Error).message})`);
  }
  if (text === undefined) throw mismatch(row, column, value, type, ' (not a JSON value)');
  return text;
}

/** ISO-8601 text of an instant; a Date out of range has none. */
export function isoOf(ms: number, value: unknown, row: number, column: string, type: ColumnType): string {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) throw mismatch(row, column, value, type, ' (an invalid time)');
  return date.toISOString();
}
