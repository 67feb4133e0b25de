import type { TagValue } from '../../../events/types.js';
import { lowerBound } from '../table/sorted-rows.js';
import type { DecodedBody } from '../../../codec/record-codec.js';
import type { EventTable } from '../table/event-table.js';
import type { FilterNode, Scalar } from '../../../query/ast.js';
import { ownTag, readPath, resolveField, type FieldRef } from '../../../query/fields.js';
import {
  visitFilter,
  type FilterKind,
  type FilterOf,
  type FilterVisitor,
} from '../../../query/visit-filter.js';
import { assertNever } from '../../../support/assert-never.js';

export type RowPredicate = (row: number) => boolean;

/** Reads a row's decoded record, at most once per row however many leaves ask. */
export type BodyReader = (row: number) => DecodedBody;

type Getter = (row: number) => unknown;

/** Reads one field of a row: from the columns where it lives there, else from the decoded record. */
export function fieldGetter(ref: FieldRef, table: EventTable, body: BodyReader): Getter {
  if (ref.kind === 'tag') return (row) => ownTag(body(row).tags, ref.key);
  if (ref.kind === 'payload') return (row) => readPath(body(row).payload, ref.path);
  switch (ref.name) {
    case 'sequence':
      return (row) => row + 1;
    case 'version':
      return (row) => table.version.get(row);
    case 'timestamp':
      return (row) => table.timestamp.get(row);
    case 'aggregateId':
      return (row) => table.aggregates.valueOf(table.aggregateId.get(row));
    case 'type':
      return (row) => table.types.valueOf(table.typeId.get(row));
    case 'id':
      return (row) => body(row).id;
    default:
      return assertNever(ref.name);
  }
}

/**
 * Equality on aggregateId or type compares dictionary ids in a column, never strings: a value the
 * dictionary has never seen matches no row at all.
 */
function interned(ref: FieldRef, table: EventTable, values: readonly Scalar[]): RowPredicate | undefined {
  if (ref.kind !== 'core' || (ref.name !== 'aggregateId' && ref.name !== 'type')) return undefined;
  const [dictionary, column] =
    ref.name === 'aggregateId' ? [table.aggregates, table.aggregateId] : [table.types, table.typeId];
  const ids = new Set(values.map((value) => dictionary.idOf(value as string) ?? -1));
  if (ids.size === 1) {
    const id = [...ids][0] as number;
    return (row) => column.get(row) === id;
  }
  return (row) => ids.has(column.get(row));
}

/**
 * Equality on a tag is answered from the tag's postings by binary search, without decoding the
 * record: a tag predicate then costs O(log n) a row instead of a record read.
 */
function tagMembership(
  ref: FieldRef,
  table: EventTable,
  values: readonly Scalar[],
): RowPredicate | undefined {
  if (ref.kind !== 'tag') return undefined;
  const lists = values.filter((v) => v !== null).map((v) => table.tagRowsQuiet(ref.key, v as TagValue));
  return (row) =>
    lists.some((list) => {
      const at = lowerBound(list, row);
      return at < list.length && list.at(at) === row;
    });
}

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

/** Compiles a filter over table rows: columns where they hold the field, else the decoded record. */
export function compileFilter(node: FilterNode, table: EventTable, body: BodyReader): RowPredicate {
  return compilePredicate<number>(node, {
    getter: (ref) => fieldGetter(ref, table, body),
    membership: (ref, values) => interned(ref, table, values) ?? tagMembership(ref, table, values),
  });
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
