/**
 * A scan worker's entry (started by parallel-scan.ts): keeps the column chunks it was sent, the
 * filters of running queries, and answers each scan task with the matching rows of its range,
 * transferring (not copying) the result.
 */
import { parentPort } from 'node:worker_threads';
import { ColumnScan, zeroChunk, type ChunkSource } from './column-scan.js';
import type { FromWorker, ToWorker } from './parallel-scan.js';
import { assertNever } from '../../../support/assert-never.js';
import type { ChunkArray, ChunkKey, ChunkReader } from './analytics/chunk-sources.js';
import { runGroupTask, type GroupPartial } from './analytics/group-task.js';
import { answerBuffers, runSequenceTask, type SequenceAnswer } from './analytics/sequence-task.js';
import type { MessagePort } from 'node:worker_threads';

const port = parentPort;
if (port === null) throw new Error('scan-worker.js runs as a worker thread of the parallel scan pool');

const chunks = new Map<ChunkKey, (ChunkArray | undefined)[]>();
const chunkOf = (column: ChunkKey, index: number): ChunkArray | undefined => chunks.get(column)?.[index];
const reader: ChunkReader = { chunk: chunkOf };

/** Thrown out of a task when its query stopped: the answer is ignored. */
class Stopped extends Error {}

/** A check that throws once the query's stop flag is set. */
const stopCheck = (stop: Int32Array) => (): void => {
  if (Atomics.load(stop, 0) !== 0) throw new Stopped('stopped');
};

type Answer = { rows: Uint32Array<ArrayBuffer> } | { partial: GroupPartial } | { answer: SequenceAnswer };

/** Posts the task's answer (its arrays transferred, not copied), or what went wrong. */
function answer(task: number, work: () => [Answer, ArrayBuffer[]]): void {
  let reply: FromWorker;
  let transfer: ArrayBuffer[] = [];
  try {
    const [done, buffers] = work();
    reply = { task, ...done };
    transfer = buffers;
  } catch (error) {
    reply = { task, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  (port as MessagePort).postMessage(reply, transfer);
}
// A chunk the table does not hold (cleanup freed those of removed rows) reads as zeros, as
// ChunkedColumn.get does.
const source: ChunkSource = {
  timestamps: (index) => (chunkOf('timestamp', index) as Float64Array | undefined) ?? zeroChunk('f64'),
  uint32: (column, index) => (chunkOf(column, index) as Uint32Array | undefined) ?? zeroChunk('u32'),
};
const scans = new Map<number, { scan: ColumnScan; stopped: () => boolean }>();

port.on('message', (message: ToWorker) => {
  switch (message.kind) {
    case 'chunk': {
      let arrays = chunks.get(message.column);
      if (arrays === undefined) chunks.set(message.column, (arrays = []));
      arrays[message.index] = message.array;
      return;
    }
    case 'below':
      for (const arrays of chunks.values()) arrays.fill(undefined, 0, Math.min(message.index, arrays.length));
      return;
    case 'filter': {
      const stop = message.stop;
      scans.set(message.id, {
        scan: new ColumnScan(message.filter, source),
        stopped: () => Atomics.load(stop, 0) !== 0,
      });
      return;
    }
    case 'forget':
      scans.delete(message.id);
      return;
    case 'scan': {
      const running = scans.get(message.filter);
      // A forgotten filter's query is over: whatever is answered is ignored.
      return answer(message.task, () => {
        const rows = running?.scan.range(message.from, message.to, running.stopped) ?? new Uint32Array(0);
        return [{ rows }, [rows.buffer]];
      });
    }
    case 'group': {
      const check = stopCheck(message.stop);
      return answer(message.task, () => {
        const done = runGroupTask(message.group, message.rows, reader, check);
        return [{ partial: done.partial }, done.transfer];
      });
    }
    case 'sequence': {
      const check = stopCheck(message.stop);
      return answer(message.task, () => {
        const done = runSequenceTask(message.sequence, message.layout, check);
        return [{ answer: done }, answerBuffers(done)];
      });
    }
    default:
      return assertNever(message);
  }
});
