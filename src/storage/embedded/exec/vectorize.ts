import type { EventTable } from '../table/event-table.js';
import type { EventQuery } from '../../../query/ast.js';
import { and, splitColumnTerms, type ColumnFilter } from './column-filter.js';
import { compileFilter, type BodyReader, type RowPredicate } from './compile-filter.js';

/** How a plan checks its column terms vectorized (column-scan.ts) instead of row by row. */
export interface VectorizedFilter {
  /** The top-level AND terms on columns, compiled. */
  readonly columns: ColumnFilter;
  /** The other terms, checked per row on the rows the columns kept; undefined when there are none. */
  readonly rest: RowPredicate | undefined;
  /** Worker threads the scan is split across; 0 runs it on this thread. */
  readonly workers: number;
}

/**
 * Below this many rows an index path is checked row by row as before: a few thousand closure calls
 * cost tens of microseconds, about what setting up a vectorized pass costs (scratch selection
 * vectors, grouping rows by chunk).
 */
const VECTORIZE_MIN_ROWS = 4096;

/**
 * From this many rows the planner splits a scan across the worker pool. The vectorized scan runs at
 * 250-300M rows/s on one core of the CI machine, so 1M rows take 3-4 ms, and waking idle workers
 * and taking their answers back costs from 0.2 to a few ms there (a round trip to a worker idle for
 * 40 ms: 170-230 µs; first answers picked up 1-4 ms late after the main thread had been busy). That
 * ate the whole gain at 1M rows (0.6x in bench/suites/scan.mjs); at 10M rows the pool was 1.04-1.4x
 * faster. So the split is left to scans of several million rows.
 */
const PARALLEL_MIN_ROWS = 4_000_000;

/**
 * Decides whether the plan's access path gets its column terms vectorized, and whether a scan runs
 * on the worker pool (`workers` threads, 0 when there is none): hints.parallel true forces it, false
 * forbids it, absent leaves it to the row count. `visible`, when rows are hidden (deleted streams,
 * expired or removed events), is the rows reads may see as column terms (Visibility.columnFilter):
 * they are ANDed in, so hidden rows are left out in the scan's loops, on this thread and the
 * workers alike. Undefined when no term, the filter's or visibility's, is on columns.
 */
export function vectorize(
  table: EventTable,
  query: EventQuery,
  access: { readonly index: string; readonly estimatedRows: number },
  sorted: boolean,
  body: BodyReader,
  workers: number,
  visible?: ColumnFilter,
): VectorizedFilter | undefined {
  const scan = access.index === 'scan';
  if (!scan && access.estimatedRows < VECTORIZE_MIN_ROWS) return undefined;
  // A dictionary walk (a prefix on aggregateId) pays only when it has fewer entries than the rows it spares.
  const split = splitColumnTerms(query.filter, table, access.estimatedRows);
  // The query's terms first: usually the more selective, they leave the visibility terms few rows to check.
  const columns = and([...termsOf(split?.columns), ...termsOf(visible)]);
  // A filter that keeps every row leaves nothing to vectorize.
  if (columns.kind === 'all') return undefined;
  // With no query term on columns (visibility's alone are), the whole filter is the rest.
  const rest = split === undefined ? (query.filter.kind === 'all' ? undefined : query.filter) : split.rest;
  return {
    columns,
    rest: rest === undefined ? undefined : compileFilter(rest, table, body),
    workers: scan ? parallelWorkers(query, access.estimatedRows, sorted, workers) : 0,
  };
}

/** The top-level AND terms of a column filter, flattened into one AND with others. */
function termsOf(filter: ColumnFilter | undefined): readonly ColumnFilter[] {
  return filter === undefined ? [] : filter.kind === 'and' ? filter.filters : [filter];
}

function parallelWorkers(query: EventQuery, rows: number, sorted: boolean, workers: number): number {
  const { parallel } = query.hints;
  if (parallel !== undefined) return parallel ? workers : 0;
  // In sequence order a limit stops a scan at its first matches, usually within its first window;
  // workers would scan ranges far past them.
  if (sorted && query.limit !== undefined) return 0;
  return workers >= 2 && rows >= PARALLEL_MIN_ROWS ? workers : 0;
}
