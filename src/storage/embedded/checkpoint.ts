import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { TagValue } from '../../events/types.js';
import { EventTable } from '../../table/event-table.js';
import { CHECKPOINT_FILE } from './segment-files.js';
import { syncDirectory } from './segment-log.js';

/**
 * An index checkpoint: the table's columns, dictionaries and tag postings as of a log offset, so
 * opening a store replays only the log written after it.
 *
 *   u32 magic 'TCP1' | u32 meta length | meta JSON | sections ... | u32 CRC-32 of everything before
 *
 * The built-in aggregate/type/time indexes are not stored: they are rebuilt from the columns on
 * load, which is fast and keeps the file (and the code that must agree on its format) small.
 * Written to a temporary file, fsync'ed, then renamed over the old one: a crash leaves either the
 * old checkpoint or the new one, and a damaged one is detected by its CRC and ignored.
 */
const MAGIC = 0x31504354;
const FORMAT = 2;

interface Meta {
  format: number;
  rows: number;
  logEnd: number;
  aggregates: readonly string[];
  types: readonly string[];
  tags: { key: string; values: readonly TagValue[] }[];
  /** Byte length of each section, in order. */
  sections: number[];
}

const COLUMNS = ['timestamp', 'typeId', 'aggregateId', 'version', 'recordOffset', 'recordLength'] as const;

export interface Checkpoint {
  table: EventTable;
  logEnd: number;
}

export function checkpointPath(dir: string): string {
  return join(dir, CHECKPOINT_FILE);
}

export function writeCheckpoint(dir: string, table: EventTable, logEnd: number): void {
  const rows = table.rows;
  const sections: Buffer[][] = COLUMNS.map((name) => table[name].toBuffers(rows));
  const tags: Meta['tags'] = [];
  for (const [key, index] of table.tags) {
    const values = index.values.toJSON();
    const counts = new Uint32Array(values.length);
    const all = new Uint32Array(index.postings.entries);
    let at = 0;
    for (let value = 0; value < values.length; value++) {
      const list = index.postings.rows(value);
      counts[value] = list.length;
      for (let i = 0; i < list.length; i++) all[at++] = list.at(i);
    }
    tags.push({ key, values });
    sections.push([asBuffer(counts)], [asBuffer(all)]);
  }
  const meta: Meta = {
    format: FORMAT,
    rows,
    logEnd,
    aggregates: table.aggregates.toJSON(),
    types: table.types.toJSON(),
    tags,
    sections: sections.map((parts) => parts.reduce((sum, part) => sum + part.length, 0)),
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
    const write = (bytes: Buffer) => {
      crc = crc32(bytes, crc);
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done);
    };
    write(head);
    write(metaBytes);
    for (const parts of sections) for (const part of parts) write(part);
    const tail = Buffer.alloc(4);
    tail.writeUInt32LE(crc >>> 0);
    writeSync(fd, tail);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  syncDirectory(dir);
}

interface ParsedCheckpoint {
  meta: Meta;
  bytes: Buffer;
  metaEnd: number;
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
    bytes = readFileSync(path);
  } catch (error) {
    return { unusable: `unreadable: ${(error as Error).message}` };
  }
  if (bytes.length < 12 || bytes.readUInt32LE(0) !== MAGIC) return { unusable: 'not a checkpoint file' };
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
  if (meta.format !== FORMAT) return { unusable: `format ${meta.format} is not ${FORMAT}` };
  if (meta.logEnd > logEnd) {
    return {
      unusable: `it covers the log up to offset ${meta.logEnd}, but the log ends at ${logEnd}`,
      rows: meta.rows,
    };
  }
  return { meta, bytes, metaEnd };
}

/**
 * Loads the checkpoint, or returns a reason it cannot be used (missing, damaged, or ahead of the
 * log). The caller then rebuilds from the log, so a bad checkpoint costs time, never data.
 */
export function readCheckpoint(dir: string, logEnd: number): Checkpoint | { unusable: string } {
  const parsed = parseCheckpoint(dir, logEnd);
  if ('unusable' in parsed) return parsed;
  const { meta, bytes, metaEnd } = parsed;
  const table = new EventTable();
  for (const value of meta.aggregates) table.aggregates.intern(value);
  for (const value of meta.types) table.types.intern(value);
  let at = metaEnd;
  const section = (index: number): Buffer => {
    const length = meta.sections[index] as number;
    const part = bytes.subarray(at, at + length);
    at += length;
    return part;
  };
  COLUMNS.forEach((name, i) => table[name].load(section(i), meta.rows));
  table.reindexColumns(meta.rows);
  meta.tags.forEach((tag, i) => {
    const counts = toUint32(section(COLUMNS.length + 2 * i));
    const rows = toUint32(section(COLUMNS.length + 2 * i + 1));
    table.restoreTag(tag.key, tag.values, counts, rows);
  });
  return { table, logEnd: meta.logEnd };
}

export function discardCheckpoint(dir: string): boolean {
  const path = checkpointPath(dir);
  if (!existsSync(path)) return false;
  unlinkSync(path);
  return true;
}

function asBuffer(array: Uint32Array): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}

/** Copies into a fresh, aligned Uint32Array: a file slice is not 4-byte aligned in general. */
function toUint32(bytes: Buffer): Uint32Array {
  const out = new Uint32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
