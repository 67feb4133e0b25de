import { ValidationError } from '../../errors.js';
import { describe } from '../../support/describe.js';
import { fileSink, streamSink } from './byte-sink.js';
import { EVENT_COLUMNS } from './column-spec.js';
import type { EventColumns } from './event-columns.js';
import {
  checkExportOptions,
  type CheckedExportOptions,
  type ExportFormat,
  type ExportOptions,
  type ExportResult,
} from './export-options.js';
import type { FormatWriter } from './format-writer.js';
import { rowBatches, type RowBatch } from './row-batches.js';

/**
 * The writer of each format. Arrow and Parquet load apache-arrow and parquet-wasm on first use, so
 * importing the library (or exporting CSV) never pays for them.
 */
const WRITERS: Readonly<Record<ExportFormat, () => Promise<FormatWriter>>> = {
  csv: async () => (await import('./csv-writer.js')).writeCsv,
  ndjson: async () => (await import('./ndjson-writer.js')).writeNdjson,
  arrow: async () => (await import('./arrow-writer.js')).writeArrow,
  parquet: async () => (await import('./parquet-writer.js')).writeParquet,
};

function isIterable(value: unknown): value is AsyncIterable<unknown> | Iterable<unknown> {
  return (
    value !== null && typeof value === 'object' && (Symbol.asyncIterator in value || Symbol.iterator in value)
  );
}

/**
 * Counts the rows the writer took, batch by batch. When the writer asks for the next batch it has
 * written the previous one: that is when progress is reported.
 */
async function* counted(
  batches: AsyncIterable<RowBatch>,
  count: { rows: number },
  report: () => void,
): AsyncGenerator<RowBatch> {
  for await (const batch of batches) {
    if (count.rows > 0) report();
    count.rows += batch.length;
    yield batch;
  }
}

/**
 * Writes rows (records: aggregate rows, selected fields, flattened events) as CSV, NDJSON, Parquet
 * or Arrow, streamed: rows are pulled a batch at a time and each batch is written before the next is
 * pulled, so memory holds one batch however many rows there are. Options are checked before the
 * file is created; on a failure a file the export created is removed. Resolves with the rows and
 * bytes written.
 *
 * @example
 * await exportRows(rows, { format: 'parquet', to: 'out.parquet' });
 * await exportRows(rows, { format: 'csv', to: process.stdout, columns: [{ name: 'n', type: 'float64' }] });
 */
export async function exportRows(
  rows: AsyncIterable<Record<string, unknown>> | Iterable<Record<string, unknown>>,
  options: ExportOptions,
): Promise<ExportResult> {
  const checked = checkExportOptions(options);
  if (!isIterable(rows)) {
    throw new ValidationError(
      'rows',
      `must be an iterable or async iterable of records, got ${describe(rows)}`,
    );
  }
  return writeBatches(rowBatches(rows, checked.columns, checked.batchRows), checked);
}

/**
 * Writes whole events that come as columns (StorageEngine.exportEvents) under EVENT_COLUMNS, as
 * exportRows writes them as records: the same file, without a StoredEvent per row. Parquet, Arrow
 * and NDJSON (the CSV writer reads records).
 */
export async function exportEventColumns(
  events: AsyncIterable<EventColumns>,
  options: ExportOptions,
): Promise<ExportResult> {
  const checked = checkExportOptions(options);
  if (checked.format === 'csv') {
    throw new ValidationError(
      'format',
      'event columns are written as parquet, arrow or ndjson, not csv',
      'INVALID_OPTION',
    );
  }
  return writeBatches(eventBatches(events), checked);
}

async function* eventBatches(events: AsyncIterable<EventColumns>): AsyncGenerator<RowBatch> {
  let offset = 0;
  for await (const batch of events) {
    yield { columns: EVENT_COLUMNS, rows: [], length: batch.length, offset, events: batch };
    offset += batch.length;
  }
}

async function writeBatches(
  source: AsyncIterable<RowBatch>,
  checked: CheckedExportOptions,
): Promise<ExportResult> {
  const write = await WRITERS[checked.format]();
  const sink = typeof checked.to === 'string' ? await fileSink(checked.to) : streamSink(checked.to);
  const count = { rows: 0 };
  try {
    const report = (): void => checked.onProgress?.({ rows: count.rows, bytes: sink.bytes });
    const batches = counted(source, count, report);
    await write(batches, sink, { batchRows: checked.batchRows });
    await sink.close();
    report();
  } catch (error) {
    await sink.abort();
    throw error;
  }
  return { rows: count.rows, bytes: sink.bytes };
}
