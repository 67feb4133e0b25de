import { existsSync, readFileSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CorruptionError } from '../../../errors.js';
import { writeFileDurablyAsync } from '../log/durable-file.js';
import { FRAME_HEADER, frameCount, frameSequence } from '../../../codec/frame.js';
import { readLogStart, writeLogStart } from '../log/log-start.js';
import type { RecordLog } from '../log/record-log.js';
import { syncDirectoryAsync } from '../log/segment-log.js';
import type { EmptiedIds, EventTable } from '../table/event-table.js';
import type { TableCut } from '../table/table-cut.js';
import { RowBuffer } from '../table/row-buffer.js';
import {
  archiveCompressedAsync,
  CompressedParts,
  compressFrames,
  newFramesSummary,
  readArchiveFile,
  readManifest,
  summarizeFrames,
  type ArchiveEntry,
} from './archive.js';
import {
  emptyCleanupStats,
  type CleanupReport,
  type CleanupStats,
} from '../../../retention/cleanup-report.js';
import { CpuMeter, Pacer } from './cleanup-slices.js';
import { firstSequenceAt, forEachRunFrame, RecordWindow, rewriteSpan } from './log-compaction.js';
import { eraseFromArchive } from './archive-erasure.js';
import { ErasureRecord, type PendingErasure } from './erasure-record.js';
import { failpoint } from '../../../support/failpoint.js';
import { TableCompaction } from './table-compaction.js';
import type { CleanupOptions, CleanupProgress } from '../../../retention/cleanup-report.js';

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
 */
export interface CleanupHost {
  readonly table: EventTable;
  readonly log: RecordLog;
  /** The store directory; undefined for an in-memory store. */
  readonly dir: string | undefined;
  archiveDir(): string | undefined;
  /**
   * Which sequences' events `archiveDir` holds already (restored events keep their archive copy;
   * archived-copies.ts), or undefined when none: those are removed without archiving them again.
   */
  inArchive(archiveDir: string): ((sequence: number) => boolean) | undefined;
  /** The store's clock, for the report. */
  now(): number;
  /** The rows reads leave out as of now, or undefined when none can be. */
  hidden(): ((row: number) => boolean) | undefined;
  /** Whether the row's stream is deleted (for the report). */
  tombstoned(row: number): boolean;
  /** After the table swap: the store re-points what held dictionary ids or rows. */
  afterCompaction(): void;
  /** The deleted streams (deleteAggregate), by name. */
  deletedStreams(): readonly string[];
  /** An erasure renamed archive files (archive-erasure.ts): the record of restored copies follows. */
  archiveRenamed(archiveDir: string, renames: ReadonlyMap<string, string>): void;
  /** The cut: removes every row below `floor` in place, in steps (TableCut). */
  beginCut(floor: number): TableCut;
  /** After the cut's last step: the store re-counts deleted streams and cuts the user indexes. */
  finishCut(cut: TableCut, floor: number): void;
  /** Releases up to `budget` of the ids a cut emptied; true once none is left. */
  releaseEmptied(emptied: EmptiedIds, budget: number): boolean;
  /** Writes a checkpoint; the fsyncs may run off the main thread. */
  writeCheckpoint(): Promise<void>;
  discardCheckpoint(): void;
  /** Whether the store is closing: cleanup stops at the next slice. */
  readonly closing: boolean;
}

const INTENT_FILE = 'cleanup.json';
const DEFAULT_SLICE = 8192;
/** Frames compressed together as one gzip member: big enough that a member's overhead is nothing. */
const MEMBER_BYTES = 1 << 20;

