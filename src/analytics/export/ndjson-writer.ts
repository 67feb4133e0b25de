import {
  boolCell,
  int64Cell,
  isoOf,
  jsonCell,
  mismatch,
  numberCell,
  textCell,
  timestampCell,
} from './cells.js';
import {
  TextColumnBuilder,
  writeJsonAscii,
  writeJsonNumber,
  writeJsonString,
} from '../../codec/json-text.js';
import { EVENT_COLUMNS, type ExportColumn } from './column-spec.js';
import type { EventColumns, TextVector } from './event-columns.js';
import type { FormatWriter } from './format-writer.js';

/**
 * A column's value as JSON text: numbers and booleans as JSON numbers and booleans, a timestamp as
 * an ISO-8601 string, text as a string, and json columns as the nested JSON value itself (so an
 * exported event reads as `tamma-events query` prints it). Each value is stringified once.
 */
function jsonText(spec: ExportColumn, value: unknown, row: number, column: string): string {
  switch (spec.type) {
    case 'float64': {
      const number = numberCell(value, row, column);
      if (number === null) return 'null';
      // JSON has no NaN or Infinity: JSON.stringify would write null.
      if (!Number.isFinite(number))
        throw mismatch(row, column, value, 'float64', ' (NDJSON has no NaN or Infinity)');
      return String(number);
    }
    case 'int64': {
      const integer = int64Cell(value, row, column);
      if (integer === null) return 'null';
      if (!Number.isSafeInteger(Number(integer))) {
        throw mismatch(row, column, value, 'int64', ' (JSON numbers are exact only up to 2^53)');
      }
      return String(integer);
    }
    case 'bool': {
      const flag = boolCell(value, row, column);
      return flag === null ? 'null' : String(flag);
    }
    case 'timestamp': {
      const ms = timestampCell(value, row, column);
      return ms === null ? 'null' : `"${isoOf(ms, value, row, column, 'timestamp')}"`;
    }
    case 'utf8': {
      const text = textCell(value, row, column);
      return text === null ? 'null' : JSON.stringify(text);
    }
    case 'json':
      return jsonCell(value, row, column) ?? 'null';
  }
}

/** The keys of an event line, each with what precedes it: `{"sequence":`, `,"id":`, … */
const EVENT_KEYS = EVENT_COLUMNS.map((column, i) =>
  Buffer.from(`${i === 0 ? '{' : ','}${JSON.stringify(column.name)}:`),
);
const NULL = Buffer.from('null');
const LINE_END = Buffer.from('}\n');

/** A text column's bytes as a Buffer (a view, no copy), with its offsets and validity. */
interface TextCells {
  readonly data: Buffer;
  readonly offsets: Int32Array;
  readonly validity: Uint8Array;
}

const cellsOf = (vector: TextVector): TextCells => ({
  data: Buffer.from(vector.data.buffer, vector.data.byteOffset, vector.data.byteLength),
  offsets: vector.offsets,
  validity: vector.validity,
});

/** Typed arrays use the platform's byte order: little-endian on x64 and arm64, not everywhere. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Element i of an int64 column (|value| < 2^53 here) as a number, without a BigInt per read where it can. */
function int64At(values: BigInt64Array, halves: Int32Array, i: number): number {
  return LITTLE_ENDIAN
    ? ((halves[2 * i] as number) >>> 0) + (halves[2 * i + 1] as number) * 4294967296
    : Number(values[i]);
}

/**
 * Whole events that come as columns (StorageEngine.exportEvents) as lines, byte for byte what
 * jsonText writes for the same events: integers as digits, text as JSON strings (the UTF-8 escaped
 * as JSON.stringify escapes it), the timestamp as an ISO-8601 string, JSON columns as their text.
 */
function eventLines(events: EventColumns): Uint8Array {
  const out = new TextColumnBuilder('line', events.length, 256);
  const text = (cells: TextCells, i: number, quoted: boolean): void => {
    if (((cells.validity[i >> 3] as number) & (1 << (i & 7))) === 0) out.bytes(NULL, 0, 4);
    else if (quoted)
      writeJsonString(out, cells.data, cells.offsets[i] as number, cells.offsets[i + 1] as number);
    else out.bytes(cells.data, cells.offsets[i] as number, cells.offsets[i + 1] as number);
  };
  const key = (c: number): void => {
    const bytes = EVENT_KEYS[c] as Buffer;
    out.bytes(bytes, 0, bytes.length);
  };
  const id = cellsOf(events.id);
  const aggregateId = cellsOf(events.aggregateId);
  const type = cellsOf(events.type);
  const tags = cellsOf(events.tags);
  const payload = cellsOf(events.payload);
  const metadata = cellsOf(events.metadata);
  const sequence = new Int32Array(
    events.sequence.buffer,
    events.sequence.byteOffset,
    events.sequence.length * 2,
  );
  const version = new Int32Array(events.version.buffer, events.version.byteOffset, events.version.length * 2);
  const timestamp = new Int32Array(
    events.timestamp.buffer,
    events.timestamp.byteOffset,
    events.timestamp.length * 2,
  );
  for (let i = 0; i < events.length; i++) {
    key(0);
    writeJsonNumber(out, int64At(events.sequence, sequence, i));
    key(1);
    text(id, i, true);
    key(2);
    text(aggregateId, i, true);
    key(3);
    writeJsonNumber(out, int64At(events.version, version, i));
    key(4);
    text(type, i, true);
    key(5);
    writeJsonAscii(out, `"${new Date(int64At(events.timestamp, timestamp, i)).toISOString()}"`);
    key(6);
    text(tags, i, false);
    key(7);
    text(payload, i, false);
    key(8);
    text(metadata, i, false);
    out.bytes(LINE_END, 0, 2);
  }
  return out.data();
}

/** One JSON object per line, keys in column order; a missing value is null. */
export const writeNdjson: FormatWriter = async (batches, sink) => {
  for await (const { columns, rows, offset, events } of batches) {
    if (events !== undefined) {
      if (events.length > 0) await sink.write(eventLines(events));
      continue;
    }
    const keys = columns.map((column, i) => `${i === 0 ? '{' : ','}${JSON.stringify(column.name)}:`);
    let text = '';
    for (let i = 0; i < rows.length; i++) {
      const record = rows[i] as Record<string, unknown>;
      let line = columns.length === 0 ? '{' : '';
      for (let c = 0; c < columns.length; c++) {
        const column = columns[c] as ExportColumn;
        line += keys[c] as string;
        line += jsonText(column, record[column.name], offset + i, column.name);
      }
      text += `${line}}\n`;
    }
    if (text !== '') await sink.write(text);
  }
};
