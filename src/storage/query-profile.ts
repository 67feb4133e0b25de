import type { EventQuery } from '../query/ast.js';
import type { Explanation } from '../query/explanation.js';

/**
 * How one query ran, as an engine reports it to a query observer (StorageEngine.observeQueries):
 * the performance monitor's per-shape latency, slow-query log and index usage come from these.
 * Cheap to make: an engine hands over what it measured anyway, and the plan tree with actual rows
 * is only built if someone asks for it (`explain()`), which the monitor does for slow queries only.
 */
export interface QueryProfile {
  /** The query's id: the caller's `queryId`, or one the engine made up (`q17`). */
  readonly queryId: string;
  /** The query shape: the query without its constants (query/fingerprint.ts), the plan cache's key. */
  readonly fingerprint: string;
  /** The query as run, constants included. */
  readonly query: EventQuery;
  /**
   * When finding the rows began (after planning), on the `performance.now()` timeline: with the
   * start of the call that asked (ReadObservation.startedAt), it gives the planning time without
   * the engine reading the clock once more.
   */
  readonly startedAt: number;
  /** Engine time after planning, in milliseconds: finding the rows + decoding them. */
  readonly timeMs: number;
  /**
   * Finding the rows (the access path and any filter, sort and limit over it): counted as index time
   * when the access path is an index, as scan time when it is a scan. For analytics queries, the
   * whole analytics run; for streams, the time until the stream ended (the consumer's pace included).
   */
  readonly selectMs: number;
  /**
   * Reading and decoding the chosen rows' records into events: told apart for results of 64 rows or
   * more (below, it is within `selectMs`, saving a clock reading on point queries), else 0.
   */
  readonly decodeMs: number;
  /** The access path: an index name, or `scan`. */
  readonly accessPath: string;
  /** Every index the plan used. */
  readonly indexesUsed: readonly string[];
  /** Rows the planner expected the query to return. */
  readonly estimatedRows: number;
  /** Rows the access path produced. */
  readonly rowsExamined: number;
  readonly rowsReturned: number;
  /** The plan as EXPLAIN ANALYZE shows it (estimated and actual rows per node), built on demand. */
  explain(): Explanation;
}

/** Told of every query an engine ran to its end. It must be fast and must not throw. */
export type QueryObserver = (profile: QueryProfile) => void;
