import type { FilterNode } from '../../query/ast.js';
import { type Interval, narrow } from '../../query/time-bounds.js';

/**
 * The time range [from, to) (epoch ms) a filter restricts `timestamp` to, from its timestamp
 * comparisons at the top level or inside a top-level `and`; undefined unless both ends are bounded.
 * What empty buckets are filled across when the caller gives no range of its own: a query for
 * `timestamp >= a AND timestamp < b` fills [a, b) even where the data stops short of it.
 */
export function filterTimeRange(filter: FilterNode): Interval | undefined {
  let interval: Interval = { from: -Infinity, to: Infinity };
  const leaves = filter.kind === 'and' ? filter.filters : [filter];
  for (const leaf of leaves) {
    if (!('field' in leaf) || leaf.field !== 'timestamp') continue;
    let next: Interval | undefined;
    if (leaf.kind === 'between' && typeof leaf.low === 'number' && typeof leaf.high === 'number') {
      next = narrow(interval, 'between', leaf.low, leaf.high);
    } else if ('value' in leaf && typeof leaf.value === 'number' && leaf.kind !== 'prefix') {
      next = narrow(interval, leaf.kind, leaf.value);
    }
    if (next) interval = next;
  }
  if (!Number.isFinite(interval.from) || !Number.isFinite(interval.to)) return undefined;
  return interval.from > interval.to ? { from: interval.from, to: interval.from } : interval;
}
