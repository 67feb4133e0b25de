import { ValidationError } from '../../../errors.js';
import { ArrayRows, NO_ROWS, type SortedRows } from '../table/sorted-rows.js';
import { unionOf } from '../table/union.js';
import type { Statistics } from '../indexes/statistics.js';
import type { UserIndex } from '../indexes/user-index.js';
import { COLUMN_CHECK, RECORD_DECODE, lookupPath, within, type AccessPath } from './access-path.js';
import type { EventTable } from '../table/event-table.js';
import type { EventQuery, FilterNode, Scalar } from '../../../query/ast.js';
import { compileFilter, needsRecord, type BodyReader } from './compile-filter.js';
import { resolveField } from '../../../query/fields.js';
import { narrow, type Interval } from '../../../query/time-bounds.js';
import { userIndexPaths } from './user-index-paths.js';
import { INTERSECT, intersectionOf, intersectionPath } from './intersection.js';
import type { ColumnFilter } from './column-filter.js';
import { vectorize } from './vectorize.js';
import type { HydrateNode } from './plan-nodes.js';
import { planTree } from './plan-tree.js';

/** A planned query: the operator tree the executor runs and EXPLAIN prints, and what it was chosen from. */
export interface QueryPlan {
  readonly query: EventQuery;
  /** The operator tree; its root hydrates the rows the nodes below select. */
  readonly root: HydrateNode;
  /** The access path the tree's access node reads: what the plan cache remembers. */
  readonly access: AccessPath;
  /** Every path considered, cheapest first: what EXPLAIN shows as alternatives. */
  readonly considered: readonly AccessPath[];
  /** Rows expected out: the rows expected to pass the filter, cut by offset and limit. */
  readonly estimatedRows: number;
  readonly estimatedCost: number;
  /** The query without its constants: the plan cache's key. */
  readonly fingerprint?: string;
  /** Whether the plan cache already held a choice for this fingerprint. */
  readonly planCache?: 'hit' | 'miss';
}

export function conjuncts(node: FilterNode): FilterNode[] {
  return node.kind === 'and' ? node.filters.flatMap(conjuncts) : [node];
}

const quote = (value: Scalar) => JSON.stringify(value);

/** The query fields each built-in path answers; a tag's path is named after its field. */
const BUILT_IN_FIELDS: Record<string, readonly string[]> = {
  aggregate: ['aggregateId'],
  type: ['type'],
  'aggregate+type': ['aggregateId', 'type'],
  timestamp: ['timestamp'],
  sequence: ['sequence'],
};

/** Candidate paths from the top-level AND terms of the filter; the predicate re-checks them all. */
function candidatePaths(
  table: EventTable,
  filter: FilterNode,
  perRow: number,
  userIndexes: readonly UserIndex[],
  only: string | undefined,
  exact: boolean,
): AccessPath[] {
  const names = only?.split(INTERSECT);
  const indexes =
    names === undefined ? userIndexes : userIndexes.filter((index) => names.includes(index.name));
  const builtIn = indexPaths(table, filter, perRow, names);
  // With hints naming indexes, every path is counted exactly: the caller wants those, whatever they cost.
  const bound = exact
    ? Infinity
    : builtIn.reduce((least, path) => Math.min(least, path.estimatedRows), table.rows);
  const paths = [...builtIn, ...userIndexPaths(indexes, conjuncts(filter), perRow, bound)];
  const both = intersectionPath(paths, table.rows, perRow);
  if (both !== undefined) paths.push(both);
  const bounds = paths.find((path) => path.index === 'sequence');
  if (bounds === undefined) return paths;
  // Predicate pushdown: a sequence bound seeks into every posting list instead of filtering it.
  const first = bounds.rows().at(0);
  const end = first + bounds.estimatedRows;
  return paths.map((path) => (path === bounds ? path : clip(path, first, end, perRow, table.rows)));
}

