import { StoreClosedError } from '../../errors.js';
import type { Clock } from '../../events/clock.js';
import type { FsyncPolicy } from '../store-stats.js';
import type { SegmentLog } from './log/segment-log.js';

/** What group commit needs from the engine. */
export interface GroupCommitHost {
  readonly fsync: FsyncPolicy;
  readonly fsyncIntervalMs: number;
  readonly clock: Clock;
  /** The on-disk log now (a restore swaps it); undefined for an in-memory engine. */
  log(): SegmentLog | undefined;
  readonly closed: boolean;
  /** An fsync failed: the OS may have dropped the data, so the engine refuses writes from now on. */
  fail(error: Error): void;
}

/**
 * When an append is acknowledged, per the fsync policy: `'always'` waits for an fsync (appends in
 * flight share one: group commit); `'batch'` acknowledges once written and fsyncs within
 * `fsyncIntervalMs`; `'never'` leaves it to flush, checkpoint and close. Every fsync it starts is
 * tracked, so a failure turns the engine's writes off and close can wait for the ones in flight.
 */
export class GroupCommit {
  private timer: NodeJS.Timeout | undefined;
  /** When the oldest write not yet fsync'ed under `'batch'` was acknowledged (see BatchDeadline). */
  private unsyncedSince: BatchDeadline | undefined;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly host: GroupCommitHost) {}

  /**
   * Waits as long as the fsync policy says an acknowledgement must; `afterWrite` (a checkpoint if
   * one is due) runs before the wait. Under `'batch'` the fsync is scheduled on a timer; but a
   * caller that keeps the process busy (a tight `await append()` loop resolves each append in a
   * microtask) never lets that timer, or the callback of an fsync already started, run. So each
   * append also checks the deadline itself, and the first one past it waits for an fsync of
   * everything written so far: the "fsync within fsyncIntervalMs" bound holds however the store is
   * called.
   */
  async acknowledge(afterWrite: () => void): Promise<void> {
    const log = this.host.log();
    if (log === undefined) return;
    if (this.host.fsync === 'always') {
      await this.track(log.sync());
    } else if (this.host.fsync === 'batch') {
      if (this.unsyncedSince === undefined) {
        this.unsyncedSince = this.batchTime();
        this.timer = setTimeout(() => this.syncBatch(), this.host.fsyncIntervalMs);
        this.timer.unref();
      } else if (this.syncOverdue(this.unsyncedSince)) {
        const sync = this.syncBatch();
        afterWrite();
        await sync;
        return;
      }
    }
    afterWrite();
  }

  /** An fsync of everything written so far, tracked (a failure fails the engine); none in memory. */
  sync(): Promise<void> {
    const log = this.host.log();
    return log === undefined ? Promise.resolve() : this.track(log.sync());
  }

  /**
   * Tracks an fsync: a failure fails the engine (writes refused until reopened) and rejects with a
   * StoreClosedError saying so.
   */
  track(sync: Promise<void>): Promise<void> {
    const tracked = sync.catch((error: Error) => {
      this.host.fail(error);
      throw new StoreClosedError(`fsync failed (${error.message}); the store refuses writes until reopened`);
    });
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked)).catch(() => undefined);
    return tracked;
  }

  /** Resolves once every fsync started so far has ended, however it ended. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  /** No more timed fsyncs (close). */
  stop(): void {
    clearTimeout(this.timer);
  }

  /**
   * Starts the fsync of everything written so far. The timer ignores how it ends (a failure is kept
   * by the engine); an append past the deadline waits for it, and fails if it fails.
   */
  private syncBatch(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.unsyncedSince = undefined;
    const log = this.host.log();
    if (this.host.closed || log === undefined) return Promise.resolve();
    const sync = this.track(log.sync());
    sync.catch(() => undefined);
    return sync;
  }

  /**
   * Now, on both clocks: the store's (`clock`, so tests drive the deadline without sleeping) and a
   * monotonic one (so a clock that stands still or jumps cannot stretch the bound in real time).
   */
  private batchTime(): BatchDeadline {
    let clock: number;
    try {
      clock = this.host.clock.now();
    } catch {
      clock = Number.NaN; // an unreadable clock: the monotonic one decides
    }
    return { clock, monotonic: performance.now() };
  }

  /** Whether `fsyncIntervalMs` has passed since `since` on either clock (or the store's went back). */
  private syncOverdue(since: BatchDeadline): boolean {
    const now = this.batchTime();
    const interval = this.host.fsyncIntervalMs;
    return (
      now.monotonic - since.monotonic >= interval ||
      now.clock - since.clock >= interval ||
      now.clock < since.clock
    );
  }
}

/** A moment on the store's clock and on the monotonic clock: for the `'batch'` fsync deadline. */
interface BatchDeadline {
  clock: number;
  monotonic: number;
}
