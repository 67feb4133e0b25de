import type { Dictionary } from '../table/dictionary.js';
import type { EventTable } from '../table/event-table.js';
import { f, type FilterNode, type Scalar } from '../../../query/ast.js';
import { resolveField } from '../../../query/fields.js';
import { narrow, nextUp } from '../../../query/time-bounds.js';
import { visitFilter, type FilterVisitor } from '../../../query/visit-filter.js';
import { assertNever } from '../../../support/assert-never.js';

/**
 * Numeric columns a filter compares values in. No query field reads `recordLength`: it is there for
 * the visibility terms (src/storage/embedded/retention/visibility-filter.ts), where 0 marks a row whose event cleanup
 * removed.
 */
export type NumberColumn = 'timestamp' | 'version' | 'recordLength';
/** Dictionary-encoded columns: a filter on them becomes a set of dictionary ids. */
export type IdColumn = 'typeId' | 'aggregateId';
export type ScanColumn = NumberColumn | IdColumn;

/**
 * A filter over columns alone, resolved against the table's dictionaries: plain data (numbers and
 * typed arrays), so it can be posted to a worker thread and evaluated there over shared chunks.
 * `all` and `none` only ever stand at the root: compiling folds them away everywhere else.
 */
export type ColumnFilter =
  | { readonly kind: 'all' }
  | { readonly kind: 'none' }
  /** Rows in [from, to): a sequence condition, since row = sequence - 1. */
  | { readonly kind: 'rows'; readonly from: number; readonly to: number }
  /** from <= value < to. */
  | { readonly kind: 'range'; readonly column: NumberColumn; readonly from: number; readonly to: number }
  /** The value is one of `values` (ascending, distinct). */
  | { readonly kind: 'points'; readonly column: NumberColumn; readonly values: Float64Array }
  /**
   * The dictionary id is one of `ids` (ascending, distinct, never empty). `universe` is the
   * dictionary's size when compiled: every id in the rows the filter is for is below it.
   */
  | { readonly kind: 'ids'; readonly column: IdColumn; readonly ids: Uint32Array; readonly universe: number }
  /**
   * timestamp >= cutoffs[typeId]: a time bound per event type, retention's age limits (-Infinity
   * keeps every event of its type; type ids past the end pass). One pass over two columns, where
   * an OR over groups of types with a bound each would take several.
   */
  | { readonly kind: 'cutoffs'; readonly cutoffs: Float64Array }
  | { readonly kind: 'and' | 'or'; readonly filters: readonly ColumnFilter[] }
  | { readonly kind: 'not'; readonly filter: ColumnFilter };

const ALL: ColumnFilter = { kind: 'all' };
const NONE: ColumnFilter = { kind: 'none' };

type Leaf = Exclude<FilterNode, { kind: 'all' | 'and' | 'or' | 'not' }>;

/**
 * Compiles a filter whose every leaf is on a column (sequence, timestamp, version, aggregateId,
 * type) into a ColumnFilter; undefined when a leaf reads the record (id, tags, payload) or would walk
 * a dictionary larger than `dictionaryBudget` entries.
 *
 * The semantics are compile-filter.ts's, leaf for leaf: a comparison matches only values of the
 * operand's type (`timestamp < "x"` matches nothing, `ne` with such an operand matches every row,
 * since column fields always exist); equality on aggregateId or type compares dictionary ids, so an
 * unknown value matches nothing; a prefix or an ordering comparison on them is the set of dictionary
 * entries it holds for, found by testing each entry once instead of each row. The budget bounds that
 * walk: it pays only when the entries are fewer than the rows the filter will check.
 */
export function compileColumnFilter(
  node: FilterNode,
  table: EventTable,
  dictionaryBudget = Infinity,
): ColumnFilter | undefined {
  return visitFilter(node, COLUMN_FILTER, table, dictionaryBudget);
}

/** Every part compiled, or undefined when any part reads the record. */
function compileAll(
  filters: readonly FilterNode[],
  table: EventTable,
  dictionaryBudget: number,
): ColumnFilter[] | undefined {
  const parts: ColumnFilter[] = [];
  for (const child of filters) {
    const part = compileColumnFilter(child, table, dictionaryBudget);
    if (part === undefined) return undefined;
    parts.push(part);
  }
  return parts;
}

const COLUMN_FILTER: FilterVisitor<ColumnFilter | undefined, [EventTable, number]> = {
  all: () => ALL,
  and: (node, table, budget) => {
    const parts = compileAll(node.filters, table, budget);
    return parts === undefined ? undefined : and(parts);
  },
  or: (node, table, budget) => {
    const parts = compileAll(node.filters, table, budget);
    return parts === undefined ? undefined : or(parts);
  },
  not: (node, table, budget) => {
    const inner = compileColumnFilter(node.filter, table, budget);
    return inner === undefined ? undefined : not(inner);
  },
  eq: compileLeaf,
  ne: compileLeaf,
  lt: compileLeaf,
  lte: compileLeaf,
  gt: compileLeaf,
  gte: compileLeaf,
  in: compileLeaf,
  between: compileLeaf,
  exists: compileLeaf,
  prefix: compileLeaf,
};

