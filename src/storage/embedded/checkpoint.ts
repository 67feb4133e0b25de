import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { UserIndex, type UserIndexSnapshot } from './indexes/user-index.js';
import { EventTable } from './table/event-table.js';
import type { TableSnapshot } from './table/table-snapshot.js';
import type { FieldColumnSnapshot } from './table/field-column.js';
import type { TammaError } from '../../errors.js';
import { CHECKPOINT_FILE } from './log/segment-files.js';
import { readFully } from './log/read-fully.js';
import { storageError } from './log/storage-error.js';
import { removeTemporary, removeTemporaryAsync } from './log/durable-file.js';
import { syncDirectory } from './log/segment-log.js';
import { ARRAY_KINDS, ArrayCursor, kindOf, type ArrayKind, type RawArray } from './table/snapshot.js';

/**
 * An index checkpoint: the table's columns, dictionaries and every index as of a log offset, so
 * opening a store replays only the log written after it.
 *
 *   u32 magic 'TCP2' | u32 meta length | meta JSON | padding to 8 | arrays, each padded to 8 | u32 CRC-32
 *
 * Arrays in order: the table's, the user indexes', then the field columns' (each column's number
 * chunks, then its code chunks; its dictionary is in the meta JSON). The meta's `fieldColumns` key
 * is optional, so checkpoints from before field columns still load.
 *
 * The arrays are the structures' own typed arrays, written raw; loading makes views into the file's
 * bytes (hence the alignment), so reopening costs a read and a checksum, not a rebuild. The file is
 * read into a SharedArrayBuffer, so those views stay shareable with scan workers, like the chunks a
 * live table allocates.
 * Written to a temporary file, fsync'ed, then renamed over the old one: a crash leaves either the
 * old checkpoint or the new one, and a damaged one is detected by its CRC and ignored.
 */
const MAGIC = 0x32504354;

interface Meta {
  rows: number;
  logEnd: number;
  table: TableSnapshot;
  /** User-defined indexes, each caught up with the table (their definitions live in indexes.json). */
  userIndexes?: UserIndexSnapshot[];
  /**
   * The table's field columns (table/field-columns.ts). Absent in checkpoints written before them:
   * then each is extracted again at its first use. Their arrays come last, after the user indexes',
   * so a build that does not know them reads everything before and ignores them.
   */
  fieldColumns?: FieldColumnSnapshot[];
  /** Kind and element count of each array, in file order. */
  arrays: [ArrayKind, number][];
}

export interface Checkpoint {
  table: EventTable;
  logEnd: number;
  userIndexes: UserIndex[];
}

export function checkpointPath(dir: string): string {
  return join(dir, CHECKPOINT_FILE);
}

const align8 = (n: number) => (n + 7) & ~7;

