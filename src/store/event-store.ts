import type { PolicyDescription, RetentionOptions } from '../retention/policy.js';
import type { CleanupOptions } from '../retention/cleanup.js';
import type { RestoreOptions, RestoreReport } from '../retention/restore.js';
import type { CleanupReport, CleanupStats } from '../retention/cleanup-report.js';
import type { PlanCacheStats } from '../query/plan-cache.js';
import type { IndexManager } from '../indexes/index-manager.js';
import type { ExpectedVersion } from '../errors.js';
import type { OpenRecovery } from './open-recovery.js';
import type { NewEvent, StoredEvent, TagValue } from '../events/types.js';
import type { AdvancedQueryBuilder } from '../query/advanced-query-builder.js';
import type { EventQuery } from '../query/ast.js';
import type { Explanation } from '../query/explain.js';

export interface GetEventsOptions {
  /** First version to return (inclusive). */
  fromVersion?: number;
  /** Last version to return (inclusive). */
  toVersion?: number;
  limit?: number;
}

export interface GetEventsByTypeOptions {
  /** Only events with a larger sequence. */
  afterSequence?: number;
  limit?: number;
}

export interface RangeOptions {
  limit?: number;
}

export type TimeInput = Date | number | string;

/** The criteria object of `queryEvents`: every field present must match (AND). */
export interface QueryCriteria {
  aggregateId?: string | readonly string[];
  type?: string | readonly string[];
  /** Timestamp lower bound, inclusive. */
  from?: TimeInput;
  /** Timestamp upper bound, exclusive. */
  to?: TimeInput;
  /** Tag key → a value, or an array of accepted values. */
  tags?: Record<string, TagValue | readonly TagValue[]>;
  /** Only events with a larger sequence (with `order: 'desc'`: a smaller one). */
  afterSequence?: number;
  limit?: number;
  /** By sequence; default `'asc'`. */
  order?: 'asc' | 'desc';
}

/** `queryEvents`' options beyond the criteria. */
export interface QueryEventsOptions {
  /**
   * Also return matching events from the archive (`retention.archive.dir`), merged with the live
   * ones by sequence; `limit` and `afterSequence` apply to the merged result. Without an archive
   * configured this throws a ValidationError.
   */
  includeArchived?: boolean;
}

export interface ReadOptions {
  /** First sequence to return (inclusive); default 1. */
  fromSequence?: number;
  limit?: number;
}

export interface AppendToStreamOptions {
  /** Default `'any'`. */
  expectedVersion?: ExpectedVersion;
}

export interface IndexStats {
  /** Distinct keys in the index. */
  keys: number;
  /** Row references held. */
  entries: number;
  bytes: number;
  lookups: number;
  /** Lookups that found at least one row. */
  hits: number;
  /** hits / lookups, or 0 before the first lookup. */
  hitRate: number;
}

export interface MemoryStats {
  /** Process resident set size. */
  rss: number;
  heapUsed: number;
  /** Bytes held by the fixed-width event columns. */
  columns: number;
  /** Bytes held by all indexes. */
  indexes: number;
  /** Bytes held by the string dictionaries (aggregate ids, types, tag values), estimated. */
  dictionaries: number;
  /** Bytes of encoded records held in memory: the in-memory store's log; 0 on disk, where the OS page cache holds them. */
  records: number;
}

export interface StoreStats {
  /** Live events: deleted streams' events are not counted. */
  events: number;
  aggregates: number;
  /** Streams deleted with deleteAggregate. */
  deletedAggregates: number;
  /** The retention policy in force: `maxAge` and per-type ages as durations ('forever' when none). */
  retention: PolicyDescription;
  /** Cleanup runs: the last one, totals since open, and the schedule. */
  cleanup: CleanupStats & {
    running: boolean;
    /** When the schedule runs cleanup next; null with `schedule: false`. */
    nextRunAt: string | null;
    /** Cleanup's CPU time as a share of the process's since the store opened. */
    cpuShare: number;
    /** Events of deleted streams still waiting for cleanup to remove them. */
    pendingTombstoned: number;
    /** The last scheduled run's error, if it failed. */
    lastError: string | null;
  };
  types: number;
  /** Last sequence assigned; 0 when empty. */
  lastSequence: number;
  indexes: Record<string, IndexStats>;
  /** The planner's cache of access-path choices by query fingerprint. */
  planCache: PlanCacheStats;
  memory: MemoryStats;
  /** Present for on-disk stores. */
  storage?: {
    dir: string;
    segments: number;
    logBytes: number;
    fsync: FsyncPolicy;
    /** fsyncs issued since open: with group commit, far fewer than appends. */
    fsyncs: number;
    /**
     * Log bytes acknowledged but not yet known to be fsync'ed: what a power loss could still take.
     * Under `fsync: 'batch'` at most `fsyncIntervalMs` worth of appends; 0 under `'always'` once
     * every append has resolved.
     */
    unsyncedBytes: number;
    lastCheckpointSequence: number;
    /** Why the last periodic checkpoint failed, if it did (it is tried again later; no data is lost). */
    checkpointError: string | null;
    /** What the open that made this handle cut off (torn tails) or found lost (`recover: 'truncate'`). */
    recovery: OpenRecovery;
    /** Present when opened with `readOnly: true`. */
    readOnly?: true;
    /** Read-only: why the last automatic refresh failed (null when it did not); the store serves what it had. */
    followError?: string | null;
  };
}