/** The AND of `parts`, with `all` and `none` folded away (exported to build filters outside queries). */
export function and(parts: readonly ColumnFilter[]): ColumnFilter {
  if (parts.some((part) => part.kind === 'none')) return NONE;
  const kept = parts.filter((part) => part.kind !== 'all');
  return kept.length === 0
    ? ALL
    : kept.length === 1
      ? (kept[0] as ColumnFilter)
      : { kind: 'and', filters: kept };
}

/** The OR of `parts`, with `all` and `none` folded away. */
export function or(parts: readonly ColumnFilter[]): ColumnFilter {
  if (parts.some((part) => part.kind === 'all')) return ALL;
  const kept = parts.filter((part) => part.kind !== 'none');
  return kept.length === 0
    ? NONE
    : kept.length === 1
      ? (kept[0] as ColumnFilter)
      : { kind: 'or', filters: kept };
}

/**
 * Dictionaries up to this size turn a NOT of ids into the ids it leaves (`type <> "A"`: every
 * other type), a list still small to post to workers. A larger one stays a NOT, which the scan
 * evaluates in one pass all the same, over a membership table of the ids it leaves built per scan.
 */
const COMPLEMENT_MAX = 1 << 16;

/** The NOT of `inner`: over a small dictionary, the ids it leaves (see COMPLEMENT_MAX). */
export function not(inner: ColumnFilter): ColumnFilter {
  if (inner.kind === 'all') return NONE;
  if (inner.kind === 'none') return ALL;
  if (inner.kind === 'not') return inner.filter;
  if (inner.kind === 'ids' && inner.universe <= COMPLEMENT_MAX) {
    const excluded = new Set(inner.ids);
    const ids: number[] = [];
    for (let id = 0; id < inner.universe; id++) if (!excluded.has(id)) ids.push(id);
    return ids.length === 0
      ? NONE
      : { kind: 'ids', column: inner.column, ids: Uint32Array.from(ids), universe: inner.universe };
  }
  return { kind: 'not', filter: inner };
}

function compileLeaf(node: Leaf, table: EventTable, dictionaryBudget: number): ColumnFilter | undefined {
  const ref = resolveField(node.field, 'filter.field');
  if (ref.kind !== 'core' || ref.name === 'id') return undefined;
  // Every column field exists on every row, so `ne` is exactly `not eq`.
  const leaf: Leaf = node.kind === 'ne' ? { ...node, kind: 'eq' } : node;
  let compiled: ColumnFilter | undefined;
  if (leaf.kind === 'exists') compiled = ALL;
  else if (ref.name === 'aggregateId')
    compiled = idLeaf(leaf, 'aggregateId', table.aggregates, dictionaryBudget);
  else if (ref.name === 'type') compiled = idLeaf(leaf, 'typeId', table.types, dictionaryBudget);
  else if (ref.name === 'sequence') compiled = sequenceLeaf(leaf);
  else compiled = numberLeaf(leaf, ref.name);
  return compiled !== undefined && node.kind === 'ne' ? not(compiled) : compiled;
}

const EVERY_NUMBER = { from: -Infinity, to: Infinity };

/**
 * The half-open interval of numbers a comparison leaf accepts; null when it accepts none (its
 * operand is not a number: comparisons only match values of the operand's type); undefined for
 * bounds of mixed types, which validation rejects and which are left to compile-filter.ts.
 */
function interval(node: Leaf): { from: number; to: number } | null | undefined {
  if (node.kind === 'between') {
    if (typeof node.low !== 'number') return null;
    return typeof node.high === 'number' ? narrow(EVERY_NUMBER, 'between', node.low, node.high) : undefined;
  }
  if (node.kind === 'prefix' || node.kind === 'in' || node.kind === 'exists') return null;
  return typeof node.value === 'number' ? (narrow(EVERY_NUMBER, node.kind, node.value) ?? null) : null;
}

/** The distinct numbers among `values`, ascending; an `in` matches nothing else in a number column. */
function numbers(values: readonly Scalar[]): number[] {
  const found = values.filter((v): v is number => typeof v === 'number' && !Number.isNaN(v));
  return [...new Set(found)].sort((a, b) => a - b);
}

function numberLeaf(node: Leaf, column: NumberColumn): ColumnFilter | undefined {
  if (node.kind === 'in') {
    const values = numbers(node.values);
    return values.length === 0 ? NONE : { kind: 'points', column, values: Float64Array.from(values) };
  }
  const bounds = interval(node);
  if (bounds === undefined) return undefined;
  // `!(from < to)` also catches NaN bounds, which match nothing.
  return bounds === null || !(bounds.from < bounds.to) ? NONE : { kind: 'range', column, ...bounds };
}

