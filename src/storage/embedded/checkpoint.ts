import {
  closeSync,
  existsSync,
  fstatSync,
  fsync,
  fsyncSync,
  openSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { UserIndex, type UserIndexSnapshot } from '../../indexes/user-index.js';
import { EventTable, type TableSnapshot } from '../../table/event-table.js';
import { CHECKPOINT_FILE } from './segment-files.js';
import { syncDirectory } from './segment-log.js';
import { ARRAY_KINDS, ArrayCursor, kindOf, type ArrayKind, type RawArray } from './snapshot.js';

/**
 * An index checkpoint: the table's columns, dictionaries and every index as of a log offset, so
 * opening a store replays only the log written after it.
 *
 *   u32 magic 'TCP2' | u32 meta length | meta JSON | padding to 8 | arrays, each padded to 8 | u32 CRC-32
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
  const { temporary, fd } = writeCheckpointData(dir, table, logEnd, userIndexes);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  installCheckpoint(dir, temporary);
}

/**
 * The same, with the fsync off the main thread: the bytes are written in one synchronous step (so
 * they are one consistent snapshot, whatever appends follow), then fsync'ed while the event loop
 * runs, then renamed into place. For cleanup, whose checkpoint covers a whole table.
 */
export async function writeCheckpointAsync(
  dir: string,
  table: EventTable,
  logEnd: number,
  userIndexes: readonly UserIndex[],
  /** Makes the log durable up to `logEnd`: awaited before the checkpoint may claim it. */
  logDurable: () => Promise<void>,
): Promise<void> {
  const { temporary, fd } = writeCheckpointData(dir, table, logEnd, userIndexes);
  try {
    await new Promise<void>((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));
  } finally {
    closeSync(fd);
  }
  await logDurable();
  installCheckpoint(dir, temporary);
}

function installCheckpoint(dir: string, temporary: string): void {
  renameSync(temporary, checkpointPath(dir));
  syncDirectory(dir);
}

/**
 * Writes the checkpoint to a temporary file, not yet fsync'ed; returns its path and its still open
 * descriptor, which the caller fsyncs (on this thread or off it) and closes.
 */
function writeCheckpointData(
  dir: string,
  table: EventTable,
  logEnd: number,
  userIndexes: readonly UserIndex[],
): { temporary: string; fd: number } {
  const arrays: RawArray[] = [];
  const snapshot = table.snapshot(arrays);
  const meta: Meta = {
    rows: table.rows,
    logEnd,
    table: snapshot,
    userIndexes: userIndexes.map((index) => index.snapshot(arrays)),
    arrays: arrays.map((array) => [kindOf(array), array.length]),
  };
  const metaBytes = Buffer.from(JSON.stringify(meta));
  const head = Buffer.alloc(8);
  head.writeUInt32LE(MAGIC, 0);
  head.writeUInt32LE(metaBytes.length, 4);

  const path = checkpointPath(dir);
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    let crc = 0;
    let written = 0;
    const write = (bytes: Uint8Array) => {
      // zlib.crc32 returns 0, not the running value, for a view of an empty ArrayBuffer (Node 20).
      if (bytes.length === 0) return;
      crc = crc32(bytes, crc);
      for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done);
      written += bytes.length;
    };
    const pad = () => {
      if (written % 8 !== 0) write(Buffer.alloc(8 - (written % 8)));
    };
    write(head);
    write(metaBytes);
    pad();
    for (const array of arrays) {
      write(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
      pad();
    }
    const tail = Buffer.alloc(4);
    tail.writeUInt32LE(crc >>> 0);
    writeSync(fd, tail);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return { temporary, fd };
}

/** Reads a whole file into shared memory (8-byte aligned, as SharedArrayBuffers always start). */
function readShared(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const bytes = Buffer.from(new SharedArrayBuffer(size));
    let done = 0;
    while (done < size) {
      const read = readSync(fd, bytes, done, size - done, done);
      if (read === 0) break;
      done += read;
    }
    return bytes.subarray(0, done);
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
export function readCheckpoint(dir: string, logEnd: number): Checkpoint | { unusable: string } {
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
