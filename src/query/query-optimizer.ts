import { ValidationError } from '../errors.js';
import { ArrayRows, NO_ROWS, lowerBound, type SortedRows } from '../indexes/sorted-rows.js';
import type { EventTable } from '../table/event-table.js';
import type { EventQuery, FilterNode, Scalar } from './ast.js';
import { compileFilter, needsRecord, type BodyReader, type RowPredicate } from './compile-filter.js';
import { resolveField } from './fields.js';
import { narrow, type Interval } from './time-bounds.js';
import { vectorize, type VectorizedFilter } from './vectorize.js';

/** One way to find candidate rows: an index lookup (exact size known up front) or the scan. */
export interface AccessPath {
  /** `scan`, `sequence`, `aggregate`, `type`, `aggregate+type`, `timestamp` or `tags.<key>`. */
  readonly index: string;
  /** What the lookup is for, for EXPLAIN: `type = "A"`, `timestamp in [x, y)`. */
  readonly condition: string;
  readonly estimatedRows: number;
  readonly cost: number;
  rows(): SortedRows;
}

export interface QueryPlan {
  readonly query: EventQuery;
  readonly access: AccessPath;
  /** Every path considered, cheapest first: what EXPLAIN shows as alternatives. */
  readonly considered: readonly AccessPath[];
  /** The whole filter, checked on every candidate row. */
  readonly predicate: RowPredicate;
  /** Rows come out of the access path in sequence order, so order and limit need no sort. */
  readonly sorted: boolean;
  readonly descending: boolean;
  readonly estimatedRows: number;
  readonly estimatedCost: number;
  /** Set when the filter's column terms are checked vectorized, a window of rows at a time. */
  readonly vectorized?: VectorizedFilter;
}

/** Relative cost of checking one row from columns alone, and of decoding its record. */
const COLUMN_CHECK = 0.05;
const RECORD_DECODE = 1;

function conjuncts(node: FilterNode): FilterNode[] {
  return node.kind === 'and' ? node.filters.flatMap(conjuncts) : [node];
}

const quote = (value: Scalar) => JSON.stringify(value);

/** Candidate paths from the top-level AND terms of the filter; the predicate re-checks them all. */
function candidatePaths(table: EventTable, filter: FilterNode, perRow: number): AccessPath[] {
  const paths = indexPaths(table, filter, perRow);
  const bounds = paths.find((path) => path.index === 'sequence');
  if (bounds === undefined) return paths;
  // Predicate pushdown: a sequence bound seeks into every posting list instead of filtering it.
  const first = bounds.rows().at(0);
  const end = first + bounds.estimatedRows;
  return paths.map((path) => (path === bounds ? path : clip(path, first, end, perRow)));
}

function clip(path: AccessPath, first: number, end: number, perRow: number): AccessPath {
  const estimatedRows = Math.min(path.estimatedRows, end - first);
  return {
    ...path,
    condition: `${path.condition}, rows [${first}, ${end})`,
    estimatedRows,
    cost: estimatedRows * (perRow + COLUMN_CHECK) + 1,
    rows: () => {
      const rows = path.rows();
      const lo = lowerBound(rows, first);
      const hi = lowerBound(rows, end, lo);
      return { length: hi - lo, at: (i: number) => rows.at(lo + i) };
    },
  };
}