/**
 * A path cut to the rows [first, end). Its size stays an upper bound (EXPLAIN's lookup estimates
 * are exact or an upper bound); the rows expected are its share of that run, the fields assumed
 * independent as everywhere else. Starting the Filter estimate from the bound overestimated
 * `type = x and sequence <= n` by up to rows / n times.
 */
function clip(path: AccessPath, first: number, end: number, perRow: number, rows: number): AccessPath {
  const estimatedRows = Math.min(path.estimatedRows, end - first);
  const share = rows === 0 ? 0 : (end - first) / rows;
  const expected = Math.ceil((path.expectedRows ?? path.estimatedRows) * share);
  return {
    ...path,
    condition: `${path.condition}, rows [${first}, ${end})`,
    fields: [...path.fields, 'sequence'],
    estimatedRows,
    expectedRows: Math.min(estimatedRows, expected),
    cost: estimatedRows * (perRow + COLUMN_CHECK) + 1,
    bounds: { first, end },
    rows: () => within(path.rows(), first, end),
  };
}

/** Built-in index paths; with `only`, just that one (and the sequence bounds every path is clipped to). */
function indexPaths(
  table: EventTable,
  filter: FilterNode,
  perRow: number,
  only: readonly string[] | undefined,
): AccessPath[] {
  const paths: AccessPath[] = [];
  const wanted = (index: string) => only === undefined || only.includes(index) || index === 'sequence';
  const add = (
    index: string,
    condition: () => string,
    size: () => number,
    rows: () => SortedRows,
    weight = 1,
  ) => {
    if (!wanted(index)) return;
    const path = lookupPath(index, condition(), size(), rows, perRow, BUILT_IN_FIELDS[index] ?? [index]);
    paths.push(weight === 1 ? path : { ...path, cost: path.cost * weight });
  };
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
        () => `${ref.name} in (${strings.map(quote).join(', ')})`,
        () => strings.reduce((sum, v) => sum + count(v), 0),
        () => unionOf(strings.map(lookup)),
      );
      if (term.kind === 'eq') {
        if (isAggregate) aggregateEq = term.value as string;
        else typeEq = term.value as string;
      }
    } else if (ref.kind === 'tag' && values) {
      add(
        `tags.${ref.key}`,
        () => `tags.${ref.key} in (${values.map(quote).join(', ')})`,
        () => values.reduce<number>((sum, v) => sum + (v === null ? 0 : table.tagCount(ref.key, v)), 0),
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
    // Its size is an upper bound (the smaller of the two) and it yields only rows matching both:
    // on a tie with the aggregate or type path, it is the better one (weight 0.9).
    add(
      'aggregate+type',
      () => `aggregateId = ${quote(a)} and type = ${quote(t)}`,
      () => Math.min(table.aggregateCount(a), table.typeCount(t)),
      () => table.aggregateTypeRows(a, t),
      0.9,
    );
  }
  if (time !== undefined) {
    const { from, to } = time;
    add(
      'timestamp',
      () => `timestamp in [${from}, ${to})`,
      () => (to > from ? table.byTime.count(from, to) : 0),
      () => (to > from ? new ArrayRows(table.byTime.range(from, to)) : NO_ROWS),
    );
  }
  if (sequence !== undefined) {
    // Sequence s is row s - 1; the rows in [from, to) of sequences are a contiguous run.
    const first = Math.max(table.firstRow, Math.ceil(sequence.from) - 1);
    const end = Math.min(table.rows, Math.ceil(sequence.to) - 1);
    const size = Math.max(0, end - first);
    add(
      'sequence',
      () => `sequence in [${first + 1}, ${end + 1})`,
      () => size,
      () => ({
        length: size,
        at: (i: number) => first + i,
      }),
    );
  }
  return paths;
}

function scanPath(table: EventTable, perRow: number): AccessPath {
  const { firstRow } = table;
  const rows = table.rows - firstRow;
  return {
    index: 'scan',
    condition: 'all rows',
    estimatedRows: rows,
    firstRow,
    cost: rows * perRow + 1,
    fields: [],
    rows: () => ({ length: rows, at: (i: number) => firstRow + i }),
  };
}

