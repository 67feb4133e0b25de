import {
  emptyCleanupStats,
  type CleanupOptions,
  type CleanupProgress,
  type CleanupReport,
  type CleanupStats,
} from '../../../retention/cleanup-report.js';
import { failpoint } from '../../../support/failpoint.js';
import { eraseFromArchive } from './archive-erasure.js';
import { archiveRows } from './cleanup-archive.js';
import { CleanupCompaction } from './cleanup-compaction.js';
import { decideRemoval } from './cleanup-decision.js';
import type { CleanupHost } from './cleanup-host.js';
import { cleanupInterrupted, clearIntent } from './cleanup-intent.js';
import { dropLogFront, frontSpanWithCutEvents } from './cleanup-log-front.js';
import { newCleanupReport, recordCleanupRun, type CleanupRun } from './cleanup-run.js';
import { CpuMeter, Pacer } from './cleanup-slices.js';
import { ErasureRecord, type PendingErasure } from './erasure-record.js';
import { turn } from '../../../support/turn.js';

/**
 * Batch cleanup: turns events that reads already leave out (expired by the retention policy, or of
 * a deleted stream) into events that are gone, archiving them first when an archive is configured.
 *
 * Two ways to remove, chosen per run:
 *  - the cut: the events that go from the table's first row up to the first event that stays (the
 *    oldest events; with one maxAge and time in order, all of them) are removed in place: column
 *    chunks let go, each index cut at its head, ids no event holds released (table-cut.ts).
 *    It costs time in the events removed, not the ones that stay, and the log is not rewritten: a
 *    segment goes once all of it is removed, and until then the log start record (log-start.ts)
 *    says which of its events open must remove again;
 *  - compaction: the events that go past that point (a deleted stream's, a type with a shorter
 *    maxAge, late arrivals) are removed by copying the table without them and rewriting the log
 *    segments that held them. It costs time in the events that stay, so a scheduled run does it only
 *    once they are `threshold` of the events (or some belong to a deleted stream: erasure never waits).
 *
 * Order of operations, and why a SIGKILL at any point loses nothing and duplicates nothing:
 *
 *  1. Decide: the rows hidden now. Nothing is written; a crash here changes nothing.
 *  2. Intent (when archiving): write `cleanup.json`, durably, saying how many files the archive
 *     manifest lists before this run. Nothing else has changed yet.
 *  3. Archive: write the rows' frames to an archive file, fsync, rename, then add it to the archive
 *     manifest (archive.ts). From the moment the manifest names it, its events count as archived.
 *     Opening a store whose intent file survives (a crash in steps 2-7) looks at the manifest: the
 *     entries past the count the intent recorded are this run's, and their events still in the
 *     table are removed before the store is returned (`pendingArchivedRows`), so live + archived
 *     never counts an event twice. With no such entry (a crash before the manifest named the file)
 *     nothing was archived, the events are still live, and the intent is simply cleared.
 *  4. Cut, in memory, in steps (table-cut.ts): from the step that moves the table's first row on,
 *     every read leaves the rows out.
 *  5. Compact the table in memory, slice by slice, and swap it in (table-compaction.ts).
 *  6. Rewrite each sealed log span that held compacted events (log-compaction.ts), each by temporary
 *     file, fsync and rename. The checkpoint is deleted before the first rename, since its record
 *     offsets describe the old files; a crash from here on reopens by replaying the log, which
 *     holds each surviving event once and hole frames for the rest.
 *  7. Record the log start (the cut, and the first segment kept), durably; then delete the whole
 *     segments at the log's front that hold only removed events. A crash before the record reopens
 *     with the cut events still there: hidden, and taken by the next run (or, archived, by step 3's
 *     roll-forward). A crash after it reopens with them removed again, and leftover segments deleted.
 *     A checkpoint older than the cut still serves: open applies the cut after loading it.
 *  8. After a compaction, write a new checkpoint. Then delete the intent file.
 *
 * Without an archive, a crash before step 6 or 7 finishes leaves removed events in the log; they are
 * still hidden (their deadline has passed, or their stream is deleted) and the next cleanup takes them.
 *
 * Erasure (a deleted stream's events; `deleteAggregate`) takes them off every file, not only out of
 * reads:
 *  - they are never archived, and never cut (the cut leaves the log's bytes where they are): from
 *    the first of them on, the removal is a compaction, so step 6 rewrites every span that held one;
 *  - while a deleted stream is not yet recorded as erased (erasure-record.ts), step 6 also rewrites
 *    the span at the log's front when it still holds events an earlier cut removed (they may be the
 *    stream's, archived before the deletion);
 *  - 9. after step 8, when a deleted stream is not yet recorded as erased from the archive, every
 *    archive file holding its events is rewritten without them (archive-erasure.ts, which has its
 *    own order of operations). Not while an intent file says an archiving run is unfinished: the
 *    intent counts the manifest's entries, and the erasure may take entries out.
 *  - 10. the deleted streams are recorded as erased, durably. A crash at any step before leaves them
 *    pending: the events are still hidden, and the next cleanup does the erasure again (a rewritten
 *    span or file holds none of them, so doing it again finds nothing more to take).
 * A span a run compacted but did not rewrite (it stopped, or failed) is rewritten by the next run;
 * until then the store writes no checkpoint (`owesRewrites`), so that a reopen replays the log, finds
 * the deleted events again, and removes them again.
 *
 * This class runs the steps in order, one run at a time, and keeps the totals; each step is a module
 * of its own: cleanup-decision.ts (1), cleanup-intent.ts (2, and 3 at open), cleanup-archive.ts
 * (2-3), cleanup-compaction.ts (5-6), cleanup-log-front.ts (7), archive-erasure.ts (9).
 */