export function writeCheckpoint(
  dir: string,
  table: EventTable,
  logEnd: number,
  userIndexes: readonly UserIndex[] = [],
): void {
  const temporary = temporaryPath(dir);
  try {
    const fd = openSync(temporary, 'w');
    try {
      let crc = 0;
      for (const piece of checkpointImage(table, logEnd, userIndexes)) {
        crc = crc32(piece, crc);
        for (let done = 0; done < piece.length;) done += writeSync(fd, piece, done);
      }
      writeSync(fd, crcTail(crc));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    installCheckpoint(dir, temporary);
  } catch (error) {
    // A half-written temporary file would keep the space a full disk needs back (4 MiB and more).
    removeTemporary(temporary);
    throw checkpointError(error);
  }
}

/** A failed checkpoint costs replay time at the next open, never data: the log holds every event. */
function checkpointError(error: unknown): TammaError {
  return storageError(
    error,
    'could not write the index checkpoint; the log holds every acknowledged event and the previous checkpoint stays, ' +
      'so the next open replays more of the log; it is tried again at the next checkpoint or close',
  );
}

/** Bytes handed to the thread pool per write, and checksummed on this thread between them. */
const WRITE_BATCH = 4 * 1024 * 1024;

/**
 * The same, in the background: the snapshot is taken in one synchronous step (so it is one
 * consistent state, whatever appends follow), then checksummed here a batch at a time and written
 * and fsync'ed on the thread pool while appends and queries go on, then renamed into place.
 *
 * The step copies only what changes in place: the chunks of per-row columns wholly below the row
 * count are read where they are (EventTable.appendStableArrays), which is most of the bytes, so the
 * step costs tens of milliseconds where writing everything in it cost hundreds (at 1.2M events).
 * That holds while only appends run: whatever else changes the table or the log (a cut, a
 * compaction, a restore) first tells this to stop (`wanted` false): it stops at its next batch, or
 * before the rename, and the file is not installed. Resolves to whether it was.
 */
export async function writeCheckpointAsync(
  dir: string,
  table: EventTable,
  logEnd: number,
  userIndexes: readonly UserIndex[],
  /** Makes the log durable up to `logEnd`: awaited before the checkpoint may claim it. */
  logDurable: () => Promise<void>,
  /** Asked between batches and before the rename: false stops, and the file is not installed. */
  wanted: () => boolean = () => true,
): Promise<boolean> {
  const pieces = checkpointImage(table, logEnd, userIndexes, table.appendStableArrays());
  const temporary = temporaryPath(dir);
  let complete = false;
  try {
    complete = await writeCheckpointFile(temporary, pieces, wanted);
    if (complete) await logDurable();
  } catch (error) {
    await removeTemporaryAsync(temporary);
    throw checkpointError(error);
  }
  // Nothing awaited from here on: what abandons this sees it either installed or not at all.
  if (!complete || !wanted()) {
    await rm(temporary, { force: true });
    return false;
  }
  try {
    installCheckpoint(dir, temporary);
  } catch (error) {
    removeTemporary(temporary);
    throw checkpointError(error);
  }
  return true;
}

/** Writes the pieces and their CRC to `temporary`, fsync'ed; false when `wanted` stopped it first. */
async function writeCheckpointFile(
  temporary: string,
  pieces: readonly Uint8Array[],
  wanted: () => boolean,
): Promise<boolean> {
  const file = await open(temporary, 'w');
  let complete = false;
  try {
    let crc = 0;
    for (let from = 0; from < pieces.length;) {
      if (!wanted()) break;
      let bytes = 0;
      let to = from;
      while (to < pieces.length && (to === from || bytes + (pieces[to] as Uint8Array).length <= WRITE_BATCH))
        bytes += (pieces[to++] as Uint8Array).length;
      const batch = pieces.slice(from, to);
      for (const piece of batch) crc = crc32(piece, crc);
      for (let written = 0; written < bytes;) {
        const { bytesWritten } = await file.writev(unwritten(batch, written));
        written += bytesWritten;
      }
      from = to;
    }
    if (wanted()) {
      await file.write(crcTail(crc));
      await file.sync();
      complete = true;
    }
  } finally {
    await file.close();
  }
  return complete;
}

/** The pieces of `batch` after its first `written` bytes (writev may write fewer than asked). */
function unwritten(batch: readonly Uint8Array[], written: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let skip = written;
  for (const piece of batch) {
    if (skip >= piece.length) {
      skip -= piece.length;
      continue;
    }
    out.push(skip > 0 ? piece.subarray(skip) : piece);
    skip = 0;
  }
  return out;
}

const temporaryPath = (dir: string) => `${checkpointPath(dir)}.tmp`;

function crcTail(crc: number): Buffer {
  const tail = Buffer.alloc(4);
  tail.writeUInt32LE(crc >>> 0);
  return tail;
}

function installCheckpoint(dir: string, temporary: string): void {
  renameSync(temporary, checkpointPath(dir));
  syncDirectory(dir);
}

/**
 * The checkpoint's bytes up to its CRC, in file order, as pieces: the header and metadata, then
 * each array, with padding to 8 bytes between. Arrays are the structures' own (no copy), except,
 * when `stable` is given, those not in it: copied, so that appends after this call cannot change
 * them while the pieces are written in the background.
 */
function checkpointImage(
  table: EventTable,
  logEnd: number,
  userIndexes: readonly UserIndex[],
  stable?: ReadonlySet<RawArray>,
): Uint8Array[] {
  const arrays: RawArray[] = [];
  const snapshot = table.snapshot(arrays);
  const meta: Meta = {
    rows: table.rows,
    logEnd,
    table: snapshot,
    userIndexes: userIndexes.map((index) => index.snapshot(arrays)),
    fieldColumns: table.fieldColumns.snapshot(arrays),
    arrays: arrays.map((array) => [kindOf(array), array.length]),
  };
  const metaBytes = Buffer.from(JSON.stringify(meta));
  const head = Buffer.alloc(8);
  head.writeUInt32LE(MAGIC, 0);
  head.writeUInt32LE(metaBytes.length, 4);
  const pieces: Uint8Array[] = [];
  let length = 0;
  const add = (bytes: Uint8Array) => {
    // zlib.crc32 returns 0, not the running value, for a view of an empty ArrayBuffer (Node 20).
    if (bytes.length === 0) return;
    pieces.push(bytes);
    length += bytes.length;
  };
  const pad = () => {
    if (length % 8 !== 0) add(Buffer.alloc(8 - (length % 8)));
  };
  add(head);
  add(metaBytes);
  pad();
  for (const array of arrays) {
    const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
    add(stable === undefined || stable.has(array) ? bytes : bytes.slice());
    pad();
  }
  return pieces;
}

/** Reads a whole file into shared memory (8-byte aligned, as SharedArrayBuffers always start). */
function readShared(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const bytes = Buffer.from(new SharedArrayBuffer(size));
    return bytes.subarray(0, readFully(fd, bytes, size, 0));
  } finally {
    closeSync(fd);
  }
}

