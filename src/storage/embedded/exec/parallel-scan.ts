import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { StoreClosedError } from '../../../errors.js';
import { CHUNK_SHIFT } from '../table/chunked-column.js';
import type { EventTable } from '../table/event-table.js';
import { columnsOf, type ColumnFilter, type ScanColumn } from './column-filter.js';

/** What the pool tells a scan worker. */
export type ToWorker =
  /**
   * A column chunk, sent once per worker: its memory is shared, so later appends to it show through.
   * Sent again if the table replaced it, or as undefined once the table no longer holds it (cleanup
   * freed removed rows): the worker then drops its copy and reads zeros, as ChunkedColumn.get does.
   */
  | { kind: 'chunk'; column: ScanColumn; index: number; array: Float64Array | Uint32Array | undefined }
  /** Cleanup cut the rows below this chunk: drop every chunk below it (scans start past them). */
  | { kind: 'below'; index: number }
  /** A query's filter, and the flag that tells the worker to drop the query's remaining work. */
  | { kind: 'filter'; id: number; filter: ColumnFilter; stop: Int32Array }
  | { kind: 'scan'; task: number; filter: number; from: number; to: number }
  | { kind: 'forget'; id: number };

/** A worker's answer to one scan task: the matching rows, ascending, or what went wrong. */
export type FromWorker = { task: number; rows: Uint32Array<ArrayBuffer> } | { task: number; error: string };

/**
 * The worker entry sits beside this module with the same extension: scan-worker.js in the build,
 * scan-worker.ts when this runs from the TypeScript sources (the tests register a loader for that).
 */
const WORKER_ENTRY = new URL(`./scan-worker${extname(import.meta.url)}`, import.meta.url);

interface Pending {
  resolve: (rows: Uint32Array) => void;
  reject: (error: Error) => void;
}

/** One worker thread and what it has been sent. */
class ScanWorker {
  readonly thread = new Worker(WORKER_ENTRY);
  readonly pending = new Map<number, Pending>();
  /** The chunk arrays sent, by column and index: a chunk the table replaced or freed is sent again. */
  readonly chunks = new Map<ScanColumn, (Float64Array | Uint32Array | undefined)[]>();
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
      else pending?.resolve(message.rows);
    });
    this.thread.on('error', (error) => onFailure(this, error));
    this.thread.on('exit', (code) => onFailure(this, new Error(`scan worker exited with code ${code}`)));
  }

  post(message: ToWorker): void {
    this.thread.postMessage(message);
  }

  /** Sends the column's chunk unless the worker holds that very array already. */
  send(column: ScanColumn, index: number, array: Float64Array | Uint32Array | undefined): void {
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

  run(task: number, message: ToWorker, pending: Pending): void {
    if (this.pending.size === 0) this.thread.ref();
    this.pending.set(task, pending);
    this.post(message);
  }

  /** Fails what waits on this worker and ends it. */
  end(error: Error): Promise<number> {
    this.thread.removeAllListeners('exit');
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
    return this.thread.terminate();
  }
}

/**
 * A small pool of worker threads that scan a table's column chunks in place. The chunks are
 * SharedArrayBuffer-backed, so each is posted to a worker once and shared, never copied; rows below
 * the row count a plan was made at never change, so workers read them while appends go on after
 * them. Started on the first parallel scan, unref'd while idle so it never keeps the process alive,
 * and ended by close() (the store's close).
 */
export class ParallelScanPool {
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
    this.workers ??= Array.from(
      { length: this.size },
      () => new ScanWorker((worker, error) => this.fail(worker, error)),
    );
    return new ParallelScan(this, this.nextFilter++, filter, columnsOf(filter));
  }

  /** Runs one range on the least busy worker, first sending it the filter and chunks it lacks. */
  scan(scan: ParallelScan, from: number, to: number): Promise<Uint32Array> {
    const workers = this.workers;
    if (this.closed || workers === undefined) return Promise.reject(new StoreClosedError());
    const worker = workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    if (!worker.filters.has(scan.id)) {
      worker.filters.add(scan.id);
      worker.post({ kind: 'filter', id: scan.id, filter: scan.filter, stop: scan.stop });
    }
    worker.dropBelow(this.table.firstRow >>> CHUNK_SHIFT);
    for (const column of scan.columns) {
      for (let index = from >>> CHUNK_SHIFT; index <= (to - 1) >>> CHUNK_SHIFT; index++)
        worker.send(column, index, this.table[column].chunk(index));
    }
    const task = this.nextTask++;
    return new Promise((resolve, reject) =>
      worker.run(task, { kind: 'scan', task, filter: scan.id, from, to }, { resolve, reject }),
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
