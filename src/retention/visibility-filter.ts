import { and, not, or, type ColumnFilter } from '../query/column-filter.js';

/** What hides rows as of one moment, as Visibility computes it (see visibility.ts). */
export interface HiddenRows {
  /** Rows below this one are past `maxEvents`. */
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
}

/** A removed event's row keeps its number but holds no record: cleanup leaves recordLength 0 there. */
const HAS_RECORD: ColumnFilter = { kind: 'range', column: 'recordLength', from: 1, to: Infinity };

/**
 * The rows reads may see, as a ColumnFilter: the same rows Visibility.hidden() leaves, so that the
 * vectorized scan (and its workers, to which the filter is posted as plain data) can leave hidden rows
 * out in its own tight loops instead of giving the scan up for a closure call per row.
 *
 * The terms come cheapest and most often decisive first, as an AND refines its selection term by
 * term: the row floor (a range of slots, free), a record present, no deleted stream, then the age
 * cutoffs, one OR branch per distinct cutoff over the types that share it.
 */
export function visibleRowsFilter(hidden: HiddenRows): ColumnFilter {
  const terms: ColumnFilter[] = [];
  if (hidden.firstKept > 0) terms.push({ kind: 'rows', from: hidden.firstKept, to: Infinity });
  terms.push(HAS_RECORD);
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
  if (hidden.cutoff !== undefined) terms.push(ageTerm(hidden.cutoff));
  return and(terms);
}

/**
 * timestamp >= cutoff[typeId] as column terms. Types are grouped by cutoff: usually there is one
 * (a single maxAge), which needs no type term at all, and a group kept forever needs no time term.
 */
function ageTerm(cutoff: Float64Array): ColumnFilter {
  const groups = new Map<number, number[]>();
  cutoff.forEach((at, typeId) => {
    const group = groups.get(at);
    if (group === undefined) groups.set(at, [typeId]);
    else group.push(typeId);
  });
  const since = (at: number): ColumnFilter =>
    at === -Infinity ? { kind: 'all' } : { kind: 'range', column: 'timestamp', from: at, to: Infinity };
  if (groups.size <= 1) {
    // Every type alike (or no type yet, so no row): the time bound alone.
    const [at = -Infinity] = groups.keys();
    return since(at);
  }
  const universe = cutoff.length;
  return or(
    [...groups].map(([at, typeIds]) =>
      and([{ kind: 'ids', column: 'typeId', ids: Uint32Array.from(typeIds), universe }, since(at)]),
    ),
  );
}
