import { writeCheckpoint, writeCheckpointAsync } from './checkpoint.js';
import type { IndexManager } from './indexes/index-manager.js';
import type { RecordLog } from './log/record-log.js';
import type { SegmentLog } from './log/segment-log.js';
import { storageError } from './log/storage-error.js';
import type { EventTable } from './table/event-table.js';

/** What the checkpointer needs from the engine: its parts as they are now (a restore swaps them). */
export interface CheckpointHost {
  readonly dir: string | undefined;
  readonly every: number;
  table(): EventTable;
  log(): RecordLog;
  diskLog(): SegmentLog | undefined;
  indexes(): IndexManager;
  /** Whether a periodic checkpoint may start now (not closed or failed, no cleanup or restore running). */
  mayStart(): boolean;
  /** An fsync of the log, tracked by group commit. */
  syncLog(): Promise<void>;
}

/**
 * Index checkpoints: periodic ones in the background, and the ones cleanup, restore, checkpoint()
 * and close() ask for. A checkpoint lets the next open load the table instead of replaying the log.
 */
export class Checkpointer {
  /** Rows covered by the checkpoint on disk (so close() knows whether a new one is worth writing). */
  rows: number;
  /** Why the last periodic checkpoint failed, or null. */
  error: string | null = null;
  /** The row count at which a failed periodic checkpoint is tried again. */
  private retryAt = 0;
  /**
   * The periodic checkpoint being written in the background, if one is (maybe()). It reads the
   * table's column chunks in place (checkpoint.ts writeCheckpointAsync), so whatever changes the
   * table or the log other than by appending (a cleanup, a restore, another checkpoint) abandons it
   * first: it then stops without being installed, and the checkpoint before it stays.
   */
  private background: { abandoned: boolean; done: Promise<void> } | undefined;

  constructor(
    private readonly host: CheckpointHost,
    checkpointRows: number,
  ) {
    this.rows = checkpointRows;
  }

  /** Whether a periodic checkpoint is being written. */
  get running(): boolean {
    return this.background !== undefined;
  }

  /** Resolves when the periodic checkpoint in flight (if any) has stopped. */
  async settle(): Promise<void> {
    await this.background?.done;
  }

  /** Makes a checkpoint being written in the background stop without being installed. */
  abandon(): void {
    if (this.background !== undefined) this.background.abandoned = true;
  }

  /**
   * Starts a checkpoint in the background once `checkpointEvery` events have been appended since
   * the last one. Its synchronous step (the snapshot, copying what appends change in place) costs
   * tens of milliseconds at a million events; the rest runs while appends and queries go on. One
   * that fails is tried again `checkpointEvery` events later (stats().storage.checkpointError says
   * why): the log holds every event, so a missing checkpoint costs replay time at open, not data.
   */
  maybe(): void {
    const every = this.host.every;
    if (this.host.dir === undefined || every === 0 || this.background !== undefined) return;
    if (!this.host.mayStart()) return;
    const rows = this.host.table().rows;
    if (rows - this.rows < every || rows < this.retryAt) return;
    const job = { abandoned: false, done: Promise.resolve() };
    this.background = job;
    job.done = this.inBackground(job)
      .then(
        () => {
          this.error = null;
        },
        (error: Error) => {
          this.error = error.message;
          this.retryAt = rows + every;
        },
      )
      .finally(() => {
        if (this.background === job) this.background = undefined;
      });
  }

  /**
   * A checkpoint written in the background (checkpoint.ts writeCheckpointAsync), with both fsyncs
   * (log and checkpoint) off the main thread, so appends and queries go on. For the periodic one,
   * cleanup's, and a restore's.
   */
  async inBackground(job?: { readonly abandoned: boolean }): Promise<void> {
    // A periodic one abandoned may still be writing the temporary file: one writer at a time.
    const running = this.background;
    if (running !== undefined && running !== job) await running.done;
    const dir = this.host.dir;
    if (dir === undefined) return;
    const table = this.host.table();
    const rows = table.rows;
    const installed = await writeCheckpointAsync(
      dir,
      table,
      this.host.log().end,
      this.host.indexes().snapshotSources(),
      () => this.host.syncLog(),
      () => job?.abandoned !== true,
    );
    if (installed) this.rows = rows;
  }

  /** A checkpoint now, on this thread: checkpoint() and close(). */
  now(): void {
    const dir = this.host.dir;
    const diskLog = this.host.diskLog();
    if (dir === undefined || diskLog === undefined) return;
    // The log must be durable up to the checkpoint's offset before the checkpoint claims it.
    try {
      diskLog.syncNow();
    } catch (error) {
      throw storageError(
        error,
        'could not fsync the log before writing the checkpoint; the checkpoint was not written',
      );
    }
    const table = this.host.table();
    writeCheckpoint(dir, table, this.host.log().end, this.host.indexes().snapshotSources());
    this.rows = table.rows;
  }
}
