import { crc32 } from 'node:zlib';
import { CorruptionError } from '../../../errors.js';

/**
 * The format of `tombstones.log`: one deletion a line,
 *
 *   <CRC-32 of the JSON, 8 lowercase hex digits> <JSON>\n      JSON: {"aggregateId":"…","through":N}
 *
 * `through` is the store's last sequence when the deletion was made, made durable before the
 * tombstone was written: the tombstone is proof that the log reached it (see log-coverage.ts).
 *
 * A line is fsync'ed before `deleteAggregate` resolves, so only the last line can be torn, and only
 * by a crash mid-write, before the deletion was acknowledged: bytes after the last newline are
 * dropped (and cut off before the next deletion is written). Any other line that fails its checksum is damage, refused: a
 * changed byte must never make a live stream vanish, nor bring a deleted one back.
 *
 * Lines written by earlier versions (`{"aggregateId":"…"}`, no checksum) are still read, but only
 * in exactly the form those versions wrote: nothing can check them, so nothing else is accepted.
 */
export interface TombstoneRecord {
  aggregateId: string;
  /** The last sequence the log held, durably, when the deletion was written; undefined on old lines. */
  through?: number;
}

export interface ParsedTombstones {
  records: TombstoneRecord[];
  /** Bytes of whole, intact lines: a torn tail starts here. */
  validLength: number;
  /** A torn last line (no newline, no intact record): where it starts and how long it is. */
  torn?: { offset: number; bytes: number };
  /** How many lines are in the old format, without a checksum. */
  unchecked: number;
}

export function encodeTombstone(record: TombstoneRecord): string {
  const json = JSON.stringify(record);
  return `${checksumOf(json)} ${json}\n`;
}

function checksumOf(json: string): string {
  return crc32(Buffer.from(json, 'utf8')).toString(16).padStart(8, '0');
}

const CHECKED = /^([0-9a-f]{8}) (\{.*\})$/s;

/** The record a line holds, or why it holds none. */
function parseLine(line: string): TombstoneRecord | { unchecked: TombstoneRecord } | string {
  const checked = CHECKED.exec(line);
  if (checked === null) {
    // An old, unchecked line: accepted only exactly as the old code wrote it.
    if (!line.startsWith('{')) return 'it is not a tombstone record';
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return 'it is not a tombstone record';
    }
    const aggregateId = (value as { aggregateId?: unknown } | null)?.aggregateId;
    if (typeof aggregateId !== 'string' || JSON.stringify({ aggregateId }) !== line)
      return 'it is not a tombstone record';
    return { unchecked: { aggregateId } };
  }
  const [, crc, json] = checked as unknown as [string, string, string];
  if (checksumOf(json) !== crc) return 'it fails its CRC-32 checksum';
  let value: { aggregateId?: unknown; through?: unknown };
  try {
    value = JSON.parse(json) as typeof value;
  } catch {
    return 'its checksum matches but its JSON does not parse';
  }
  if (typeof value.aggregateId !== 'string' || value.aggregateId.length === 0)
    return 'it names no aggregateId';
  if (value.through !== undefined && !(Number.isSafeInteger(value.through) && (value.through as number) >= 0))
    return 'its "through" is not a sequence';
  return {
    aggregateId: value.aggregateId,
    ...(value.through === undefined ? {} : { through: value.through as number }),
  };
}

/**
 * Reads the file's bytes: every record, or a CorruptionError naming `path` and the byte offset of
 * the first damaged line. A torn last line is reported in `torn`, not thrown.
 */
export function parseTombstones(path: string, bytes: Buffer): ParsedTombstones {
  const parsed: ParsedTombstones = { records: [], validLength: 0, unchecked: 0 };
  let at = 0;
  let lineNumber = 0;
  while (at < bytes.length) {
    lineNumber++;
    const newline = bytes.indexOf(0x0a, at);
    // The newline ends the record: bytes after the last one are a write a crash cut short, before
    // the deletion was acknowledged (even when they happen to hold a whole record). Dropped.
    if (newline === -1) {
      parsed.torn = { offset: at, bytes: bytes.length - at };
      return parsed;
    }
    const result = parseLine(bytes.toString('utf8', at, newline));
    if (typeof result === 'string')
      throw new CorruptionError(path, at, `line ${lineNumber} of the tombstones is damaged: ${result}`);
    if ('unchecked' in result) {
      parsed.unchecked++;
      parsed.records.push(result.unchecked);
    } else {
      parsed.records.push(result);
    }
    at = newline + 1;
    parsed.validLength = at;
  }
  return parsed;
}
