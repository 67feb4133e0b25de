import {
  Bool,
  Field,
  Float64,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  TimestampMillisecond,
  Utf8,
  type Data,
  type DataType,
} from 'apache-arrow';
import { ValidationError } from '../../errors.js';
import { boolCell, int64Cell, jsonCell, numberCell, textCell, timestampCell } from './cells.js';
import type { ColumnType, ExportColumn } from './column-spec.js';
import type { EventColumns, TextVector } from './event-columns.js';
import type { RowBatch } from './row-batches.js';

/**
 * Rows → an Arrow record batch, column by column into typed buffers (no per-value builder calls):
 * float64 → Float64, int64 → Int64, bool → Bool, timestamp → Timestamp(ms, UTC), utf8 and json →
 * Utf8 (json as its JSON text). Every column is nullable.
 */

function arrowType(type: ColumnType): DataType {
  switch (type) {
    case 'float64':
      return new Float64();
    case 'int64':
      return new Int64();
    case 'bool':
      return new Bool();
    case 'timestamp':
      return new TimestampMillisecond('UTC');
    case 'utf8':
    case 'json':
      return new Utf8();
  }
}

export function arrowSchema(columns: readonly ExportColumn[]): Schema {
  return new Schema(columns.map((column) => new Field(column.name, arrowType(column.type), true)));
}

/** The validity bitmap of a column: bit i set when row i has a value. */
class Validity {
  readonly bits: Uint8Array;
  nulls = 0;
  constructor(length: number) {
    this.bits = new Uint8Array((length + 7) >> 3);
  }
  set(i: number): void {
    (this.bits[i >> 3] as number) |= 1 << (i & 7);
  }
}

type Cell<T> = (value: unknown, row: number, column: string) => T | null;

function fixedWidth<T>(
  rows: readonly Record<string, unknown>[],
  offset: number,
  name: string,
  cell: Cell<T>,
  store: (i: number, value: T) => void,
): Validity {
  const validity = new Validity(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const value = cell((rows[i] as Record<string, unknown>)[name], offset + i, name);
    if (value === null) validity.nulls++;
    else {
      validity.set(i);
      store(i, value);
    }
  }
  return validity;
}

/** Utf8 offsets are 32-bit: one column of one batch holds at most 2 GiB of text. */
const MAX_TEXT_BYTES = 2 ** 31 - 1;

function textColumn(
  rows: readonly Record<string, unknown>[],
  offset: number,
  column: ExportColumn,
  type: Utf8,
): Data {
  const cell: Cell<string> = column.type === 'json' ? jsonCell : textCell;
  const texts: (string | null)[] = new Array(rows.length);
  const validity = new Validity(rows.length);
  // One pass to convert (and size: UTF-8 takes at most 3 bytes per UTF-16 unit), one to encode.
  let units = 0;
  for (let i = 0; i < rows.length; i++) {
    const text = cell((rows[i] as Record<string, unknown>)[column.name], offset + i, column.name);
    texts[i] = text;
    if (text === null) validity.nulls++;
    else {
      validity.set(i);
      units += text.length;
    }
  }
  if (units * 3 > MAX_TEXT_BYTES) {
    throw new ValidationError(
      'batchRows',
      `column ${column.name} may hold over 2 GiB of text in one batch of ${rows.length} rows; export with a smaller batchRows`,
      'INVALID_OPTION',
    );
  }
  const data = Buffer.allocUnsafe(units * 3);
  const offsets = new Int32Array(rows.length + 1);
  let bytes = 0;
  for (let i = 0; i < rows.length; i++) {
    const text = texts[i];
    // Buffer#write: one native UTF-8 encode per value, straight into the column's buffer.
    if (text !== null && text !== undefined && text.length > 0) bytes += data.write(text, bytes, 'utf8');
    offsets[i + 1] = bytes;
  }
  return makeData({
    type,
    length: rows.length,
    nullCount: validity.nulls,
    nullBitmap: validity.bits,
    valueOffsets: offsets,
    data: new Uint8Array(data.buffer, data.byteOffset, bytes),
  });
}

function columnData(batch: RowBatch, column: ExportColumn, type: DataType): Data {
  const { rows, offset } = batch;
  const length = rows.length;
  const name = column.name;
  switch (column.type) {
    case 'float64': {
      const values = new Float64Array(length);
      const validity = fixedWidth(rows, offset, name, numberCell, (i, v) => (values[i] = v));
      return makeData({
        type: type as Float64,
        length,
        nullCount: validity.nulls,
        nullBitmap: validity.bits,
        data: values,
      });
    }
    case 'int64': {
      const values = new BigInt64Array(length);
      const validity = fixedWidth(rows, offset, name, int64Cell, (i, v) => (values[i] = v));
      return makeData({
        type: type as Int64,
        length,
        nullCount: validity.nulls,
        nullBitmap: validity.bits,
        data: values,
      });
    }
    case 'timestamp': {
      const values = new BigInt64Array(length);
      const validity = fixedWidth(rows, offset, name, timestampCell, (i, v) => (values[i] = BigInt(v)));
      return makeData({
        type: type as TimestampMillisecond,
        length,
        nullCount: validity.nulls,
        nullBitmap: validity.bits,
        data: values,
      });
    }
    case 'bool': {
      const values = new Uint8Array((length + 7) >> 3);
      const validity = fixedWidth(rows, offset, name, boolCell, (i, v) => {
        if (v) (values[i >> 3] as number) |= 1 << (i & 7);
      });
      return makeData({
        type: type as Bool,
        length,
        nullCount: validity.nulls,
        nullBitmap: validity.bits,
        data: values,
      });
    }
    case 'utf8':
    case 'json':
      return textColumn(rows, offset, column, type as Utf8);
  }
}

/** A column of event columns (StorageEngine.exportEvents) as Arrow data: its buffers as they are. */
function eventColumnData(events: EventColumns, name: string, type: DataType): Data {
  const length = events.length;
  const values = events[name as keyof EventColumns];
  if (values instanceof BigInt64Array) {
    return type instanceof Int64
      ? makeData({ type, length, nullCount: 0, data: values })
      : makeData({ type: type as TimestampMillisecond, length, nullCount: 0, data: values });
  }
  const text = values as TextVector;
  return makeData({
    type: type as Utf8,
    length,
    nullCount: text.nulls,
    nullBitmap: text.validity,
    valueOffsets: text.offsets,
    data: text.data,
  });
}

/** One record batch of the batch's rows, under `schema` (arrowSchema of the batch's columns). */
export function toRecordBatch(batch: RowBatch, schema: Schema): RecordBatch {
  const events = batch.events;
  const children = batch.columns.map((column, i) => {
    const type = (schema.fields[i] as Field).type;
    return events === undefined
      ? columnData(batch, column, type)
      : eventColumnData(events, column.name, type);
  });
  const struct = makeData({
    type: new Struct(schema.fields),
    length: batch.length,
    nullCount: 0,
    children,
  });
  return new RecordBatch(schema, struct);
}
