import { stringify } from 'csv-stringify/sync';
import { boolCell, int64Cell, isoOf, jsonCell, numberCell, textCell, timestampCell } from './cells.js';
import type { ExportColumn } from './column-spec.js';
import type { FormatWriter } from './format-writer.js';

/**
 * A column's value as CSV text: numbers as JavaScript prints them (shortest round-trip form),
 * booleans as true/false, a timestamp as ISO-8601 in UTC (`2025-01-01T00:00:00.000Z`), objects as
 * JSON text. Null is an empty unquoted field, the empty string a quoted one (`""`): read it back
 * with DuckDB's `read_csv(..., allow_quoted_nulls = false)` to keep the two apart.
 */
function csvText(spec: ExportColumn, value: unknown, row: number, column: string): string | null {
  switch (spec.type) {
    case 'float64': {
      const number = numberCell(value, row, column);
      return number === null ? null : String(number);
    }
    case 'int64': {
      const integer = int64Cell(value, row, column);
      return integer === null ? null : String(integer);
    }
    case 'bool': {
      const flag = boolCell(value, row, column);
      return flag === null ? null : String(flag);
    }
    case 'timestamp': {
      const ms = timestampCell(value, row, column);
      return ms === null ? null : isoOf(ms, value, row, column, 'timestamp');
    }
    case 'utf8':
      return textCell(value, row, column);
    case 'json':
      return jsonCell(value, row, column);
  }
}

/**
 * RFC 4180 quoting by csv-stringify: fields with a comma, quote, CR or LF are quoted, quotes
 * doubled. The empty string is quoted (`""`, `quoted_match`), null is not: they stay apart.
 */
const OPTIONS = { quoted_match: /^$/, record_delimiter: 'unix', eof: true } as const;

/** A header of the column names, then one record per row. */
export const writeCsv: FormatWriter = async (batches, sink) => {
  let header = true;
  for await (const { columns, rows, offset } of batches) {
    const records: (string | null)[][] = header && columns.length > 0 ? [columns.map((c) => c.name)] : [];
    header = false;
    for (let i = 0; i < rows.length; i++) {
      const record = rows[i] as Record<string, unknown>;
      const cells: (string | null)[] = new Array(columns.length);
      for (let c = 0; c < columns.length; c++) {
        const column = columns[c] as ExportColumn;
        cells[c] = csvText(column, record[column.name], offset + i, column.name);
      }
      records.push(cells);
    }
    if (records.length > 0) await sink.write(stringify(records, OPTIONS));
  }
};