interface ParsedCheckpoint {
  meta: Meta;
  bytes: Buffer;
  arraysStart: number;
}

/** Reads and checks the checkpoint file without building anything from it: for verify. */
export function parseCheckpoint(
  dir: string,
  logEnd: number,
): ParsedCheckpoint | { unusable: string; rows?: number } {
  const path = checkpointPath(dir);
  if (!existsSync(path)) return { unusable: 'none' };
  let bytes: Buffer;
  try {
    bytes = readShared(path);
  } catch (error) {
    return { unusable: `unreadable: ${(error as Error).message}` };
  }
  if (bytes.length < 12 || bytes.readUInt32LE(0) !== MAGIC)
    return { unusable: 'not a checkpoint of this format' };
  if (crc32(bytes.subarray(0, bytes.length - 4)) !== bytes.readUInt32LE(bytes.length - 4)) {
    return { unusable: 'checksum mismatch' };
  }
  let meta: Meta;
  const metaEnd = 8 + bytes.readUInt32LE(4);
  try {
    meta = JSON.parse(bytes.toString('utf8', 8, metaEnd)) as Meta;
  } catch {
    return { unusable: 'unreadable metadata' };
  }
  if (meta.logEnd > logEnd) {
    return {
      unusable: `it covers the log up to offset ${meta.logEnd}, but the log ends at ${logEnd}`,
      rows: meta.rows,
    };
  }
  return { meta, bytes, arraysStart: align8(metaEnd) };
}

/**
 * Loads the checkpoint, or returns a reason it cannot be used (missing, damaged, or ahead of the
 * log). The caller then rebuilds from the log, so a bad checkpoint costs time, never data.
 */
export function readCheckpoint(
  dir: string,
  logEnd: number,
): Checkpoint | { unusable: string; rows?: number } {
  const parsed = parseCheckpoint(dir, logEnd);
  if ('unusable' in parsed) return parsed;
  const { meta, bytes, arraysStart } = parsed;
  let at = arraysStart;
  const arrays = meta.arrays.map(([kind, length]) => {
    const Type: new (buffer: SharedArrayBuffer, offset: number, length: number) => RawArray =
      ARRAY_KINDS[kind];
    const array = new Type(bytes.buffer as SharedArrayBuffer, bytes.byteOffset + at, length);
    at = align8(at + array.byteLength);
    return array;
  });
  try {
    const cursor = new ArrayCursor(arrays);
    const table = EventTable.restore(meta.table, cursor);
    const userIndexes = (meta.userIndexes ?? []).map((index) => UserIndex.restore(index, cursor));
    // A field column that does not check throws: the checkpoint is refused and the store rebuilt
    // from the log (its columns then extracted again at first use), never read back wrong.
    table.fieldColumns.restore(meta.fieldColumns ?? [], cursor, table.rows);
    return { table, logEnd: meta.logEnd, userIndexes };
  } catch (error) {
    return { unusable: `does not match this build (${(error as Error).message})` };
  }
}

export function discardCheckpoint(dir: string): boolean {
  const path = checkpointPath(dir);
  if (!existsSync(path)) return false;
  unlinkSync(path);
  return true;
}
