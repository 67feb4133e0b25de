import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptionError, TammaError } from '../../errors.js';
import type { UserIndex } from './indexes/user-index.js';
import { cleanupInterrupted } from './retention/cleanup-intent.js';
import { TOMBSTONE_FILE } from './retention/tombstones.js';
import { checkpointPath, readCheckpoint } from './checkpoint.js';
import { scanLog, type ScannedFrame } from './log/log-scan.js';
import { leftoverSegments, readLogStart } from './log/log-start.js';
import { logHome } from './log/log-swap.js';
import { INDEX_CATALOG_FILE, LOG_DIR, STORE_FILE, listSegments } from './log/segment-files.js';
import { SegmentLog } from './log/segment-log.js';
import { ensureStoreFile } from './log/store-file.js';
import { EventTable } from './table/event-table.js';
import { TableReplay } from './table/table-replay.js';

/**
 * A read-only store (`openEventStore({ dir, readOnly: true })`) beside a writer in another process.
 * It takes no lock and never changes a file: it reads the store's files as they are, and follows
 * the writer from there.
 *
 * What the writer does, and how a reader keeps a consistent view:
 * - Appends only add bytes at the log's end. A frame being written looks torn: the reader stops at
 *   the last intact frame and reads on from there at the next refresh (nothing is truncated).
 * - Everything else replaces files: cleanup rewrites sealed segments (a new file renamed over the
 *   old), drops segments from the front, records a new log start, appends tombstones; a restore
 *   swaps the log; createIndex rewrites indexes.json. The reader holds descriptors of the segment
 *   files it read, so its view stays whole (an unlinked or replaced file keeps its contents for an
 *   open descriptor). Each of these changes a file's identity (inode, size or mtime) that the reader
 *   noted (FileStamps): when any differs, it loads the store afresh into a new table and swaps it
 *   in, as a restore does in the writer.
 * - New frames are read into memory first and added to the table only if no such change happened
 *   while they were read, so a table queries use never holds rows from a file it did not open.
 */

/** What a read-only store loaded: a table over a log whose descriptors it holds. */
export interface ReadOnlySnapshot {
  table: EventTable;
  log: SegmentLog;
  /** The checkpoint's user index snapshots (the index manager restores from them). */
  userIndexes: readonly UserIndex[];
  /** Rows below it were removed in place (log-start.ts removedBefore); replay skips them. */
  cut: number;
  /** Rows the checkpoint covered. */
  checkpointRows: number;
  stamps: string;
}

/** Loading retries this often when the writer replaced files meanwhile, then gives up. */
const LOAD_ATTEMPTS = 5;
/** New frames a refresh reads into memory before it adds them; past this it loads afresh. */
const FOLLOW_BUFFER = 64 * 1024 * 1024;

/** Refuses a directory that holds no store: a read-only open never creates one. */
export function requireStoreForReading(dir: string): void {
  if (!existsSync(join(dir, STORE_FILE))) {
    throw new TammaError(
      'NOT_A_STORE',
      `dir: ${dir} holds no Tamma Events store (no ${STORE_FILE}); a read-only open never creates one`,
    );
  }
  ensureStoreFile(dir);
}

/** Loads the store's files as they are, retrying while the writer replaces some of them. */
export function loadSnapshot(dir: string, verifyOnOpen: boolean): ReadOnlySnapshot {
  for (let attempt = 1; ; attempt++) {
    const before = stampFiles(dir);
    let snapshot: ReadOnlySnapshot | undefined;
    try {
      snapshot = loadOnce(dir, verifyOnOpen, before);
    } catch (error) {
      // A file replaced or removed under the load (ENOENT, or a frame that no longer follows on)
      // is the writer's doing when the stamps moved: load again. Otherwise it is real.
      if (stampFiles(dir) === before || attempt >= LOAD_ATTEMPTS) throw error;
      continue;
    }
    if (stampFiles(dir) === before && snapshot.log.sameFiles()) return snapshot;
    snapshot.log.close();
    if (attempt >= LOAD_ATTEMPTS) {
      throw new TammaError(
        'STORE_BUSY',
        `the writer of ${dir} kept replacing files while this read-only store loaded them (${attempt} tries); try again`,
      );
    }
  }
}

