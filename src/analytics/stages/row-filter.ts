import { ValidationError } from '../../errors.js';
import { requireDense } from '../../events/dense-list.js';
import type { FilterNode, Scalar } from '../../query/ast.js';
import { filterTooDeep, MAX_FILTER_DEPTH } from '../../query/validate-query.js';
import { visitFilter, type FilterVisitor } from '../../query/visit-filter.js';
import { describe } from '../../support/describe.js';
import { rowFieldReader } from './read-row-field.js';

/** A compiled row filter. */
export type RowPredicate = (row: unknown) => boolean;

const sameType = (a: unknown, b: unknown) => typeof a === typeof b && a !== null && b !== null;

function ordered(field: string, operand: Scalar, test: (value: number) => boolean): RowPredicate {
  const read = rowFieldReader(field);
  return (row) => {
    const value = read(row);
    return sameType(value, operand) && test(value as number);
  };
}

// The same semantics as the store's own filter (storage/embedded/exec/compile-filter.ts), so a
// `having` or a later `match` agrees with a first `match` the store serves.
const PREDICATE: FilterVisitor<RowPredicate> = {
  all: () => () => true,
  and: (node) => {
    const parts = node.filters.map(compileRowFilter);
    return (row) => parts.every((part) => part(row));
  },
  or: (node) => {
    const parts = node.filters.map(compileRowFilter);
    return (row) => parts.some((part) => part(row));
  },
  not: (node) => {
    const inner = compileRowFilter(node.filter);
    return (row) => !inner(row);
  },
  exists: (node) => {
    const read = rowFieldReader(node.field);
    return (row) => read(row) !== undefined;
  },
  prefix: (node) => {
    const read = rowFieldReader(node.field);
    return (row) => {
      const value = read(row);
      return typeof value === 'string' && value.startsWith(node.value);
    };
  },
  eq: (node) => {
    const read = rowFieldReader(node.field);
    return (row) => read(row) === node.value;
  },
  in: (node) => {
    const read = rowFieldReader(node.field);
    const values = new Set(node.values);
    return (row) => values.has(read(row) as Scalar);
  },
  ne: (node) => {
    const read = rowFieldReader(node.field);
    return (row) => {
      const value = read(row);
      return value !== undefined && value !== node.value;
    };
  },
  between: (node) => {
    const read = rowFieldReader(node.field);
    return (row) => {
      const value = read(row) as number;
      return sameType(value, node.low) && value >= (node.low as number) && value <= (node.high as number);
    };
  },
  lt: (node) => ordered(node.field, node.value, (v) => v < (node.value as number)),
  lte: (node) => ordered(node.field, node.value, (v) => v <= (node.value as number)),
  gt: (node) => ordered(node.field, node.value, (v) => v > (node.value as number)),
  gte: (node) => ordered(node.field, node.value, (v) => v >= (node.value as number)),
};

/**
 * Compiles a filter over rows (fields read with readRowField; any non-empty name, e.g. an output
 * column `n`). The store's semantics: `eq`/`in` match equal values (`null` matches a present null,
 * never a missing field); `ne` matches only where the field is present (missing is not "not equal",
 * as SQL's NULL <> x is not true); `lt lte gt gte between` match only values of the operand's type,
 * numbers numerically, strings by UTF-16 code units; `exists` means present (null counts as present);
 * `prefix` applies to strings; `not` negates the whole inner filter.
 */
export function compileRowFilter(filter: FilterNode): RowPredicate {
  return visitFilter(filter, PREDICATE);
}

/** Whether `row` passes `filter` (see compileRowFilter for the semantics). */
export function evaluateRowFilter(filter: FilterNode, row: unknown): boolean {
  return compileRowFilter(filter)(row);
}

function requireFieldName(value: unknown, path: string): void {
  if (typeof value !== 'string' || value === '') {
    throw new ValidationError(
      path,
      `must be a field name (a non-empty string), got ${describe(value)}`,
      'UNKNOWN_FIELD',
    );
  }
}

