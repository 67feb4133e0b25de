import { readFileSync } from 'node:fs';
import { tableFromIPC } from 'apache-arrow';
import type { ExportColumn, ExportFormat } from '../../../src/index.js';
import { duckdbRows, sqlPath } from './duckdb.js';

/** DuckDB's type for each export column type, to read CSV and NDJSON with declared columns. */
const DUCKDB_TYPES: Record<ExportColumn['type'], { csv: string; ndjson: string }> = {
  float64: { csv: 'DOUBLE', ndjson: 'DOUBLE' },
  int64: { csv: 'BIGINT', ndjson: 'BIGINT' },
  bool: { csv: 'BOOLEAN', ndjson: 'BOOLEAN' },
  timestamp: { csv: 'TIMESTAMPTZ', ndjson: 'TIMESTAMPTZ' },
  utf8: { csv: 'VARCHAR', ndjson: 'VARCHAR' },
  json: { csv: 'VARCHAR', ndjson: 'JSON' },
};

function columnsStruct(columns: readonly ExportColumn[], format: 'csv' | 'ndjson'): string {
  const entries = columns.map((c) => `'${c.name.replace(/'/g, "''")}': '${DUCKDB_TYPES[c.type][format]}'`);
  return `{${entries.join(', ')}}`;
}

/** The DuckDB table function that reads an exported file (Arrow has none offline: see readBack). */
export function duckdbSource(
  format: Exclude<ExportFormat, 'arrow'>,
  path: string,
  columns: readonly ExportColumn[],
): string {
  switch (format) {
    case 'parquet':
      return `read_parquet(${sqlPath(path)})`;
    case 'csv':
      return `read_csv(${sqlPath(path)}, header = true, allow_quoted_nulls = false, auto_detect = false, delim = ',', quote = '"', escape = '"', new_line = '\\n', columns = ${columnsStruct(columns, 'csv')})`;
    case 'ndjson':
      return `read_json(${sqlPath(path)}, format = 'newline_delimited', columns = ${columnsStruct(columns, 'ndjson')})`;
  }
}

/**
 * A read-back row in the oracle's terms: numbers, booleans, strings, timestamps as epoch ms, json
 * columns parsed (NDJSON's DuckDB JSON and the other formats' JSON text alike).
 */
function normalize(row: Record<string, unknown>, columns: readonly ExportColumn[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { name, type } of columns) {
    const value = row[name];
    if (value === null || value === undefined) out[name] = null;
    else if (type === 'timestamp') out[name] = value instanceof Date ? value.getTime() : Number(value);
    else if (type === 'json') out[name] = JSON.parse(String(value));
    else if (type === 'int64' || type === 'float64') out[name] = Number(value);
    else out[name] = value;
  }
  return out;
}

/**
 * Reads an exported file back: CSV, NDJSON and Parquet with DuckDB; Arrow with apache-arrow itself,
 * because DuckDB reads Arrow IPC files only through its `arrow` extension, which it downloads on
 * first use (no network here).
 */
export async function readBack(
  format: ExportFormat,
  path: string,
  columns: readonly ExportColumn[],
): Promise<Record<string, unknown>[]> {
  if (format === 'arrow') {
    const table = tableFromIPC(readFileSync(path));
    const rows: Record<string, unknown>[] = [];
    for (const row of table) rows.push(normalize(row.toJSON() as Record<string, unknown>, columns));
    return rows;
  }
  const rows = await duckdbRows(`select * from ${duckdbSource(format, path, columns)}`);
  return rows.map((row) => normalize(row, columns));
}

/** The oracle: what each row must read back as, from the source rows and the column types. */
export function expectedRows(
  rows: readonly Record<string, unknown>[],
  columns: readonly ExportColumn[],
): Record<string, unknown>[] {
  return rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const { name, type } of columns) {
      const value = row[name];
      if (value === null || value === undefined) out[name] = null;
      else if (type === 'timestamp') out[name] = value instanceof Date ? value.getTime() : value;
      else if (type === 'json') out[name] = JSON.parse(JSON.stringify(value));
      else if (type === 'utf8') out[name] = typeof value === 'string' ? value : JSON.stringify(value);
      else out[name] = value;
    }
    return out;
  });
}
