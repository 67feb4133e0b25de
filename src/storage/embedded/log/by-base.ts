/**
 * Index of the last item whose `base` is <= `offset`, by binary search: which segment or memory
 * chunk holds a global log offset. `items` are sorted by base and non-empty.
 */
export function indexByBase(items: readonly { base: number }[], offset: number): number {
  let lo = 0;
  let hi = items.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if ((items[mid] as { base: number }).base <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