/** Sequence s is row s - 1, so a sequence interval [from, to) is the row range [⌈from⌉ - 1, ⌈to⌉ - 1). */
function rowsOf({ from, to }: { from: number; to: number }): ColumnFilter {
  const first = Math.max(0, Math.ceil(from) - 1);
  const end = Math.ceil(to) - 1;
  return first < end ? { kind: 'rows', from: first, to: end } : NONE;
}

function sequenceLeaf(node: Leaf): ColumnFilter | undefined {
  if (node.kind === 'in')
    return or(numbers(node.values).map((value) => rowsOf({ from: value, to: nextUp(value) })));
  const bounds = interval(node);
  return bounds === undefined ? undefined : bounds === null ? NONE : rowsOf(bounds);
}

function idsOf(column: IdColumn, ids: readonly number[], dictionary: Dictionary): ColumnFilter {
  const distinct = [...new Set(ids)].sort((a, b) => a - b);
  return distinct.length === 0
    ? NONE
    : { kind: 'ids', column, ids: Uint32Array.from(distinct), universe: dictionary.size };
}

function idLeaf(
  node: Leaf,
  column: IdColumn,
  dictionary: Dictionary,
  dictionaryBudget: number,
): ColumnFilter | undefined {
  if (node.kind === 'eq' || node.kind === 'in') {
    const values: readonly Scalar[] = 'values' in node ? node.values : [node.value];
    const ids: number[] = [];
    for (const value of values) {
      const id = typeof value === 'string' ? dictionary.idOf(value) : undefined;
      if (id !== undefined) ids.push(id);
    }
    return idsOf(column, ids, dictionary);
  }
  const test = stringTest(node);
  if (test === undefined) return NONE;
  if (dictionary.size > dictionaryBudget) return undefined;
  const ids: number[] = [];
  for (let id = 0; id < dictionary.size; id++) if (test(dictionary.valueOf(id))) ids.push(id);
  return idsOf(column, ids, dictionary);
}

/** The leaf as a test of one string value, as compile-filter.ts applies it; undefined when nothing passes. */
function stringTest(node: Leaf): ((value: string) => boolean) | undefined {
  switch (node.kind) {
    case 'prefix': {
      const prefix = node.value;
      return (value) => value.startsWith(prefix);
    }
    case 'between': {
      if (typeof node.low !== 'string') return undefined;
      const [low, high] = [node.low, node.high as string];
      return (value) => value >= low && value <= high;
    }
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte': {
      if (typeof node.value !== 'string') return undefined;
      const operand = node.value;
      if (node.kind === 'lt') return (value) => value < operand;
      if (node.kind === 'lte') return (value) => value <= operand;
      if (node.kind === 'gt') return (value) => value > operand;
      return (value) => value >= operand;
    }
    // Equality, `in` and `exists` never get here (see compileLeaf and idLeaf): nothing to test.
    case 'eq':
    case 'ne':
    case 'in':
    case 'exists':
      return undefined;
    default:
      return assertNever(node);
  }
}

/** A filter split into its top-level AND terms on columns (compiled) and the rest (per row). */
export interface SplitFilter {
  readonly columns: ColumnFilter;
  /** The terms that read the record, or undefined when every term is on columns. */
  readonly rest: FilterNode | undefined;
}

/**
 * Splits the top-level AND terms of a filter into those a column scan can evaluate and the rest:
 * the column part narrows the rows first, the rest is checked per row on what it kept. Undefined
 * when no term is on columns.
 */
export function splitColumnTerms(
  filter: FilterNode,
  table: EventTable,
  dictionaryBudget = Infinity,
): SplitFilter | undefined {
  const terms = conjuncts(filter);
  const columns: ColumnFilter[] = [];
  const rest: FilterNode[] = [];
  for (const term of terms) {
    const compiled = compileColumnFilter(term, table, dictionaryBudget);
    if (compiled === undefined) rest.push(term);
    else columns.push(compiled);
  }
  if (columns.length === 0) return undefined;
  return {
    columns: and(columns),
    rest: rest.length === 0 ? undefined : rest.length === 1 ? rest[0] : f.and(...rest),
  };
}

function conjuncts(node: FilterNode): FilterNode[] {
  return node.kind === 'and' ? node.filters.flatMap(conjuncts) : [node];
}

/** The columns a filter reads: the chunks a worker needs to evaluate it. */
export function columnsOf(filter: ColumnFilter): ScanColumn[] {
  const found = new Set<ScanColumn>();
  const visit = (node: ColumnFilter): void => {
    if (node.kind === 'and' || node.kind === 'or') node.filters.forEach(visit);
    else if (node.kind === 'not') visit(node.filter);
    else if (node.kind === 'cutoffs') found.add('timestamp').add('typeId');
    else if ('column' in node) found.add(node.column);
  };
  visit(filter);
  return [...found];
}
