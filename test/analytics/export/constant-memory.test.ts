import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ROW_GROUP_BATCHES } from '../../../src/analytics/export/parquet-writer.js';
import { EVENT_COLUMNS, exportRows, type ExportFormat } from '../../../src/index.js';

/**
 * An export holds one batch, not the result: an instrumented source counts how many rows the writer
 * has pulled, a slow consumer counts what reached it, and the writer may never run more than a
 * couple of batches ahead of its output, whatever the row count. No timing is involved.
 */

const ROWS = 200_000;
const BATCH = 5_000;

function* events(progress: { pulled: number; worstLead: number; outputAt: number }) {
  for (let i = 0; i < ROWS; i++) {
    progress.pulled++;
    progress.worstLead = Math.max(progress.worstLead, progress.pulled - progress.outputAt);
    yield {
      sequence: i + 1,
      id: `id-${i}`,
      aggregateId: `agg-${i % 100}`,
      version: Math.floor(i / 100) + 1,
      type: i % 2 === 0 ? 'A' : 'B',
      timestamp: new Date(1_700_000_000_000 + i),
      tags: { n: i % 7 },
      payload: { i, text: 'x'.repeat(i % 50) },
      metadata: {},
    };
  }
}

/** A consumer that takes each chunk a turn later (backpressure), noting how far the source had been read. */
class SlowConsumer extends Writable {
  constructor(private readonly progress: { pulled: number; outputAt: number }) {
    super({ highWaterMark: 64 * 1024 });
  }
  override _write(_chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.progress.outputAt = this.progress.pulled;
    setImmediate(callback);
  }
}

describe('exports stream in constant memory', () => {
  for (const format of ['ndjson', 'csv', 'arrow', 'parquet'] as ExportFormat[]) {
    it(`${format}: ${ROWS.toLocaleString('en')} rows, a bounded number of batches read ahead of the output`, async () => {
      const progress = { pulled: 0, worstLead: 0, outputAt: 0 };
      const result = await exportRows(events(progress), {
        format,
        to: new SlowConsumer(progress),
        columns: EVENT_COLUMNS,
        batchRows: BATCH,
      });
      expect(result.rows).toBe(ROWS);
      expect(progress.pulled).toBe(ROWS);
      // The batch being filled, and the one whose bytes are on their way out. Parquet writes a row
      // group once it holds ROW_GROUP_BATCHES batches, and parquet-wasm hands its bytes out as the
      // next one fills: up to two row groups are held, encoded and compressed inside the wasm
      // writer (not as rows), plus the batch being filled.
      const batchesAhead = format === 'parquet' ? 2 * ROW_GROUP_BATCHES + 1 : 2;
      expect(progress.worstLead).toBeLessThanOrEqual(batchesAhead * BATCH + 1);
    });
  }
});
