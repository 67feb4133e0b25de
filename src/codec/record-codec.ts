import { Packr, Unpackr } from 'msgpackr';
import { EventTooLargeError, ValidationError } from '../errors.js';
import type { ValidEvent } from '../events/validate.js';
import type { Tags } from '../events/types.js';
import { readString, writeUtf8 } from './utf8.js';
import { TAG_NUMBER, TAG_STRING, maxTagBytes, readTags, writeTags, type TagsWritten } from './tag-codec.js';

/**
 * One event's bytes in the log. Fixed header first, so recovery can rebuild the indexes by reading
 * the header, the names and the tags without decoding payloads:
 *
 *   0  f64  timestamp (epoch ms)
 *   8  u32  version within the aggregate
 *  12  u16  id length        14 u16 aggregateId length    16 u16 type length
 *  18  u32  tags length (see tag-codec.ts; 0 = no tags)
 *  22  u32  body length (msgpack of [payload, metadata])
 *  26  u8   flags: bit 0 = id, aggregateId and type are all ASCII; bit 1 = tag strings are (ASCII
 *           decodes as Latin-1, at half the cost of UTF-8); bit 2 = the body holds an object key
 *           `__proto__` (decoded separately: see decodeProtoKeys)
 *  27  id, aggregateId, type (UTF-8), tags, body
 *
 * msgpack over JSON: it encodes and decodes these shapes faster and smaller (see bench notes).
 */
export const RECORD_HEADER = 27;
const ASCII_NAMES = 1;
const ASCII_TAGS = 2;
const PROTO_KEYS = 4;

const packr = new Packr({ useRecords: false, mapsAsObjects: true });
/**
 * For a body with an object of more than 65,535 keys, which the fast encoder's 16-bit map header
 * cannot count (validation flags it). Its output is plain msgpack that `packr` decodes too.
 */
const largeMapPackr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true });
/**
 * msgpackr decodes a key `__proto__` as `__proto_` (to keep it from setting the prototype). A body
 * flagged PROTO_KEYS is decoded to Maps instead, and rebuilt with `__proto__` as an own data
 * property, as JSON.parse makes it.
 */
const mapUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: false });

