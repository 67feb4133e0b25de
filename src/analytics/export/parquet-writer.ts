import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Table, tableToIPC, type Schema } from 'apache-arrow';
import {
  Compression,
  EnabledStatistics,
  initSync,
  Table as WasmTable,
  transformParquetStream,
  WriterPropertiesBuilder,
  type RecordBatch as WasmRecordBatch,
} from 'parquet-wasm/esm';
import { StorageError } from '../../errors.js';
import { arrowSchema, toRecordBatch } from './arrow-batch.js';
import type { FormatWriter } from './format-writer.js';
import type { RowBatch } from './row-batches.js';

let initialized = false;

/**
 * Batches per Parquet row group: 8 × 16,384 = 131,072 rows by default, about DuckDB's own row group
 * (122,880), so readers parallelize and prune well. JavaScript holds one batch of rows; the wasm
 * writer holds the current row group's pages, encoded and compressed (a few MiB), until it is full.
 */
export const ROW_GROUP_BATCHES = 8;

/**
 * parquet-wasm is Apache Arrow's Rust Parquet writer compiled to WebAssembly, shipped inside its npm
 * package: loaded once, on the first Parquet export (its `node` build does not load as an ES
 * module, so the `esm` build is initialized with the module's bytes).
 */
function initParquetWasm(): void {
  if (initialized) return;
  const require = createRequire(import.meta.url);
  initSync({ module: readFileSync(require.resolve('parquet-wasm/esm/parquet_wasm_bg.wasm')) });
  initialized = true;
}

/** Each batch of rows as WebAssembly record batches (through Arrow IPC, which both sides speak). */
async function* wasmBatches(batches: AsyncIterable<RowBatch>): AsyncGenerator<WasmRecordBatch> {
  let schema: Schema | undefined;
  for await (const batch of batches) {
    schema ??= arrowSchema(batch.columns);
    const ipc = tableToIPC(new Table(schema, [toRecordBatch(batch, schema)]), 'stream');
    const table = WasmTable.fromIPCStream(ipc);
    try {
      yield* table.recordBatches();
    } finally {
      table.free();
    }
  }
}

/**
 * Parquet: row groups of up to ROW_GROUP_BATCHES batches, Snappy-compressed, no dictionary
 * encoding, min/max statistics per row group; each row group is written as soon as it is full.
 * The input stream has no buffer (highWaterMark 0): the writer pulls the next batch only when it
 * has taken the previous one, so memory holds one batch of rows whatever the row count.
 */
export const writeParquet: FormatWriter = async (batches, sink, { batchRows }) => {
  initParquetWasm();
  const source = wasmBatches(batches);
  // parquet-wasm reports an error of the input stream as its own text: the original (a coded
  // TammaError) is kept here and thrown instead.
  let failure: { error: unknown } | undefined;
  let exhausted = false;
  const input = new ReadableStream<WasmRecordBatch>(
    {
      async pull(controller) {
        try {
          const next = await source.next();
          if (next.done) {
            exhausted = true;
            controller.close();
          } else controller.enqueue(next.value);
        } catch (error) {
          failure = { error };
          controller.error(error);
        }
      },
      async cancel() {
        await source.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
  const properties = new WriterPropertiesBuilder()
    .setCompression(Compression.SNAPPY)
    // Dictionary encoding costs about as much as the rest of the writing put together (measured:
    // 5x slower per batch of events); Snappy still compresses repeated values well.
    .setDictionaryEnabled(false)
    // Min/max per row group (what DuckDB prunes row groups with), not per page.
    .setStatisticsEnabled(EnabledStatistics.Chunk)
    .setMaxRowGroupSize(batchRows * ROW_GROUP_BATCHES)
    .setCreatedBy('tamma-events export (parquet-wasm)')
    .build();
  try {
    const output = (await transformParquetStream(input, properties)) as ReadableStream<Uint8Array>;
    for await (const chunk of output) await sink.write(chunk);
  } catch (error) {
    throw failure === undefined ? error : failure.error;
  }
  // parquet-wasm ends its output normally when its input fails (a file of the rows so far): an
  // export that stopped early must fail, never pass as complete.
  if (failure !== undefined) throw failure.error;
  if (!exhausted) {
    throw new StorageError(
      'the Parquet writer stopped before the last row',
      new Error('input not exhausted'),
    );
  }
};
