import { StoreClosedError, ValidationError } from '../../errors.js';
import type { RestoreOptions, RestoreReport } from '../../retention/restore-report.js';
import { turn } from '../../support/turn.js';
import { frameSequence } from '../../codec/frame.js';
import { refuseRestoredDuplicates } from './duplicate-ids.js';
import type { EngineParts } from './engine-parts.js';
import type { IndexManager } from './indexes/index-manager.js';
import { installStagedLog, removeStaging } from './log/log-swap.js';
import type { RecordLog } from './log/record-log.js';
import { SegmentLog } from './log/segment-log.js';
import type { ArchivedCopies } from './retention/archived-copies.js';
import type { ArchivedFrame, MergeProgress } from './retention/log-merge.js';
import {
  checkRestoreArguments,
  framesByFile,
  newRestoreReport,
  readArchivedFrames,
  restoreFrames,
  withoutDeletedStreams,
} from './retention/restore.js';
import { rebuildWithRestored } from './retention/restore-between.js';
import type { Tombstones } from './retention/tombstones.js';
import type { EventTable } from './table/event-table.js';

/** What a restore needs from the engine. */
export interface RestoreHost {
  readonly dir: string | undefined;
  readonly segmentSize: number;
  readonly syncOnRoll: boolean;
  parts(): EngineParts;
  indexes(): IndexManager;
  readonly archivedCopies: ArchivedCopies;
  assertWritable(): void;
  /** Stops a background checkpoint: the restore changes what it reads. */
  abandonCheckpoint(): void;
  /** Waits for a running cleanup, and for the fsyncs in flight. */
  quiesce(): Promise<void>;
  /** Whether a row's event holds its id (not one of a deleted stream). */
  holdsId(row: number): boolean;
  /** An fsync of the log, tracked; then a checkpoint if one is due. */
  syncAndMaybeCheckpoint(): Promise<void>;
  /** Wires new parts over a rebuilt table and log, and closes the old ones. */
  swapIn(table: EventTable, log: RecordLog, tombstones: Tombstones): Promise<void>;
  /** Writes a checkpoint of the new parts (the fsyncs off the main thread). */
  checkpointInBackground(): Promise<void>;
  /** The engine cannot promise its files any more: writes refuse until reopened. */
  fail(error: Error): void;
}

/**
 * Restores archived events into the embedded engine with their sequence numbers, ids and bytes.
 * After the store's last sequence they are appended; below it (events cleanup removed from a store
 * that went on) the log is rebuilt with them between the live events and swapped in crash-safely,
 * and the table is rebuilt with it (retention/log-merge.ts, log/log-swap.ts). The facade holds
 * writes meanwhile; reads go on from the parts as they were. Events the store holds already, and
 * events of deleted streams, are left out. Durable (fsync'ed) when it resolves.
 */
export async function restoreInto(
  host: RestoreHost,
  archiveDir: string,
  /** As the caller gave them: checked here, where the archive format is known. */
  options: RestoreOptions,
): Promise<RestoreReport> {
  // Writes are held from the call on: no checkpoint starts after this one.
  host.abandonCheckpoint();
  host.assertWritable();
  const checked = checkRestoreArguments(archiveDir, options);
  const indexes = host.indexes();
  if (indexes.hasUnique || indexes.building) {
    throw new ValidationError(
      'archiveDir',
      'this store has a unique index (or an index being built); drop it (or wait for the build), restore, then create it again',
    );
  }
  // A cleanup changes the table and the log; one that started before must end first.
  await host.quiesce();
  const read = await readArchivedFrames(archiveDir, checked, turn);
  host.assertWritable();
  const { table, reader, log, tombstones } = host.parts();
  // Erasure is not undone: deleted streams' events are left out before either path sees them.
  const { frames, dropped } = tombstones.active
    ? withoutDeletedStreams(
        read,
        (aggregateId) => tombstones.isAggregateDeleted(aggregateId),
        (sequence) => sequence <= table.rows && !table.isRemoved(sequence - 1),
      )
    : { frames: read, dropped: 0 };
  const first = frames[0];
  if (first === undefined) return { ...newRestoreReport(read), ofDeletedStreams: dropped };
  refuseRestoredDuplicates(
    table,
    reader,
    frames,
    (row) => host.holdsId(row),
    (aggregateId) => tombstones.isAggregateDeleted(aggregateId),
  );
  if (frameSequence(first.bytes, 0) > table.rows) {
    // Recorded first: a record of events that never came back does nothing (archived-copies.ts).
    host.archivedCopies.add(archiveDir, framesByFile(frames));
    const report = { ...restoreFrames(table, log, frames), ofDeletedStreams: dropped };
    host.indexes().catchUp();
    await host.syncAndMaybeCheckpoint();
    return countHidden(host, report, [[report.firstSequence ?? 0, report.lastSequence ?? -1]]);
  }
  const { files } = newRestoreReport(frames);
  const report = await restoreBetween(host, archiveDir, frames, ({ done, total }) =>
    checked.onProgress?.({
      phase: 'rebuilding',
      files,
      filesRead: files,
      events: done,
      totalEvents: total,
    }),
  );
  report.ofDeletedStreams += dropped;
  return report;
}

/** A restore below the store's last sequence: a new log and table, wired in (see restoreInto). */
async function restoreBetween(
  host: RestoreHost,
  archiveDir: string,
  frames: readonly ArchivedFrame[],
  onProgress: (progress: MergeProgress) => void,
): Promise<RestoreReport> {
  const { table, log, tombstones } = host.parts();
  const rebuilt = await rebuildWithRestored(
    {
      table,
      log,
      dir: host.dir,
      segmentSize: host.segmentSize,
      isDeleted: (aggregateId) => tombstones.isAggregateDeleted(aggregateId),
      onProgress,
      pause: turn,
      // Recorded before the new log is swapped in: see retention/archived-copies.ts.
      beforeSwap: (ranges) => host.archivedCopies.add(archiveDir, ranges),
    },
    frames,
  );
  if (rebuilt.table === undefined) return rebuilt.report;
  const dir = host.dir;
  try {
    // From the commit point on, the new log is the store's on disk: a failure from here leaves
    // this process's table and log stale, so the store refuses writes until reopened (opening
    // finishes the swap: log-swap.ts).
    let newLog: RecordLog = rebuilt.log;
    if (dir !== undefined) {
      installStagedLog(dir);
      newLog = SegmentLog.open(dir, { segmentSize: host.segmentSize, syncOnRoll: host.syncOnRoll });
    }
    await host.swapIn(rebuilt.table, newLog, tombstones.over(rebuilt.table));
  } catch (error) {
    host.fail(error as Error);
    throw new StoreClosedError(
      `the restore could not put its new log in place (${(error as Error).message}); reopen the store, which finishes it`,
    );
  }
  if (dir !== undefined) {
    await removeStaging(dir);
    await host.checkpointInBackground();
  }
  return countHidden(host, rebuilt.report, rebuilt.ranges);
}

/** Fills in how many of the restored sequences the retention policy hides at once. */
function countHidden(
  host: RestoreHost,
  report: RestoreReport,
  ranges: readonly (readonly [number, number])[],
): RestoreReport {
  const { table, visibility } = host.parts();
  const hidden = visibility.hidden();
  if (hidden === undefined) return report;
  for (const [first, last] of ranges) {
    for (let sequence = first; sequence <= last; sequence++) {
      if (!table.isRemoved(sequence - 1) && hidden(sequence - 1)) report.hiddenByRetention++;
    }
  }
  return report;
}
