import { ValidationError } from '../../errors.js';
import type { OrderTerm } from '../../query/ast.js';
import { canonicalJson } from '../../query/canonical.js';
import { describe } from '../../support/describe.js';
import { readRowField } from './read-row-field.js';

/** The rank of a value's type in a mixed column: numbers, strings, booleans, other JSON, then null/missing. */
function typeRank(value: unknown): number {
  if (typeof value === 'number') return Number.isNaN(value) ? 4 : 0;
  if (typeof value === 'string') return 1;
  if (typeof value === 'boolean') return 2;
  return value === null || value === undefined ? 5 : 3;
}

/**
 * The ascending order of sort keys: numbers numerically, strings by UTF-16 code units, false before
 * true, other values by canonical JSON; across types numbers, then strings, booleans, other values,
 * NaN, and null or missing last (PostgreSQL's NULLS LAST for ascending).
 */
export function compareValues(a: unknown, b: unknown): number {
  const [ra, rb] = [typeRank(a), typeRank(b)];
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 0:
      return (a as number) - (b as number);
    case 1:
    case 2:
      return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
    case 3: {
      const [ta, tb] = [canonicalJson(a), canonicalJson(b)];
      return ta < tb ? -1 : ta > tb ? 1 : 0;
    }
    default:
      return 0;
  }
}

/** Checks a list of sort terms: `{ field: non-empty string, direction: 'asc' | 'desc' }`. */
export function validateOrderTerms(terms: unknown, path: string): asserts terms is readonly OrderTerm[] {
  if (!Array.isArray(terms)) {
    throw new ValidationError(
      path,
      `must be an array of { field, direction } terms, got ${describe(terms)}`,
      'INVALID_OPTION',
    );
  }
  terms.forEach((term: Partial<OrderTerm> | null, i) => {
    if (typeof term?.field !== 'string' || term.field === '') {
      throw new ValidationError(
        `${path}[${i}].field`,
        `must be a field name (a non-empty string), got ${describe(term?.field)}`,
        'UNKNOWN_FIELD',
      );
    }
    if (term.direction !== 'asc' && term.direction !== 'desc') {
      throw new ValidationError(
        `${path}[${i}].direction`,
        `must be 'asc' or 'desc', got ${describe(term.direction)}`,
        'INVALID_OPTION',
      );
    }
  });
}

/**
 * Sorts rows by the terms, stably (equal rows keep their order). Per term compareValues' order,
 * reversed for `desc`: so null and missing come last ascending and first descending, as in
 * PostgreSQL. Returns a new array.
 */
export function sortRows<T extends object>(rows: readonly T[], terms: readonly OrderTerm[]): T[] {
  validateOrderTerms(terms, 'sort');
  const keyed = rows.map((row) => ({ row, keys: terms.map((term) => readRowField(row, term.field)) }));
  keyed.sort((a, b) => {
    for (let i = 0; i < terms.length; i++) {
      const c = compareValues(a.keys[i], b.keys[i]);
      if (c !== 0) return terms[i]!.direction === 'asc' ? c : -c;
    }
    return 0;
  });
  return keyed.map(({ row }) => row);
}

/** Checks a limit: a whole number, 0 or more. */
export function validateLimit(limit: unknown, path: string): asserts limit is number {
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0) {
    throw new ValidationError(
      path,
      `must be a whole number, 0 or more, got ${describe(limit)}`,
      'INVALID_OPTION',
    );
  }
}

/** The first `limit` rows. */
export function limitRows<T>(rows: readonly T[], limit: number): T[] {
  validateLimit(limit, 'limit');
  return rows.slice(0, limit);
}
