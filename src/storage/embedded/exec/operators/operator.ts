import type { EventTable } from '../../table/event-table.js';
import type { SortedRows } from '../../table/sorted-rows.js';
import type { ColumnFilter } from '../column-filter.js';
import type { BodyReader } from '../compile-filter.js';
import type { ParallelScanPool } from '../parallel-scan.js';
import type { AccessNode, PlanNode } from '../plan-nodes.js';
import type { QueryGuard } from '../query-guard.js';
import type { Collector } from './collector.js';

/** What a cursor's next() returns once it has no more rows (row numbers are never negative). */
export const DONE = -1;

/** A node's rows one at a time, for a stream that reads them a page at a time. */
export interface RowCursor {
  /** The next row, or DONE. */
  next(): number;
  /** Records the rows it put out (Run.count) and closes the cursors it reads from. */
  close(): void;
}

/**
 * An access node's candidate rows, for a filter above it: as a list to check row by row, or run
 * through column terms window by window.
 */
export interface Candidates {
  /** The rows, ascending (read backwards for a descending node). */
  readonly rows: SortedRows;
  /**
   * Runs `columns` over the rows in the node's order, handing each window's matches to the
   * collector until it holds enough. A scan's kernels read its column range in place (no candidate
   * list is made), a parallel scan's run on the worker pool, an index's over its rows.
   */
  filter(columns: ColumnFilter, collector: Collector): void | Promise<void>;
}

/** One execution of a plan: what the operators share, and how they run the nodes below them. */
export interface Run {
  readonly table: EventTable;
  readonly body: BodyReader;
  readonly guard: QueryGuard;
  readonly pool: ParallelScanPool;
  /** The table's generation when the run began: rows a cleanup removes meanwhile are left out. */
  readonly generation: number;
  /**
   * Rows each node put out (a Sort: the rows it ordered), once it ran: EXPLAIN ANALYZE's actual rows;
   * the access node's are the rows the run examined.
   */
  readonly actual: Map<PlanNode, number>;
  /** Adds to the node's actual rows. */
  count(node: PlanNode, rows: number): void;
  /** The node's rows in its order, at most `demand` of them. */
  rows(node: PlanNode, demand: number): Promise<number[]>;
  /** The same rows as a cursor. */
  open(node: PlanNode, demand: number): Promise<RowCursor>;
  /** An access node's candidate rows, for the filter above it. */
  candidates(node: AccessNode): Candidates;
}

/**
 * How one node kind executes. `rows` runs it to the end (execute, page, explain analyze); `open`
 * hands its rows out one at a time (stream). `demand` is how many rows the node above keeps at
 * most (Infinity: all): a Limit's offset + limit, which lets a filter stop early and a Sort keep
 * only the best rows.
 */
export interface Operator<N extends PlanNode> {
  rows(node: N, run: Run, demand: number): Promise<number[]>;
  open(node: N, run: Run, demand: number): Promise<RowCursor>;
}

/** Access operators also hand their rows to the filter above as candidates. */
export interface AccessOperator<N extends AccessNode> extends Operator<N> {
  candidates(node: N, run: Run): Candidates;
}

/** A cursor over rows already selected, in order. */
export function arrayCursor(rows: readonly number[], onClose: () => void = () => undefined): RowCursor {
  let at = 0;
  return {
    next: () => (at < rows.length ? (rows[at++] as number) : DONE),
    close: onClose,
  };
}
