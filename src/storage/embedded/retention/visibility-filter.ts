import { and, not, type ColumnFilter } from '../exec/column-filter.js';

/** What hides rows as of one moment, as Visibility computes it (see visibility.ts). */
export interface HiddenRows {
  /** Rows below this one are past `maxEvents`, or cut by cleanup. */
  readonly firstKept: number;
  /**
   * Per type id, the event time below which its events have expired (-Infinity: kept forever);
   * undefined with no policy.
   */
  readonly cutoff: Float64Array | undefined;
  /** Aggregate dictionary ids of deleted streams, ascending. */
  readonly deleted: readonly number[];
  /** The aggregate dictionary's size: every aggregate id of the rows filtered is below it. */
  readonly aggregates: number;
  /** Whether cleanup has removed rows below the table's end (else the record test is skipped). */
  readonly holes?: boolean;
}

/** A removed event's row keeps its number but holds no record: cleanup leaves recordLength 0 there. */
const HAS_RECORD: ColumnFilter = { kind: 'range', column: 'recordLength', from: 1, to: Infinity };

/**
 * The rows reads may see, as a ColumnFilter: the same rows Visibility.hidden() leaves, so that the
 * vectorized scan (and its workers, to which the filter is posted as plain data) can leave hidden rows
 * out in its own tight loops instead of giving the scan up for a closure call per row.
 *
 * Each term is one more pass over the rows the terms before it kept, so they come most often
 * decisive first: the row floor (a range of slots, which ends a chunk below it at once), the age
 * limits (expired events are usually most of what is hidden), deleted streams, then a record present
 * (cleanup removes events that are mostly hidden already).
 */
export function visibleRowsFilter(hidden: HiddenRows): ColumnFilter {
  const terms: ColumnFilter[] = [];
  if (hidden.firstKept > 0) terms.push({ kind: 'rows', from: hidden.firstKept, to: Infinity });
  if (hidden.cutoff !== undefined) terms.push(ageTerm(hidden.cutoff));
  if (hidden.deleted.length > 0) {
    terms.push(
      not({
        kind: 'ids',
        column: 'aggregateId',
        ids: Uint32Array.from(hidden.deleted),
        universe: Math.max(hidden.aggregates, (hidden.deleted.at(-1) as number) + 1),
      }),
    );
  }
  if (hidden.holes !== false) terms.push(HAS_RECORD);
  return and(terms);
}

/**
 * timestamp >= cutoff[typeId]. Usually every type has the same cutoff (a single maxAge): a time
 * bound alone, on one column, or nothing when every type is kept forever. Otherwise the per-type
 * bounds in one pass over the time and type columns.
 */
function ageTerm(cutoff: Float64Array): ColumnFilter {
  const first = cutoff[0] ?? -Infinity;
  if (cutoff.some((at) => at !== first)) return { kind: 'cutoffs', cutoffs: cutoff };
  return first === -Infinity
    ? { kind: 'all' }
    : { kind: 'range', column: 'timestamp', from: first, to: Infinity };
}
