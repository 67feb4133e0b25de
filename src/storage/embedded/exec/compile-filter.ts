import type { TagValue } from '../../../events/types.js';
import { lowerBound } from '../table/sorted-rows.js';
import type { DecodedBody } from '../../../codec/record-codec.js';
import type { EventTable } from '../table/event-table.js';
import type { FilterNode, Scalar } from '../../../query/ast.js';
import { ownTag, readPath, resolveField, type FieldRef } from '../../../query/fields.js';

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

/**
 * Compiles a filter to a predicate once per plan, so execution calls closures instead of
 * interpreting the tree per row. Comparisons only match values of the operand's type (a tag holding
 * "5" is not greater than 4); `ne` and `in` match only where the field exists; `not` negates whole.
 * The same compiler serves rows and pending events, so both agree on what matches.
 */
export function compilePredicate<T>(node: FilterNode, source: FieldSource<T>): (item: T) => boolean {
  switch (node.kind) {
    case 'all':
      return () => true;
    case 'and': {
      // Cheap terms first: a row that fails a column test never has its record decoded.
      const cheapFirst = [...node.filters].sort((a, b) => Number(needsRecord(a)) - Number(needsRecord(b)));
      const parts = cheapFirst.map((child) => compilePredicate(child, source));
      return (item) => parts.every((part) => part(item));
    }
    case 'or': {
      const parts = node.filters.map((child) => compilePredicate(child, source));
      return (item) => parts.some((part) => part(item));
    }
    case 'not': {
      const inner = compilePredicate(node.filter, source);
      return (item) => !inner(item);
    }
  }
  const ref = resolveField(node.field, 'filter.field');
  const get = source.getter(ref);
  switch (node.kind) {
    case 'exists':
      return (item) => get(item) !== undefined;
    case 'prefix':
      return (item) => {
        const value = get(item);
        return typeof value === 'string' && value.startsWith(node.value);
      };
    case 'eq':
      return source.membership?.(ref, [node.value]) ?? ((item) => get(item) === node.value);
    case 'in': {
      const fast = source.membership?.(ref, node.values);
      if (fast) return fast;
      const values = new Set(node.values);
      return (item) => values.has(get(item) as Scalar);
    }
    case 'ne':
      return (item) => {
        const value = get(item);
        return value !== undefined && value !== node.value;
      };
    case 'between':
      return (item) => {
        const value = get(item);
        return (
          sameType(value, node.low) &&
          (value as number) >= (node.low as number) &&
          (value as number) <= (node.high as number)
        );
      };
    default: {
      const operand = node.value as number;
      const test =
        node.kind === 'lt'
          ? (v: number) => v < operand
          : node.kind === 'lte'
            ? (v: number) => v <= operand
            : node.kind === 'gt'
              ? (v: number) => v > operand
              : (v: number) => v >= operand;
      return (item) => {
        const value = get(item);
        return sameType(value, operand) && test(value as number);
      };
    }
  }
}

/** Compiles a filter over table rows: columns where they hold the field, else the decoded record. */
export function compileFilter(node: FilterNode, table: EventTable, body: BodyReader): RowPredicate {
  return compilePredicate<number>(node, {
    getter: (ref) => fieldGetter(ref, table, body),
    membership: (ref, values) => interned(ref, table, values) ?? tagMembership(ref, table, values),
  });
}

/** Whether evaluating the filter needs the decoded record (tags, payload or id), or only columns. */
export function needsRecord(node: FilterNode): boolean {
  switch (node.kind) {
    case 'all':
      return false;
    case 'and':
    case 'or':
      return node.filters.some(needsRecord);
    case 'not':
      return needsRecord(node.filter);
    default: {
      const ref = resolveField(node.field, 'filter.field');
      if (ref.kind === 'tag') return node.kind !== 'eq' && node.kind !== 'in';
      return ref.kind === 'payload' || ref.name === 'id';
    }
  }
}
