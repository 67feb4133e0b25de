import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { StoreClosedError } from '../../../errors.js';
import { CHUNK_SHIFT } from '../table/chunked-column.js';
import type { EventTable } from '../table/event-table.js';
import { columnsOf, type ColumnFilter, type ScanColumn } from './column-filter.js';
import type { ChunkArray, ChunkKey } from './analytics/chunk-sources.js';
import type { GroupPartial, GroupTask } from './analytics/group-task.js';
import type { SequenceAnswer, SequenceLayout, SequenceTask } from './analytics/sequence-task.js';
import type { OperatorWorkers } from './analytics/operator-workers.js';
import { chunkColumnOf } from './analytics/table-chunks.js';

/** What the pool tells a scan worker. */
export type ToWorker =
  /**
   * A column chunk, sent once per worker: its memory is shared, so later appends to it show through.
   * Sent again if the table replaced it, or as undefined once the table no longer holds it (cleanup
   * freed removed rows): the worker then drops its copy and reads zeros, as ChunkedColumn.get does.
   */
  | { kind: 'chunk'; column: ChunkKey; index: number; array: ChunkArray | undefined }
  /** Cleanup cut the rows below this chunk: drop every chunk below it (scans start past them). */
  | { kind: 'below'; index: number }
  /** A query's filter, and the flag that tells the worker to drop the query's remaining work. */
  | { kind: 'filter'; id: number; filter: ColumnFilter; stop: Int32Array }
  | { kind: 'scan'; task: number; filter: number; from: number; to: number }
  | { kind: 'forget'; id: number }
  /** A share of a parallel group-by (analytics/parallel-group-by.ts): fold these rows, stop when `stop` is set. */
  | { kind: 'group'; task: number; group: GroupTask; rows: Int32Array; stop: Int32Array }
  /** A share of a pattern's or funnel's partitions (analytics/parallel-sequences.ts). */
  | { kind: 'sequence'; task: number; sequence: SequenceTask; layout: SequenceLayout; stop: Int32Array };

/**
 * A worker's answer to one task: a scan's matching rows, ascending, a group-by share's folded
 * state, or what went wrong.
 */
export type FromWorker =
  | { task: number; rows: Uint32Array<ArrayBuffer> }
  | { task: number; partial: GroupPartial }
  | { task: number; answer: SequenceAnswer }
  | { task: number; error: string };

/**
 * The worker entry sits beside this module with the same extension: scan-worker.js in the build,
 * scan-worker.ts when this runs from the TypeScript sources (the tests register a loader for that).
 */
const WORKER_ENTRY = new URL(`./scan-worker${extname(import.meta.url)}`, import.meta.url);

interface Pending {
  resolve: (answer: FromWorker) => void;
  reject: (error: Error) => void;
}

/** One worker thread and what it has been sent. */
class ScanWorker {
  readonly thread = new Worker(WORKER_ENTRY);
  readonly pending = new Map<number, Pending>();
  /** The chunk arrays sent, by column and index: a chunk the table replaced or freed is sent again. */
  readonly chunks = new Map<ChunkKey, (ChunkArray | undefined)[]>();
  /** The chunks below this index were dropped (cleanup cut their rows). */
  private floor = 0;
  readonly filters = new Set<number>();

  constructor(onFailure: (worker: ScanWorker, error: Error) => void) {
    // Idle workers never keep the process alive; a worker with tasks does, until they are answered.
    this.thread.unref();
    this.thread.on('message', (message: FromWorker) => {
      const pending = this.pending.get(message.task);
      this.pending.delete(message.task);
      if (this.pending.size === 0) this.thread.unref();
      if ('error' in message) pending?.reject(new Error(`scan worker: ${message.error}`));
      else pending?.resolve(message);
    });
    this.thread.on('error', (error) => onFailure(this, error));
    this.thread.on('exit', (code) => onFailure(this, new Error(`scan worker exited with code ${code}`)));
  }

  post(message: ToWorker): void {
    this.thread.postMessage(message);
  }

  /** Sends the column's chunk unless the worker holds that very array already. */
  send(column: ChunkKey, index: number, array: ChunkArray | undefined): void {
    let sent = this.chunks.get(column);
    if (sent === undefined) this.chunks.set(column, (sent = []));
    if (index < sent.length && sent[index] === array) return;
    sent[index] = array;
    this.post({ kind: 'chunk', column, index, array });
  }

  /**
   * Drops the chunks below `floor` here and in the worker: scans start at the table's first row, so
   * no range asks for them again, and holding them would keep their memory after cleanup freed it.
   */
  dropBelow(floor: number): void {
    if (floor <= this.floor) return;
    this.floor = floor;
    for (const sent of this.chunks.values()) sent.fill(undefined, 0, Math.min(floor, sent.length));
    this.post({ kind: 'below', index: floor });
  }

  run(task: number, message: ToWorker, pending: Pending, transfer: ArrayBuffer[] = []): void {
    if (this.pending.size === 0) this.thread.ref();
    this.pending.set(task, pending);
    this.thread.postMessage(message, transfer);
  }

  /** Fails what waits on this worker and ends it. */
  end(error: Error): Promise<number> {
    this.thread.removeAllListeners('exit');
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
    return this.thread.terminate();
  }
}

const leastBusy = (workers: readonly ScanWorker[]): ScanWorker =>
  workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));

/**
 * A small pool of worker threads that scan a table's column chunks in place. The chunks are
 * SharedArrayBuffer-backed, so each is posted to a worker once and shared, never copied; rows below
 * the row count a plan was made at never change, so workers read them while appends go on after
 * them. Started on the first parallel scan, unref'd while idle so it never keeps the process alive,
 * and ended by close() (the store's close).
 */