export interface PlannerContext {
  /** Ready user-defined indexes. */
  userIndexes?: readonly UserIndex[];
  /** From the plan cache: build only this path (and the scan), not every alternative. */
  only?: string;
  /** For estimating the terms the access path does not answer; without it they count as keeping every row. */
  statistics?: Statistics;
  /** The size of the worker pool a large scan may be split across (0: none). */
  workers?: number;
  /** Rows reads must not see (deleted streams, expired events), when there are any: no plan returns them. */
  isHidden?: (row: number) => boolean;
  /**
   * The rows isHidden leaves, as column terms (Visibility.columnFilter), given with it: vectorized
   * plans AND them in. Without it, a plan with hidden rows checks every row through isHidden.
   */
  visible?: ColumnFilter;
  /**
   * False checks the whole filter row by row where its column terms could be vectorized: the
   * reference the vectorized plans are tested and benchmarked against.
   */
  vectorize?: boolean;
}

/** Rows expected to pass the whole filter: the path's rows times the selectivity of every term it leaves over. */
function matchEstimate(access: AccessPath, filter: FilterNode, statistics: Statistics | undefined): number {
  if (statistics === undefined || access.estimatedRows === 0) return access.estimatedRows;
  let estimate = access.expectedRows ?? access.estimatedRows;
  for (const term of conjuncts(filter)) {
    if ('field' in term && access.fields.includes(term.field)) continue;
    estimate *= statistics.selectivity(term);
  }
  return Math.min(access.estimatedRows, Math.round(estimate));
}

/**
 * The query optimizer: picks how to find the rows. Every posting list knows its exact size, so the
 * estimate for an index path is exact; the cost model weighs a path's rows by what checking each
 * costs (columns only, or decoding the record), and a scan by all rows. Hints narrow the choice.
 */
export function createExecutionPlan(
  table: EventTable,
  query: EventQuery,
  body: BodyReader,
  context: PlannerContext = {},
): QueryPlan {
  const { userIndexes = [], only, statistics, workers = 0, isHidden, visible } = context;
  const perRow = needsRecord(query.filter) ? RECORD_DECODE : COLUMN_CHECK;
  const { forceIndex, useIndex } = query.hints;
  const named = forceIndex !== undefined || useIndex !== undefined;
  let considered = [
    ...candidatePaths(table, query.filter, perRow, userIndexes, only, named),
    scanPath(table, perRow),
  ].sort((a, b) => a.cost - b.cost);
  if (forceIndex !== undefined) {
    // A named intersection the planner did not pair itself is built from its two lookups.
    for (const name of forceIndex) {
      const [a, b, ...more] = name.split(INTERSECT);
      if (b === undefined || more.length > 0 || considered.some((path) => path.index === name)) continue;
      const small = considered.find((path) => path.index === a && path.parts === undefined);
      const large = considered.find((path) => path.index === b && path.parts === undefined);
      if (small && large) considered.push(intersectionOf(small, large, table.rows, perRow));
    }
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
  // Hidden rows are left out by the vectorized scan's visibility terms, or else row by row by the
  // predicate: without those terms, a plan with hidden rows is not vectorized.
  const vectorized =
    context.vectorize === false || (isHidden !== undefined && visible === undefined)
      ? undefined
      : vectorize(table, query, access, sorted, body, workers, visible);
  const filter = compileFilter(query.filter, table, body);
  const matchedRows = matchEstimate(access, query.filter, statistics);
  const estimatedRows = Math.min(
    matchedRows,
    query.limit === undefined ? Infinity : query.limit + (query.offset ?? 0),
  );
  const root = planTree({
    query,
    access,
    sorted,
    descending: sorted && order[0]?.direction === 'desc',
    vectorized,
    predicate: isHidden === undefined ? filter : (row) => !isHidden(row) && filter(row),
    hidden: isHidden !== undefined,
    matchedRows,
    estimatedRows,
  });
  return { query, root, access, considered, estimatedRows, estimatedCost: access.cost };
}
