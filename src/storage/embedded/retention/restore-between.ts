import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeLogStart } from '../log/log-start.js';
import { prepareStaging, STAGING_DIR } from '../log/log-swap.js';
import { MemoryLog } from '../log/memory-log.js';
import type { RecordLog } from '../log/record-log.js';
import { SegmentLog, syncFileAsync } from '../log/segment-log.js';
import { listSegments } from '../log/segment-files.js';
import type { EventTable } from '../table/event-table.js';
import { failpoint } from '../../../support/failpoint.js';
import { mergeRestored, type ArchivedFrame, type MergeProgress } from './log-merge.js';
import { newRestoreReport } from './restore.js';
import { type RestoreReport } from '../../../retention/restore-report.js';

export interface RebuildSource {
  table: EventTable;
  log: RecordLog;
  /** The store directory; undefined for an in-memory store. */
  dir: string | undefined;
  segmentSize: number;
  isDeleted: (aggregateId: string) => boolean;
  onProgress: (progress: MergeProgress) => void;
  /** Lets the event loop turn between slices of the rebuild. */
  pause: () => Promise<void>;
  /** Called with the restored sequences by archive file, before the new log replaces the old. */
  beforeSwap: (ranges: ReadonlyMap<string, readonly [number, number][]>) => void;
}

export interface Rebuilt {
  report: RestoreReport;
  /** The new table, over `log`; undefined when nothing was restored (and nothing changed). */
  table: EventTable | undefined;
  /** The new log: in memory, itself; on disk, closed, staged and durable, for the caller to install and open. */
  log: RecordLog;
  /** The sequences restored. */
  ranges: [number, number][];
}

/**
 * A restore below a store's last sequence: builds the merged log (log-merge.ts), on disk in the
 * staging directory, durably, and records the restored sequences. Nothing of the store changes
 * (unless `beforeSwap` does). The caller then installs the staged log (installStagedLog in
 * storage/embedded/log-swap.ts, whose order of operations makes a crash at any point leave either
 * the old log or the new), wires in the table returned, and removes the staging directory (with
 * the old log in it).
 */
export async function rebuildWithRestored(
  source: RebuildSource,
  frames: readonly ArchivedFrame[],
): Promise<Rebuilt> {
  const { dir } = source;
  const staging = dir === undefined ? undefined : prepareStaging(dir);
  const target: RecordLog =
    staging === undefined
      ? new MemoryLog()
      : // Its segments are fsync'ed together at the end, off the main thread (nothing reads them before).
        SegmentLog.open(staging, { segmentSize: source.segmentSize, syncOnRoll: false });
  const discard = () => {
    target.close();
    if (dir !== undefined) rmSync(join(dir, STAGING_DIR), { recursive: true, force: true });
  };
  let merged;
  try {
    merged = await mergeRestored(
      source.table,
      source.log,
      frames,
      target,
      source.isDeleted,
      source.pause,
      source.onProgress,
    );
  } catch (error) {
    discard();
    throw error;
  }
  // Versions the store's streams had, of events neither it nor the archive restored hold, stay taken.
  merged.table.keepStreamVersionsOf(source.table);
  const report: RestoreReport = {
    ...newRestoreReport(frames),
    restored: merged.restored,
    alreadyLive: merged.alreadyLive,
    ofDeletedStreams: merged.ofDeletedStreams,
  };
  const ranges = [...merged.ranges.values()].flat().sort((a, b) => a[0] - b[0]);
  if (merged.restored === 0) {
    discard();
    return { report, table: undefined, log: source.log, ranges };
  }
  report.firstSequence = (ranges[0] as [number, number])[0];
  report.lastSequence = Math.max(...ranges.map((range) => range[1]));
  if (dir !== undefined && staging !== undefined) {
    try {
      target.close();
      await Promise.all(listSegments(staging).map((segment) => syncFileAsync(segment.path)));
      await writeLogStart(staging, {
        firstSequence: merged.firstSequence,
        removedBefore: merged.firstSequence,
      });
    } catch (error) {
      discard();
      throw error;
    }
  }
  failpoint('restore:log-built');
  source.beforeSwap(merged.ranges);
  failpoint('restore:copies-recorded');
  return { report, table: merged.table, log: target, ranges };
}