function loadOnce(dir: string, verifyOnOpen: boolean, stamps: string): ReadOnlySnapshot {
  // A restore's new log, committed but not yet moved in place, is the one the writer's next open uses.
  const home = logHome(dir);
  const logStart = readLogStart(home);
  const leftovers = new Set(leftoverSegments(home, logStart.firstSequence).map((file) => file.path));
  const files = listSegments(home).filter((file) => !leftovers.has(file.path));
  const last = files.at(-1);
  // Opened before the scan: the stamps taken around it prove these are the files it read.
  const log = SegmentLog.openReadOnly(
    dir,
    files,
    last === undefined ? 0 : last.base + statSync(last.path).size,
  );
  try {
    // A cleanup interrupted after archiving is finished by the writer's next open; until then every
    // event it had not yet removed is still in the log, and the checkpoint may not describe it.
    const checkpoint =
      cleanupInterrupted(dir) || home !== dir
        ? { unusable: 'cleanup interrupted' }
        : readCheckpoint(dir, log.end);
    const table = 'table' in checkpoint ? checkpoint.table : new EventTable();
    const checkpointRows = table.rows;
    const checkpointEnd = 'table' in checkpoint ? checkpoint.logEnd : 0;
    table.skipTo(logStart.firstSequence - 1);
    const cut = logStart.removedBefore - 1;
    const scanFrom = verifyOnOpen ? 0 : checkpointEnd;
    const firstExpected = scanFrom === 0 ? logStart.firstSequence : table.rows + 1;
    const replay = new TableReplay(table);
    const scan = scanLog(files, scanFrom, firstExpected, (frame) => {
      if (frame.offset < checkpointEnd) return;
      if (frame.firstSequence !== table.rows + 1) {
        throw new CorruptionError(
          checkpointPath(dir),
          0,
          `the checkpoint ends at sequence ${table.rows} but the log continues at ${frame.firstSequence}`,
        );
      }
      addFrame(table, replay, frame, cut);
    });
    // A torn tail may be a frame the writer is writing now: read up to it, and on from it later.
    if (scan.problem !== undefined && scan.problem.kind !== 'torn-tail')
      throw new CorruptionError(scan.problem.file, scan.problem.offset, scan.problem.detail);
    log.follow(files, scan.end);
    return {
      table,
      log,
      userIndexes: 'table' in checkpoint ? checkpoint.userIndexes : [],
      cut,
      checkpointRows,
      stamps,
    };
  } catch (error) {
    log.close();
    throw error;
  }
}

function addFrame(
  table: EventTable,
  replay: TableReplay,
  frame: Pick<ScannedFrame, 'bytes' | 'count' | 'offset' | 'firstSequence' | 'span'>,
  cut: number,
): void {
  const end = frame.firstSequence - 1 + frame.span;
  if (end > cut) replay.addFrame(frame.bytes, frame.count, frame.offset);
  table.skipTo(end);
}

/**
 * Reads the frames the writer appended after `log.end` and adds them to `table`, or says that the
 * store must be loaded afresh: the writer replaced a file (see the top of this file), or appended
 * more than a refresh holds in memory. Returns how many events it added, or 'reload'.
 */
export function followAppends(
  dir: string,
  table: EventTable,
  log: SegmentLog,
  snapshot: Pick<ReadOnlySnapshot, 'stamps' | 'cut'>,
): number | 'reload' {
  const unchanged = () => stampFiles(dir) === snapshot.stamps && log.sameFiles();
  if (!unchanged()) return 'reload';
  const files = listSegments(logHome(dir));
  const frames: Pick<ScannedFrame, 'bytes' | 'count' | 'offset' | 'firstSequence' | 'span'>[] = [];
  let buffered = 0;
  let scan: ReturnType<typeof scanLog>;
  try {
    scan = scanLog(files, log.end, table.rows + 1, (frame) => {
      buffered += frame.bytes.length;
      if (buffered > FOLLOW_BUFFER) throw new FollowOverflow();
      frames.push({ ...frame, bytes: Buffer.from(frame.bytes) });
    });
  } catch (error) {
    // Too much to hold, or a file gone under the scan: a fresh load sorts it out.
    if (error instanceof FollowOverflow || !unchanged()) return 'reload';
    throw error;
  }
  // Checked again after reading: frames read from a file the writer replaced meanwhile are not used.
  if (!unchanged()) return 'reload';
  if (scan.problem !== undefined && scan.problem.kind !== 'torn-tail')
    throw new CorruptionError(scan.problem.file, scan.problem.offset, scan.problem.detail);
  const before = table.rows;
  const replay = new TableReplay(table);
  for (const frame of frames) addFrame(table, replay, frame, snapshot.cut);
  log.follow(files, scan.end);
  return table.rows - before;
}

/** Thrown out of a scan that read more new frames than a refresh holds in memory. */
export class FollowOverflow extends Error {}

/**
 * The identity of every file besides the segments whose change means "load afresh": the log start
 * record, the tombstones, the index catalog, the cleanup intent and the restored-copies record.
 * (The segments the reader holds are checked by SegmentLog.sameFiles; new ones are the writer's
 * appends.)
 */
export function stampFiles(dir: string): string {
  return [
    `home:${logHome(dir)}`,
    ...[join(LOG_DIR, 'start.json'), TOMBSTONE_FILE, INDEX_CATALOG_FILE, 'cleanup.json', 'restored.json'].map(
      (name) => `${name}:${identity(join(dir, name))}`,
    ),
  ].join('|');
}

function identity(path: string): string {
  try {
    const stat = statSync(path);
    return `${stat.ino}/${stat.size}/${stat.mtimeMs}`;
  } catch {
    return 'none';
  }
}
