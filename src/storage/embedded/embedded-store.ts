import {
  ConcurrencyError,
  DuplicateEventIdError,
  ReadOnlyError,
  StoreClosedError,
  ValidationError,
  type ExpectedVersion,
} from '../../errors.js';
import type { NewEvent, StoredEvent } from '../../events/types.js';
import { validateBatch, toEpochMs, type ValidEvent } from '../../events/validate.js';
import { requireDense } from '../../events/dense-list.js';
import { normalizeCriteria, optionalInteger, requireObject } from '../../query/criteria.js';
import { AdvancedQueryBuilder, type QueryRunner } from '../../query/advanced-query-builder.js';
import type { EventQuery } from '../../query/ast.js';
import { criteriaToQuery } from '../../query/criteria-to-query.js';
import type { Explanation } from '../../query/explanation.js';
import { IndexManager } from './indexes/index-manager.js';
import { toView, type EventView } from './exec/event-view.js';
import { Statistics } from './indexes/statistics.js';
import { Tombstones } from './retention/tombstones.js';
import { Visibility } from './retention/visibility.js';
import { refuseExpired } from '../../retention/admission.js';
import { checkClockSkew } from '../../events/clock-skew.js';
import { RetentionPolicy, type RetentionOptions } from '../../retention/policy.js';
import { archiveToQuery, mergeBySequence, queryArchived } from './retention/archive-query.js';
import { IndexAdvisor } from './indexes/index-advisor.js';
import { Cleanup } from './retention/cleanup.js';
import { type CleanupOptions } from '../../retention/cleanup-report.js';
import { emptyCleanupStats, type CleanupReport } from '../../retention/cleanup-report.js';
import { CleanupSchedule } from '../../retention/cleanup-schedule.js';
import { writePolicyFile } from './retention/policy-file.js';
import {
  checkRestoreArguments,
  framesByFile,
  newRestoreReport,
  readArchivedFrames,
  restoreFrames,
  withoutDeletedStreams,
} from './retention/restore.js';
import { type RestoreOptions, type RestoreReport } from '../../retention/restore-report.js';
import { rebuildWithRestored } from './retention/restore-between.js';
import type { ArchivedFrame, MergeProgress } from './retention/log-merge.js';
import { ArchivedCopies } from './retention/archived-copies.js';
import { installStagedLog, removeStaging } from './log/log-swap.js';
import { discardCheckpoint } from './checkpoint.js';
import { QueryEngine } from './exec/query-engine.js';
import { writeCheckpoint, writeCheckpointAsync } from './checkpoint.js';
import { FRAME_HEADER, RECORD_PREFIX, frameSequence, sealFrame } from '../../codec/frame.js';
import type { DirectoryLock } from './log/lock.js';
import { RecordWriter, decodeId } from '../../codec/record-codec.js';
import type { RecordLog } from './log/record-log.js';
import { SegmentLog, syncDirectory } from './log/segment-log.js';
import type { EmptiedIds, EventTable } from './table/event-table.js';
import { TableCut } from './table/table-cut.js';
import type { SortedRows } from './table/sorted-rows.js';
import type {
  AppendToStreamOptions,
  EventStore,
  GetEventsByTypeOptions,
  GetEventsOptions,
  RangeOptions,
  ReadOptions,
} from '../../store/event-store.js';
import type { QueryCriteria, QueryEventsOptions, TimeInput } from '../../query/criteria.js';
import type { StoreStats } from '../store-stats.js';
import { EventReader } from './table/event-reader.js';
import { contentDifference, matchStoredIds, refuseRestoredDuplicates } from './duplicate-ids.js';
import { WriteGate } from '../../support/write-gate.js';
import { type ResolvedOptions } from '../../store/options.js';
import { describe } from '../../support/describe.js';
import type { OpenRecovery } from './recovery/open-recovery.js';
import { storageError } from './log/storage-error.js';
import type { UserIndex } from './indexes/user-index.js';
import { followAppends, loadSnapshot, type ReadOnlySnapshot } from './read-only.js';

/** What the store needs from an on-disk backing; absent for an in-memory store. */
export interface DiskParts {
  dir: string;
  log: SegmentLog;
  lock: DirectoryLock;
  /** Rows covered by the checkpoint on disk (so close() knows whether a new one is worth writing). */
  checkpointRows: number;
  /** What open dropped or found lost (open-recovery.ts). */
  recovery?: OpenRecovery;
  /** Set for a store opened read-only beside a writer: what it loaded, to follow the writer (read-only.ts). */
  readOnly?: Pick<ReadOnlySnapshot, 'stamps' | 'cut'>;
}

/** The embedded engine: a log of frames, and a table of columns and indexes over it. */
export class EmbeddedEventStore implements EventStore {
  private readonly writer = new RecordWriter();
  // The table, its log, and everything built over them. Not readonly: a restore into the middle
  // of the store rebuilds the log and the table, and wires new ones in (see restoreArchive).
  private table!: EventTable;
  private log!: RecordLog;
  private disk: DiskParts | undefined;
  private reader!: EventReader;
  private queries!: QueryEngine;
  private tombstones!: Tombstones;
  private visibility!: Visibility;
  /** User-defined indexes: create, drop, list, analyze, rebuild, usage, size. */
  indexes!: IndexManager;
  private cleaner!: Cleanup;
  private readonly schedule: CleanupSchedule;
  /** Restored events whose archive copy stays: cleanup does not archive them again. */
  private readonly archivedCopies: ArchivedCopies;
  /** Held while a restore runs: writes wait for it, reads go on (from the old table while it rebuilds one). */
  private readonly writes = new WriteGate();
  /** Restores run one after the other: the last one's end. */
  private restores: Promise<void> = Promise.resolve();
  private closed = false;
  /** Set when an fsync fails: the OS may have dropped the data, so the store refuses writes. */
  private failure: Error | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  /** When the oldest write not yet fsync'ed under `'batch'` was acknowledged (see BatchDeadline). */
  private unsyncedSince: BatchDeadline | undefined;
  private pendingSyncs = new Set<Promise<void>>();
  private sequenceLookups = 0;
  private sequenceHits = 0;
  private lastCleanupError: string | null = null;
  /**
   * The periodic checkpoint being written in the background, if one is (maybeCheckpoint). It reads
   * the table's column chunks in place (checkpoint.ts writeCheckpointAsync), so whatever changes the
   * table or the log other than by appending (a cleanup, a restore, another checkpoint) abandons it
   * first: it then stops without being installed, and the checkpoint before it stays.
   */
  private background: { abandoned: boolean; done: Promise<void> } | undefined;
  /** Why the last periodic checkpoint failed, and the row count at which the next one is tried. */
  private checkpointError: string | null = null;
  private checkpointRetryAt = 0;
  /** Cleanup's runs and totals since open: each Cleanup a restore rewires the store with adds to them. */
  private readonly cleanupTotals = emptyCleanupStats();
  private readonly openedCpu = process.cpuUsage();
  /** Read-only: the timer that follows the writer, the refresh running, and why the last one failed. */
  private followTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private followError: string | null = null;