export type FsyncPolicy = 'always' | 'batch' | 'never';

/**
 * The event store. Get one from `openEventStore`.
 *
 * @example
 * const store = await openEventStore({ dir: './data' });
 * await store.appendToStream('order-1', [{ type: 'ORDER.PLACED', payload: { total: 42 } }], { expectedVersion: 'no_stream' });
 * const events = await store.getEvents('order-1');
 * await store.close();
 */
export interface EventStore {
  /**
   * Appends one atomic batch (all or none) across any aggregates. `append<P>(...)` checks the
   * payloads against `P` and types the stored events with it; a batch of mixed payloads needs none.
   */
  append<P = unknown>(
    events: NewEvent<NoInfer<P>> | readonly NewEvent<NoInfer<P>>[],
  ): Promise<StoredEvent<P>[]>;
  /** Appends to one stream under optimistic concurrency. Events here need no `aggregateId`. */
  appendToStream<P = unknown>(
    aggregateId: string,
    events: readonly Omit<NewEvent<NoInfer<P>>, 'aggregateId'>[] | Omit<NewEvent<NoInfer<P>>, 'aggregateId'>,
    options?: AppendToStreamOptions,
  ): Promise<StoredEvent<P>[]>;
  /**
   * A stream's events in version order. The reads take the payload type you expect
   * (`getEvents<OrderPayload>('order-1')`): it is your word, not checked at run time.
   */
  getEvents<P = unknown>(aggregateId: string, options?: GetEventsOptions): Promise<StoredEvent<P>[]>;
  getEventsByType<P = unknown>(type: string, options?: GetEventsByTypeOptions): Promise<StoredEvent<P>[]>;
  /** Events with timestamp in [start, end), in sequence order. */
  getEventsInRange<P = unknown>(
    start: TimeInput,
    end: TimeInput,
    options?: RangeOptions,
  ): Promise<StoredEvent<P>[]>;
  /**
   * Events matching every criterion, by sequence. With `includeArchived`, also the archived ones
   * (from `retention.archive.dir`), merged by sequence before `limit` applies.
   *
   * @example
   * await store.queryEvents({ type: 'ORDER.PLACED', from: '2023-01-01' }, { includeArchived: true });
   */
  queryEvents<P = unknown>(criteria?: QueryCriteria, options?: QueryEventsOptions): Promise<StoredEvent<P>[]>;
  /**
   * A new immutable query builder: where, select, orderBy, limit, offset, hint, execute, executeStream,
   * explain. `query<P>()` types the rows as `StoredEvent<P>` (until a `select`).
   */
  query<P = unknown>(): AdvancedQueryBuilder<StoredEvent<P>>;
  /** The plan for a query (an AST or a builder); with `analyze`, also runs it and reports actual rows and time. */
  explain(query: EventQuery | AdvancedQueryBuilder, options?: { analyze?: boolean }): Promise<Explanation>;
  /** Replaces the retention policy; events it expires disappear from reads at once. */
  setRetention(retention: RetentionOptions | undefined): void;
  /** Deletes a stream (erasure): hidden at once from every read, further appends refused; survives restart. */
  deleteAggregate(aggregateId: string): Promise<boolean>;
  /**
   * Removes what reads already leave out (expired events, deleted streams), archiving it first when
   * the policy names an archive; runs in slices while appends and queries go on. Also scheduled
   * (hourly by default; `retention.schedule`).
   */
  cleanup(options?: CleanupOptions): Promise<CleanupReport>;
  /**
   * Restores archived events with their sequence numbers and ids into this store: after its last
   * sequence, or back between its live events (the log is then rebuilt and swapped in
   * crash-safely; writes wait meanwhile, reads go on). Events it holds already, and events of
   * deleted streams, are left out; the archive keeps its copies, and cleanup never archives a
   * restored event twice.
   */
  restoreArchive(archiveDir: string, options?: RestoreOptions): Promise<RestoreReport>;
  /** Cancels a running query started with that `queryId`; returns whether one was running. */
  cancelQuery(queryId: string): boolean;
  /** User-defined indexes: createIndex, dropIndex, listIndexes, analyzeIndex, rebuildIndex, getIndexUsage, getIndexSize. */
  readonly indexes: IndexManager;
  /** Reads in global order. */
  read<P = unknown>(options?: ReadOptions): Promise<StoredEvent<P>[]>;
  stats(): StoreStats;
  /** Makes every acknowledged append durable on disk now (fsync), whatever the policy. */
  flush(): Promise<void>;
  /** Writes an index checkpoint now, so the next open replays less log. */
  checkpoint(): Promise<void>;
  /**
   * Opened with `readOnly: true`: reads what the writing process appended (or changed) since the
   * last refresh, and resolves with the last sequence now visible. Otherwise resolves at once.
   *
   * @example
   * const reader = await openEventStore({ dir: './events', readOnly: true, followIntervalMs: 0 });
   * await reader.refresh();
   * const latest = await reader.read({ fromSequence: reader.stats().lastSequence - 9 });
   */
  refresh(): Promise<number>;
  close(): Promise<void>;
}
