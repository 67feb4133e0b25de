import type { FilterNode, Scalar } from '../../query/ast.js';
import { validateOutputFilter } from '../../query/validate-query.js';
import { visitFilter, type FilterVisitor } from '../../query/visit-filter.js';
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

/**
 * Checks a row filter (plain JSON from a pipeline or a `having`): the store's own filter checks
 * (validate-query.ts), with field names free, since rows have their own columns. A
 * ValidationError's path names the node, e.g. `stages[2].having.and[1].value`.
 */
export function validateRowFilter(filter: unknown, path: string): asserts filter is FilterNode {
  validateOutputFilter(filter, path);
}