export class Cleanup {
  private running: Promise<CleanupReport> | undefined;
  /**
   * Spans that held removed rows and were not rewritten yet: a run that failed or stopped after
   * compacting leaves them to the next, which must rewrite them even if it removes nothing there.
   */
  private readonly unrewritten = new Set<number>();
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
    return this.unrewritten.size > 0;
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
    const report = newReport(this.host.now());
    const started = performance.now();
    if (rows.length > 0)
      await this.remove(undefined, rows, false, DEFAULT_SLICE, new CpuMeter(report), report);
    if (this.host.dir !== undefined) await clearIntent(this.host.dir);
    this.finish(report, started);
  }

  /** Waits for a running cleanup to stop (it stops at its next slice once the store is closing). */
  async settle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  private async execute(slice: number, threshold: number): Promise<CleanupReport> {
    const report = newReport(this.host.now());
    const started = performance.now();
    const meter = new CpuMeter(report);
    const { host } = this;
    const { table } = host;
    const hidden = host.hidden();
    // The deletions this run erases: those made before it decides (a later one waits for the next run).
    const deleted = host.deletedStreams();
    this.erasures ??= new ErasureRecord(host.dir);
    const erasing = this.erasures.pending(deleted, host.archiveDir());
    const doomed = new RowBuffer();
    // The first row that stays: the rows that go below it are cut; the ones past it, compacted.
    let floor = -1;
    let tombstonedPast = 0;
    let examinedTo = table.firstRow;
    if (hidden !== undefined) {
      // Rows appended while this runs are left to the next run: examining them too, a run under a
      // steady stream of appends could never finish deciding.
      const end = table.rows;
      const pace = new Pacer(slice);
      for (let from = table.firstRow, to = from; from < end; from = to) {
        to = Math.min(end, from + pace.size);
        pace.timed(
          to - from,
          () => {
            for (let row = from; row < to; row++) {
              if (table.isRemoved(row)) continue;
              report.examined++;
              if (!hidden(row)) {
                if (floor < 0) floor = row;
                continue;
              }
              doomed.push(row);
              if (!host.tombstoned(row)) continue;
              // A deleted stream's event is never cut: the cut leaves the log as it is (a segment
              // goes only once all of it is removed), and erasure must take its bytes off the disk
              // now. From the first one on, the removal is a compaction, which rewrites the spans.
              if (floor < 0) floor = row;
              report.tombstoned++;
              tombstonedPast++;
            }
            examinedTo = to;
          },
          meter,
        );
        this.progress({ phase: 'deciding', done: to - table.firstRow, total: end - table.firstRow });
        if (!(await this.yieldSlice())) return this.finish(report, started);
      }
    }
    if (floor < 0) floor = examinedTo;
    const hiddenRows = doomed.result();
    let cut = 0;
    while (cut < hiddenRows.length && (hiddenRows[cut] as number) < floor) cut++;
    const past = hiddenRows.subarray(cut);
    // The threshold holds back compaction only: it costs time in the events that stay. The cut costs
    // time in the events it removes, so it never waits; waiting, the table would swing between the
    // window and the window plus a threshold's worth of expired events, and memory with it.
    const compact = past.length > 0 && (tombstonedPast > 0 || past.length >= threshold * report.examined);
    report.deferred = past.length > 0 && !compact;
    if (cut === 0 && !compact && !erasing.log && !erasing.archive) return this.finish(report, started);
    const archiveDir = host.archiveDir();
    const going = compact ? hiddenRows : hiddenRows.subarray(0, cut);
    if (archiveDir !== undefined && going.length > 0) {
      const inArchive = host.inArchive(archiveDir);
      // A deleted stream's events are erased, not archived.
      const toArchive = going.filter(
        (row) => !host.tombstoned(row) && (inArchive === undefined || !inArchive(row + 1)),
      );
      if (toArchive.length > 0 && !(await this.archive(archiveDir, toArchive, slice, meter, report)))
        return this.finish(report, started);
    }
    const removed =
      cut === 0 && !compact && !erasing.log
        ? true
        : await this.remove(
            cut > 0 ? floor : undefined,
            compact ? past : [],
            erasing.log,
            slice,
            meter,
            report,
          );
    if (removed && (await this.eraseArchive(erasing, archiveDir, meter, report)))
      await meter.sliceAsync(() => (this.erasures as ErasureRecord).record(deleted, archiveDir));
    failpoint('cleanup:erasure-recorded');
    return this.finish(report, started);
  }

  /**
   * Step 9: takes the deleted streams' events out of the archive's files, when some may be there.
   * False when it could not (the store is closing, or an archiving run's intent is unfinished).
   */
  private async eraseArchive(
    erasing: PendingErasure,
    archiveDir: string | undefined,
    meter: CpuMeter,
    report: CleanupReport,
  ): Promise<boolean> {
    if (!erasing.archive || archiveDir === undefined) return true;
    const { host } = this;
    if (host.dir !== undefined && cleanupInterrupted(host.dir)) return false;
    const tombstones = new Set(host.deletedStreams());
    const erased = await meter.measureAsync(() =>
      eraseFromArchive(
        archiveDir,
        (aggregateId) => tombstones.has(aggregateId),
        (renames) => host.archiveRenamed(archiveDir, renames),
        () => this.yieldSlice(),
      ),
    );
    if (erased === undefined) return false;
    report.erasedFromArchive += erased.events;
    return true;
  }

  /**
   * Steps 2-3: record the intent, then archive the rows: their frames are built slice by slice,
   * compressed and written off the main thread (archive.ts archiveCompressedAsync). False when the
   * store is closing (nothing archived; the intent is cleared at the next open).
   */
  private async archive(
    dir: string,
    rows: Uint32Array,
    slice: number,
    meter: CpuMeter,
    report: CleanupReport,
  ): Promise<boolean> {
    const { table, log } = this.host;
    // Each slice's frames become one gzip member, compressed off the main thread while appends and
    // queries run: no copy of all the frames is ever held.
    const members = new CompressedParts();
    const summary = newFramesSummary();
    const records = new RecordWindow(log);
    // A member's frames are built in place, one after the other, in a buffer every member reuses
    // (it is free again once the member is compressed): a Buffer per frame and a concatenated copy
    // per member were most of the memory an archiving run churned outside the JS heap.
    const member = new MemberBuffer();
    const pace = new Pacer(slice);
    for (let from = 0, to = 0; from < rows.length; from = to) {
      to = Math.min(rows.length, from + pace.size);
      const visit = (frame: Buffer) => summarizeFrames(frame, 'frames to archive', summary, true);
      pace.timed(
        to - from,
        () => forEachRunFrame(table, log, rows.subarray(from, to), visit, undefined, records, member.alloc),
        meter,
      );
      if (member.length >= MEMBER_BYTES || to === rows.length) {
        const bytes = member.bytes.subarray(0, member.length);
        const compressed = await meter.measureAsync(() => compressFrames(bytes));
        meter.slice(() => members.add(compressed));
        member.length = 0;
      }
      if (!(await this.yieldSlice())) return false;
    }
    if (this.host.dir !== undefined) await writeIntent(this.host.dir, dir, readManifest(dir).length);
    failpoint('cleanup:intent-written');
    const entry = await meter.measureAsync(() => archiveCompressedAsync(dir, members, summary));
    failpoint('cleanup:archived');
    report.archived += entry.events;
    report.archiveFile = entry.file;
    return true;
  }

  /**
   * Steps 4-8: cut the rows below `floor` (when given), compact `rows` away, rewrite the log spans
   * that held them (and, with `eraseFront`, the front span when it holds cut events), drop the log's
   * empty front, checkpoint after a rewrite. False when the store is closing and it stopped.
   */
  private async remove(
    floor: number | undefined,
    rows: ArrayLike<number>,
    eraseFront: boolean,
    slice: number,
    meter: CpuMeter,
    report: CleanupReport,
  ): Promise<boolean> {
    const { host } = this;
    if (floor !== undefined) {
      const cut = host.beginCut(floor);
      const pace = new Pacer(slice);
      let closing = false;
      while (!pace.timed(pace.size, () => cut.step(pace.size), meter)) {
        if (await this.yieldSlice()) continue;
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
        if (await this.yieldSlice()) continue;
        meter.slice(() => host.releaseEmptied(cut.emptied, Infinity));
        break;
      }
    }
    const front = eraseFront ? this.frontSpanWithCutEvents() : undefined;
    const rewriting = rows.length > 0 || front !== undefined || this.unrewritten.size > 0;
    if (rewriting && !(await this.compact(rows, front, slice, meter, report))) return false;
    await meter.sliceAsync(() => this.dropFront(report));
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

  /**
   * The base of the span at the log's front when it still holds events a cut removed (a cut drops
   * a segment only once all of it is removed): the one that holds the first event held, or the
   * active span when none is. Undefined when it holds none.
   */
  private frontSpanWithCutEvents(): number | undefined {
    const { table, log } = this.host;
    const held = firstHeldRow(table);
    const heldAt = held === undefined ? Infinity : table.recordOffset.get(held);
    const span =
      log.sealedSpans().find((s) => s.end > heldAt) ?? (log.activeSpan.empty ? undefined : log.activeSpan);
    if (span === undefined) return undefined;
    return firstSequenceAt(log, span.base) <= table.firstRow ? span.base : undefined;
  }

  /**
   * Steps 5-6: compacts `rows` out of the table, then rewrites the spans that held them, the span at
   * `front` (when given) and those an earlier run left unrewritten; false when closing.
   */
  private async compact(
    rows: ArrayLike<number>,
    front: number | undefined,
    slice: number,
    meter: CpuMeter,
    report: CleanupReport,
  ): Promise<boolean> {
    const { host } = this;
    const { table, log } = host;
    const touched = spansHolding(
      log,
      Float64Array.from(rows, (row) => table.recordOffset.get(row)),
    );
    if (front !== undefined) touched.add(front);
    for (const base of this.unrewritten) touched.add(base);
    if (rows.length > 0 && !(await this.compactTable(rows, slice, meter, report))) return false;
    for (const base of touched) this.unrewritten.add(base);
    failpoint('cleanup:table-compacted');
    // The rows are gone from every read now; what follows gives back their disk or memory space.
    if (touched.has(log.activeSpan.base)) log.seal();
    // The store writes no checkpoint while cleanup runs (one between two renames would hold
    // offsets the next rename makes wrong); cleanup writes its own at the end.
    if (host.dir !== undefined) host.discardCheckpoint();
    failpoint('cleanup:checkpoint-discarded');
    return this.rewriteSpans(touched, meter, report);
  }

  /** Step 5: compacts `rows` out of the table and swaps the copy in; false when closing. */
  private async compactTable(
    rows: ArrayLike<number>,
    slice: number,
    meter: CpuMeter,
    report: CleanupReport,
  ): Promise<boolean> {
    const { host } = this;
    const { table } = host;
    let next = 0;
    const compaction = new TableCompaction(table, (row) => {
      while (next < rows.length && (rows[next] as number) < row) next++;
      return rows[next] === row;
    });
    const total = table.rows - table.firstRow;
    for (let done = 0; ;) {
      const finished = meter.slice(() => compaction.step(slice));
      done = Math.min(total, done + slice);
      this.progress({ phase: 'compacting', done: finished ? total : done, total });
      if (finished) break;
      if (!(await this.yieldSlice())) {
        compaction.abort();
        return false;
      }
    }
    meter.slice(() => {
      compaction.finish();
      host.afterCompaction();
    });
    report.removed += compaction.removed;
    return true;
  }

  /** Step 5: rewrites the sealed spans that held removed rows; false when the store is closing. */
  private async rewriteSpans(touched: Set<number>, meter: CpuMeter, report: CleanupReport): Promise<boolean> {
    const { host } = this;
    const { table, log } = host;
    const sealed = log.sealedSpans();
    // A span an earlier run left unrewritten may be gone since (dropped whole at the log's front).
    const bases = new Set(sealed.map((span) => span.base));
    for (const base of this.unrewritten) if (!bases.has(base)) this.unrewritten.delete(base);
    const spans = sealed.filter((span) => touched.has(span.base));
    for (const [i, span] of spans.entries()) {
      const rewrite = await rewriteSpan(
        table,
        log,
        span,
        sequenceAfter(host, span.end),
        (work) => meter.slice(work),
        () => this.yieldSlice(),
      );
      if (rewrite === undefined) return false;
      this.unrewritten.delete(span.base);
      report.bytesFreed += rewrite.before - rewrite.after;
      report.spansRewritten++;
      failpoint('cleanup:span-rewritten');
      this.progress({ phase: 'rewriting', done: i + 1, total: spans.length });
      if (!(await this.yieldSlice())) return false;
    }
    return true;
  }

  /**
   * Step 7: records the log start (the cut, and the first segment kept), then deletes the sealed
   * spans at the log's front that hold only removed events: those before the first event held.
   */
  private async dropFront(report: CleanupReport): Promise<void> {
    const { log, dir, table } = this.host;
    const sealed = log.sealedSpans();
    const held = firstHeldRow(table);
    const heldAt = held === undefined ? Infinity : table.recordOffset.get(held);
    const empty = sealed.filter((span) => span.end <= heldAt);
    const firstKept = sealed[empty.length] ?? log.activeSpan;
    const start = {
      firstSequence:
        'end' in firstKept || !log.activeSpan.empty ? firstSequenceAt(log, firstKept.base) : table.rows + 1,
      removedBefore: table.firstRow + 1,
    };
    if (dir !== undefined) {
      const recorded = readLogStart(dir);
      if (recorded.firstSequence !== start.firstSequence || recorded.removedBefore !== start.removedBefore)
        await writeLogStart(dir, start);
    }
    failpoint('cleanup:log-start-written');
    if (empty.length === 0) return;
    for (const span of empty) report.bytesFreed += span.end - span.base;
    report.spansDropped += empty.length;
    await log.dropSpans(empty.map((span) => span.base));
    for (const span of empty) this.unrewritten.delete(span.base);
  }

  /** Lets appends and queries run; false when the store is closing and cleanup must stop. */
  private async yieldSlice(): Promise<boolean> {
    await new Promise((resolve) => setImmediate(resolve));
    return !this.host.closing;
  }

  private finish(report: CleanupReport, started: number): CleanupReport {
    report.durationMs = performance.now() - started;
    const stats = this.stats;
    stats.runs++;
    stats.lastRun = report;
    stats.totals.removed += report.removed;
    stats.totals.archived += report.archived;
    stats.totals.tombstoned += report.tombstoned;
    stats.totals.bytesFreed += report.bytesFreed;
    stats.totals.cpuMs += report.cpuMs;
    return report;
  }
}

