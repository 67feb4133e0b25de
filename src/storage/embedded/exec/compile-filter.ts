import type { TagValue } from '../../../events/types.js';
import { lowerBound } from '../table/sorted-rows.js';
import type { DecodedBody } from '../../../codec/record-codec.js';
import type { EventTable } from '../table/event-table.js';
import type { FilterNode, Scalar } from '../../../query/ast.js';
import { ownTag, readPath, type FieldRef } from '../../../query/fields.js';
import { compilePredicate } from '../../../query/event-predicate.js';
import { assertNever } from '../../../support/assert-never.js';

// The predicate compiler is backend-neutral (query/event-predicate.ts); kept importable from here.
export { compilePredicate, needsRecord, type FieldSource } from '../../../query/event-predicate.js';

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

/** Compiles a filter over table rows: columns where they hold the field, else the decoded record. */
export function compileFilter(node: FilterNode, table: EventTable, body: BodyReader): RowPredicate {
  return compilePredicate<number>(node, {
    getter: (ref) => fieldGetter(ref, table, body),
    membership: (ref, values) => interned(ref, table, values) ?? tagMembership(ref, table, values),
  });
}
