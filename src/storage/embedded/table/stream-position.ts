import type { EventTable } from './event-table.js';
import type { SortedRows } from './sorted-rows.js';

/**
 * Where version `version` (or the first after it) stands in a stream's rows. Versions ascend along
 * the stream; they start past 1 once cleanup has removed a stream's oldest events.
 */
export function positionOfVersion(table: EventTable, stream: SortedRows, version: number): number {
  let lo = 0;
  let hi = stream.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (table.version.get(stream.at(mid)) < version) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