/**
 * Step 3 at open: a cleanup that died after writing its intent file. Its archive files' events
 * are archived; the ones still in the table go now. Returns the rows to remove.
 */
export function pendingArchivedRows(dir: string, table: EventTable): number[] {
  const intent = readIntent(dir);
  if (intent === undefined) return [];
  const entries = readManifest(intent.archiveDir).slice(intent.filesBefore);
  const rows: number[] = [];
  for (const entry of entries) {
    forEachArchivedSequence(intent.archiveDir, entry, (sequence) => {
      const row = sequence - 1;
      if (row < table.rows && !table.isRemoved(row)) rows.push(row);
    });
  }
  return rows.sort((a, b) => a - b);
}

/** Whether an archiving cleanup was interrupted (its intent file is still there). */
export function cleanupInterrupted(dir: string): boolean {
  return existsSync(join(dir, INTENT_FILE));
}

/** Removes a finished run's (or roll-forward's) intent file; the unlink and fsync run off the main thread. */
export async function clearIntent(dir: string): Promise<void> {
  const path = join(dir, INTENT_FILE);
  if (!existsSync(path)) return;
  await unlink(path);
  await syncDirectoryAsync(dir);
}

function forEachArchivedSequence(dir: string, entry: ArchiveEntry, visit: (sequence: number) => void): void {
  const frames = readArchiveFile(dir, entry);
  for (let at = 0; at < frames.length; at += FRAME_HEADER + frames.readUInt32LE(at + 4)) {
    const first = frameSequence(frames, at);
    const count = frameCount(frames, at);
    for (let i = 0; i < count; i++) visit(first + i);
  }
}

