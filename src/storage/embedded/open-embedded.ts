import { CorruptionError } from '../../errors.js';
import { checkpointPath, readCheckpoint } from './checkpoint.js';
import { acquireLock } from './log/lock.js';
import { scanLog } from './log/log-scan.js';
import { MemoryLog } from './log/memory-log.js';
import { dropLeftoverSegments, logStartPath, readLogStart } from './log/log-start.js';
import { finishLogSwap } from './log/log-swap.js';
import { removeStaleTemporaries } from './log/durable-file.js';
import { durableClaims, lostEvents, lostEventsError } from './recovery/log-coverage.js';
import {
  keepLostSequences,
  logEnding,
  RebuildWithoutCheckpoint,
  type OpenRecovery,
} from './recovery/open-recovery.js';
import { listSegments } from './log/segment-files.js';
import { SegmentLog } from './log/segment-log.js';
import { ensureStoreFile, prepareStoreDirectory, refuseForeignDirectory } from './log/store-file.js';
import { EventTable } from './table/event-table.js';
import { TableReplay } from './table/table-replay.js';
import { EmbeddedEngine } from './embedded-engine.js';
import { openReadOnly } from './open-read-only.js';
import { cleanupInterrupted, pendingArchivedRows } from './retention/cleanup-intent.js';
import type { ResolvedOptions } from './embedded-options.js';
import type { EngineContext } from '../storage-engine.js';
import { nameTooLong } from '../../support/path-length.js';
import { WriteGate } from '../../support/write-gate.js';

/**
 * Opens the embedded engine: durable in `dir` when given, in memory otherwise; read-only beside a
 * writer with `readOnly`.
 */
export async function openEmbeddedEngine(
  resolved: ResolvedOptions,
  context: EngineContext,
): Promise<EmbeddedEngine> {
  if (resolved.dir === undefined)
    return new EmbeddedEngine(resolved, context, new EventTable(), new MemoryLog());
  try {
    if (resolved.readOnly) return openReadOnly(resolved, context, resolved.dir);
    return await openOnDisk(resolved, context, resolved.dir);
  } catch (error) {
    throw nameTooLong(error, resolved.dir, 'dir');
  }
}

/** A context for an engine opened with no store around it (verify and repair open one to check it). */
export function standaloneContext(options: ResolvedOptions): EngineContext {
  return {
    clock: options.clock,
    retention: options.retention,
    maxEventSize: options.maxEventSize,
    fail: () => undefined,
    writeGate: new WriteGate(),
  };
}

/**
 * Recovery: load the checkpoint if it is intact, replay the log after it, cut off a torn last frame
 * (a crash mid-write), and refuse to open on damage anywhere else, naming the file and offset.
 */
