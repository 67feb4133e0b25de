import type { ByteSink } from './byte-sink.js';
import type { RowBatch } from './row-batches.js';

export interface FormatSettings {
  /** Rows per batch: one Arrow record batch, one Parquet row group. */
  readonly batchRows: number;
}

/** One export format: pulls batches one at a time and writes their bytes before asking for the next. */
export type FormatWriter = (
  batches: AsyncIterable<RowBatch>,
  sink: ByteSink,
  settings: FormatSettings,
) => Promise<void>;
