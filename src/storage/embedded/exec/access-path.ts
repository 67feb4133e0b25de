import { lowerBound, type SortedRows } from '../table/sorted-rows.js';

/** One way to find candidate rows: an index lookup (exact size known up front) or the scan. */
export interface AccessPath {
  /** `scan`, `sequence`, `aggregate`, `type`, `aggregate+type`, `timestamp`, `tags.<key>` or a user index's name. */
  readonly index: string;
  /** What the lookup is for, for EXPLAIN: `type = "A"`, `timestamp in [x, y)`. */
  readonly condition: string;
  readonly estimatedRows: number;
  /**
   * The scan's first row, and with `estimatedRows` its end: cleanup's cut removed every row below
   * it (EventTable.firstRow), so a scan of a rolling window never walks the rows that went.
   */
  readonly firstRow?: number;
  /**
   * Rows the path is expected to yield when `estimatedRows` is only an upper bound (a lookup cut
   * to a sequence range): what the Filter estimate starts from. Absent, it is `estimatedRows`.
   */
  readonly expectedRows?: number;
  readonly cost: number;
  /** The query fields whose terms the lookup answers: the planner estimates only the rest. */
  readonly fields: readonly string[];
  /** An intersection's two lookups. */
  readonly parts?: readonly AccessPath[];
  /** The sequence range [first, end) of rows a sequence bound in the filter cut the path to. */
  readonly bounds?: { readonly first: number; readonly end: number };
  rows(): SortedRows;
}

/** Relative cost of checking one row from columns alone, and of decoding its record. */
export const COLUMN_CHECK = 0.05;
export const RECORD_DECODE = 1;

/** An index lookup yielding `size` rows, each then checked against the whole filter. */
export function lookupPath(
  index: string,
  condition: string,
  size: number,
  rows: () => SortedRows,
  perRow: number,
  fields: readonly string[],
): AccessPath {
  return { index, condition, estimatedRows: size, cost: size * (perRow + COLUMN_CHECK) + 1, fields, rows };
}

/** The rows of `rows` in [first, end): two binary searches, no copy. */
export function within(rows: SortedRows, first: number, end: number): SortedRows {
  const lo = lowerBound(rows, first);
  const hi = lowerBound(rows, end, lo);
  return { length: hi - lo, at: (i: number) => rows.at(lo + i) };
}