function requireOperand(value: unknown, path: string, ordering: boolean): void {
  const scalar = value === null || ['string', 'number', 'boolean'].includes(typeof value);
  if (!scalar || (typeof value === 'number' && !Number.isFinite(value))) {
    throw new ValidationError(
      path,
      `must be a string, a finite number, a boolean or null, got ${describe(value)}`,
      'INVALID_OPERAND',
    );
  }
  if (ordering && typeof value !== 'number' && typeof value !== 'string') {
    throw new ValidationError(
      path,
      `an ordering comparison needs a number or a string, got ${describe(value)}`,
      'INVALID_OPERAND',
    );
  }
}

const KINDS = 'expected all, eq, ne, in, lt, lte, gt, gte, between, exists, prefix, and, or, not';

/**
 * Checks a row filter (plain JSON from a pipeline or a `having`): the shape of every node, field
 * names non-empty strings, operands scalars. A ValidationError's path names the node, e.g.
 * `stages[2].having.and[1].value`.
 */
export function validateRowFilter(filter: unknown, path: string, depth = 0): asserts filter is FilterNode {
  if (depth > MAX_FILTER_DEPTH) throw filterTooDeep(path);
  if (
    filter === null ||
    typeof filter !== 'object' ||
    typeof (filter as { kind?: unknown }).kind !== 'string'
  ) {
    throw new ValidationError(path, `must be a filter node with a kind, got ${describe(filter)}`);
  }
  const node = filter as Record<string, unknown> & { kind: string };
  switch (node.kind) {
    case 'all':
      return;
    case 'and':
    case 'or': {
      const filters = node.filters;
      if (!Array.isArray(filters) || filters.length === 0) {
        throw new ValidationError(
          `${path}.${node.kind}`,
          `must hold at least one filter, got ${describe(filters)}`,
        );
      }
      requireDense(filters, `${path}.${node.kind}`);
      filters.forEach((child, i) => validateRowFilter(child, `${path}.${node.kind}[${i}]`, depth + 1));
      return;
    }
    case 'not':
      validateRowFilter(node.filter, `${path}.not`, depth + 1);
      return;
    case 'exists':
      requireFieldName(node.field, `${path}.field`);
      return;
    case 'prefix':
      requireFieldName(node.field, `${path}.field`);
      if (typeof node.value !== 'string') {
        throw new ValidationError(
          `${path}.value`,
          `prefix needs a string, got ${describe(node.value)}`,
          'INVALID_OPERAND',
        );
      }
      return;
    case 'in': {
      requireFieldName(node.field, `${path}.field`);
      const values = node.values;
      if (!Array.isArray(values) || values.length === 0) {
        throw new ValidationError(
          `${path}.values`,
          `in needs a non-empty array of values, got ${describe(values)}`,
          'INVALID_OPERAND',
        );
      }
      requireDense(values, `${path}.values`);
      values.forEach((value, i) => requireOperand(value, `${path}.values[${i}]`, false));
      return;
    }
    case 'between':
      requireFieldName(node.field, `${path}.field`);
      requireOperand(node.low, `${path}.low`, true);
      requireOperand(node.high, `${path}.high`, true);
      if (typeof node.low !== typeof node.high) {
        throw new ValidationError(
          path,
          `between needs bounds of one type, got ${describe(node.low)} and ${describe(node.high)}`,
          'INVALID_OPERAND',
        );
      }
      if ((node.low as string | number) > (node.high as string | number)) {
        throw new ValidationError(
          path,
          `bad range: low ${describe(node.low)} is above high ${describe(node.high)}`,
          'INVALID_RANGE',
        );
      }
      return;
    case 'eq':
    case 'ne':
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      requireFieldName(node.field, `${path}.field`);
      requireOperand(node.value, `${path}.value`, !['eq', 'ne'].includes(node.kind));
      return;
    default:
      throw new ValidationError(`${path}.kind`, `unknown filter kind ${describe(node.kind)}; ${KINDS}`);
  }
}