/**
 * An intent still there belongs to a run that failed after archiving (an I/O error) and left
 * segments unrewritten: its archive files must stay claimed, so the older count is kept.
 */
function writeIntent(dir: string, archiveDir: string, filesBefore: number): Promise<void> {
  const earlier = readIntent(dir);
  const since = earlier?.archiveDir === archiveDir ? Math.min(earlier.filesBefore, filesBefore) : filesBefore;
  return writeFileDurablyAsync(
    join(dir, INTENT_FILE),
    `${JSON.stringify({ archiveDir, filesBefore: since })}\n`,
  );
}

function readIntent(dir: string): { archiveDir: string; filesBefore: number } | undefined {
  const path = join(dir, INTENT_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const intent = JSON.parse(readFileSync(path, 'utf8')) as { archiveDir?: unknown; filesBefore?: unknown };
    if (typeof intent.archiveDir === 'string' && typeof intent.filesBefore === 'number')
      return { archiveDir: intent.archiveDir, filesBefore: intent.filesBefore };
  } catch {
    // fall through: the intent is written durably (temp file + rename), so this is damage
  }
  throw new CorruptionError(path, 0, 'the cleanup intent file is unreadable');
}

/** Bases of the spans holding these offsets (sorted in place). */
function spansHolding(log: RecordLog, offsets: Float64Array): Set<number> {
  const spans = [...log.sealedSpans(), { base: log.activeSpan.base, end: Infinity }];
  const bases = new Set<number>();
  let s = 0;
  for (const offset of offsets.sort()) {
    while (s + 1 < spans.length && (spans[s + 1] as { base: number }).base <= offset) s++;
    bases.add((spans[s] as { base: number }).base);
  }
  return bases;
}

