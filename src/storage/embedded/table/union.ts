import { ArrayRows, NO_ROWS, type SortedRows } from './sorted-rows.js';

/** Rows in any of the lists, ascending, without duplicates. */
export function unionOf(lists: SortedRows[]): SortedRows {
  const nonEmpty = lists.filter((list) => list.length > 0);
  if (nonEmpty.length <= 1) return nonEmpty[0] ?? NO_ROWS;
  const all = new Uint32Array(nonEmpty.reduce((sum, list) => sum + list.length, 0));
  let at = 0;
  for (const list of nonEmpty) for (let i = 0; i < list.length; i++) all[at++] = list.at(i);
  all.sort();
  let unique = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) all[unique++] = all[i] as number;
  return new ArrayRows(all.subarray(0, unique));
}
