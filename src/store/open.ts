import { CorruptionError } from '../errors.js';
import { checkpointPath, readCheckpoint } from '../storage/embedded/checkpoint.js';
import { acquireLock } from '../storage/embedded/lock.js';
import { scanLog } from '../storage/embedded/log-scan.js';
import { MemoryLog } from '../storage/embedded/memory-log.js';
import { dropLeftoverSegments, readLogStart } from '../storage/embedded/log-start.js';
import { finishLogSwap } from '../storage/embedded/log-swap.js';
import { listSegments } from '../storage/embedded/segment-files.js';
import { SegmentLog } from '../storage/embedded/segment-log.js';
import { ensureStoreFile, prepareStoreDirectory } from '../storage/embedded/store-file.js';
import { EventTable } from '../table/event-table.js';
import { TableReplay } from '../table/table-replay.js';
import { EmbeddedEventStore } from './embedded-store.js';
import { cleanupInterrupted, pendingArchivedRows } from '../retention/cleanup.js';
import type { EventStore } from './event-store.js';
import { resolveOptions, type OpenOptions, type ResolvedOptions } from './options.js';
import { nameTooLong } from './path-length.js';

/**
 * Opens an event store: durable in `dir` when given, in memory otherwise.
 *
 * @example
 * const store = await openEventStore({ dir: './events', fsync: 'batch' });
 * await store.append({ aggregateId: 'issue-42', type: 'WORKFLOW.STARTED', tags: { provider: 'openai' } });
 * const started = await store.getEventsByType('WORKFLOW.STARTED', { limit: 100 });
 */
export async function openEventStore(options?: OpenOptions): Promise<EventStore> {
  const resolved = resolveOptions(options);
  if (resolved.dir === undefined) return new EmbeddedEventStore(resolved, new EventTable(), new MemoryLog());
  try {
    return await openOnDisk(resolved, resolved.dir);
  } catch (error) {
    throw nameTooLong(error, resolved.dir, 'dir');
  }
}

/**
 * Recovery: load the checkpoint if it is intact, replay the log after it, cut off a torn last frame
 * (a crash mid-write), and refuse to open on damage anywhere else, naming the file and offset.
 */
export async function openOnDisk(options: ResolvedOptions, dir: string): Promise<EmbeddedEventStore> {
  prepareStoreDirectory(dir);
  const lock = acquireLock(dir);
  let log: SegmentLog | undefined;
  let opened: { store: EmbeddedEventStore; table: EventTable; interrupted: boolean };
  try {
    ensureStoreFile(dir);
    // A restore that rebuilt the log: put the new one in place if it committed, else forget it.
    finishLogSwap(dir);
    const logStart = readLogStart(dir);
    dropLeftoverSegments(dir, logStart.firstSequence);
    log = SegmentLog.open(dir, {
      segmentSize: options.segmentSize,
      syncOnRoll: options.fsync !== 'never',
    });
    // A cleanup interrupted after archiving: replay the whole log, so every event it had archived
    // that is still there is found and removed (retention/cleanup.ts, step 3).
    const interrupted = cleanupInterrupted(dir);
    const checkpoint = interrupted ? { unusable: 'cleanup interrupted' } : readCheckpoint(dir, log.end);
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
    if (scan.problem !== undefined) {
      if (scan.problem.kind !== 'torn-tail')
        throw new CorruptionError(scan.problem.file, scan.problem.offset, scan.problem.detail);
      log.truncate(scan.end);
    }
    const store = new EmbeddedEventStore(options, table, log, { dir, log, lock, checkpointRows });
    // The cut first: an index the checkpoint holds no snapshot of is built now, over the rows that
    // stay; rows below the cut may be in segments cleanup dropped after the checkpoint was written.
    store.dropBelow(cut);
    store.indexes.openFrom('table' in checkpoint ? checkpoint.userIndexes : []);
    // A snapshot from before the cut still holds its rows.
    store.indexes.dropBelow(cut);
    opened = { store, table, interrupted };
  } catch (error) {
    log?.close();
    lock.release();
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