/** The first sequence after the span ending at `end`: the next span's first, or the table's next. */
function sequenceAfter(host: CleanupHost, end: number): number {
  const { log, table } = host;
  const next = log.sealedSpans().find((span) => span.base >= end);
  if (next !== undefined) return firstSequenceAt(log, next.base);
  return log.activeSpan.empty ? table.rows + 1 : firstSequenceAt(log, log.activeSpan.base);
}

/** The first row holding an event, or undefined when none does. */
function firstHeldRow(table: EventTable): number | undefined {
  for (let row = table.firstRow; row < table.rows; row++) if (!table.isRemoved(row)) return row;
  return undefined;
}

function newReport(now: number): CleanupReport {
  return {
    startedAt: new Date(now).toISOString(),
    durationMs: 0,
    cpuMs: 0,
    examined: 0,
    removed: 0,
    archived: 0,
    tombstoned: 0,
    bytesFreed: 0,
    spansRewritten: 0,
    spansDropped: 0,
    removedInPlace: 0,
    erasedFromArchive: 0,
    deferred: false,
  };
}

/** Frames built back to back in one growing buffer (see Cleanup.archive). */
class MemberBuffer {
  bytes = Buffer.alloc(0);
  length = 0;

  /** The next `size` bytes; what was built before them is kept if the buffer has to grow. */
  readonly alloc = (size: number): Buffer => {
    const end = this.length + size;
    if (end > this.bytes.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(end, 2 * this.bytes.length, 4 * MEMBER_BYTES));
      this.bytes.copy(grown, 0, 0, this.length);
      this.bytes = grown;
    }
    const frame = this.bytes.subarray(this.length, end);
    this.length = end;
    return frame;
  };
}
