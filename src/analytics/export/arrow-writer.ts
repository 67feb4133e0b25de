import { AsyncByteQueue, RecordBatchFileWriter, type Schema } from 'apache-arrow';
import { arrowSchema, toRecordBatch } from './arrow-batch.js';
import type { FormatWriter } from './format-writer.js';

/**
 * Where apache-arrow's writer puts its bytes: kept here, synchronously, so each batch's bytes are
 * written to the sink (with backpressure) before the next batch is read. The writer's own queue
 * would grow without bound when the reader is slower than the producer.
 */
class PendingBytes extends AsyncByteQueue {
  private chunks: Uint8Array[] = [];

  override write(value: Uint8Array): void {
    if (value.byteLength > 0) this.chunks.push(value);
  }

  take(): Uint8Array[] {
    const taken = this.chunks;
    this.chunks = [];
    return taken;
  }
}

/**
 * The Arrow IPC file format (`.arrow`, Feather v2): the schema, one record batch per batch of rows,
 * and the footer that lets readers seek to any batch. apache-arrow's own writer.
 */
export const writeArrow: FormatWriter = async (batches, sink) => {
  const pending = new PendingBytes();
  const writer = new RecordBatchFileWriter();
  const flush = async (): Promise<void> => {
    for (const chunk of pending.take()) await sink.write(chunk);
  };
  let schema: Schema | undefined;
  for await (const batch of batches) {
    if (schema === undefined) {
      schema = arrowSchema(batch.columns);
      writer.reset(pending, schema);
    }
    if (batch.length > 0) writer.write(toRecordBatch(batch, schema));
    await flush();
  }
  // The footer: where each batch starts.
  await writer.close();
  await flush();
};
