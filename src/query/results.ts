import type { StoredEvent } from '../events/types.js';

export interface RunOptions {
  /** Cancels the query when it fires: QueryCancelledError. */
  signal?: AbortSignal;
  /** Names the query for cancelQuery(); one is generated otherwise. */
  queryId?: string;
}

export type ResultRow = StoredEvent | Record<string, unknown>;

export interface ResultPage<R = ResultRow> {
  rows: R[];
  /** Pass to `after()` for the next page; absent when this page is the last. */
  cursor?: string;
}
