import { ArrayRows, gallopTo, lowerBound, type SortedRows } from '../indexes/sorted-rows.js';
import type { EventTable } from '../table/event-table.js';
import type { NormalizedCriteria } from './criteria.js';

/** A candidate way to find rows: an index lookup, with its exact size known before reading it. */
interface Source {
  name: string;
  size: number;
  rows: () => SortedRows;
}

/** Above this many (aggregate, type) pairs the composite index stops paying for itself. */
const MAX_COMPOSITE_PAIRS = 16;

/**
 * Answers criteria from the most selective index. Every index knows its exact row count, so the
 * choice is simply the smallest source; the other criteria are checked on the candidate rows:
 * aggregate, type and time against the columns (an array read each), tags by a galloping search in
 * their postings. With no indexed criterion, the sequence order itself is the index.
 */
export function findRows(table: EventTable, criteria: NormalizedCriteria): number[] {
  const { aggregateIds, types, from, to, tags } = criteria;
  const sources: Source[] = [];
  const union = (name: string, lists: (() => SortedRows)[], sizes: number[]): Source => ({
    name,
    size: sizes.reduce((a, b) => a + b, 0),
    rows: () => unionOf(lists.map((list) => list())),
  });

  if (aggregateIds && types && aggregateIds.length * types.length <= MAX_COMPOSITE_PAIRS) {
    const pairs = aggregateIds.flatMap((a) => types.map((t) => [a, t] as const));
    sources.push(
      union(
        'aggregate+type',
        pairs.map(
          ([a, t]) =>
            () =>
              table.aggregateTypeRows(a, t),
        ),
        // The aggregate's size bounds the pair's: exact enough to rank, and free to compute.
        pairs.map(([a, t]) => Math.min(table.aggregateCount(a), table.typeCount(t))),
      ),
    );
  } else {
    if (aggregateIds) {
      sources.push(
        union(
          'aggregate',
          aggregateIds.map((a) => () => table.aggregateRows(a)),
          aggregateIds.map((a) => table.aggregateCount(a)),
        ),
      );
    }
    if (types)
      sources.push(
        union(
          'type',
          types.map((t) => () => table.typeRows(t)),
          types.map((t) => table.typeCount(t)),
        ),
      );
  }
  const tagSources = tags.map(([key, values]) =>
    union(
      `tags.${key}`,
      values.map((v) => () => table.tagRows(key, v)),
      values.map((v) => table.tagCount(key, v)),
    ),
  );
  sources.push(...tagSources);
  const lower = from ?? -Infinity;
  const upper = to ?? Infinity;
  if (from !== undefined || to !== undefined) {
    sources.push({
      name: 'timestamp',
      size: table.byTime.count(lower, upper),
      rows: () => new ArrayRows(table.byTime.range(lower, upper)),
    });
  }

  const driver = sources.reduce<Source | undefined>(
    (best, s) => (best === undefined || s.size < best.size ? s : best),
    undefined,
  );
  const rows = driver?.rows() ?? { length: table.rows, at: (i: number) => i };

  const aggregateSet = aggregateIds && new Set(aggregateIds.map((a) => table.aggregates.idOf(a) ?? -1));
  const typeSet = types && new Set(types.map((t) => table.types.idOf(t) ?? -1));
  const tagChecks = tagSources.filter((s) => s !== driver).map((s) => ({ rows: s.rows(), cursor: 0 }));
  const checkTime = driver?.name !== 'timestamp' && (from !== undefined || to !== undefined);
  const matches = (row: number): boolean => {
    if (aggregateSet && !aggregateSet.has(table.aggregateId.get(row))) return false;
    if (typeSet && !typeSet.has(table.typeId.get(row))) return false;
    if (checkTime) {
      const ts = table.timestamp.get(row);
      if (ts < lower || ts >= upper) return false;
    }
    for (const check of tagChecks) {
      check.cursor =
        criteria.order === 'asc' ? gallopTo(check.rows, row, check.cursor) : lowerBound(check.rows, row);
      if (check.cursor >= check.rows.length || check.rows.at(check.cursor) !== row) return false;
    }
    return true;
  };

  const limit = criteria.limit ?? Infinity;
  const out: number[] = [];
  if (limit === 0) return out;
  const after = criteria.afterSequence;
  if (criteria.order === 'asc') {
    // Sequence s is row s - 1, so "sequence > after" is "row >= after".
    for (let i = after === undefined ? 0 : lowerBound(rows, after); i < rows.length; i++) {
      const row = rows.at(i);
      if (matches(row) && out.push(row) >= limit) break;
    }
  } else {
    for (let i = (after === undefined ? rows.length : lowerBound(rows, after - 1)) - 1; i >= 0; i--) {
      const row = rows.at(i);
      if (matches(row) && out.push(row) >= limit) break;
    }
  }
  return out;
}

/** Rows in any of the lists, ascending, without duplicates. */
function unionOf(lists: SortedRows[]): SortedRows {
  const nonEmpty = lists.filter((list) => list.length > 0);
  if (nonEmpty.length <= 1) return nonEmpty[0] ?? new ArrayRows(new Uint32Array(0));
  const total = nonEmpty.reduce((sum, list) => sum + list.length, 0);
  const all = new Uint32Array(total);
  let at = 0;
  for (const list of nonEmpty) for (let i = 0; i < list.length; i++) all[at++] = list.at(i);
  all.sort();
  let unique = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) all[unique++] = all[i] as number;
  return new ArrayRows(all.subarray(0, unique));
}
