import { Writable } from 'node:stream';
import { ValidationError } from '../../errors.js';
import { describe } from '../../support/describe.js';
import { checkColumns, type ColumnSpec } from './column-spec.js';

export type ExportFormat = 'csv' | 'ndjson' | 'parquet' | 'arrow';

export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'ndjson', 'parquet', 'arrow'];

/**
 * Rows per batch (one Arrow record batch; Parquet row groups hold 8) unless `batchRows` says
 * otherwise. 16,384 keeps the memory an export of events adds under ~170 MiB (measured: 65,536
 * took ~310 MiB) at the same speed.
 */
export const DEFAULT_BATCH_ROWS = 16_384;

export interface ExportOptions {
  format: ExportFormat;
  /** A file path (created or replaced), or a stream the caller owns (written with backpressure, not ended). */
  to: string | Writable;
  /**
   * The columns, in order, and their types: rows are written as these keys (others are left out).
   * Absent: the keys of the first batch, types inferred from its values.
   */
  columns?: readonly ColumnSpec[];
  /** Rows per batch; default 16,384. Memory holds one batch of rows. */
  batchRows?: number;
  /** Called after each batch is written, with the rows and bytes written so far (a progress bar). */
  onProgress?: (progress: ExportResult) => void;
}

export interface ExportResult {
  /** Rows written. */
  rows: number;
  /** Bytes written. */
  bytes: number;
}

export interface CheckedExportOptions {
  readonly format: ExportFormat;
  readonly to: string | Writable;
  readonly columns: readonly ColumnSpec[] | undefined;
  readonly batchRows: number;
  readonly onProgress: ((progress: ExportResult) => void) | undefined;
}

/** Checks every option before anything is opened or written: a bad option creates no file. */
export function checkExportOptions(options: unknown): CheckedExportOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ValidationError(
      'options',
      `must be { format, to }, got ${describe(options)}`,
      'INVALID_OPTION',
    );
  }
  const { format, to, columns, batchRows, onProgress, ...rest } = options as Partial<ExportOptions>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw new ValidationError(
      unknown[0] as string,
      'is not an export option; expected format, to, columns, batchRows or onProgress',
      'INVALID_OPTION',
    );
  }
  if (!EXPORT_FORMATS.includes(format as ExportFormat)) {
    throw new ValidationError(
      'format',
      `unknown export format ${describe(format)}; expected one of ${EXPORT_FORMATS.join(', ')}`,
      'INVALID_OPTION',
    );
  }
  if (!(typeof to === 'string' && to.length > 0) && !(to instanceof Writable)) {
    throw new ValidationError(
      'to',
      `must be a file path or a Writable stream, got ${describe(to)}`,
      'INVALID_OPTION',
    );
  }
  if (batchRows !== undefined && (!Number.isSafeInteger(batchRows) || batchRows < 1)) {
    throw new ValidationError(
      'batchRows',
      `must be a positive integer, got ${describe(batchRows)}`,
      'INVALID_OPTION',
    );
  }
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new ValidationError(
      'onProgress',
      `must be a function, got ${describe(onProgress)}`,
      'INVALID_OPTION',
    );
  }
  return {
    format: format as ExportFormat,
    to: to as string | Writable,
    columns: columns === undefined ? undefined : checkColumns(columns, 'columns'),
    batchRows: batchRows ?? DEFAULT_BATCH_ROWS,
    onProgress,
  };
}
