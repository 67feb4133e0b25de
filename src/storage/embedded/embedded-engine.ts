import type { QueryObserver } from '../query-profile.js';
import type { EventColumns, EventColumnsRequest } from '../../analytics/export/event-columns.js';
import { StoreClosedError } from '../../errors.js';
import type { StoredEvent } from '../../events/types.js';
import type { EventQuery } from '../../query/ast.js';
import type { NormalizedCriteria } from '../../query/criteria.js';
import type { Explanation } from '../../query/explanation.js';
import type { ResultPage, ResultRow, RunOptions } from '../../query/results.js';
import type { CleanupOptions, CleanupReport } from '../../retention/cleanup-report.js';
import type { RetentionPolicy } from '../../retention/policy.js';
import type { RestoreOptions, RestoreReport } from '../../retention/restore-report.js';
import type { WriteGate } from '../../support/write-gate.js';
import type {
  AppendBatch,
  AppendOutcome,
  EngineContext,
  EngineRetention,
  GlobalRead,
  StorageCapabilities,
  StorageEngine,
  StreamRead,
} from '../storage-engine.js';
import type { StoreStats } from '../store-stats.js';
import { appendBatch, holdsId, type AwaitingApproval } from './append-batch.js';
import { CommitTurn } from './commit-turn.js';
import { requireApproved } from './approved-write.js';
import { storageError } from './log/storage-error.js';
import { Checkpointer } from './checkpointer.js';
import type { ResolvedOptions } from './embedded-options.js';
import { wireParts, type EngineParts } from './engine-parts.js';
import { GroupCommit } from './group-commit.js';
import type { IndexManager } from './indexes/index-manager.js';
import type { DirectoryLock } from './log/lock.js';
import type { RecordLog } from './log/record-log.js';
import type { SegmentLog } from './log/segment-log.js';
import { Maintenance } from './maintenance.js';
import { Follower, type FollowState } from './follower.js';
import type { OpenRecovery } from '../store-stats.js';
import { restoreInto } from './restore-runner.js';
import { ArchivedCopies } from './retention/archived-copies.js';
import { queryArchived } from './retention/archive-query.js';
import { writePolicyFile } from './retention/policy-file.js';
import { Tombstones } from './retention/tombstones.js';
import type { UserIndex } from './indexes/user-index.js';
import { positionOfVersion } from './table/stream-position.js';
import type { EventTable } from './table/event-table.js';

/** What the engine needs from an on-disk backing; absent for an in-memory engine. */
export interface DiskParts {
  dir: string;
  log: SegmentLog;
  lock: DirectoryLock;
  /** Rows covered by the checkpoint on disk (so close() knows whether a new one is worth writing). */
  checkpointRows: number;
  /** What open dropped or found lost (open-recovery.ts). */
  recovery?: OpenRecovery;
  /** Set for a handle opened read-only beside a writer: what it loaded, to follow the writer (read-only.ts). */
  readOnly?: FollowState;
}

/**
 * The embedded engine: a log of frames, and a table of columns and indexes over it. Appends are
 * encoded into one frame, written, then indexed (append-batch.ts); group commit acknowledges them
 * per the fsync policy (group-commit.ts); checkpoints (checkpointer.ts), cleanup (maintenance.ts),
 * restore (restore-runner.ts) and following a writer (follower.ts) are modules of their own. The
 * facade (store/) has validated every argument and checked the store is open before a call lands.
 */
