import { ValidationError } from '../../errors.js';
import { describe } from '../../support/describe.js';
import type { ColumnSpec, ExportColumn } from './column-spec.js';
import type { EventColumns } from './event-columns.js';
import { decideColumns } from './infer-columns.js';

/** Rows the writers take at a time: one Arrow record batch, one Parquet row group, one write. */
export interface RowBatch {
  readonly columns: readonly ExportColumn[];
  /** The rows, as records; empty when the batch comes as `events`. */
  readonly rows: readonly Record<string, unknown>[];
  /** How many rows the batch holds. */
  readonly length: number;
  /** The index of the batch's first row in the whole export, for error paths (`rows[70000].type`). */
  readonly offset: number;
  /**
   * Whole events already in columns (StorageEngine.exportEvents), instead of `rows`, under
   * EVENT_COLUMNS. The Parquet, Arrow and NDJSON writers take them; CSV never gets them (see
   * export-runner.ts).
   */
  readonly events?: EventColumns;
}

function requireRow(row: unknown, index: number): Record<string, unknown> {
  if (row === null || typeof row !== 'object' || Array.isArray(row)) {
    throw new ValidationError(`rows[${index}]`, `must be an object (a record), got ${describe(row)}`);
  }
  return row as Record<string, unknown>;
}

/**
 * Groups rows into batches of `batchRows`, pulling the source only as the writer asks for the next
 * batch: an export holds one batch at a time, whatever its size. The columns are decided on the
 * first batch (see decideColumns); at least one batch is yielded, empty for no rows, so every
 * writer sees the columns (a CSV header, an Arrow or Parquet schema).
 */
export async function* rowBatches(
  source: AsyncIterable<unknown> | Iterable<unknown>,
  declared: readonly ColumnSpec[] | undefined,
  batchRows: number,
): AsyncGenerator<RowBatch> {
  let columns: readonly ExportColumn[] | undefined;
  let known: Set<string> | undefined;
  let offset = 0;
  let rows: Record<string, unknown>[] = [];
  const emit = (): RowBatch => {
    if (columns === undefined) {
      const decided = decideColumns(declared, rows);
      columns = Object.freeze(decided.columns);
      if (decided.strict) known = new Set(columns.map((column) => column.name));
    }
    // Later batches of inferred columns: a key the first batch lacked has no column to go to.
    if (known !== undefined && offset > 0) refuseNewKeys(rows, known, offset);
    const batch: RowBatch = { columns, rows, length: rows.length, offset };
    offset += rows.length;
    rows = [];
    return batch;
  };
  for await (const row of source) {
    rows.push(requireRow(row, offset + rows.length));
    if (rows.length >= batchRows) yield emit();
  }
  if (rows.length > 0 || offset === 0) yield emit();
}

function refuseNewKeys(rows: readonly Record<string, unknown>[], known: Set<string>, offset: number): void {
  for (let i = 0; i < rows.length; i++) {
    for (const key in rows[i]) {
      if (
        !known.has(key) &&
        Object.prototype.hasOwnProperty.call(rows[i], key) &&
        rows[i]?.[key] !== undefined
      ) {
        throw new ValidationError(
          `rows[${offset + i}].${key}`,
          `key ${describe(key)} was not in the first batch, whose keys became the columns ` +
            `(${[...known].join(', ')}); declare every column in \`columns\``,
          'EXPORT_SCHEMA_MISMATCH',
        );
      }
    }
  }
}