export class ParallelScanPool implements OperatorWorkers {
  private workers: ScanWorker[] | undefined;
  private closed = false;
  private nextTask = 0;
  private nextFilter = 0;

  constructor(
    private readonly table: EventTable,
    /** Worker threads: two, or one on a single-core machine. */
    readonly size = Math.min(2, availableParallelism()),
  ) {}

  /** Starts a parallel scan with `filter`; the caller hands out row ranges and must close it. */
  open(filter: ColumnFilter): ParallelScan {
    if (this.closed) throw new StoreClosedError();
    this.workers ??= this.start();
    return new ParallelScan(this, this.nextFilter++, filter, columnsOf(filter));
  }

  /** Runs one range on the least busy worker, first sending it the filter and chunks it lacks. */
  scan(scan: ParallelScan, from: number, to: number): Promise<Uint32Array> {
    const workers = this.workers;
    if (this.closed || workers === undefined) return Promise.reject(new StoreClosedError());
    const worker = leastBusy(workers);
    if (!worker.filters.has(scan.id)) {
      worker.filters.add(scan.id);
      worker.post({ kind: 'filter', id: scan.id, filter: scan.filter, stop: scan.stop });
    }
    this.sendChunks(worker, scan.columns, from, to);
    const task = this.nextTask++;
    return new Promise<FromWorker>((resolve, reject) =>
      worker.run(task, { kind: 'scan', task, filter: scan.id, from, to }, { resolve, reject }),
    ).then((answer) => (answer as { rows: Uint32Array }).rows);
  }

  /**
   * Folds a share of a group-by's rows (ascending) on the least busy worker, first sending it the
   * chunks of `keys` the rows lie in. Setting `stop` makes the worker give up at its next block.
   */
  group(
    group: GroupTask,
    keys: readonly ChunkKey[],
    rows: Int32Array,
    stop: Int32Array,
  ): Promise<GroupPartial> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    this.workers ??= this.start();
    const worker = leastBusy(this.workers);
    if (rows.length > 0)
      this.sendChunks(worker, keys, rows[0] as number, (rows[rows.length - 1] as number) + 1);
    const task = this.nextTask++;
    // The rows are the caller's copy: transferred, not copied again.
    const message: ToWorker = { kind: 'group', task, group, rows, stop };
    return new Promise<FromWorker>((resolve, reject) =>
      worker.run(task, message, { resolve, reject }, [rows.buffer as ArrayBuffer]),
    ).then((answer) => (answer as { partial: GroupPartial }).partial);
  }

  /**
   * Runs a pattern or funnel over a share of the partitions on the least busy worker. The layout's
   * arrays are the caller's copies: transferred, not copied again.
   */
  sequence(sequence: SequenceTask, layout: SequenceLayout, stop: Int32Array): Promise<SequenceAnswer> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    this.workers ??= this.start();
    const worker = leastBusy(this.workers);
    const task = this.nextTask++;
    const message: ToWorker = { kind: 'sequence', task, sequence, layout, stop };
    const transfer = [layout.ms.buffer, layout.masks.buffer, layout.bounds.buffer] as ArrayBuffer[];
    return new Promise<FromWorker>((resolve, reject) =>
      worker.run(task, message, { resolve, reject }, transfer),
    ).then((answer) => (answer as { answer: SequenceAnswer }).answer);
  }

  /** Sends `worker` the chunks of `keys` holding rows [from, to) that it lacks. */
  private sendChunks(worker: ScanWorker, keys: readonly ChunkKey[], from: number, to: number): void {
    worker.dropBelow(this.table.firstRow >>> CHUNK_SHIFT);
    for (const key of keys) {
      const column = chunkColumnOf(this.table, key);
      for (let index = from >>> CHUNK_SHIFT; index <= (to - 1) >>> CHUNK_SHIFT; index++)
        worker.send(key, index, column.chunk(index));
    }
  }

  private start(): ScanWorker[] {
    return Array.from(
      { length: this.size },
      () => new ScanWorker((worker, error) => this.fail(worker, error)),
    );
  }

  /** Tells the workers that had this scan's filter to drop it. */
  forget(scan: ParallelScan): void {
    for (const worker of this.workers ?? []) {
      if (worker.filters.delete(scan.id)) worker.post({ kind: 'forget', id: scan.id });
    }
  }

  /** A worker died: fail what waits on any of its pool and start afresh on the next scan. */
  private fail(worker: ScanWorker, error: Error): void {
    const workers = this.workers;
    if (workers === undefined || !workers.includes(worker)) return;
    this.workers = undefined;
    for (const each of workers) void each.end(error);
  }

  /** Ends the workers; scans still waiting on them fail with StoreClosedError. */
  async close(): Promise<void> {
    this.closed = true;
    const workers = this.workers ?? [];
    this.workers = undefined;
    await Promise.all(workers.map((worker) => worker.end(new StoreClosedError())));
  }
}

/** One query's use of the pool: ranges scanned with its filter, and the flag that stops them. */
export class ParallelScan {
  /** Set to 1 to make the workers drop this scan's outstanding ranges at their next chunk. */
  readonly stop = new Int32Array(new SharedArrayBuffer(4));

  constructor(
    private readonly pool: ParallelScanPool,
    readonly id: number,
    readonly filter: ColumnFilter,
    readonly columns: readonly ScanColumn[],
  ) {}

  /** The rows in [from, to) that pass the filter, ascending. */
  range(from: number, to: number): Promise<Uint32Array> {
    return this.pool.scan(this, from, to);
  }

  /** Stops the outstanding ranges and frees the filter in the workers. */
  close(): void {
    Atomics.store(this.stop, 0, 1);
    this.pool.forget(this);
  }
}
