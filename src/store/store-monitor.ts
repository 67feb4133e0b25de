import type { Registry } from 'prom-client';
import type { ExplainNode } from '../query/explanation.js';

/**
 * What `store.monitor` offers (the performance monitor, module `performance-monitor`): latency
 * percentiles per method and per query shape, the slow-query log, index usage, cleanup
 * effectiveness, append throughput and Prometheus metrics. The contract lives here, with the store;
 * the monitor itself is built above it (src/live/performance-monitor/) on the store's hooks.
 */

/** A rolling window of latency figures: the last minute, five minutes, hour, or since the store opened. */
export type LatencyWindow = '1m' | '5m' | '1h' | 'all';

/** The store calls the monitor times. `query` is the builder (execute, page, stream); `analytics`, queries with analytics. */
export type MonitoredMethod =
  | 'append'
  | 'appendToStream'
  | 'getEvents'
  | 'getEventsByType'
  | 'getEventsInRange'
  | 'queryEvents'
  | 'query'
  | 'analytics'
  | 'read'
  | 'explain';

/** Latency of one method or query shape over a window, in milliseconds (null while count is 0). */
export interface LatencySummary {
  count: number;
  /** Percentiles within 1% of the exact ones (a relative-error sketch, DDSketch). */
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** Exact. */
  max: number | null;
  mean: number | null;
}

/** One query shape's latency: `fingerprint` is the query without its constants (the plan cache's key). */
export interface ShapeLatency extends LatencySummary {
  fingerprint: string;
}

export interface LatencyReport {
  window: LatencyWindow;
  /** When the figures start, by the store's clock (a window is kept in slots: it may reach one slot further back). */
  since: string;
  /** Every method, those not called with count 0. */
  methods: Record<MonitoredMethod, LatencySummary>;
  /** Query shapes by count, most first (those the monitor keeps: `maxShapes`, the rest under `other`). */
  shapes: ShapeLatency[];
}

/** Where a query's time went, in milliseconds. */
export interface QueryPhases {
  /** Everything before the row search began: the store's checks at the door and choosing the plan. */
  planMs: number;
  /** Finding the rows through an index (0 for a scan). */
  indexMs: number;
  /** Finding the rows by scanning (0 for an index lookup). */
  scanMs: number;
  /** Reading and decoding the chosen events. */
  decodeMs: number;
}

/**
 * One slow query: the columns of the seed's `query_performance_log` (query id, query text,
 * execution time, rows returned, indexes used, time), then its plan with estimated and actual rows
 * and where the time went.
 */
export interface SlowQueryEntry {
  queryId: string;
  queryText: string;
  executionTimeMs: number;
  rowsReturned: number;
  indexesUsed: string[];
  /** When it finished, by the store's clock (ISO 8601). */
  createdAt: string;
  fingerprint: string;
  /** The threshold it crossed, and which one: `slowQueryMs`, or `outlierFactor` × its shape's p99. */
  thresholdMs: number;
  reason: 'threshold' | 'outlier';
  /**
   * The rest comes from the engine's profile of the query (StorageEngine.observeQueries): null for
   * an engine that gives none. The access path: an index name or `scan`.
   */
  accessPath: string | null;
  rowsExamined: number | null;
  estimatedRows: number | null;
  phases: QueryPhases | null;
  /** The plan as EXPLAIN ANALYZE shows it: per node, estimated and actual rows. */
  plan: { text: string; root: ExplainNode } | null;
}

/** One query shape's statistics (`getQueryStats`). */
export interface QueryStats {
  fingerprint: string;
  /** The query id asked for, when asked by one. */
  queryId: string | null;
  /** The latest query of this shape, constants included. */
  queryText: string;
  calls: number;
  rowsReturned: number;
  rowsExamined: number;
  /** Access paths used (an index name or `scan`), by how often. */
  accessPaths: Record<string, number>;
  latency: Record<LatencyWindow, LatencySummary>;
  slowQueries: number;
  lastRunAt: string | null;
  /** Asked by the id of a query in the slow-query log: that entry. */
  slowQuery: SlowQueryEntry | null;
}

export interface SlowQueryFilter {
  /** Only entries at least this slow (the log holds what crossed the monitor's threshold). */
  thresholdMs?: number;
  /** Most entries, newest first; default 100. */
  limit?: number;
}

/** One row of the seed's `index_usage_stats`: an index on a day (UTC, by the store's clock). */
export interface IndexUsageDay {
  indexName: string;
  tableName: 'events';
  /** Queries whose plan used the index that day. */
  usageCount: number;
  lastUsed: string | null;
  sizeBytes: number;
  statsDate: string;
}

