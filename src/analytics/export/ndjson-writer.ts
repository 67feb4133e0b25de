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
import type { ExportColumn } from './column-spec.js';
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

/** One JSON object per line, keys in column order; a missing value is null. */
export const writeNdjson: FormatWriter = async (batches, sink) => {
  for await (const { columns, rows, offset } of batches) {
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