  constructor(
    private readonly options: ResolvedOptions,
    table: EventTable,
    log: RecordLog,
    disk?: DiskParts,
  ) {
    this.archivedCopies = new ArchivedCopies(disk?.dir);
    this.wire(table, log, disk, options.retention, new Tombstones(table, disk?.dir));
    this.schedule = new CleanupSchedule(() => this.scheduledCleanup());
    if (disk?.readOnly !== undefined) {
      this.followWriter();
      return;
    }
    this.schedule.set(options.retention.schedule);
    if (disk !== undefined && options.retention.source !== undefined)
      writePolicyFile(disk.dir, options.retention.source);
  }

  /** Builds the readers, indexes, query engine and cleanup over a table and its log. */
  private wire(
    table: EventTable,
    log: RecordLog,
    disk: DiskParts | undefined,
    policy: RetentionPolicy,
    tombstones: Tombstones,
    /** The store's index manager, moved to the new table (a restore); made anew when absent. */
    indexes?: IndexManager,
  ): void {
    const options = this.options;
    this.table = table;
    this.log = log;
    this.disk = disk;
    const reader = new EventReader(table, log);
    this.reader = reader;
    const statistics = new Statistics(table, (rows) => reader.events(rows).map(toView));
    if (indexes === undefined) {
      this.indexes = new IndexManager(table, reader, options.clock, disk?.dir, statistics, this.writes);
    } else {
      indexes.rebind(table, reader, statistics);
      this.indexes = indexes;
    }
    if (disk?.readOnly !== undefined)
      this.indexes.refuseWrites(() => new ReadOnlyError('changing indexes', disk.dir));
    this.tombstones = tombstones;
    const visibility = new Visibility(table, this.tombstones, options.clock, policy);
    this.visibility = visibility;
    const queries = new QueryEngine(table, reader, this.indexes, statistics, visibility);
    this.queries = queries;
    this.indexes.attachAdvisor(
      new IndexAdvisor(
        queries.monitor,
        (query) => queries.plan(query, true).plan,
        statistics,
        table,
        () => this.indexes.usable(),
      ),
    );
    queries.onQuery = () => this.indexes.afterQuery();
    this.cleaner = new Cleanup(this.cleanupHost(), this.cleanupTotals);
  }

  /** What cleanup needs from the store (see retention/cleanup.ts for the order of operations). */
  private cleanupHost(): ConstructorParameters<typeof Cleanup>[0] {
    const isClosing = () => this.closed || this.failure !== undefined;
    return {
      table: this.table,
      log: this.log,
      dir: this.disk?.dir,
      now: () => this.options.clock.now(),
      archiveDir: () => this.visibility.policy.archiveDir,
      inArchive: (archiveDir) => this.archivedCopies.inArchive(archiveDir),
      hidden: () => this.visibility.hidden(),
      tombstoned: (row) => this.tombstones.active && this.tombstones.isDeleted(row),
      afterCompaction: () => {
        this.tombstones.remap();
        this.indexes.removeRows();
      },
      deletedStreams: () => this.tombstones.aggregateIds().map((id) => this.table.aggregates.valueOf(id)),
      archiveRenamed: (archiveDir, renames) => this.archivedCopies.renamed(archiveDir, renames),
      beginCut: (floor) => new TableCut(this.table, floor),
      finishCut: (cut, floor) => this.finishCut(cut, floor),
      releaseEmptied: (emptied, budget) => this.releaseEmptied(emptied, budget),
      writeCheckpoint: () => this.writeCheckpointInBackground(),
      discardCheckpoint: () => {
        const dir = this.disk?.dir;
        if (dir !== undefined && discardCheckpoint(dir)) syncDirectory(dir);
      },
      get closing() {
        return isClosing();
      },
    };
  }

  private async scheduledCleanup(): Promise<void> {
    if (this.closed || this.failure !== undefined || this.writes.isHeld) return;
    try {
      await this.runCleanup({ threshold: this.visibility.policy.cleanupThreshold });
      this.lastCleanupError = null;
    } catch (error) {
      this.lastCleanupError = (error as Error).message;
    }
  }