const DEFAULT_SLICE = 8192;

export class Cleanup {
  private running: Promise<CleanupReport> | undefined;
  private readonly compaction = new CleanupCompaction();
  private progress: (progress: CleanupProgress) => void = () => undefined;
  /** Read at the first cleanup, not at open: a damaged record must not keep the store from opening. */
  private erasures: ErasureRecord | undefined;

  constructor(
    private readonly host: CleanupHost,
    /** Runs and totals so far: a store that rewires itself (a restore) passes its old ones on. */
    readonly stats: CleanupStats = emptyCleanupStats(),
  ) {}

  get isRunning(): boolean {
    return this.running !== undefined;
  }

  /**
   * Whether a run compacted rows out of the table but did not rewrite the spans holding them: a
   * checkpoint now would let a reopen forget those bytes are there (a deleted stream's would stay
   * on disk), so the store writes none until a run has rewritten them.
   */
  get owesRewrites(): boolean {
    return this.compaction.owesRewrites;
  }

  /** Runs a cleanup, or joins the one already running. */
  run(options: CleanupOptions = {}): Promise<CleanupReport> {
    this.progress = options.onProgress ?? (() => undefined);
    this.running ??= this.execute(options.sliceRows ?? DEFAULT_SLICE, options.threshold ?? 0).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /**
   * Removes rows an interrupted cleanup had already archived (found by `pendingArchivedRows`), then
   * clears its intent: no archiving again, the rows are in the archive.
   */
  async removeArchived(rows: readonly number[]): Promise<void> {
    const run = this.newRun(DEFAULT_SLICE);
    const started = performance.now();
    if (rows.length > 0) await this.remove(run, undefined, rows, false);
    if (this.host.dir !== undefined) await clearIntent(this.host.dir);
    recordCleanupRun(this.stats, run.report, started);
  }

  /** Waits for a running cleanup to stop (it stops at its next slice once the store is closing). */
  async settle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  private async execute(slice: number, threshold: number): Promise<CleanupReport> {
    const run = this.newRun(slice);
    const { host, meter, report } = run;
    const started = performance.now();
    const hidden = host.hidden();
    // The deletions this run erases: those made before it decides (a later one waits for the next run).
    const deleted = host.deletedStreams();
    this.erasures ??= new ErasureRecord(host.dir);
    const erasing = this.erasures.pending(deleted, host.archiveDir());
    const decision = await decideRemoval(run, hidden, threshold);
    if (decision === undefined) return recordCleanupRun(this.stats, report, started);
    const { hiddenRows, floor, cut, past, compact } = decision;
    if (cut === 0 && !compact && !erasing.log && !erasing.archive)
      return recordCleanupRun(this.stats, report, started);
    const archiveDir = host.archiveDir();
    const going = compact ? hiddenRows : hiddenRows.subarray(0, cut);
    if (archiveDir !== undefined && going.length > 0) {
      const inArchive = host.inArchive(archiveDir);
      // A deleted stream's events are erased, not archived.
      const toArchive = going.filter(
        (row) => !host.tombstoned(row) && (inArchive === undefined || !inArchive(row + 1)),
      );
      if (toArchive.length > 0 && !(await archiveRows(run, archiveDir, toArchive)))
        return recordCleanupRun(this.stats, report, started);
    }
    const removed =
      cut === 0 && !compact && !erasing.log
        ? true
        : await this.remove(run, cut > 0 ? floor : undefined, compact ? past : [], erasing.log);
    if (removed && (await this.eraseArchive(run, erasing, archiveDir)))
      await meter.sliceAsync(() => (this.erasures as ErasureRecord).record(deleted, archiveDir));
    failpoint('cleanup:erasure-recorded');
    return recordCleanupRun(this.stats, report, started);
  }

  /**
   * Step 9: takes the deleted streams' events out of the archive's files, when some may be there.
   * False when it could not (the store is closing, or an archiving run's intent is unfinished).
   */
  private async eraseArchive(
    run: CleanupRun,
    erasing: PendingErasure,
    archiveDir: string | undefined,
  ): Promise<boolean> {
    if (!erasing.archive || archiveDir === undefined) return true;
    const { host, meter, report } = run;
    if (host.dir !== undefined && cleanupInterrupted(host.dir)) return false;
    const tombstones = new Set(host.deletedStreams());
    const erased = await meter.measureAsync(() =>
      eraseFromArchive(
        archiveDir,
        (aggregateId) => tombstones.has(aggregateId),
        (renames) => host.archiveRenamed(archiveDir, renames),
        () => run.yieldSlice(),
      ),
    );
    if (erased === undefined) return false;
    report.erasedFromArchive += erased.events;
    return true;
  }

  /**
   * Steps 4-8: cut the rows below `floor` (when given), compact `rows` away, rewrite the log spans
   * that held them (and, with `eraseFront`, the front span when it holds cut events), drop the log's
   * empty front, checkpoint after a rewrite. False when the store is closing and it stopped.
   */
  private async remove(
    run: CleanupRun,
    floor: number | undefined,
    rows: ArrayLike<number>,
    eraseFront: boolean,
  ): Promise<boolean> {
    const { host, meter, report } = run;
    if (floor !== undefined && !(await this.cut(run, floor))) return false;
    const front = eraseFront ? frontSpanWithCutEvents(host) : undefined;
    const rewriting = rows.length > 0 || front !== undefined || this.compaction.owesRewrites;
    if (rewriting && !(await this.compaction.compact(run, rows, front))) return false;
    // Spans dropped whole owe no rewrite any more.
    await meter.sliceAsync(async () => this.compaction.forget(await dropLogFront(host, report)));
    failpoint('cleanup:front-dropped');
    if (host.dir !== undefined) {
      if (rewriting) {
        await meter.sliceAsync(() => host.writeCheckpoint());
        failpoint('cleanup:checkpointed');
      }
      await clearIntent(host.dir);
    }
    return true;
  }

  /** Step 4: removes every row below `floor` in place, in slices; false when the store is closing. */
  private async cut(run: CleanupRun, floor: number): Promise<boolean> {
    const { host, meter, report } = run;
    const cut = host.beginCut(floor);
    const pace = new Pacer(run.slice);
    let closing = false;
    while (!pace.timed(pace.size, () => cut.step(pace.size), meter)) {
      if (await run.yieldSlice()) continue;
      // Closing: the rest of the cut now, so no half-cut table is left for a checkpoint to keep.
      closing = meter.slice(() => cut.step(Infinity));
    }
    meter.slice(() => host.finishCut(cut, floor));
    report.removed += cut.removed;
    report.removedInPlace += cut.removed;
    failpoint('cleanup:cut');
    if (closing) {
      meter.slice(() => host.releaseEmptied(cut.emptied, Infinity));
      return false;
    }
    // Releasing ids costs a Map delete each: in slices too. Closing, the rest at once: an id left
    // unreleased would be kept by the checkpoint, and no later cut would find it empty again.
    while (!pace.timed(pace.size, () => host.releaseEmptied(cut.emptied, pace.size), meter)) {
      if (await run.yieldSlice()) continue;
      meter.slice(() => host.releaseEmptied(cut.emptied, Infinity));
      break;
    }
    return true;
  }

  /** A run's shared state; progress goes to the latest caller's onProgress (run() may be joined). */
  private newRun(slice: number): CleanupRun {
    const report = newCleanupReport(this.host.now());
    return {
      host: this.host,
      slice,
      meter: new CpuMeter(report),
      report,
      progress: (progress) => this.progress(progress),
      yieldSlice: () => this.yieldSlice(),
    };
  }

  /** Lets appends and queries run; false when the store is closing and cleanup must stop. */
  private async yieldSlice(): Promise<boolean> {
    await turn();
    return !this.host.closing;
  }
}