export async function openOnDisk(
  options: ResolvedOptions,
  context: EngineContext,
  dir: string,
  /** Set when recovery must rebuild without the checkpoint (it covers lost frames): its row count. */
  rebuild?: { checkpointRows: number },
): Promise<EmbeddedEngine> {
  prepareStoreDirectory(dir);
  const lock = acquireLock(dir);
  let log: SegmentLog | undefined;
  let opened: { store: EmbeddedEngine; table: EventTable; interrupted: boolean };
  try {
    refuseForeignDirectory(dir);
    ensureStoreFile(dir);
    // A restore that rebuilt the log: put the new one in place if it committed, else forget it.
    finishLogSwap(dir);
    // Temporary files of writes a crash or a full disk cut short: nothing refers to them.
    removeStaleTemporaries(dir);
    const logStart = readLogStart(dir);
    dropLeftoverSegments(dir, logStart.firstSequence);
    log = SegmentLog.open(dir, {
      segmentSize: options.segmentSize,
      syncOnRoll: options.fsync !== 'never',
    });
    // A cleanup interrupted after archiving: replay the whole log, so every event it had archived
    // that is still there is found and removed (retention/cleanup.ts, step 3).
    const interrupted = cleanupInterrupted(dir);
    const checkpoint =
      interrupted || rebuild !== undefined ? { unusable: 'not used' } : readCheckpoint(dir, log.end);
    // What the checkpoint proves the log reached, when its checksum holds (log-coverage.ts).
    const checkpointClaim =
      rebuild?.checkpointRows ?? ('table' in checkpoint ? checkpoint.table.rows : checkpoint.rows);
    const table = 'table' in checkpoint ? checkpoint.table : new EventTable();
    const checkpointRows = table.rows;
    const checkpointEnd = 'table' in checkpoint ? checkpoint.logEnd : 0;
    // With verifyOnOpen, the frames the checkpoint covers are read too, only to check their CRCs:
    // damage anywhere in the log is found now, not by some later read.
    const replay = new TableReplay(table);
    const scanFrom = options.verifyOnOpen ? 0 : checkpointEnd;
    // Cleanup may have dropped the log's front: its first frame is then at the recorded start. The
    // segments it dropped held only removed events, also those dropped after the checkpoint was written.
    table.skipTo(logStart.firstSequence - 1);
    // Events cut in place (log-start.ts removedBefore): whole frames of them need no replay.
    const cut = logStart.removedBefore - 1;
    const firstExpected = scanFrom === 0 ? logStart.firstSequence : table.rows + 1;
    const scan = scanLog(listSegments(dir), scanFrom, firstExpected, (frame) => {
      if (frame.offset < checkpointEnd) return;
      if (frame.firstSequence !== table.rows + 1) {
        throw new CorruptionError(
          checkpointPath(dir),
          0,
          `the checkpoint ends at sequence ${table.rows} but the log continues at ${frame.firstSequence}; delete checkpoint.bin to rebuild`,
        );
      }
      const end = frame.firstSequence - 1 + frame.span;
      if (end > cut) replay.addFrame(frame.bytes, frame.count, frame.offset);
      table.skipTo(end);
    });
    // Events below removedBefore are hidden as removed: a record that says so of events past the
    // log's end is wrong (a changed digit), and believing it would hide intact events. Checked
    // before the loss check below, which would otherwise take the record as proof of lost events.
    if (logStart.removedBefore > scan.lastSequence + 1 && scan.problem === undefined) {
      throw new CorruptionError(
        logStartPath(dir),
        0,
        `the log start record says events before sequence ${logStart.removedBefore} are removed, but the log ends at sequence ${scan.lastSequence}`,
      );
    }
    // Before anything is cut: does a durable record prove the log went on past where it now ends?
    const lost = lostEvents(
      durableClaims(dir, logStart, checkpointClaim),
      scan.lastSequence,
      logEnding(dir, scan),
    );
    if (lost !== undefined && options.recover !== 'truncate') throw lostEventsError(lost);
    if (scan.problem !== undefined && scan.problem.kind !== 'torn-tail')
      throw new CorruptionError(scan.problem.file, scan.problem.offset, scan.problem.detail);
    // The checkpoint's table holds rows of the lost frames: rebuild from the log without it.
    if (lost !== undefined && table.rows > scan.lastSequence) throw new RebuildWithoutCheckpoint(table.rows);
    const recovery: OpenRecovery = { tornTails: [], lost: null };
    if (scan.problem !== undefined) {
      recovery.tornTails.push({
        file: scan.problem.file,
        offset: scan.problem.offset,
        bytes: log.end - scan.end,
      });
      log.truncate(scan.end);
    }
    if (lost !== undefined) {
      recovery.lost = keepLostSequences(dir, log, table, lost);
    }
    const store = new EmbeddedEngine(options, context, table, log, {
      dir,
      log,
      lock,
      checkpointRows: lost === undefined ? checkpointRows : 0,
      recovery,
    });
    // The cut first: an index the checkpoint holds no snapshot of is built now, over the rows that
    // stay; rows below the cut may be in segments cleanup dropped after the checkpoint was written.
    store.openIndexes(cut, 'table' in checkpoint ? checkpoint.userIndexes : []);
    opened = { store, table, interrupted };
  } catch (error) {
    log?.close();
    lock.release();
    if (error instanceof RebuildWithoutCheckpoint)
      return openOnDisk(options, context, dir, { checkpointRows: error.rows });
    throw error;
  }
  if (opened.interrupted) {
    try {
      await opened.store.finishInterruptedCleanup(pendingArchivedRows(dir, opened.table));
    } catch (error) {
      await opened.store.close().catch(() => undefined);
      throw error;
    }
  }
  return opened.store;
}