function fromMaps(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromMaps);
  if (!(value instanceof Map)) return value;
  const object: Record<string, unknown> = {};
  for (const [key, item] of value as Map<string, unknown>) {
    Object.defineProperty(object, key, {
      value: fromMaps(item),
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  return object;
}

export interface DecodedHeader {
  timestamp: number;
  version: number;
  aggregateId: string;
  type: string;
  tags: Tags;
}

export interface DecodedBody {
  id: string;
  tags: Tags;
  payload: unknown;
  metadata: Record<string, unknown>;
}

/**
 * The most bytes one frame (one append's batch) may take: its header stores the body's length in
 * 32 bits, and a Node 20 Buffer holds at most 4 GiB. A bigger batch is refused before anything is
 * written, with a coded error, rather than failing with a raw RangeError halfway through encoding.
 */
export const FRAME_BYTES_LIMIT = 0xffffffff;

/** Past this, the scratch buffer is let go after its frame is written: one huge batch must not pin it. */
const KEEP_BYTES = 64 * 1024 * 1024;
const INITIAL_BYTES = 1 << 20;

/** A growable scratch buffer that a whole frame is encoded into, then written with one syscall. */
export class RecordWriter {
  buffer = Buffer.allocUnsafe(INITIAL_BYTES);
  length = 0;
  private readonly tagsWritten: TagsWritten = { bytes: 0, ascii: true };

  ensure(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    if (needed > FRAME_BYTES_LIMIT) {
      throw new ValidationError(
        'events',
        `the batch needs over ${FRAME_BYTES_LIMIT} bytes encoded, more than one append (one log frame) ` +
          'can hold; split it into smaller appends. Nothing was written',
        'BATCH_TOO_LARGE',
      );
    }
    let size = this.buffer.length;
    while (size < needed) size = Math.min(size * 2, FRAME_BYTES_LIMIT);
    const grown = Buffer.allocUnsafe(size);
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  /** Starts a new frame at `length`; a buffer one huge batch grew is let go first. */
  reset(length = 0): void {
    if (this.buffer.length > KEEP_BYTES) this.buffer = Buffer.allocUnsafe(INITIAL_BYTES);
    this.length = length;
  }

  /** Appends one record; returns its length. Throws EventTooLargeError (naming `path`) past `maxSize`. */
  writeRecord(event: ValidEvent, version: number, maxSize: number, path: string): number {
    const body = (event.largeMaps === true ? largeMapPackr : packr).pack([event.payload, event.metadata]);
    const { id, aggregateId, type } = event;
    // Reserve the UTF-8 worst case (3 bytes per UTF-16 unit) and measure what was written, rather
    // than measure each string first: one pass over each string instead of two.
    this.ensure(
      RECORD_HEADER +
        3 * (id.length + aggregateId.length + type.length) +
        maxTagBytes(event.tags) +
        body.length,
    );
    const b = this.buffer;
    const start = this.length;
    let at = start + RECORD_HEADER;
    const idBytes = writeUtf8(b, id, at);
    at += idBytes;
    const aggregateBytes = writeUtf8(b, aggregateId, at);
    at += aggregateBytes;
    const typeBytes = writeUtf8(b, type, at);
    at += typeBytes;
    const tags = this.tagsWritten;
    writeTags(b, at, event.tags, tags);
    const tagsLength = tags.bytes;
    at += tagsLength;
    const size = at - start + body.length;
    if (size > maxSize) throw new EventTooLargeError(path, size, maxSize);
    body.copy(b, at);
    b.writeDoubleLE(event.timestamp, start);
    b.writeUInt32LE(version, start + 8);
    b.writeUInt16LE(idBytes, start + 12);
    b.writeUInt16LE(aggregateBytes, start + 14);
    b.writeUInt16LE(typeBytes, start + 16);
    b.writeUInt32LE(tagsLength, start + 18);
    b.writeUInt32LE(body.length, start + 22);
    const ascii = idBytes === id.length && aggregateBytes === aggregateId.length && typeBytes === type.length;
    b[start + 26] =
      (ascii ? ASCII_NAMES : 0) | (tags.ascii ? ASCII_TAGS : 0) | (event.protoKeys === true ? PROTO_KEYS : 0);
    this.length += size;
    return size;
  }
}

function asciiNames(record: Buffer): boolean {
  return ((record[26] as number) & ASCII_NAMES) !== 0;
}

function asciiTags(record: Buffer): boolean {
  return ((record[26] as number) & ASCII_TAGS) !== 0;
}

const NO_TAGS: Tags = Object.freeze({}) as Tags;

/** Reads what the indexes need (no id, payload or metadata): the rebuild path. */
export function decodeHeader(record: Buffer): DecodedHeader {
  const aggregateLength = record.readUInt16LE(14);
  const typeLength = record.readUInt16LE(16);
  const tagsLength = record.readUInt32LE(18);
  const ascii = asciiNames(record);
  let at = RECORD_HEADER + record.readUInt16LE(12);
  const aggregateId = readString(record, at, (at += aggregateLength), ascii);
  const type = readString(record, at, (at += typeLength), ascii);
  const tags = tagsLength === 0 ? NO_TAGS : readTags(record, at, at + tagsLength, asciiTags(record));
  return { timestamp: record.readDoubleLE(0), version: record.readUInt32LE(8), aggregateId, type, tags };
}

/**
 * Where one record's index fields lie, for replay: filled in place by readReplayFields, so a rebuild
 * allocates nothing per record and makes no string for a name it has seen before (the reader interns
 * straight from the bytes; see table/table-replay.ts). Positions are offsets into the view read.
 */
export class ReplayFields {
  timestamp = 0;
  version = 0;
  aggregateStart = 0;
  aggregateEnd = 0;
  typeStart = 0;
  typeEnd = 0;
  tagsStart = 0;
  tagsEnd = 0;
}

/**
 * Reads the header of the record at `view[start..]` into `into`. A DataView over the frame rather
 * than the Buffer: its unaligned multi-byte reads compile to single loads.
 */
export function readReplayFields(view: DataView, start: number, into: ReplayFields): void {
  into.timestamp = view.getFloat64(start, true);
  into.version = view.getUint32(start + 8, true);
  let at = start + RECORD_HEADER + view.getUint16(start + 12, true);
  into.aggregateStart = at;
  into.aggregateEnd = at += view.getUint16(start + 14, true);
  into.typeStart = at;
  into.typeEnd = at += view.getUint16(start + 16, true);
  into.tagsStart = at;
  into.tagsEnd = at + view.getUint32(start + 18, true);
}

/** One encoded tag, located by readReplayTag. */
export class ReplayTag {
  keyStart = 0;
  keyEnd = 0;
  /** TAG_STRING, TAG_NUMBER, TAG_TRUE, or anything else for false. */
  kind = 0;
  /** A string value's bytes. */
  valueStart = 0;
  valueEnd = 0;
  /** A number's value. */
  number = 0;
}

/**
 * Locates the tag encoded at `view[at..]` (from ReplayFields' tagsStart, before its tagsEnd) into
 * `into`; returns where the next one starts.
 */
export function readReplayTag(view: DataView, at: number, into: ReplayTag): number {
  into.keyStart = at + 2;
  at = into.keyEnd = at + 2 + view.getUint16(at, true);
  const kind = view.getUint8(at);
  into.kind = kind;
  if (kind === TAG_STRING) {
    into.valueStart = at + 5;
    return (into.valueEnd = at + 5 + view.getUint32(at + 1, true));
  }
  if (kind === TAG_NUMBER) {
    into.number = view.getFloat64(at + 1, true);
    return at + 9;
  }
  return at + 1;
}

/** Reads the parts a StoredEvent needs beyond the columns: id, tags, payload, metadata. */
export function decodeBody(record: Buffer): DecodedBody {
  const idLength = record.readUInt16LE(12);
  const skip = record.readUInt16LE(14) + record.readUInt16LE(16);
  const tagsLength = record.readUInt32LE(18);
  const bodyLength = record.readUInt32LE(22);
  let at = RECORD_HEADER;
  const id = readString(record, at, (at += idLength), asciiNames(record));
  at += skip;
  const tags = tagsLength === 0 ? {} : readTags(record, at, at + tagsLength, asciiTags(record));
  at += tagsLength;
  const bytes = record.subarray(at, at + bodyLength);
  const [payload, metadata] = (
    ((record[26] as number) & PROTO_KEYS) === 0 ? packr.unpack(bytes) : fromMaps(mapUnpackr.unpack(bytes))
  ) as [unknown, Record<string, unknown>];
  return { id, tags, payload, metadata };
}

/**
 * One msgpack value cut out of a record's body (an object or array inside a payload): decoded with
 * the options the body is decoded with, so it comes out as it does inside decodeBody. Not for a
 * body flagged PROTO_KEYS (see record-field.ts, which decodes those whole).
 */
export function decodeMsgpackValue(bytes: Buffer): unknown {
  return packr.unpack(bytes);
}

/** Reads just the id: for idempotent-retry checks. */
export function decodeId(record: Buffer): string {
  const ascii = asciiNames(record);
  return readString(record, RECORD_HEADER, RECORD_HEADER + record.readUInt16LE(12), ascii);
}

/** Reads just the aggregate id: for a restore, which checks it against deleted streams. */
export function decodeAggregateId(record: Buffer): string {
  const at = RECORD_HEADER + record.readUInt16LE(12);
  return readString(record, at, at + record.readUInt16LE(14), asciiNames(record));
}

/** Checks a record's internal lengths add up, so verify can tell a damaged record from a good one. */
export function recordLengthsConsistent(record: Buffer): boolean {
  if (record.length < RECORD_HEADER) return false;
  const total =
    RECORD_HEADER +
    record.readUInt16LE(12) +
    record.readUInt16LE(14) +
    record.readUInt16LE(16) +
    record.readUInt32LE(18) +
    record.readUInt32LE(22);
  return total === record.length;
}

/** Where the parts of one record lie in the buffer read (absolute offsets), for readRecordParts. */
export class RecordParts {
  idStart = 0;
  idEnd = 0;
  /** The aggregate id follows the id, the type the aggregate id. */
  aggregateEnd = 0;
  typeEnd = 0;
  tagsStart = 0;
  tagsEnd = 0;
  bodyStart = 0;
  bodyEnd = 0;
  /** The body holds a `__proto__` key: only the full decoder (decodeBody) reads it right. */
  protoKeys = false;
}

/**
 * Locates the id, tags and body of the record at `buffer[start..]` into `into` (reused: nothing is
 * allocated), for a reader that copies or transcodes the bytes instead of decoding them.
 */
export function readRecordParts(buffer: Buffer, start: number, into: RecordParts): void {
  // Little-endian lengths read by hand: Buffer's readers check their arguments on every call.
  const u16 = (at: number): number => (buffer[at] as number) | ((buffer[at + 1] as number) << 8);
  const u32 = (at: number): number => u16(at) + u16(at + 2) * 0x10000;
  let at = start + RECORD_HEADER;
  into.idStart = at;
  into.idEnd = at += u16(start + 12);
  into.aggregateEnd = at += u16(start + 14);
  into.typeEnd = at += u16(start + 16);
  into.tagsStart = at;
  into.tagsEnd = at += u32(start + 18);
  into.bodyStart = at;
  into.bodyEnd = at + u32(start + 22);
  into.protoKeys = ((buffer[start + 26] as number) & PROTO_KEYS) !== 0;
}
