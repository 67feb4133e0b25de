import type { EventColumns } from '../../../analytics/export/event-columns.js';
import { jsonCell, mismatch } from '../../../analytics/export/cells.js';
import { msgpackToJson, tagsToJson, TextColumnBuilder } from '../../../codec/json-text.js';
import { decodeBody, readRecordParts, RecordParts } from '../../../codec/record-codec.js';
import type { EventReader } from './event-reader.js';
import type { EventTable } from './event-table.js';

/** The body is msgpack of the 2-element array [payload, metadata]: fixarray of 2. */
const BODY_ARRAY = 0x92;
const MSGPACK_NIL = 0xc0;

/**
 * Rows → the nine export columns of whole events (analytics/export/event-columns.ts), from the
 * table's columns (sequence, version, timestamp) and the records' bytes: id, aggregate id and type
 * are copied as the UTF-8 they are stored as, tags and the msgpack body are transcoded to JSON text
 * (codec/json-text.ts). No StoredEvent, Date or payload object is made; a record the transcoder
 * leaves alone is decoded whole and stringified, as the object path does, so the text is the same.
 */
export class EventColumnsReader {
  private readonly parts = new RecordParts();

  constructor(
    private readonly table: EventTable,
    private readonly reader: EventReader,
  ) {}

  /** The columns of `rows` in the order given; `offset` is the first row's index in the whole export. */
  columns(rows: readonly number[], offset: number): EventColumns {
    const length = rows.length;
    const sequence = new BigInt64Array(length);
    const version = new BigInt64Array(length);
    const timestamp = new BigInt64Array(length);
    // Written through 32-bit halves: a BigInt per value would be three heap objects per row.
    const sequence32 = new Int32Array(sequence.buffer);
    const version32 = new Int32Array(version.buffer);
    const timestamp32 = new Int32Array(timestamp.buffer);
    const id = new TextColumnBuilder('id', length, 40);
    const aggregateId = new TextColumnBuilder('aggregateId', length, 16);
    const type = new TextColumnBuilder('type', length, 24);
    const tags = new TextColumnBuilder('tags', length, 24);
    const payload = new TextColumnBuilder('payload', length, 96);
    const metadata = new TextColumnBuilder('metadata', length, 4);
    // Values are appended in log order, which is the rows' order unless they descend.
    const order: number[] = [];
    const table = this.table;
    const parts = this.parts;
    this.reader.records(rows, (k, row, span, at, recordLength) => {
      order.push(k);
      try {
        const ms = timeClip(table.timestamp.get(row));
        if (Number.isNaN(ms)) {
          throw mismatch(
            offset + k,
            'timestamp',
            new Date(ms),
            'timestamp',
            ' (a Date or integer epoch milliseconds)',
          );
        }
        setInt64(sequence, sequence32, k, row + 1);
        setInt64(version, version32, k, table.version.get(row));
        setInt64(timestamp, timestamp32, k, ms);
        readRecordParts(span, at, parts);
        id.bytes(span, parts.idStart, parts.idEnd);
        id.end();
        aggregateId.bytes(span, parts.idEnd, parts.aggregateEnd);
        aggregateId.end();
        type.bytes(span, parts.aggregateEnd, parts.typeEnd);
        type.end();
        this.json(span, at, recordLength, offset + k, tags, payload, metadata);
      } catch (error) {
        throw this.reader.corruption(row, error);
      }
    });
    const inOrder = isIdentity(order);
    const vector = (builder: TextColumnBuilder) => {
      const data = builder.data();
      const vector = { data, offsets: builder.offsets, validity: builder.validity, nulls: builder.nulls };
      return inOrder ? vector : reorder(vector, order);
    };
    return {
      length,
      sequence,
      id: vector(id),
      aggregateId: vector(aggregateId),
      version,
      type: vector(type),
      timestamp,
      tags: vector(tags),
      payload: vector(payload),
      metadata: vector(metadata),
    };
  }

  /** Tags, payload and metadata as JSON text: transcoded, or decoded and stringified when the transcoder gives up. */
  private json(
    span: Buffer,
    at: number,
    recordLength: number,
    row: number,
    tags: TextColumnBuilder,
    payload: TextColumnBuilder,
    metadata: TextColumnBuilder,
  ): void {
    const parts = this.parts;
    let fast = !parts.protoKeys && span[parts.bodyStart] === BODY_ARRAY;
    if (fast) fast = tagsToJson(span, parts.tagsStart, parts.tagsEnd, tags);
    // A null payload is a null cell, as jsonCell has it, not the text `null`.
    const nullPayload = span[parts.bodyStart + 1] === MSGPACK_NIL;
    let next = -1;
    if (fast) {
      next = nullPayload
        ? parts.bodyStart + 2
        : msgpackToJson(span, parts.bodyStart + 1, parts.bodyEnd, payload);
      fast = next !== -1;
    }
    if (fast) fast = msgpackToJson(span, next, parts.bodyEnd, metadata) === parts.bodyEnd;
    if (fast) {
      tags.end();
      if (nullPayload) payload.endNull();
      else payload.end();
      metadata.end();
      return;
    }
    tags.rewind();
    payload.rewind();
    metadata.rewind();
    const body = decodeBody(span.subarray(at, at + recordLength));
    text(tags, jsonCell(body.tags, row, 'tags'));
    text(payload, jsonCell(body.payload, row, 'payload'));
    text(metadata, jsonCell(body.metadata, row, 'metadata'));
  }
}

const TWO_32 = 4294967296;

/** Typed arrays use the platform's byte order: little-endian on x64 and arm64, not everywhere. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Stores an integer (|value| < 2^53) as element i of `values`, through its 32-bit halves (low half
 * first) where the platform is little-endian: a BigInt per value is a heap object per value.
 */
function setInt64(values: BigInt64Array, halves: Int32Array, i: number, value: number): void {
  if (LITTLE_ENDIAN) {
    const high = Math.floor(value / TWO_32);
    halves[2 * i] = value - high * TWO_32;
    halves[2 * i + 1] = high;
  } else values[i] = BigInt(value);
}

/** The time a `new Date(ms)` holds (ECMAScript TimeClip), without making the Date: what the object path writes. */
function timeClip(ms: number): number {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? Math.trunc(ms) + 0 : NaN;
}

function text(builder: TextColumnBuilder, value: string | null): void {
  if (value === null) builder.endNull();
  else {
    builder.text(value);
    builder.end();
  }
}

function isIdentity(order: readonly number[]): boolean {
  for (let i = 0; i < order.length; i++) if (order[i] !== i) return false;
  return true;
}

interface Vector {
  data: Uint8Array;
  offsets: Int32Array;
  validity: Uint8Array;
  nulls: number;
}

/** A column whose value j belongs at row `order[j]`, rearranged into row order. */
function reorder(vector: Vector, order: readonly number[]): Vector {
  const length = order.length;
  const positions = new Int32Array(length);
  for (let j = 0; j < length; j++) positions[order[j] as number] = j;
  const data = new Uint8Array(vector.data.length);
  const offsets = new Int32Array(length + 1);
  const validity = new Uint8Array((length + 7) >> 3);
  let at = 0;
  for (let i = 0; i < length; i++) {
    const j = positions[i] as number;
    const start = vector.offsets[j] as number;
    const end = vector.offsets[j + 1] as number;
    data.set(vector.data.subarray(start, end), at);
    at += end - start;
    offsets[i + 1] = at;
    if (((vector.validity[j >> 3] as number) & (1 << (j & 7))) !== 0)
      (validity[i >> 3] as number) |= 1 << (i & 7);
  }
  return { data, offsets, validity, nulls: vector.nulls };
}
