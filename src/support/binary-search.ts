/**
 * The first position in `[from, to)` at which `isBefore` is false, given that it is true on a prefix
 * of that range and false after it: a lower bound by binary search, in O(log n) calls of `isBefore`.
 * Returns `to` when `isBefore` holds everywhere.
 *
 * It takes positions rather than an array so that typed arrays, column accessors and sorted row
 * lists are searched where they are, with no copy: `partitionPoint(ts.length, (i) => ts[i] < value)`
 * is the first timestamp at or above `value`; with `<=`, the first above it.
 */
export function partitionPoint(to: number, isBefore: (position: number) => boolean, from = 0): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (isBefore(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