export interface IndexUsageReport {
  /** Per index and day (the last `indexUsageDays` days the monitor saw), oldest first. */
  days: IndexUsageDay[];
  /** Per index since it was created (the engine's counts, kept across restarts). */
  indexes: {
    name: string;
    builtIn: boolean;
    usageCount: number;
    lastUsed: string | null;
    sizeBytes: number;
  }[];
  /** User-defined indexes no query has used since they were created. */
  unused: string[];
  /** Queries the monitor saw (since the store opened): by index, by scan, slow. */
  queries: { total: number; indexed: number; scans: number; slow: number };
  /** The seed's success metrics, as shares 0..1 (null before any query, or without a cache). */
  successMetrics: {
    /** Queries served by an index rather than a scan. */
    indexServedShare: number | null;
    /** Queries over the slow-query threshold (the seed: under 5%). */
    slowQueryShare: number | null;
    /** The result cache's hit rate (the seed: over 70%); null without a cache source. */
    cacheHitRate: number | null;
  };
}

/** Cleanup effectiveness, from the reports of the cleanup runs since the store opened. */
export interface CleanupEffectiveness {
  runs: number;
  eventsRemoved: number;
  bytesFreed: number;
  /** Cleanup's own CPU time over the runs' wall time (the seed: under 5%). */
  cpuShare: number | null;
  totalDurationMs: number;
  totalCpuMs: number;
  lastRun: {
    startedAt: string;
    durationMs: number;
    cpuMs: number;
    eventsRemoved: number;
    bytesFreed: number;
  } | null;
}

export interface AppendThroughput {
  window: LatencyWindow;
  appends: number;
  events: number;
  /** Events appended per second over the window (for `all`, since the store opened). */
  eventsPerSecond: number;
  latency: LatencySummary;
}

/** What the result cache reports to the monitor (the cache's getCacheStats has these and more). */
export interface CacheCounts {
  hits: number;
  misses: number;
}

/** What the subscriptions report to the monitor: how far behind each one is. */
export interface SubscriptionLagSource {
  name: string;
  lagEvents: number;
}

/**
 * The parts built beside the monitor report through these (`monitor.setSources`): each a function
 * the monitor calls when it reports (a scrape, analyzeIndexUsage, a snapshot), never per query.
 */
export interface MonitorSources {
  cache?: (() => CacheCounts | Promise<CacheCounts> | undefined) | undefined;
  subscriptions?:
    (() => readonly SubscriptionLagSource[] | Promise<readonly SubscriptionLagSource[]>) | undefined;
}

/** openEventStore's `monitor` option; `false` turns the monitor off (its figures then stay empty). */
export interface MonitorOptions {
  /** A query at least this slow (ms) goes to the slow-query log. Default 100. */
  slowQueryMs?: number;
  /**
   * A query this many times its shape's p99 (and at least `outlierFloorMs`) is logged as slow too,
   * once the shape has had 100 calls before it. Default 10; 0 turns it off.
   */
  outlierFactor?: number;
  /** Default 1 ms: below it no query counts as an outlier. */
  outlierFloorMs?: number;
  /** Slow queries held in memory (getSlowQueries). Default 1000. */
  slowQueryLogSize?: number;
  /** Durable store: the slow-query file rotates at this size (bytes). Default 10 MiB. */
  slowQueryFileBytes?: number;
  /** Durable store: rotated slow-query files kept besides the current one. Default 4. */
  slowQueryFiles?: number;
  /** Query shapes tracked one by one; later ones count under `other` until an idle one is dropped. Default 100. */
  maxShapes?: number;
  /** Days of per-index usage kept. Default 31. */
  indexUsageDays?: number;
  /** Durable store: how often (ms) the monitor's figures are written for `tamma-events stats`. Default 10000; 0: only at close. */
  snapshotIntervalMs?: number;
}

/** The performance monitor of a store (`store.monitor`). */
export interface StoreMonitor {
  /** False when the store was opened with `monitor: false`. */
  readonly enabled: boolean;
  /** Latency per method and per query shape over a window (default `all`). */
  latency(options?: { window?: LatencyWindow }): LatencyReport;
  /** A query shape's statistics, by fingerprint or by the id of a query the monitor remembers; null when unknown. */
  getQueryStats(queryIdOrFingerprint: string): QueryStats | null;
  /** The slow-query log, newest first. */
  getSlowQueries(filter?: SlowQueryFilter): SlowQueryEntry[];
  /** Index usage per index and day, unused indexes, and the seed's success metrics. */
  analyzeIndexUsage(): Promise<IndexUsageReport>;
  cleanupEffectiveness(): CleanupEffectiveness;
  appendThroughput(options?: { window?: LatencyWindow }): AppendThroughput;
  /** Prometheus text exposition (prom-client), `tamma_*` metrics in base units. */
  metrics(): Promise<string>;
  /** The prom-client Registry behind `metrics()`: merge it into an application's (`Registry.merge`). */
  readonly registry: Registry;
  /** Connects the result cache's and the subscriptions' figures (see MonitorSources). */
  setSources(sources: MonitorSources): void;
  /** Durable store: the slow-query file (JSONL, rotated), or null. */
  readonly slowQueryFile: string | null;
}
