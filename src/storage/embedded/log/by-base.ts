import { partitionPoint } from '../../../support/binary-search.js';

/**
 * Index of the last item whose `base` is <= `offset`, by binary search: which segment or memory
 * chunk holds a global log offset. `items` are sorted by base and non-empty.
 */
export function indexByBase(items: readonly { base: number }[], offset: number): number {
  // One before the first item that starts past the offset; the first item when none starts at or before it.
  return Math.max(0, partitionPoint(items.length, (i) => (items[i] as { base: number }).base <= offset) - 1);
}