function indexPaths(table: EventTable, filter: FilterNode, perRow: number): AccessPath[] {
  const paths: AccessPath[] = [];
  const add = (index: string, condition: string, size: number, rows: () => SortedRows) =>
    paths.push({ index, condition, estimatedRows: size, cost: size * (perRow + COLUMN_CHECK) + 1, rows });
  let time: Interval | undefined;
  let sequence: Interval | undefined;
  let aggregateEq: string | undefined;
  let typeEq: string | undefined;

  for (const term of conjuncts(filter)) {
    if (!('field' in term)) continue;
    const ref = resolveField(term.field, 'filter.field');
    const values = term.kind === 'eq' ? [term.value] : term.kind === 'in' ? term.values : undefined;
    if (ref.kind === 'core' && (ref.name === 'aggregateId' || ref.name === 'type') && values) {
      const strings = values as string[];
      const isAggregate = ref.name === 'aggregateId';
      const count = (v: string) => (isAggregate ? table.aggregateCount(v) : table.typeCount(v));
      const lookup = (v: string) => (isAggregate ? table.aggregateRows(v) : table.typeRows(v));
      add(
        isAggregate ? 'aggregate' : 'type',
        `${ref.name} in (${strings.map(quote).join(', ')})`,
        strings.reduce((sum, v) => sum + count(v), 0),
        () => unionOf(strings.map(lookup)),
      );
      if (term.kind === 'eq') {
        if (isAggregate) aggregateEq = term.value as string;
        else typeEq = term.value as string;
      }
    } else if (ref.kind === 'tag' && values) {
      add(
        `tags.${ref.key}`,
        `tags.${ref.key} in (${values.map(quote).join(', ')})`,
        values.reduce<number>((sum, v) => sum + (v === null ? 0 : table.tagCount(ref.key, v)), 0),
        () => unionOf(values.filter((v) => v !== null).map((v) => table.tagRows(ref.key, v as string))),
      );
    } else if (ref.kind === 'core' && (ref.name === 'timestamp' || ref.name === 'sequence')) {
      const high = term.kind === 'between' ? (term.high as number) : undefined;
      const value = term.kind === 'between' ? term.low : 'value' in term ? term.value : undefined;
      if (typeof value !== 'number') continue;
      const start = ref.name === 'timestamp' ? time : sequence;
      const next = narrow(start ?? { from: -Infinity, to: Infinity }, term.kind, value, high);
      if (next === undefined) continue;
      if (ref.name === 'timestamp') time = next;
      else sequence = next;
    }
  }
  if (aggregateEq !== undefined && typeEq !== undefined) {
    const [a, t] = [aggregateEq, typeEq];
    add(
      'aggregate+type',
      `aggregateId = ${quote(a)} and type = ${quote(t)}`,
      Math.min(table.aggregateCount(a), table.typeCount(t)),
      () => table.aggregateTypeRows(a, t),
    );
    // Its size is an upper bound (the smaller of the two) and it yields only rows matching both:
    // on a tie with the aggregate or type path, it is the better one.
    const composite = paths[paths.length - 1] as AccessPath;
    paths[paths.length - 1] = { ...composite, cost: composite.cost * 0.9 };
  }
  if (time !== undefined) {
    const { from, to } = time;
    add('timestamp', `timestamp in [${from}, ${to})`, to > from ? table.byTime.count(from, to) : 0, () =>
      to > from ? new ArrayRows(table.byTime.range(from, to)) : NO_ROWS,
    );
  }
  if (sequence !== undefined) {
    // Sequence s is row s - 1; the rows in [from, to) of sequences are a contiguous run.
    const first = Math.max(0, Math.ceil(sequence.from) - 1);
    const end = Math.min(table.rows, Math.ceil(sequence.to) - 1);
    const size = Math.max(0, end - first);
    add('sequence', `sequence in [${first + 1}, ${end + 1})`, size, () => ({
      length: size,
      at: (i: number) => first + i,
    }));
  }
  return paths;
}

function scanPath(table: EventTable, perRow: number): AccessPath {
  const rows = table.rows;
  return {
    index: 'scan',
    condition: 'all rows',
    estimatedRows: rows,
    cost: rows * perRow + 1,
    rows: () => ({ length: rows, at: (i: number) => i }),
  };
}

/**
 * The query optimizer: picks how to find the rows. Every posting list knows its exact size, so the
 * estimate for an index path is exact; the cost model weighs a path's rows by what checking each
 * costs (columns only, or decoding the record), and a scan by all rows. Hints narrow the choice.
 * `workers` is the size of the pool a large scan may be split across (0: none).
 */
export function createExecutionPlan(
  table: EventTable,
  query: EventQuery,
  body: BodyReader,
  workers = 0,
): QueryPlan {
  const perRow = needsRecord(query.filter) ? RECORD_DECODE : COLUMN_CHECK;
  let considered = [...candidatePaths(table, query.filter, perRow), scanPath(table, perRow)].sort(
    (a, b) => a.cost - b.cost,
  );
  const { forceIndex, useIndex } = query.hints;
  if (forceIndex !== undefined) {
    const forced = considered.filter((path) => forceIndex.includes(path.index));
    if (forced.length === 0) {
      throw new ValidationError(
        'hints.forceIndex',
        `none of ${JSON.stringify(forceIndex)} can serve this query; usable here: ${considered.map((p) => p.index).join(', ')}`,
        'INDEX_NOT_USABLE',
      );
    }
    considered = forced;
  } else if (useIndex !== undefined) {
    const preferred = considered.filter((path) => useIndex.includes(path.index));
    if (preferred.length > 0)
      considered = [...preferred, ...considered.filter((p) => !preferred.includes(p))];
  }
  const access = considered[0] as AccessPath;
  const order = query.orderBy;
  const sorted = order.length === 0 || (order.length === 1 && order[0]?.field === 'sequence');
  const vectorized = vectorize(table, query, access, sorted, body, workers);
  return {
    query,
    access,
    considered,
    predicate: compileFilter(query.filter, table, body),
    sorted,
    descending: sorted && order[0]?.direction === 'desc',
    estimatedRows: Math.min(
      access.estimatedRows,
      query.limit === undefined ? Infinity : query.limit + (query.offset ?? 0),
    ),
    estimatedCost: access.cost,
    vectorized,
  };
}

/** Rows in any of the lists, ascending, without duplicates. */
export function unionOf(lists: SortedRows[]): SortedRows {
  const nonEmpty = lists.filter((list) => list.length > 0);
  if (nonEmpty.length <= 1) return nonEmpty[0] ?? NO_ROWS;
  const all = new Uint32Array(nonEmpty.reduce((sum, list) => sum + list.length, 0));
  let at = 0;
  for (const list of nonEmpty) for (let i = 0; i < list.length; i++) all[at++] = list.at(i);
  all.sort();
  let unique = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) all[unique++] = all[i] as number;
  return new ArrayRows(all.subarray(0, unique));
}
