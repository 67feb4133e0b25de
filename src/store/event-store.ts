import type { RetentionOptions } from '../retention/policy.js';
import type { RestoreOptions, RestoreReport } from '../retention/restore-report.js';
import type { CleanupOptions, CleanupReport } from '../retention/cleanup-report.js';
import type { Indexes } from '../indexes/indexes.js';
import type { ExpectedVersion } from '../errors.js';
import type { NewEvent, StoredEvent } from '../events/types.js';
import type { FunnelQuery, FunnelReport } from './store-analytics.js';
import type { PipelineRow, PipelineStage } from '../query/analytics-ast.js';
import type { AdvancedQueryBuilder } from '../builder/advanced-query-builder.js';
import type { EventQuery } from '../query/ast.js';
import type { Explanation } from '../query/explanation.js';
import type { QueryCriteria, QueryEventsOptions, TimeInput } from '../query/criteria.js';
import type { StoreStats } from '../storage/store-stats.js';
import type { StorageCapabilities } from '../storage/storage-engine.js';
import type { ExportOptions, ExportResult } from '../analytics/export/export-options.js';
import type { ExportSource } from './export-runner.js';
import type { StoreMonitor } from './store-monitor.js';
import type {
  SubscribeOptions,
  Subscription,
  SubscriptionInfo,
  WaitForOptions,
} from './subscription-types.js';
import type { IQueryCache } from './query-cache-api.js';

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

export interface ReadOptions {
  /** First sequence to return (inclusive); default 1. */
  fromSequence?: number;
  limit?: number;
}

export interface AppendToStreamOptions {
  /** Default `'any'`. */
  expectedVersion?: ExpectedVersion;
}

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
   * With `hooks.beforeCommit`, its error (as thrown) rejects the batch with nothing written; with
   * `hooks.afterCommit`, this resolves after it ran (see CommitHooks).
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

  /**
   * Funnels and pipelines over the store's events (docs/analytics.md): `funnel(spec)` counts the
   * journeys reaching each step within a window; `pipeline(stages)` runs JSON stages in order.
   */
  readonly analytics: {
    funnel(spec: FunnelQuery): Promise<FunnelReport>;
    pipeline(stages: readonly PipelineStage[]): Promise<PipelineRow[]>;
  };
  /** The plan for a query (an AST or a builder); with `analyze`, also runs it and reports actual rows and time. */
  explain(query: EventQuery | AdvancedQueryBuilder, options?: { analyze?: boolean }): Promise<Explanation>;
  /**
   * Writes a query's rows (a builder or an EventQuery, streamed in constant memory) or a pipeline's
   * rows to a file or stream as CSV, NDJSON, Parquet or Arrow; resolves with the rows and bytes
   * written. Events flatten to sequence, id, aggregateId, version, type, timestamp, tags, payload,
   * metadata (objects as JSON text); with `select`, one column per field. See docs/export.md.
   *
   * @example
   * await store.export(store.query().where('type', 'eq', 'ORDER.PLACED'), { format: 'parquet', to: 'orders.parquet' });
   */
  export(source: ExportSource, options: ExportOptions): Promise<ExportResult>;
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
  /**
   * What the engine under this store can do (durable, userIndexes, archive, …): a call an engine
   * cannot serve throws `UNSUPPORTED`.
   */
  readonly capabilities: StorageCapabilities;
  /** User-defined indexes: createIndex, dropIndex, listIndexes, analyzeIndex, rebuildIndex, getIndexUsage, getIndexSize. */
  readonly indexes: Indexes;
  /**
   * The performance monitor: latency percentiles per method and query shape, the slow-query log,
   * index usage, cleanup effectiveness and Prometheus metrics (docs/monitoring.md).
   *
   * @example
   * const { methods } = store.monitor.latency({ window: '5m' });
   * console.log(methods.getEvents.p99, await store.monitor.metrics());
   */
  readonly monitor: StoreMonitor;
  /**
   * The result cache (docs/cache.md), on when the store is opened with `cache`: stats, get/set/delete,
   * invalidation by pattern or table, optimize, warmup.
   *
   * @example
   * const store = await openEventStore({ cache: true });
   * const { hits, misses, hitRate } = await store.cache.getCacheStats();
   */
  readonly cache: IQueryCache;
  /** Reads in global order. */
  read<P = unknown>(options?: ReadOptions): Promise<StoredEvent<P>[]>;
  /**
   * Follows the log: an async iterable of the events after `after` (default 0; `'end'`: only new
   * ones), in sequence order, each matching event exactly once, catching up from the log and then
   * taking events as they commit. `name` makes it durable (`commit(sequence)`, resumed by a later
   * `subscribe({ name })`). A slow consumer costs the store a bounded buffer. See docs/subscriptions.md.
   *
   * @example
   * const sub = store.subscribe({ where: { type: 'ORDER.PLACED' }, onCaughtUp: (seq) => console.log('live at', seq) });
   * for await (const event of sub) console.log(event.sequence, event.payload);
   */
  subscribe<P = unknown>(options?: SubscribeOptions): Subscription<P>;
  /** The named subscriptions: committed position, lag, and whether one is open on this handle. */
  subscriptions(): SubscriptionInfo[];
  /**
   * Resolves once the store has committed `sequence` (with `name`: once that subscription has
   * committed it): read-your-writes for read models. Rejects with WAIT_TIMEOUT after `timeout` ms.
   *
   * @example
   * const [placed] = await store.append({ aggregateId: 'order-1', type: 'ORDER.PLACED' });
   * await store.waitFor(placed.sequence, { name: 'orders-view', timeout: 5000 });
   */
  waitFor(sequence: number, options?: WaitForOptions): Promise<void>;
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
