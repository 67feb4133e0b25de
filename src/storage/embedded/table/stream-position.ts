import { partitionPoint } from '../../../support/binary-search.js';
import type { EventTable } from './event-table.js';
import type { SortedRows } from './sorted-rows.js';

/**
 * Where version `version` (or the first after it) stands in a stream's rows. Versions ascend along
 * the stream; they start past 1 once cleanup has removed a stream's oldest events.
 */
export function positionOfVersion(table: EventTable, stream: SortedRows, version: number): number {
  return partitionPoint(stream.length, (i) => table.version.get(stream.at(i)) < version);
}
