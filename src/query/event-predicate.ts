import type { FilterNode, Scalar } from './ast.js';
import { resolveField, type FieldRef } from './fields.js';
import { visitFilter, type FilterKind, type FilterOf, type FilterVisitor } from './visit-filter.js';

/*
 * The store's filter semantics as a predicate over any item that can read fields: table rows in the
 * embedded engine, events before they are written (unique indexes), archived events, and stored
 * events in memory (subscriptions). One compiler, so all of them agree on what matches.
 */

const sameType = (a: unknown, b: unknown) => typeof a === typeof b && a !== null && b !== null;

/** Where a compiled filter reads fields from: table rows, or events not yet in the table. */
export interface FieldSource<T> {
  getter(ref: FieldRef): (item: T) => unknown;
  /** A faster test for `field in values`, when the source has one (dictionary ids, postings). */
  membership?(ref: FieldRef, values: readonly Scalar[]): ((item: T) => boolean) | undefined;
}

type Predicate = (item: unknown) => boolean;
type Source = FieldSource<unknown>;
type Leaf = FilterOf<Exclude<FilterKind, 'all' | 'and' | 'or' | 'not'>>;

/** The leaf's field, read from the source. */
function getterOf(node: Leaf, source: Source): (item: unknown) => unknown {
  return source.getter(resolveField(node.field, 'filter.field'));
}

/** An ordering comparison: only values of the operand's type compare. */
function ordered(node: Leaf, source: Source, operand: number, test: (value: number) => boolean): Predicate {
  const get = getterOf(node, source);
  return (item) => {
    const value = get(item);
    return sameType(value, operand) && test(value as number);
  };
}

const PREDICATE: FilterVisitor<Predicate, [Source]> = {
  all: () => () => true,
  and: (node, source) => {
    // Cheap terms first: a row that fails a column test never has its record decoded.
    const cheapFirst = [...node.filters].sort((a, b) => Number(needsRecord(a)) - Number(needsRecord(b)));
    const parts = cheapFirst.map((child) => compilePredicate(child, source));
    return (item) => parts.every((part) => part(item));
  },
  or: (node, source) => {
    const parts = node.filters.map((child) => compilePredicate(child, source));
    return (item) => parts.some((part) => part(item));
  },
  not: (node, source) => {
    const inner = compilePredicate(node.filter, source);
    return (item) => !inner(item);
  },
  exists: (node, source) => {
    const get = getterOf(node, source);
    return (item) => get(item) !== undefined;
  },
  prefix: (node, source) => {
    const get = getterOf(node, source);
    return (item) => {
      const value = get(item);
      return typeof value === 'string' && value.startsWith(node.value);
    };
  },
  eq: (node, source) => {
    const ref = resolveField(node.field, 'filter.field');
    const get = source.getter(ref);
    return source.membership?.(ref, [node.value]) ?? ((item) => get(item) === node.value);
  },
  in: (node, source) => {
    const ref = resolveField(node.field, 'filter.field');
    const get = source.getter(ref);
    const fast = source.membership?.(ref, node.values);
    if (fast) return fast;
    const values = new Set(node.values);
    return (item) => values.has(get(item) as Scalar);
  },
  ne: (node, source) => {
    const get = getterOf(node, source);
    return (item) => {
      const value = get(item);
      return value !== undefined && value !== node.value;
    };
  },
  between: (node, source) => {
    const get = getterOf(node, source);
    return (item) => {
      const value = get(item);
      return (
        sameType(value, node.low) &&
        (value as number) >= (node.low as number) &&
        (value as number) <= (node.high as number)
      );
    };
  },
  lt: (node, source) => {
    const operand = node.value as number;
    return ordered(node, source, operand, (v) => v < operand);
  },
  lte: (node, source) => {
    const operand = node.value as number;
    return ordered(node, source, operand, (v) => v <= operand);
  },
  gt: (node, source) => {
    const operand = node.value as number;
    return ordered(node, source, operand, (v) => v > operand);
  },
  gte: (node, source) => {
    const operand = node.value as number;
    return ordered(node, source, operand, (v) => v >= operand);
  },
};

/**
 * Compiles a filter to a predicate once per plan, so execution calls closures instead of
 * interpreting the tree per row. Comparisons only match values of the operand's type (a tag holding
 * "5" is not greater than 4); `ne` and `in` match only where the field exists; `not` negates whole.
 * The same compiler serves rows and pending events, so both agree on what matches.
 */
export function compilePredicate<T>(node: FilterNode, source: FieldSource<T>): (item: T) => boolean {
  // The visitor is one object for every item type: each predicate only hands items to the source's getters.
  return visitFilter(node, PREDICATE, source as unknown as Source);
}

/** Whether a leaf reads the record: tags (but for equality, which the tag postings answer), payload or id. */
function leafNeedsRecord(node: Leaf): boolean {
  const ref = resolveField(node.field, 'filter.field');
  if (ref.kind === 'tag') return node.kind !== 'eq' && node.kind !== 'in';
  return ref.kind === 'payload' || ref.name === 'id';
}

const NEEDS_RECORD: FilterVisitor<boolean> = {
  all: () => false,
  and: (node) => node.filters.some(needsRecord),
  or: (node) => node.filters.some(needsRecord),
  not: (node) => needsRecord(node.filter),
  eq: leafNeedsRecord,
  ne: leafNeedsRecord,
  lt: leafNeedsRecord,
  lte: leafNeedsRecord,
  gt: leafNeedsRecord,
  gte: leafNeedsRecord,
  in: leafNeedsRecord,
  between: leafNeedsRecord,
  exists: leafNeedsRecord,
  prefix: leafNeedsRecord,
};

/** Whether evaluating the filter needs the decoded record (tags, payload or id), or only columns. */
export function needsRecord(node: FilterNode): boolean {
  return visitFilter(node, NEEDS_RECORD);
}
