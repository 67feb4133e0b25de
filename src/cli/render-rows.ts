import type { Writable } from 'node:stream';
import { exportRows } from '../index.js';
import { writeWithBackpressure } from './io.js';
import { renderTable } from './table.js';

/** The output formats of `analyze`. */
export const ROW_FORMATS = ['table', 'ndjson', 'csv'] as const;
export type RowFormat = (typeof ROW_FORMATS)[number];

type Row = Readonly<Record<string, unknown>>;

/** Columns that hold instants as epoch ms: the table shows them as ISO-8601 (UTC) for reading. */
const TIME_COLUMNS = new Set(['bucket', 'windowStart', 'windowEnd', 'start', 'end']);

/** A table cell longer than this is cut (ndjson and csv keep every value whole). */
const MAX_TABLE_CELL = 80;

/** Every key of every row, in first-seen order: rows of one result may differ (a left join's null side). */
export function columnsOf(rows: readonly Row[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row)) seen.add(key);
  return [...seen];
}

/**
 * A value as table text: null and missing are empty (SQL NULL), a Date its ISO-8601 text, objects
 * and arrays (a histogram) their JSON.
 */
function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A stored event (a pattern step, a join's other side) as the table shows it: `#68 TESTS.FAILED`. */
function eventLabel(value: object): string | undefined {
  const { sequence, type } = value as { sequence?: unknown; type?: unknown };
  return typeof sequence === 'number' && typeof type === 'string' ? `#${sequence} ${type}` : undefined;
}

function tableCell(column: string, value: unknown): string {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const label = eventLabel(value);
    if (label !== undefined) return label;
  }
  if (TIME_COLUMNS.has(column) && typeof value === 'number' && Number.isSafeInteger(value)) {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date.toISOString();
  }
  const text = cellText(value);
  return text.length > MAX_TABLE_CELL ? `${text.slice(0, MAX_TABLE_CELL - 1)}…` : text;
}

/** An aligned table (numbers right-aligned) and a row count; `(no rows)` for none. */
export function renderRowsTable(rows: readonly Row[]): string {
  if (rows.length === 0) return '(no rows)\n';
  const columns = columnsOf(rows);
  // Time columns are shown as ISO text, so they read left to right like other text.
  const numeric = columns.map(
    (column) =>
      !TIME_COLUMNS.has(column) &&
      rows.every(
        (row) => row[column] === null || row[column] === undefined || typeof row[column] === 'number',
      ),
  );
  const table = renderTable(
    columns.map((header, i) => ({ header, align: numeric[i] === true ? 'right' : 'left' })),
    rows.map((row) => columns.map((column) => tableCell(column, row[column]))),
  );
  return `${table}\n(${rows.length} ${rows.length === 1 ? 'row' : 'rows'})\n`;
}

/** One JSON object per line: values exactly as the library returns them (Dates as ISO-8601 text). */
export function renderRowsNdjson(rows: readonly Row[]): string {
  let text = '';
  for (const row of rows) text += `${JSON.stringify(row)}\n`;
  return text;
}

/**
 * Writes the rows in `format`. CSV is the export's writer (`exportRows`, csv-stringify), so
 * `analyze --format csv` and `export --format csv` write the same text for the same rows; the
 * column types are inferred from every row (one batch), so a column of mixed kinds is JSON.
 */
export async function writeRows(rows: readonly Row[], format: RowFormat, stdout: Writable): Promise<void> {
  if (format === 'csv') {
    if (rows.length > 0) await exportRows(rows, { format: 'csv', to: stdout, batchRows: rows.length });
    return;
  }
  await writeWithBackpressure(stdout, format === 'ndjson' ? renderRowsNdjson(rows) : renderRowsTable(rows));
}