  async cleanup(options: CleanupOptions = {}): Promise<CleanupReport> {
    this.refuseIfReadOnly('cleanup');
    this.assertWritable();
    const input = requireObject(options, 'options');
    const sliceRows = optionalInteger(input.sliceRows, 'options.sliceRows');
    if (sliceRows !== undefined && sliceRows < 1)
      throw new ValidationError('options.sliceRows', `must be a positive integer, got ${sliceRows}`);
    const threshold = input.threshold;
    if (threshold !== undefined && (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1)))
      throw new ValidationError(
        'options.threshold',
        `must be a share from 0 to 1, got ${describe(threshold)}`,
      );
    const onProgress = input.onProgress;
    if (onProgress !== undefined && typeof onProgress !== 'function')
      throw new ValidationError('options.onProgress', `must be a function, got ${describe(onProgress)}`);
    return this.runCleanup({
      ...(sliceRows === undefined ? {} : { sliceRows }),
      ...(threshold === undefined ? {} : { threshold }),
      ...(onProgress === undefined ? {} : { onProgress: onProgress as CleanupOptions['onProgress'] }),
    });
  }

  /** Starts a cleanup (or joins the running one) once no restore holds writes. */
  private async runCleanup(options: CleanupOptions): Promise<CleanupReport> {
    const waiting = this.writes.passage();
    if (waiting !== undefined) await waiting;
    this.assertWritable();
    this.abandonCheckpoint();
    return this.cleaner.run(options);
  }

  /** Makes a checkpoint being written in the background stop without being installed. */
  private abandonCheckpoint(): void {
    if (this.background !== undefined) this.background.abandoned = true;
  }

  /**
   * Restores archived events into this store with their sequence numbers, ids and bytes. After the
   * store's last sequence they are appended; below it (events cleanup removed from a store that
   * went on) the log is rebuilt with them between the live events and swapped in crash-safely, and
   * the table is rebuilt with it (retention/log-merge.ts, storage/embedded/log-swap.ts). Meanwhile
   * reads go on from the store as it was, and writes wait. Events the store holds already, and
   * events of deleted streams, are left out. Durable (fsync'ed) when it resolves.
   */
  async restoreArchive(archiveDir: string, options: RestoreOptions = {}): Promise<RestoreReport> {
    this.refuseIfReadOnly('restoreArchive');
    // One restore at a time, each deciding its path from the store as it finds it. Writes wait from
    // the call on, so one issued after it lands after the restore, whatever path that takes.
    const run = this.restores.then(() => this.restoreNow(archiveDir, options));
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.restores = settled;
    this.writes.holdUntil(settled);
    return run;
  }

  private async restoreNow(archiveDir: string, options: RestoreOptions): Promise<RestoreReport> {
    // Writes are held from the call on: no checkpoint starts after this one.
    this.abandonCheckpoint();
    this.assertWritable();
    const checked = checkRestoreArguments(archiveDir, options);
    if (this.indexes.hasUnique || this.indexes.building) {
      throw new ValidationError(
        'archiveDir',
        'this store has a unique index (or an index being built); drop it (or wait for the build), restore, then create it again',
      );
    }
    return this.restoreHoldingWrites(archiveDir, checked);
  }

  /**
   * The restore, while writes wait (reads go on): a write issued meanwhile lands after it, whatever
   * it restores. Reading the archive runs off the main thread where it can.
   */
  private async restoreHoldingWrites(archiveDir: string, checked: RestoreOptions): Promise<RestoreReport> {
    // A cleanup changes the table and the log; one that started before must end first.
    await this.cleaner.settle();
    await Promise.allSettled([...this.pendingSyncs]);
    const read = await readArchivedFrames(archiveDir, checked, turn);
    this.assertWritable();
    // Erasure is not undone: deleted streams' events are left out before either path sees them.
    const { frames, dropped } = this.tombstones.active
      ? withoutDeletedStreams(
          read,
          (aggregateId) => this.tombstones.isAggregateDeleted(aggregateId),
          (sequence) => sequence <= this.table.rows && !this.table.isRemoved(sequence - 1),
        )
      : { frames: read, dropped: 0 };
    const first = frames[0];
    if (first === undefined) return { ...newRestoreReport(read), ofDeletedStreams: dropped };
    refuseRestoredDuplicates(this.table, this.reader, frames, this.holdsId, (aggregateId) =>
      this.tombstones.isAggregateDeleted(aggregateId),
    );
    if (frameSequence(first.bytes, 0) > this.table.rows) {
      // Recorded first: a record of events that never came back does nothing (archived-copies.ts).
      this.archivedCopies.add(archiveDir, framesByFile(frames));
      const report = { ...restoreFrames(this.table, this.log, frames), ofDeletedStreams: dropped };
      this.indexes.catchUp();
      if (this.disk !== undefined) await this.track(this.disk.log.sync());
      this.maybeCheckpoint();
      return this.countHidden(report, [[report.firstSequence ?? 0, report.lastSequence ?? -1]]);
    }
    const { files } = newRestoreReport(frames);
    const report = await this.restoreBetween(archiveDir, frames, ({ done, total }) =>
      checked.onProgress?.({
        phase: 'rebuilding',
        files,
        filesRead: files,
        events: done,
        totalEvents: total,
      }),
    );
    report.ofDeletedStreams += dropped;
    return report;
  }

  /** A restore below the store's last sequence: a new log and table, wired in (see restoreArchive). */
  private async restoreBetween(
    archiveDir: string,
    frames: readonly ArchivedFrame[],
    onProgress: (progress: MergeProgress) => void,
  ): Promise<RestoreReport> {
    const rebuilt = await rebuildWithRestored(
      {
        table: this.table,
        log: this.log,
        dir: this.disk?.dir,
        segmentSize: this.options.segmentSize,
        isDeleted: (aggregateId) => this.tombstones.isAggregateDeleted(aggregateId),
        onProgress,
        pause: turn,
        // Recorded before the new log is swapped in: see retention/archived-copies.ts.
        beforeSwap: (ranges) => this.archivedCopies.add(archiveDir, ranges),
      },
      frames,
    );
    if (rebuilt.table === undefined) return rebuilt.report;
    const disk = this.disk;
    try {
      // From the commit point on, the new log is the store's on disk: a failure from here leaves
      // this process's table and log stale, so the store refuses writes until reopened (opening
      // finishes the swap: log-swap.ts).
      let log = rebuilt.log;
      if (disk !== undefined) {
        installStagedLog(disk.dir);
        log = SegmentLog.open(disk.dir, {
          segmentSize: this.options.segmentSize,
          syncOnRoll: this.options.fsync !== 'never',
        });
      }
      const old = { queries: this.queries, log: this.log };
      const newDisk = disk === undefined ? undefined : { ...disk, log: log as SegmentLog, checkpointRows: 0 };
      const tombstones = this.tombstones.over(rebuilt.table);
      this.wire(rebuilt.table, log, newDisk, this.visibility.policy, tombstones, this.indexes);
      await old.queries.close();
      old.log.close();
    } catch (error) {
      this.failure ??= error as Error;
      throw new StoreClosedError(
        `the restore could not put its new log in place (${(error as Error).message}); reopen the store, which finishes it`,
      );
    }
    if (disk !== undefined) {
      await removeStaging(disk.dir);
      await this.writeCheckpointInBackground();
    }
    return this.countHidden(rebuilt.report, rebuilt.ranges);
  }

  /** Fills in how many of the restored sequences the retention policy hides at once. */
  private countHidden(report: RestoreReport, ranges: readonly (readonly [number, number])[]): RestoreReport {
    const hidden = this.visibility.hidden();
    if (hidden === undefined) return report;
    for (const [first, last] of ranges) {
      for (let sequence = first; sequence <= last; sequence++) {
        if (!this.table.isRemoved(sequence - 1) && hidden(sequence - 1)) report.hiddenByRetention++;
      }
    }
    return report;
  }

  /**
   * Removes every event below row `floor` in place, in one call: open repeats the cut the log start
   * record names (cleanup runs the same cut in steps: beginCut, finishCut, releaseEmptied).
   */
  dropBelow(floor: number): void {
    const cut = this.table.dropBelow(floor);
    this.finishCut(cut, floor);
    this.releaseEmptied(cut.emptied);
  }

  /** After a cut's last step: the deleted streams' counts and the user indexes forget its rows. */
  finishCut(cut: Pick<TableCut, 'removed' | 'emptied'>, floor: number): void {
    if (cut.removed === 0 && cut.emptied.aggregates.length === 0) return;
    this.tombstones.recount();
    this.indexes.dropBelow(floor);
  }

  /** Releases ids a cut emptied for reuse, up to `budget` of them; true once none is left. */
  releaseEmptied(emptied: EmptiedIds, budget?: number): boolean {
    return this.table.releaseEmptied(emptied, (id) => this.tombstones.holds(id), budget);
  }

  /** Finishes a cleanup a crash interrupted after archiving (see retention/cleanup.ts, step 3). */
  async finishInterruptedCleanup(rows: readonly number[]): Promise<void> {
    await this.cleaner.removeArchived(rows);
  }

  async append<P = unknown>(
    events: NewEvent<NoInfer<P>> | readonly NewEvent<NoInfer<P>>[],
  ): Promise<StoredEvent<P>[]> {
    this.refuseIfReadOnly('append');
    const waiting = this.writes.passage();
    if (waiting !== undefined) await waiting;
    this.assertWritable();
    const list = Array.isArray(events) ? (events as readonly unknown[]) : [events];
    const valid = validateBatch(list, this.options.clock, this.options.maxEventSize);
    this.admit(valid, list);
    if (valid.length === 0) return [];
    const match = matchStoredIds(this.table, this.reader, valid, list, this.holdsId);
    if (match.stored === undefined) {
      const stored = this.commit(valid, this.nextVersions(valid), match.hashes);
      await this.acknowledge();
      // The payloads are the ones given (validated JSON values): typed as the caller typed them.
      return stored as StoredEvent<P>[];
    }
    return (await this.commitNew(valid, match.stored, match.hashes, (fresh) =>
      this.nextVersions(fresh),
    )) as StoredEvent<P>[];
  }

  /** Whether a row's event holds its id: a deleted stream's events have let theirs go (duplicate-ids.ts). */
  private readonly holdsId = (row: number): boolean =>
    !this.tombstones.active || !this.tombstones.isDeleted(row);

  /**
   * A batch some of whose events are retries (their ids are stored, with the same content): those
   * return the stored events, the others are appended in one frame, and the result is in the
   * batch's order. A batch of retries only writes nothing.
   */
  private async commitNew(
    events: ValidEvent[],
    stored: readonly (StoredEvent | undefined)[],
    hashes: readonly number[],
    versions: (fresh: ValidEvent[]) => number[],
  ): Promise<StoredEvent[]> {
    const fresh: ValidEvent[] = [];
    const freshHashes: number[] = [];
    events.forEach((event, i) => {
      if (stored[i] !== undefined) return;
      fresh.push(event);
      freshHashes.push(hashes[i] as number);
    });
    if (fresh.length === 0) {
      // Nothing to write, but the stored events may be the ones an append still waits to fsync:
      // the retry is acknowledged no sooner than the first append would be.
      await this.acknowledge();
      return stored as StoredEvent[];
    }
    const written = this.commit(fresh, versions(fresh), freshHashes);
    let next = 0;
    // A loop, not map: `stored` has holes where events are new, which map would skip.
    const out = new Array<StoredEvent>(stored.length);
    for (let i = 0; i < stored.length; i++) out[i] = stored[i] ?? (written[next++] as StoredEvent);
    await this.acknowledge();
    return out;
  }

  async appendToStream<P = unknown>(
    aggregateId: string,
    events: readonly Omit<NewEvent<NoInfer<P>>, 'aggregateId'>[] | Omit<NewEvent<NoInfer<P>>, 'aggregateId'>,
    options: AppendToStreamOptions = {},
  ): Promise<StoredEvent<P>[]> {
    this.refuseIfReadOnly('appendToStream');
    const waiting = this.writes.passage();
    if (waiting !== undefined) await waiting;
    this.assertWritable();
    if (typeof aggregateId !== 'string' || aggregateId.length === 0) {
      throw new ValidationError('aggregateId', `must be a non-empty string, got ${describe(aggregateId)}`);
    }
    if (this.tombstones.isAggregateDeleted(aggregateId)) {
      throw new ValidationError(
        'aggregateId',
        `stream ${JSON.stringify(aggregateId)} was deleted (deleteAggregate) and takes no more events; nothing was written`,
        'AGGREGATE_DELETED',
      );
    }
    const expected = checkExpectedVersion(requireObject(options, 'options').expectedVersion ?? 'any');
    const list = (Array.isArray(events) ? events : [events]) as readonly Partial<NewEvent>[];
    requireDense(list, 'events');
    const inputs = list.map((event, i) => {
      if (
        event !== null &&
        typeof event === 'object' &&
        event.aggregateId !== undefined &&
        event.aggregateId !== aggregateId
      ) {
        throw new ValidationError(
          `events[${i}].aggregateId`,
          `is ${describe(event.aggregateId)} but the stream is ${describe(aggregateId)}`,
        );
      }
      return event !== null && typeof event === 'object' ? { ...event, aggregateId } : event;
    });
    const valid = validateBatch(inputs, this.options.clock, this.options.maxEventSize);
    this.admit(valid, list);
    const current = this.table.streamVersion(aggregateId);
    const explicitIds = list.length > 0 && list.every((event) => typeof event?.id === 'string');
    if (explicitIds) {
      const retried = this.findRetry(aggregateId, valid, list, expected, current);
      if (retried !== undefined) {
        await this.acknowledge(); // as in commitNew: no sooner than the first append's acknowledgement
        return retried as StoredEvent<P>[];
      }
    }
    if (!versionMatches(expected, current)) throw new ConcurrencyError(aggregateId, expected, current);
    if (valid.length === 0) return [];
    const match = matchStoredIds(this.table, this.reader, valid, list, this.holdsId);
    if (match.stored === undefined) {
      const stored = this.commit(
        valid,
        valid.map((_, i) => current + 1 + i),
        match.hashes,
      );
      await this.acknowledge();
      return stored as StoredEvent<P>[];
    }
    return (await this.commitNew(valid, match.stored, match.hashes, (fresh) =>
      fresh.map((_, i) => current + 1 + i),
    )) as StoredEvent<P>[];
  }

  /**
   * Event time checks that need the store's clock: too far in the future (refused or clamped, per
   * `futureTolerance` / `onFutureEvent`) or already past retention (refused). Before anything is
   * written, so a refusal changes nothing.
   */
  private admit(events: ValidEvent[], inputs: readonly unknown[]): void {
    const now = this.options.clock.now();
    const { futureTolerance, onFutureEvent } = this.options;
    const callerId = (i: number) => (inputs[i] as Partial<NewEvent>).id !== undefined;
    checkClockSkew(events, callerId, now, futureTolerance, onFutureEvent);
    refuseExpired(events, now, this.visibility.policy);
  }

  /**
   * A retried append whose events already stand, by id, where the caller meant them to go: return
   * them instead of writing twice. Returns undefined when this is not such a retry.
   */
  private findRetry(
    aggregateId: string,
    events: ValidEvent[],
    inputs: readonly Partial<NewEvent>[],
    expected: ExpectedVersion,
    current: number,
  ): StoredEvent[] | undefined {
    const start =
      typeof expected === 'number'
        ? expected + 1
        : expected === 'no_stream'
          ? 1
          : current - events.length + 1;
    if (start < 1 || start + events.length - 1 > current) return undefined;
    const stream = this.table.aggregateRows(aggregateId);
    const first = this.positionOfVersion(stream, start);
    const rows = events.map((_, i) => (first + i < stream.length ? stream.at(first + i) : undefined));
    const same = rows.map(
      (row, i) =>
        row !== undefined &&
        this.table.version.get(row) === start + i &&
        this.reader.decodeRecord(row, decodeId) === events[i]?.id,
    );
    if (same.every(Boolean)) {
      const stored = this.reader.events(rows as number[]);
      // The ids stand where this write would have put them; their content must be this write's too.
      stored.forEach((event, i) => {
        const difference = contentDifference(
          event,
          events[i] as ValidEvent,
          inputs[i]?.timestamp !== undefined,
        );
        if (difference !== undefined)
          throw new DuplicateEventIdError(event.id, event.sequence, i, difference);
      });
      return stored;
    }
    // Some of the ids stand there but not all: a different batch overlapped this one.
    if (same.some(Boolean)) throw new ConcurrencyError(aggregateId, expected, current);
    return undefined;
  }

  private nextVersions(events: ValidEvent[]): number[] {
    const next = new Map<string, number>();
    return events.map(({ aggregateId }) => {
      const version = (next.get(aggregateId) ?? this.table.streamVersion(aggregateId)) + 1;
      next.set(aggregateId, version);
      return version;
    });
  }

  /**
   * Encodes the batch into one frame, writes it, then indexes it. Everything that can fail on bad
   * input (encoding, size limits) happens before the write, and a failed write leaves the log as it
   * was, so a rejected batch changes nothing. All of this runs in one synchronous step, so
   * concurrent appends are serialised and versions are checked and taken atomically.
   */
  private commit(events: ValidEvent[], versions: number[], idHashes: readonly number[]): StoredEvent[] {
    const writer = this.writer;
    writer.reset(FRAME_HEADER);
    const lengths = new Array<number>(events.length);
    for (let i = 0; i < events.length; i++) {
      writer.ensure(RECORD_PREFIX);
      const prefix = writer.length;
      writer.length += RECORD_PREFIX;
      const length = writer.writeRecord(
        events[i] as ValidEvent,
        versions[i] as number,
        this.options.maxEventSize,
        `events[${i}]`,
      );
      writer.buffer.writeUInt32LE(length, prefix);
      lengths[i] = length;
    }
    if (this.tombstones.active) {
      events.forEach((event, i) => {
        if (this.tombstones.isAggregateDeleted(event.aggregateId)) {
          throw new ValidationError(
            `events[${i}].aggregateId`,
            `stream ${JSON.stringify(event.aggregateId)} was deleted (deleteAggregate) and takes no more events; nothing was written`,
            'AGGREGATE_DELETED',
          );
        }
      });
    }
    const firstSequence = this.table.rows + 1;
    // Unique indexes check keys now: a violation must leave nothing written.
    const keys = this.indexes.active
      ? this.indexes.prepareBatch(
          events.map((event, i): EventView => ({
            ...event,
            sequence: firstSequence + i,
            version: versions[i] as number,
          })),
        )
      : undefined;
    const frame = writer.buffer.subarray(0, writer.length);
    sealFrame(frame, firstSequence, events.length);
    const frameOffset = this.log.append(frame);

    const stored = new Array<StoredEvent>(events.length);
    let at = frameOffset + FRAME_HEADER;
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as ValidEvent;
      const length = lengths[i] as number;
      at += RECORD_PREFIX;
      const row = this.table.addRow(
        event.aggregateId,
        event.type,
        event.timestamp,
        versions[i] as number,
        at,
        length,
        event.tags,
      );
      this.table.ids.add(row, idHashes[i] as number);
      at += length;
      stored[i] = {
        sequence: firstSequence + i,
        id: event.id,
        aggregateId: event.aggregateId,
        version: versions[i] as number,
        type: event.type,
        timestamp: new Date(event.timestamp),
        tags: event.tags,
        payload: event.payload,
        metadata: event.metadata,
      };
    }
    this.indexes.commitBatch(firstSequence - 1, keys);
    return stored;
  }

  /**
   * Waits as long as the fsync policy says an acknowledgement must, then writes a checkpoint if one
   * is due. Under `'batch'` the fsync is scheduled on a timer; but a caller that keeps the process
   * busy (a tight `await append()` loop resolves each append in a microtask) never lets that timer,
   * or the callback of an fsync already started, run. So each append also checks the deadline
   * itself, and the first one past it waits for an fsync of everything written so far: the
   * "fsync within fsyncIntervalMs" bound holds however the store is called.
   */
  private async acknowledge(): Promise<void> {
    const disk = this.disk;
    if (disk === undefined) return;
    if (this.options.fsync === 'always') {
      await this.track(disk.log.sync());
    } else if (this.options.fsync === 'batch') {
      if (this.unsyncedSince === undefined) {
        this.unsyncedSince = this.batchTime();
        this.syncTimer = setTimeout(() => this.syncBatch(), this.options.fsyncIntervalMs);
        this.syncTimer.unref();
      } else if (this.syncOverdue(this.unsyncedSince)) {
        const sync = this.syncBatch();
        this.maybeCheckpoint();
        await sync;
        return;
      }
    }
    this.maybeCheckpoint();
  }

  /**
   * Now, on both clocks: the store's (`clock`, so tests drive the deadline without sleeping) and a
   * monotonic one (so a clock that stands still or jumps cannot stretch the bound in real time).
   */
  private batchTime(): BatchDeadline {
    let clock: number;
    try {
      clock = this.options.clock.now();
    } catch {
      clock = Number.NaN; // an unreadable clock: the monotonic one decides
    }
    return { clock, monotonic: performance.now() };
  }

  /** Whether `fsyncIntervalMs` has passed since `since` on either clock (or the store's went back). */
  private syncOverdue(since: BatchDeadline): boolean {
    const now = this.batchTime();
    const interval = this.options.fsyncIntervalMs;
    return (
      now.monotonic - since.monotonic >= interval ||
      now.clock - since.clock >= interval ||
      now.clock < since.clock
    );
  }

  /**
   * Starts the fsync of everything written so far. The timer ignores how it ends (a failure is kept
   * in `failure`); an append past the deadline waits for it, and fails if it fails.
   */
  private syncBatch(): Promise<void> {
    clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    this.unsyncedSince = undefined;
    if (this.closed || this.disk === undefined) return Promise.resolve();
    const sync = this.track(this.disk.log.sync());
    sync.catch(() => undefined);
    return sync;
  }

  private track(sync: Promise<void>): Promise<void> {
    const tracked = sync.catch((error: Error) => {
      this.failure ??= error;
      throw new StoreClosedError(`fsync failed (${error.message}); the store refuses writes until reopened`);
    });
    this.pendingSyncs.add(tracked);
    void tracked.finally(() => this.pendingSyncs.delete(tracked)).catch(() => undefined);
    return tracked;
  }

  /**
   * Starts a checkpoint in the background once `checkpointEvery` events have been appended since
   * the last one. Its synchronous step (the snapshot, copying what appends change in place) costs
   * tens of milliseconds at a million events; the rest runs while appends and queries go on. One
   * that fails is tried again `checkpointEvery` events later (stats().storage.checkpointError says
   * why): the log holds every event, so a missing checkpoint costs replay time at open, not data.
   */
  private maybeCheckpoint(): void {
    const disk = this.disk;
    const every = this.options.checkpointEvery;
    if (disk === undefined || every === 0 || this.closed || this.failure !== undefined) return;
    // Not while cleanup runs: a checkpoint between two of its segment rewrites would describe the
    // later segments' old contents, and a crash before cleanup's own checkpoint would reopen from it.
    // Nor while spans a cleanup compacted are unrewritten: a reopen must replay them (Cleanup.owesRewrites).
    if (this.cleaner.isRunning || this.cleaner.owesRewrites || this.background !== undefined) return;
    // Nor while a restore holds writes: it drops the checkpoint and swaps the log.
    if (this.writes.isHeld) return;
    const rows = this.table.rows;
    if (rows - disk.checkpointRows < every || rows < this.checkpointRetryAt) return;
    const job = { abandoned: false, done: Promise.resolve() };
    this.background = job;
    job.done = this.writeCheckpointInBackground(job)
      .then(
        () => {
          this.checkpointError = null;
        },
        (error: Error) => {
          this.checkpointError = error.message;
          this.checkpointRetryAt = rows + every;
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
  private async writeCheckpointInBackground(job?: { readonly abandoned: boolean }): Promise<void> {
    // A periodic one abandoned may still be writing the temporary file: one writer at a time.
    const running = this.background;
    if (running !== undefined && running !== job) await running.done;
    const disk = this.disk;
    if (disk === undefined) return;
    const rows = this.table.rows;
    const installed = await writeCheckpointAsync(
      disk.dir,
      this.table,
      this.log.end,
      this.indexes.snapshotSources(),
      () => this.track(disk.log.sync()),
      () => job?.abandoned !== true,
    );
    if (installed) disk.checkpointRows = rows;
  }

  private writeCheckpointNow(): void {
    const disk = this.disk;
    if (disk === undefined) return;
    // The log must be durable up to the checkpoint's offset before the checkpoint claims it.
    try {
      disk.log.syncNow();
    } catch (error) {
      throw storageError(
        error,
        'could not fsync the log before writing the checkpoint; the checkpoint was not written',
      );
    }
    writeCheckpoint(disk.dir, this.table, this.log.end, this.indexes.snapshotSources());
    disk.checkpointRows = this.table.rows;
  }

  async getEvents<P = unknown>(
    aggregateId: string,
    options: GetEventsOptions = {},
  ): Promise<StoredEvent<P>[]> {
    this.assertOpen();
    if (typeof aggregateId !== 'string' || aggregateId.length === 0) {
      throw new ValidationError('aggregateId', `must be a non-empty string, got ${describe(aggregateId)}`);
    }
    const input = requireObject(options, 'options');
    const fromVersion = optionalInteger(input.fromVersion, 'options.fromVersion') ?? 1;
    const toVersion = optionalInteger(input.toVersion, 'options.toVersion') ?? Infinity;
    const limit = optionalInteger(input.limit, 'options.limit') ?? Infinity;
    if (this.tombstones.isAggregateDeleted(aggregateId)) return [];
    const stream = this.table.aggregateRows(aggregateId);
    const hidden = this.visibility.hidden();
    const rows: number[] = [];
    for (let i = this.positionOfVersion(stream, fromVersion); i < stream.length && rows.length < limit; i++) {
      const row = stream.at(i);
      if (this.table.version.get(row) > toVersion) break;
      if (hidden === undefined || !hidden(row)) rows.push(row);
    }
    return this.reader.events(rows) as StoredEvent<P>[];
  }

  /**
   * Where version `version` (or the first after it) stands in a stream's rows. Versions ascend
   * along the stream; they start past 1 once cleanup has removed a stream's oldest events.
   */
  private positionOfVersion(stream: SortedRows, version: number): number {
    let lo = 0;
    let hi = stream.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.table.version.get(stream.at(mid)) < version) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  async getEventsByType<P = unknown>(
    type: string,
    options: GetEventsByTypeOptions = {},
  ): Promise<StoredEvent<P>[]> {
    const { afterSequence, limit } = requireObject(options, 'options') as GetEventsByTypeOptions;
    if (typeof type !== 'string' || type.length === 0) {
      throw new ValidationError('type', `must be a non-empty string, got ${describe(type)}`);
    }
    return this.queryEvents<P>({ type, afterSequence, limit });
  }

  async getEventsInRange<P = unknown>(
    start: TimeInput,
    end: TimeInput,
    options: RangeOptions = {},
  ): Promise<StoredEvent<P>[]> {
    const from = toEpochMs(start, 'start');
    const to = toEpochMs(end, 'end');
    if (to < from)
      throw new ValidationError('end', `must not be before start (${describe(start)}), got ${describe(end)}`);
    return this.queryEvents<P>({
      from,
      to,
      limit: requireObject(options, 'options').limit as number | undefined,
    });
  }

  async queryEvents<P = unknown>(
    criteria: QueryCriteria = {},
    options: QueryEventsOptions = {},
  ): Promise<StoredEvent<P>[]> {
    this.assertOpen();
    const normalized = normalizeCriteria(criteria);
    const archiveDir = archiveToQuery(options, this.visibility.policy);
    const live = (await this.queries.execute(criteriaToQuery(normalized))) as StoredEvent<P>[];
    if (archiveDir === undefined) return live;
    // A deleted stream stays deleted in the archive too: erasure is not undone by reading cold storage.
    const erased = (event: StoredEvent) => this.tombstones.isAggregateDeleted(event.aggregateId);
    return mergeBySequence(
      queryArchived(archiveDir, normalized, erased),
      live,
      normalized,
    ) as StoredEvent<P>[];
  }

  query<P = unknown>(): AdvancedQueryBuilder<StoredEvent<P>> {
    return new AdvancedQueryBuilder<StoredEvent<P>>(this.runner);
  }

  async explain(
    query: EventQuery | AdvancedQueryBuilder,
    options: { analyze?: boolean } = {},
  ): Promise<Explanation> {
    this.assertOpen();
    const ast = query instanceof AdvancedQueryBuilder ? query.toQuery() : query;
    return this.queries.explain(ast, requireObject(options, 'options').analyze === true);
  }

  /**
   * Replaces the retention policy at run time; events it expires disappear from reads at once.
   * `undefined` keeps everything. A bad policy throws a ValidationError naming the value, and the
   * old policy stays.
   */
  setRetention(retention: RetentionOptions | undefined): void {
    this.assertOpen();
    const policy = RetentionPolicy.from(retention, 'retention', this.disk?.dir);
    this.visibility.policy = policy;
    // A read-only store's policy is its own view: nothing is scheduled or recorded.
    if (this.disk?.readOnly !== undefined) return;
    this.schedule.set(policy.schedule);
    if (this.disk !== undefined) writePolicyFile(this.disk.dir, policy.source);
  }

  /**
   * Deletes a stream (erasure): its events disappear at once from every read, query and count, and
   * appending to it again is refused. Durable (fsync'ed) when this resolves; survives restart.
   * Resolves false when the stream was deleted already.
   */
  async deleteAggregate(aggregateId: string): Promise<boolean> {
    this.refuseIfReadOnly('deleteAggregate');
    const waiting = this.writes.passage();
    if (waiting !== undefined) await waiting;
    this.assertWritable();
    if (typeof aggregateId !== 'string' || aggregateId.length === 0) {
      throw new ValidationError('aggregateId', `must be a non-empty string, got ${describe(aggregateId)}`);
    }
    if (this.tombstones.isAggregateDeleted(aggregateId)) return false;
    // The tombstone records the log's last sequence as proof the log reached it (log-coverage.ts):
    // so that sequence must be durable first.
    const through = this.table.rows;
    if (this.disk !== undefined) await this.track(this.disk.log.sync());
    return this.tombstones.delete(aggregateId, through);
  }

  cancelQuery(queryId: string): boolean {
    return this.queries.cancel(queryId);
  }

  /** The builder's view of the engine: every run checks the store is open. */
  private readonly runner: QueryRunner = {
    execute: async (query, options) => {
      this.assertOpen();
      return this.queries.execute(query, options);
    },
    page: async (query, options) => {
      this.assertOpen();
      return this.queries.page(query, options);
    },
    stream: (query, options) => {
      this.assertOpen();
      return this.queries.stream(query, options);
    },
    explain: async (query, options = {}) => {
      this.assertOpen();
      return this.queries.explain(query, requireObject(options, 'options').analyze === true);
    },
  };

  async read<P = unknown>(options: ReadOptions = {}): Promise<StoredEvent<P>[]> {
    this.assertOpen();
    const input = requireObject(options, 'options');
    const fromSequence = optionalInteger(input.fromSequence, 'options.fromSequence') ?? 1;
    const limit = optionalInteger(input.limit, 'options.limit') ?? Infinity;
    const rows: number[] = [];
    const hidden = this.visibility.hidden();
    for (let row = Math.max(fromSequence, 1) - 1; row < this.table.rows && rows.length < limit; row++) {
      if (hidden === undefined || !hidden(row)) rows.push(row);
    }
    const out = this.reader.events(rows) as StoredEvent<P>[];
    this.sequenceLookups++;
    if (out.length > 0) this.sequenceHits++;
    return out;
  }

  stats(): StoreStats {
    this.assertOpen();
    const table = this.table;
    const memory = process.memoryUsage();
    const stats: StoreStats = {
      events: this.visibility.liveEvents(),
      aggregates: table.aggregates.count - this.tombstones.deletedAggregates,
      deletedAggregates: this.tombstones.deletedAggregates,
      retention: this.visibility.policy.describe(),
      cleanup: this.cleanupStats(),
      types: table.types.size,
      lastSequence: table.rows,
      indexes: table.indexStats(this.sequenceLookups, this.sequenceHits),
      planCache: this.queries.planCacheStats(),
      memory: {
        rss: memory.rss,
        heapUsed: memory.heapUsed,
        columns: table.columnBytes,
        indexes: table.indexBytes,
        dictionaries: table.dictionaryBytes,
        records: this.log.memoryBytes,
      },
    };
    if (this.disk !== undefined) {
      stats.storage = {
        dir: this.disk.dir,
        segments: this.disk.log.segmentCount,
        logBytes: this.disk.log.bytes,
        fsync: this.options.fsync,
        fsyncs: this.disk.log.fsyncCount,
        unsyncedBytes: this.disk.log.unsyncedBytes,
        lastCheckpointSequence: this.disk.checkpointRows,
        checkpointError: this.checkpointError,
        recovery: this.disk.recovery ?? { tornTails: [], lost: null },
      };
      if (this.disk.readOnly !== undefined) {
        stats.storage.readOnly = true;
        stats.storage.followError = this.followError;
      }
    }
    return stats;
  }

  private cleanupStats(): StoreStats['cleanup'] {
    const stats = this.cleaner.stats;
    const process_ = process.cpuUsage(this.openedCpu);
    const processMs = (process_.user + process_.system) / 1000;
    const next = this.schedule.nextRun;
    return {
      ...stats,
      totals: { ...stats.totals },
      running: this.cleaner.isRunning,
      nextRunAt: next === null ? null : next.toISOString(),
      cpuShare: processMs === 0 ? 0 : stats.totals.cpuMs / processMs,
      pendingTombstoned: this.tombstones.deletedEvents,
      lastError: this.lastCleanupError,
    };
  }

  async flush(): Promise<void> {
    this.refuseIfReadOnly('flush');
    const waiting = this.writes.passage();
    if (waiting !== undefined) await waiting;
    this.assertWritable();
    if (this.disk !== undefined) await this.track(this.disk.log.sync());
  }

  async checkpoint(): Promise<void> {
    this.refuseIfReadOnly('checkpoint');
    const waiting = this.writes.passage();
    if (waiting !== undefined) await waiting;
    this.assertWritable();
    // A running cleanup writes one when it ends; one written meanwhile could go stale (maybeCheckpoint).
    // A background one in flight is stopped. Both checked in the turn that writes: while this
    // waits, a scheduled cleanup or an append may start one again.
    while (this.cleaner.isRunning || this.background !== undefined) {
      await this.cleaner.settle();
      this.abandonCheckpoint();
      await this.background?.done;
    }
    this.assertWritable();
    this.writeCheckpointNow();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.writes.passage();
    if (this.closed) return;
    this.closed = true;
    this.schedule.stop();
    clearInterval(this.followTimer);
    await this.refreshing?.catch(() => undefined);
    await this.cleaner.settle();
    // Closed: no new checkpoint starts; the one in the background stops, and close writes its own.
    this.abandonCheckpoint();
    await this.background?.done;
    this.indexes.close();
    clearTimeout(this.syncTimer);
    await Promise.allSettled([...this.pendingSyncs]);
    try {
      if (this.disk !== undefined && this.failure === undefined && this.disk.readOnly === undefined) {
        // Not with spans a cleanup compacted left unrewritten: see Cleanup.owesRewrites.
        if (this.table.rows !== this.disk.checkpointRows && !this.cleaner.owesRewrites)
          this.writeCheckpointNow();
        else this.syncOnClose(this.disk.log);
      }
    } finally {
      this.log.close();
      this.disk?.lock.release();
      await this.queries.close();
    }
  }

  private syncOnClose(log: SegmentLog): void {
    try {
      log.syncNow();
    } catch (error) {
      throw storageError(
        error,
        'could not fsync the log at close: events appended since the last fsync may not be durable',
      );
    }
  }

  /**
   * Read-only: brings in what the writer in another process did since the last refresh (new
   * appends; after a cleanup, restore, deletion or index change, the store is loaded afresh).
   * Resolves with the last sequence now visible. A writable store has nothing to bring in.
   */
  async refresh(): Promise<number> {
    this.assertOpen();
    if (this.disk?.readOnly === undefined) return this.table.rows;
    this.refreshing ??= this.followOnce().finally(() => (this.refreshing = undefined));
    await this.refreshing;
    return this.table.rows;
  }

  private async followOnce(): Promise<void> {
    const disk = this.disk as DiskParts & { readOnly: Pick<ReadOnlySnapshot, 'stamps' | 'cut'> };
    const added = followAppends(disk.dir, this.table, disk.log, disk.readOnly);
    if (added !== 'reload') {
      if (added > 0) this.indexes.catchUp();
      return;
    }
    // As a restore wires its new table in: queries running go on over the old one until they end.
    const snapshot = loadSnapshot(disk.dir, this.options.verifyOnOpen);
    const old = { queries: this.queries, log: this.log, indexes: this.indexes };
    const { table, log } = snapshot;
    const readOnly = { stamps: snapshot.stamps, cut: snapshot.cut };
    const newDisk = { ...disk, log, checkpointRows: snapshot.checkpointRows, readOnly };
    this.wire(table, log, newDisk, this.visibility.policy, new Tombstones(table, disk.dir));
    this.openIndexes(snapshot.cut, snapshot.userIndexes);
    old.indexes.close();
    await old.queries.close();
    old.log.close();
  }

  /** After a load: the rows below the cut go, then the user indexes come back from the checkpoint's snapshots (as open does). */
  openIndexes(cut: number, snapshots: readonly UserIndex[]): void {
    this.dropBelow(cut);
    this.indexes.openFrom(snapshots);
    this.indexes.dropBelow(cut);
  }

  /** Read-only: follows the writer every `followIntervalMs` (0: only at refresh()). */
  private followWriter(): void {
    const every = this.options.followIntervalMs;
    if (every === 0) return;
    this.followTimer = setInterval(() => {
      if (this.closed || this.refreshing !== undefined) return;
      this.refresh().then(
        () => (this.followError = null),
        (error: Error) => (this.followError = error.message),
      );
    }, every);
    this.followTimer.unref();
  }

  /** Every write refuses on a read-only store, before it changes anything. */
  private refuseIfReadOnly(operation: string): void {
    if (this.disk?.readOnly !== undefined) throw new ReadOnlyError(operation, this.disk.dir);
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }

  private assertWritable(): void {
    this.assertOpen();
    if (this.failure !== undefined) {
      throw new StoreClosedError(
        `an earlier fsync failed (${this.failure.message}); reopen the store to recover`,
      );
    }
  }
}

function checkExpectedVersion(value: unknown): ExpectedVersion {
  if (value === 'any' || value === 'no_stream' || value === 'stream_exists') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw new ValidationError(
    'options.expectedVersion',
    `must be a non-negative integer, 'no_stream', 'stream_exists' or 'any', got ${describe(value)}`,
  );
}

function versionMatches(expected: ExpectedVersion, current: number): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return current === 0;
    case 'stream_exists':
      return current > 0;
    default:
      return current === expected;
  }
}

/** A moment on the store's clock and on the monotonic clock: for the `'batch'` fsync deadline. */
interface BatchDeadline {
  clock: number;
  monotonic: number;
}

/** One turn of the event loop: what long work awaits between slices, so I/O and timers run. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