export class EmbeddedEngine implements StorageEngine {
  readonly capabilities: StorageCapabilities;
  /** Everything built over the table and its log; a restore or a reload swaps it (engine-parts.ts). */
  private current!: EngineParts;
  private manager!: IndexManager;
  private readonly groupCommit: GroupCommit;
  /** Keeps the commit order while a beforeCommit hook's promise is pending. */
  private readonly turn = new CommitTurn();
  readonly checkpointer: Checkpointer;
  private readonly maintenance: Maintenance;
  private readonly follower: Follower | undefined;
  /** Restored events whose archive copy stays: cleanup does not archive them again. */
  readonly archivedCopies: ArchivedCopies;
  readonly writes: WriteGate;
  private closed = false;
  /** Set when an fsync failed: the OS may have dropped the data, so the engine refuses writes. */
  private failure: Error | undefined;
  /** The query observer (observeQueries): handed to every query engine a swap of the parts builds. */
  private queryObserver: QueryObserver | undefined;
  private sequenceLookups = 0;
  private sequenceHits = 0;
  readonly retention: EngineRetention;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly context: EngineContext,
    table: EventTable,
    log: RecordLog,
    private readonly disk?: DiskParts,
  ) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the hosts' getters read the engine's state as it is then
    const engine = this;
    const dir = disk?.dir;
    const readOnly = disk?.readOnly !== undefined;
    this.capabilities = {
      durable: dir !== undefined,
      pushdown: true,
      gapFreeSequences: true,
      userIndexes: true,
      archive: true,
      checkpoints: dir !== undefined,
      erasure: true,
      readOnly,
      explainAnalyze: true,
      commitHooks: true,
    };
    this.writes = context.writeGate;
    this.archivedCopies = new ArchivedCopies(dir);
    this.groupCommit = new GroupCommit({
      fsync: options.fsync,
      fsyncIntervalMs: options.fsyncIntervalMs,
      clock: options.clock,
      log: () => this.current.diskLog,
      get closed() {
        return engine.closed;
      },
      fail: (error) => this.fail(error),
    });
    this.checkpointer = new Checkpointer(
      {
        dir,
        every: options.checkpointEvery,
        table: () => this.current.table,
        log: () => this.current.log,
        diskLog: () => this.current.diskLog,
        indexes: () => this.manager,
        mayStart: () =>
          !this.closed &&
          this.failure === undefined &&
          !this.maintenance.isRunning &&
          !this.maintenance.owesRewrites &&
          !this.writes.isHeld,
        syncLog: () => this.groupCommit.sync(),
      },
      disk?.checkpointRows ?? 0,
    );
    this.wire(table, log, new Tombstones(table, dir));
    // In memory the table starts empty: its declared columns exist from the first append on. On disk
    // they are made once the load is complete (openIndexes).
    if (disk === undefined) this.extractDeclaredColumns();
    this.maintenance = new Maintenance({
      dir,
      clock: options.clock,
      parts: () => this.current,
      indexes: () => this.manager,
      checkpointer: this.checkpointer,
      archivedCopies: this.archivedCopies,
      writes: this.writes,
      get stopped() {
        return engine.closed || engine.failure !== undefined;
      },
      assertWritable: () => this.assertWritable(),
      cleaned: (report) => this.context.cleaned?.(report),
    });
    this.retention = this.retentionHooks();
    if (disk?.readOnly !== undefined) {
      this.follower = new Follower(
        {
          dir: disk.dir,
          log: disk.log,
          verifyOnOpen: options.verifyOnOpen,
          parts: () => this.current,
          indexes: () => this.manager,
          reload: (loaded) => this.reload(loaded),
        },
        disk.readOnly,
        options.followIntervalMs,
      );
      return;
    }
    this.maintenance.setSchedule(options.retention.schedule);
    if (dir !== undefined && options.retention.source !== undefined)
      writePolicyFile(dir, options.retention.source);
  }

  /** Builds the parts over a table and its log (at open, and when a restore or reload swaps them). */
  private wire(table: EventTable, log: RecordLog, tombstones: Tombstones, indexes?: IndexManager): void {
    const wired = wireParts({
      table,
      log,
      diskLog: this.disk === undefined ? undefined : (log as SegmentLog),
      dir: this.disk?.dir,
      clock: this.options.clock,
      policy: this.current?.visibility.policy ?? this.context.retention,
      tombstones,
      ...(indexes === undefined ? {} : { indexes }),
      writes: this.writes,
      readOnly: this.disk?.readOnly !== undefined,
    });
    this.current = wired.parts;
    this.manager = wired.indexes;
    this.current.queries.observer = this.queryObserver;
  }

  observeQueries(observer: QueryObserver | undefined): void {
    this.queryObserver = observer;
    this.current.queries.observer = observer;
  }

  get indexes(): IndexManager {
    return this.manager;
  }

  /** The table and readers now: for open, verify and tests that look inside. */
  get parts(): EngineParts {
    return this.current;
  }

  async append(batch: AppendBatch): Promise<AppendOutcome> {
    let outcome: AppendOutcome;
    if (this.turn.free) {
      const step = this.appendStep(batch);
      outcome = step instanceof Promise ? await this.turn.hold(step) : step;
    } else {
      outcome = await this.turn.enqueue(() => this.appendStep(batch));
    }
    if (outcome.events.length === 0) return outcome;
    // Also when every event was a retry and nothing was written: the stored events may be the ones
    // an append still waits to fsync, so the retry is acknowledged no sooner than the first append.
    await this.groupCommit.acknowledge(() => this.checkpointer.maybe());
    return outcome;
  }

  /**
   * One batch's atomic step (append-batch.ts). A promise only when its beforeCommit hook answered
   * with one: the step then holds the commit turn until the hook settles (commit-turn.ts).
   */
  private appendStep(batch: AppendBatch): AppendOutcome | Promise<AppendOutcome> {
    const outcome = appendBatch(
      this.current,
      this.manager,
      this.options.maxEventSize,
      batch,
      batch.beforeCommit,
    );
    return 'approval' in outcome ? this.afterApproval(batch, outcome) : outcome;
  }

  /**
   * Writes a batch once its hook's promise resolved. Nothing was written, and no other append ran
   * meanwhile (the turn): the batch is written as it was encoded, unless something else moved
   * what it was checked against (a stream deleted meanwhile, a restore). Then the step runs again
   * (and refuses, or must assign what the hook saw). A rejection propagates as it is, with nothing
   * written.
   */
  private async afterApproval(batch: AppendBatch, awaiting: AwaitingApproval): Promise<AppendOutcome> {
    await awaiting.approval;
    if (this.failure !== undefined) this.assertWritable();
    return (
      awaiting.write(this.current, this.manager) ??
      appendBatch(this.current, this.manager, this.options.maxEventSize, batch, (events) =>
        requireApproved(awaiting.events, events),
      )
    );
  }

  streamVersion(aggregateId: string): number {
    return this.current.table.streamVersion(aggregateId);
  }

  isStreamDeleted(aggregateId: string): boolean {
    return this.current.tombstones.isAggregateDeleted(aggregateId);
  }

  async readStream({ aggregateId, fromVersion, toVersion, limit }: StreamRead): Promise<StoredEvent[]> {
    const { table, tombstones, visibility, reader } = this.current;
    if (tombstones.isAggregateDeleted(aggregateId)) return [];
    const stream = table.aggregateRows(aggregateId);
    const hidden = visibility.hidden();
    const rows: number[] = [];
    for (
      let i = positionOfVersion(table, stream, fromVersion);
      i < stream.length && rows.length < limit;
      i++
    ) {
      const row = stream.at(i);
      if (table.version.get(row) > toVersion) break;
      if (hidden === undefined || !hidden(row)) rows.push(row);
    }
    return reader.events(rows);
  }

  async readAll({ fromSequence, limit }: GlobalRead): Promise<StoredEvent[]> {
    const { table, visibility, reader } = this.current;
    const rows: number[] = [];
    const hidden = visibility.hidden();
    for (let row = Math.max(fromSequence, 1) - 1; row < table.rows && rows.length < limit; row++) {
      if (hidden === undefined || !hidden(row)) rows.push(row);
    }
    const out = reader.events(rows);
    this.sequenceLookups++;
    if (out.length > 0) this.sequenceHits++;
    return out;
  }

  execute(query: EventQuery, options: RunOptions): Promise<ResultRow[]> {
    return this.current.queries.execute(query, options);
  }

  page(query: EventQuery, options: RunOptions): Promise<ResultPage> {
    return this.current.queries.page(query, options);
  }

  stream(query: EventQuery, options: RunOptions): AsyncIterable<ResultRow> {
    return this.current.queries.stream(query, options);
  }

  exportEvents(query: EventQuery, request: EventColumnsRequest): AsyncIterable<EventColumns> {
    return this.current.queries.eventColumns(query, request);
  }

  explain(query: EventQuery, analyze: boolean): Promise<Explanation> {
    return this.current.queries.explain(query, analyze);
  }

  cancelQuery(queryId: string): boolean {
    return this.current.queries.cancel(queryId);
  }

  async deleteStream(aggregateId: string): Promise<boolean> {
    const { tombstones, table } = this.current;
    if (tombstones.isAggregateDeleted(aggregateId)) return false;
    // The tombstone records the log's last sequence as proof the log reached it (log-coverage.ts):
    // so that sequence must be durable first.
    const through = table.rows;
    await this.groupCommit.sync();
    return tombstones.delete(aggregateId, through);
  }

  /** Retention, cleanup, archive and restore, as the facade calls them. */
  private retentionHooks(): EngineRetention {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the accessor below reads the engine's parts
    const engine = this;
    return {
      get policy(): RetentionPolicy {
        return engine.current.visibility.policy;
      },
      set policy(policy: RetentionPolicy) {
        engine.current.visibility.policy = policy;
        // A read-only handle's policy is its own view: nothing is scheduled or recorded.
        if (engine.disk?.readOnly !== undefined) return;
        engine.maintenance.setSchedule(policy.schedule);
        if (engine.disk !== undefined) writePolicyFile(engine.disk.dir, policy.source);
      },
      cleanup: (options: CleanupOptions): Promise<CleanupReport> => this.maintenance.run(options),
      restore: (archiveDir: string, options: RestoreOptions): Promise<RestoreReport> =>
        restoreInto(this.restoreHost(), archiveDir, options),
      queryArchive: (archiveDir: string, criteria: NormalizedCriteria | EventQuery): StoredEvent[] => {
        // A deleted stream stays deleted in the archive too: erasure is not undone by reading cold storage.
        const tombstones = this.current.tombstones;
        return queryArchived(archiveDir, criteria, (event) =>
          tombstones.isAggregateDeleted(event.aggregateId),
        );
      },
    };
  }

  private restoreHost(): Parameters<typeof restoreInto>[0] {
    return {
      dir: this.disk?.dir,
      segmentSize: this.options.segmentSize,
      syncOnRoll: this.options.fsync !== 'never',
      parts: () => this.current,
      indexes: () => this.manager,
      archivedCopies: this.archivedCopies,
      assertWritable: () => this.assertWritable(),
      abandonCheckpoint: () => this.checkpointer.abandon(),
      quiesce: async () => {
        // A batch waiting for its beforeCommit hook writes into the parts a restore replaces.
        await this.turn.drained();
        await this.maintenance.settle();
        await this.groupCommit.settle();
      },
      holdsId: (row) => holdsId(this.current.tombstones, row),
      syncAndMaybeCheckpoint: async () => {
        await this.groupCommit.sync();
        this.checkpointer.maybe();
      },
      swapIn: async (table, log, tombstones) => {
        const old = this.current;
        this.wire(table, log, tombstones, this.manager);
        this.extractDeclaredColumns();
        this.checkpointer.rows = 0;
        this.maintenance.rewire();
        await old.queries.close();
        old.log.close();
      },
      checkpointInBackground: () => this.checkpointer.inBackground(),
      fail: (error) => this.fail(error),
    };
  }

  /** A read-only follower's fresh load: new parts (and a new index manager) over what it loaded. */
  private async reload(loaded: {
    table: EventTable;
    log: SegmentLog;
    cut: number;
    userIndexes: readonly UserIndex[];
    checkpointRows: number;
  }): Promise<void> {
    const old = { parts: this.current, indexes: this.manager };
    const dir = (this.disk as DiskParts).dir;
    this.wire(loaded.table, loaded.log, new Tombstones(loaded.table, dir));
    this.checkpointer.rows = loaded.checkpointRows;
    this.maintenance.rewire();
    this.openIndexes(loaded.cut, loaded.userIndexes);
    old.indexes.close();
    await old.parts.queries.close();
    old.parts.log.close();
  }

  /** After a load: the rows below the cut go, then the user indexes come back from the checkpoint's snapshots. */
  openIndexes(cut: number, snapshots: readonly UserIndex[]): void {
    this.maintenance.dropBelow(cut);
    this.manager.openFrom(snapshots);
    // A snapshot from before the cut still holds its rows.
    this.manager.dropBelow(cut);
    this.extractDeclaredColumns();
  }

  /**
   * Declared field columns (the `fieldColumns` option) are there from the start: extracted now, or
   * caught up with the log replayed after the checkpoint they were read from. Only once a load is
   * complete: before its cut, the table may hold rows whose log segments cleanup already dropped.
   */
  private extractDeclaredColumns(): void {
    const table = this.current.table;
    for (const field of this.options.fieldColumns) table.fieldColumn(field);
  }

  /** Finishes a cleanup a crash interrupted after archiving (see retention/cleanup.ts, step 3). */
  finishInterruptedCleanup(rows: readonly number[]): Promise<void> {
    return this.maintenance.finishInterrupted(rows);
  }

  stats(): StoreStats {
    const { table, tombstones, visibility, queries, log } = this.current;
    const memory = process.memoryUsage();
    const stats: StoreStats = {
      events: visibility.liveEvents(),
      aggregates: table.aggregates.count - tombstones.deletedAggregates,
      deletedAggregates: tombstones.deletedAggregates,
      retention: visibility.policy.describe(),
      cleanup: this.maintenance.stats(),
      types: table.types.size,
      lastSequence: table.rows,
      indexes: table.indexStats(this.sequenceLookups, this.sequenceHits),
      planCache: queries.planCacheStats(),
      memory: {
        rss: memory.rss,
        heapUsed: memory.heapUsed,
        columns: table.columnBytes,
        indexes: table.indexBytes,
        dictionaries: table.dictionaryBytes,
        records: log.memoryBytes,
        fieldColumns: table.fieldColumns.bytes,
      },
    };
    if (table.fieldColumns.size > 0) stats.fieldColumns = table.fieldColumns.stats();
    const disk = this.disk;
    const diskLog = this.current.diskLog;
    if (disk !== undefined && diskLog !== undefined) {
      stats.storage = {
        dir: disk.dir,
        segments: diskLog.segmentCount,
        logBytes: diskLog.bytes,
        fsync: this.options.fsync,
        fsyncs: diskLog.fsyncCount,
        unsyncedBytes: diskLog.unsyncedBytes,
        lastCheckpointSequence: this.checkpointer.rows,
        checkpointError: this.checkpointer.error,
        recovery: disk.recovery ?? { tornTails: [], lost: null },
      };
      if (this.follower !== undefined) {
        stats.storage.readOnly = true;
        stats.storage.followError = this.follower.error;
      }
    }
    return stats;
  }

  async flush(): Promise<void> {
    await this.groupCommit.sync();
  }

  async checkpoint(): Promise<void> {
    // A running cleanup writes one when it ends; one written meanwhile could go stale
    // (Checkpointer.maybe). A background one in flight is stopped. Both checked in the turn that
    // writes: while this waits, a scheduled cleanup or an append may start one again.
    while (this.maintenance.isRunning || this.checkpointer.running) {
      await this.maintenance.settle();
      this.checkpointer.abandon();
      await this.checkpointer.settle();
    }
    this.assertWritable();
    this.checkpointer.now();
  }

  async refresh(): Promise<number> {
    if (this.follower !== undefined) await this.follower.refresh();
    return this.current.table.rows;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Appends already taken in finish (those waiting for a beforeCommit hook included).
    await this.turn.drained();
    this.maintenance.stop();
    await this.follower?.stop();
    await this.maintenance.settle();
    // Closed: no new checkpoint starts; the one in the background stops, and close writes its own.
    this.checkpointer.abandon();
    await this.checkpointer.settle();
    this.manager.close();
    this.groupCommit.stop();
    await this.groupCommit.settle();
    const parts = this.current;
    try {
      const diskLog = parts.diskLog;
      if (this.disk !== undefined && diskLog !== undefined && this.failure === undefined && !this.follower) {
        // Not with spans a cleanup compacted left unrewritten: see Cleanup.owesRewrites.
        // Also when only field columns were extracted: the next open then reads them back.
        const changed = parts.table.rows !== this.checkpointer.rows || parts.table.fieldColumns.unsaved;
        if (changed && !this.maintenance.owesRewrites) this.checkpointer.now();
        else syncOnClose(diskLog);
      }
    } finally {
      parts.log.close();
      this.disk?.lock.release();
      await parts.queries.close();
    }
  }

  /** The engine lost its durability guarantee: it and the facade refuse writes until reopened. */
  private fail(error: Error): void {
    this.failure ??= error;
    this.context.fail(error);
  }

  private assertWritable(): void {
    if (this.closed) throw new StoreClosedError();
    if (this.failure !== undefined) {
      throw new StoreClosedError(
        `an earlier fsync failed (${this.failure.message}); reopen the store to recover`,
      );
    }
  }
}

function syncOnClose(log: SegmentLog): void {
  try {
    log.syncNow();
  } catch (error) {
    throw storageError(
      error,
      'could not fsync the log at close: events appended since the last fsync may not be durable',
    );
  }
}
