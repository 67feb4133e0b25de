import { ArrayRows, lowerBound, type SortedRows } from '../table/sorted-rows.js';
import { COLUMN_CHECK, type AccessPath } from './access-path.js';

/** Joins the names of intersected paths: `type & tags.tenant`, what hints and EXPLAIN use. */
export const INTERSECT = ' & ';

/** Relative cost of one binary-search probe step into the larger list. */
const PROBE_STEP = 0.02;

/** Rows in both ascending lists: each row of the smaller is sought in the larger, from where the last was found. */
export function intersect(small: SortedRows, large: SortedRows): SortedRows {
  const out = new Uint32Array(small.length);
  let count = 0;
  let from = 0;
  for (let i = 0; i < small.length && from < large.length; i++) {
    const row = small.at(i);
    from = lowerBound(large, row, from);
    if (from < large.length && large.at(from) === row) out[count++] = row;
  }
  return new ArrayRows(out.subarray(0, count));
}

/**
 * The intersection of the two most selective lookups on different fields, as one path. Its size is
 * estimated assuming the fields independent; it wins when checking a row is dear (the filter reads
 * the record) and the intersection is much smaller than either list.
 */
export function intersectionPath(
  paths: readonly AccessPath[],
  rows: number,
  perRow: number,
): AccessPath | undefined {
  const lookups = paths
    .filter((path) => path.index !== 'scan' && path.index !== 'sequence')
    .sort((a, b) => a.estimatedRows - b.estimatedRows);
  const small = lookups[0];
  const large = lookups.find(
    (path) => small !== undefined && !path.fields.some((f) => small.fields.includes(f)),
  );
  if (small === undefined || large === undefined || rows === 0) return undefined;
  return intersectionOf(small, large, rows, perRow);
}

/** Two lookups as one path yielding the rows in both (what `forceIndex: ['a & b']` names). */
export function intersectionOf(
  small: AccessPath,
  large: AccessPath,
  rows: number,
  perRow: number,
): AccessPath {
  const estimatedRows = rows === 0 ? 0 : Math.round((small.estimatedRows * large.estimatedRows) / rows);
  const probes = small.estimatedRows * PROBE_STEP * Math.log2(large.estimatedRows + 2);
  return {
    index: `${small.index}${INTERSECT}${large.index}`,
    condition: `(${small.condition}) and (${large.condition})`,
    estimatedRows,
    cost: probes + estimatedRows * (perRow + COLUMN_CHECK) + 1,
    fields: [...small.fields, ...large.fields],
    parts: [small, large],
    rows: () => intersect(small.rows(), large.rows()),
  };
}
