import type { Registry } from 'prom-client';
import { ValidationError } from '../../errors.js';
import { systemClock, type Clock } from '../../events/clock.js';
import type { EventQuery } from '../../query/ast.js';
import { fingerprint as shapeOf } from '../../query/fingerprint.js';
import type { QueryProfile } from '../../storage/query-profile.js';
import type { StorageEngine } from '../../storage/storage-engine.js';
import type {
  ChangeNotice,
  ReadCall,
  ReadObservation,
  StorePlugin,
  WriteObservation,
} from '../../store/hooks.js';
import type {
  AppendThroughput,
  CacheCounts,
  CleanupEffectiveness,
  IndexUsageReport,
  LatencyReport,
  LatencySummary,
  LatencyWindow,
  MonitoredMethod,
  MonitorSources,
  QueryStats,
  SlowQueryEntry,
  SlowQueryFilter,
  StoreMonitor,
  SubscriptionLagSource,
} from '../../store/store-monitor.js';
import { describe } from '../../support/describe.js';
import { EventRate } from './event-rate.js';
import { IndexUsageDays } from './index-usage-days.js';
import { LatencySeries } from './latency-series.js';
import { slowQueryPath, writeSnapshot, type MonitorSnapshot } from './monitor-files.js';
import type { MonitorSettings } from './monitor-options.js';
import { createMetricsRegistry } from './prometheus-metrics.js';
import { RotatingJsonlFile } from './rotating-jsonl-file.js';
import { SlowQueryLog, slowQueryEntry } from './slow-query-log.js';
import { WINDOW_MS } from './windowed-sketch.js';

const READ_METHODS = [
  'getEvents',
  'getEventsByType',
  'getEventsInRange',
  'queryEvents',
  'query',
  'analytics',
  'read',
  'explain',
] as const satisfies readonly MonitoredMethod[];
const APPEND_METHODS = ['append', 'appendToStream'] as const satisfies readonly MonitoredMethod[];
const WINDOWS: readonly LatencyWindow[] = ['1m', '5m', '1h', 'all'];
/** A shape needs this many calls before a query can be an outlier of it. */
const OUTLIER_MIN_CALLS = 100;
/** How long a shape's outlier threshold (factor × p99) is reused before it is computed again. */
const OUTLIER_REFRESH_MS = 5_000;
/** Query ids remembered for getQueryStats (a ring: two array stores a query). */
const REMEMBERED_IDS = 256;
const COARSE_CLOCK_MS = 250;
/** Query profiles held until their read ends (reads of one store rarely overlap more than this). */
const PROFILES = 8;
/** A shape not run for this long may give its place to a new one once `maxShapes` are tracked. */
const SHAPE_IDLE_MS = 3_600_000;

/** How often a shape's queries took one access path (an index name or `scan`), and its indexes. */
interface AccessPathUse {
  count: number;
  lastUsed: number;
  readonly indexes: readonly string[];
}

/** One query shape: its latency, counts, and the access paths it used (with their indexes). */
interface Shape {
  readonly fingerprint: string;
  readonly series: LatencySeries;
  example: QueryProfile['query'] | undefined;
  rowsReturned: number;
  rowsExamined: number;
  slow: number;
  paths: Map<string, AccessPathUse>;
  outlierMs: number;
  outlierAt: number;
}

/** The store call a read was, as the monitor names it. */
function methodOf(call: ReadCall): (typeof READ_METHODS)[number] {
  switch (call.kind) {
    case 'stream':
      return 'getEvents';
    case 'global':
      return 'read';
    case 'explain':
      return 'explain';
    case 'query':
      if (call.method === 'execute' || call.method === 'page' || call.method === 'stream') {
        return call.query?.analytics === undefined ? 'query' : 'analytics';
      }
      return call.method;
  }
}

/**
 * The performance monitor (`store.monitor`): a plugin on the store's hooks (reads and appends, with
 * their time), a query observer on the engine (each query's shape, access path and phases), and the
 * reports built from them. Everything it keeps is bounded: fixed-size sketches per method and per
 * shape (at most `maxShapes`, the rest under `other`), a ring of slow queries, days of index use.
 * The work per call is a few counter updates and one sketch insert; reports do the rest.
 */
export class PerformanceMonitor implements StoreMonitor {
  private readonly reads = new Map<string, { series: LatencySeries; errors: number }>();
  private readonly appends = new Map<string, { series: LatencySeries; errors: number }>();
  private readonly shapes = new Map<string, Shape>();
  private readonly other: Shape;
  private readonly slowLog: SlowQueryLog;
  private readonly indexDays: IndexUsageDays;
  /** Index use of the shapes no longer tracked (dropped when idle). */
  private readonly retiredIndexUse = new Map<string, { count: number; lastUsed: number | null }>();
  private readonly events: EventRate;
  private readonly ids: string[] = new Array<string>(REMEMBERED_IDS).fill('');
  private readonly idShapes: string[] = new Array<string>(REMEMBERED_IDS).fill('');
  private nextId = 0;
  private readonly profiles: (QueryProfile | undefined)[] = new Array<QueryProfile | undefined>(PROFILES);
  private nextProfile = 0;
  /**
   * With the system clock, the time windows are placed by is read from a timer every 250 ms rather
   * than on every call: a clock reading costs ~100 ns on some machines, a point query ~10 µs.
   * An injected clock (tests, simulations) is read on every call.
   */
  private coarseNow: number | undefined;
  private coarseTimer: NodeJS.Timeout | undefined;
  private queries = 0;
  private indexed = 0;
  private scans = 0;
  private lastShapeSweep = 0;
  private readonly cleanups: CleanupEffectiveness = {
    runs: 0,
    eventsRemoved: 0,
    bytesFreed: 0,
    cpuShare: null,
    totalDurationMs: 0,
    totalCpuMs: 0,
    lastRun: null,
  };
  private sources: MonitorSources = {};
  private engine: StorageEngine | undefined;
  private registry_: Registry | undefined;
  private nextSnapshotAt = Infinity;
  private snapshotting: Promise<void> | undefined;
  private readonly startedAt: number;
  /** The monitor's own failures (a hook that threw): it never fails the call it watches. */
  failures = 0;
  lastFailure: string | null = null;
  readonly slowQueryFile: string | null;
  /** The store hooks it watches; undefined when turned off. */
  readonly plugin: StorePlugin | undefined;

  constructor(
    private readonly settings: MonitorSettings | false,
    private readonly clock: Clock,
    private readonly dir: string | undefined,
  ) {
    const now = clock.now();
    this.startedAt = now;
    for (const method of READ_METHODS) this.reads.set(method, { series: new LatencySeries(now), errors: 0 });
    for (const method of APPEND_METHODS)
      this.appends.set(method, { series: new LatencySeries(now), errors: 0 });
    this.other = newShape('other', now);
    this.events = new EventRate(now);
    const on = settings === false ? undefined : settings;
    this.indexDays = new IndexUsageDays(on?.indexUsageDays ?? 1, now);
    const file =
      on === undefined || dir === undefined
        ? undefined
        : new RotatingJsonlFile(slowQueryPath(dir), on.slowQueryFileBytes, on.slowQueryFiles);
    this.slowLog = new SlowQueryLog(on?.slowQueryLogSize ?? 1, file);
    this.slowQueryFile = file?.path ?? null;
    this.plugin = on === undefined ? undefined : this.hooks();
    if (on !== undefined && dir !== undefined && on.snapshotIntervalMs > 0) {
      this.nextSnapshotAt = now + on.snapshotIntervalMs;
    }
  }

  private now(): number {
    return this.coarseNow ?? this.clock.now();
  }

  get enabled(): boolean {
    return this.settings !== false;
  }

  /** Once the engine is open: query profiles, index sizes and usage. A read-only handle writes no files. */
  attach(engine: StorageEngine): void {
    this.engine = engine;
    if (this.settings === false) return;
    if (engine.capabilities.readOnly) {
      this.nextSnapshotAt = Infinity;
      (this.slowLog as { file: RotatingJsonlFile | undefined }).file = undefined;
    }
    engine.observeQueries?.((profile) => this.onQuery(profile));
    // Started once the store is open: an open that fails leaves no timer behind.
    if (this.clock === systemClock) {
      this.coarseNow = Date.now();
      this.coarseTimer = setInterval(() => (this.coarseNow = Date.now()), COARSE_CLOCK_MS);
      this.coarseTimer.unref();
    }
  }

  private hooks(): StorePlugin {
    return {
      name: 'performance-monitor',
      // Each hook catches its own failures: no closure is made per call.
      afterRead: (observation) => {
        try {
          this.onRead(observation);
        } catch (error) {
          this.failed(error);
        }
      },
      afterWrite: (observation) => {
        try {
          this.onWrite(observation);
        } catch (error) {
          this.failed(error);
        }
      },
      afterChange: (change) => {
        try {
          this.onChange(change);
        } catch (error) {
          this.failed(error);
        }
      },
      close: () => this.close(),
    };
  }

  private failed(error: unknown): void {
    this.failures++;
    this.lastFailure = error instanceof Error ? error.message : String(error);
  }

  // --- the hot paths: a read, an append, a query profile -------------------------------------

  private onRead(observation: ReadObservation): void {
    const call = observation.call;
    const entry = this.reads.get(methodOf(call)) as { series: LatencySeries; errors: number };
    const now = this.now();
    entry.series.record(observation.durationMs, now);
    if (observation.error !== undefined) entry.errors++;
    else if (call.kind === 'query') this.onQueryRead(call.query, observation, now);
    if (now >= this.nextSnapshotAt) this.snapshotSoon(now);
  }

  private onWrite(observation: WriteObservation): void {
    const entry = this.appends.get(observation.method) as { series: LatencySeries; errors: number };
    const now = this.now();
    entry.series.record(observation.durationMs, now);
    if (observation.error !== undefined) entry.errors++;
    else this.events.add(observation.events, now);
    if (now >= this.nextSnapshotAt) this.snapshotSoon(now);
  }

  /**
   * The engine's profile of a query it ran: held (by reference, in a ring of a few) until the read
   * that asked for it ends, which comes right after. No clock reading, no work here.
   */
  private onQuery(profile: QueryProfile): void {
    this.profiles[this.nextProfile] = profile;
    this.nextProfile = (this.nextProfile + 1) % PROFILES;
  }

  /** The profile of the query the read ran (the same query object), taken out of the ring. */
  private profileOf(query: EventQuery): QueryProfile | undefined {
    for (let i = 1; i <= PROFILES; i++) {
      const at = (this.nextProfile - i + PROFILES) % PROFILES;
      const profile = this.profiles[at];
      if (profile !== undefined && profile.query === query) {
        this.profiles[at] = undefined;
        return profile;
      }
    }
    return undefined;
  }

  /** A query read that answered: its shape's latency and counts, index use, and whether it was slow. */
  private onQueryRead(query: EventQuery, observation: ReadObservation, now: number): void {
    const settings = this.settings as MonitorSettings;
    const profile = this.profileOf(query);
    // Without a profile (an engine that gives none, an archive read), the shape is computed here.
    const shape = this.shapeOf(profile?.fingerprint ?? shapeOf(query), now);
    const timeMs = observation.durationMs;
    shape.series.record(timeMs, now);
    shape.example = query;
    shape.rowsReturned += observation.rows;
    this.queries++;
    if (profile !== undefined) {
      shape.rowsExamined += profile.rowsExamined;
      const pathName = profile.accessPath;
      let path = shape.paths.get(pathName);
      if (path === undefined) {
        path = { count: 0, lastUsed: now, indexes: profile.indexesUsed };
        shape.paths.set(pathName, path);
      }
      // Index use per day is the difference of these totals across the day (index-usage-days.ts).
      if (now >= this.indexDays.dayEnd) this.indexDays.roll(now, this.indexTotals());
      path.count++;
      path.lastUsed = now;
      if (pathName === 'scan') this.scans++;
      else this.indexed++;
      const at = this.nextId;
      this.ids[at] = profile.queryId;
      this.idShapes[at] = shape.fingerprint;
      this.nextId = (at + 1) % REMEMBERED_IDS;
    }

    if (timeMs >= settings.slowQueryMs) {
      this.logSlow(shape, query, observation, profile, now, settings.slowQueryMs, 'threshold');
    } else if (
      settings.outlierFactor > 0 &&
      timeMs >= settings.outlierFloorMs &&
      shape.series.count > OUTLIER_MIN_CALLS
    ) {
      const threshold = this.outlierThreshold(shape, now, settings.outlierFactor);
      if (timeMs >= threshold) this.logSlow(shape, query, observation, profile, now, threshold, 'outlier');
    }
  }

  private logSlow(
    shape: Shape,
    query: EventQuery,
    observation: ReadObservation,
    profile: QueryProfile | undefined,
    now: number,
    thresholdMs: number,
    reason: SlowQueryEntry['reason'],
  ): void {
    shape.slow++;
    const call = {
      query,
      fingerprint:
        shape.fingerprint === 'other' ? (profile?.fingerprint ?? shapeOf(query)) : shape.fingerprint,
      durationMs: observation.durationMs,
      startedAt: observation.startedAt,
      rows: observation.rows,
      profile,
    };
    this.slowLog.add(slowQueryEntry(call, now, thresholdMs, reason));
  }

  /** factor × the shape's p99 over the last hour, recomputed at most every OUTLIER_REFRESH_MS. */
  private outlierThreshold(shape: Shape, now: number, factor: number): number {
    if (now - shape.outlierAt >= OUTLIER_REFRESH_MS || now < shape.outlierAt) {
      const p99 = shape.series.windows.quantile('1h', 0.99, now);
      shape.outlierMs = p99 === undefined ? Infinity : p99 * factor;
      shape.outlierAt = now;
    }
    return shape.outlierMs;
  }

  private shapeOf(fingerprint: string, now: number): Shape {
    const known = this.shapes.get(fingerprint);
    if (known !== undefined) return known;
    const max = (this.settings as MonitorSettings).maxShapes;
    if (this.shapes.size >= max) this.sweepIdleShapes(now);
    if (this.shapes.size >= max) return this.other;
    const shape = newShape(fingerprint, now);
    this.shapes.set(fingerprint, shape);
    return shape;
  }

  /** Frees the places of shapes idle for an hour (at most once a minute: a full map is the rare case). */
  private sweepIdleShapes(now: number): void {
    if (now - this.lastShapeSweep < 60_000 && now >= this.lastShapeSweep) return;
    this.lastShapeSweep = now;
    for (const [fingerprint, shape] of this.shapes) {
      if (now - shape.series.lastAt < SHAPE_IDLE_MS) continue;
      this.shapes.delete(fingerprint);
      addIndexUse(this.retiredIndexUse, shape);
    }
  }

  private onChange(change: ChangeNotice): void {
    if (change.kind !== 'cleanup') return;
    const report = change.report;
    const c = this.cleanups;
    c.runs++;
    c.eventsRemoved += report.removed;
    c.bytesFreed += report.bytesFreed;
    c.totalDurationMs += report.durationMs;
    c.totalCpuMs += report.cpuMs;
    c.cpuShare = c.totalDurationMs > 0 ? c.totalCpuMs / c.totalDurationMs : null;
    c.lastRun = {
      startedAt: report.startedAt,
      durationMs: report.durationMs,
      cpuMs: report.cpuMs,
      eventsRemoved: report.removed,
      bytesFreed: report.bytesFreed,
    };
  }

  // --- reports ---------------------------------------------------------------------------------

  latency(options: { window?: LatencyWindow } = {}): LatencyReport {
    const window = checkWindow(options);
    const now = this.clock.now();
    const methods = {} as Record<MonitoredMethod, LatencySummary>;
    for (const [method, { series }] of [...this.appends, ...this.reads]) {
      methods[method as MonitoredMethod] = series.summary(window, now);
    }
    const shapes = [...this.shapes.values(), this.other]
      .map((shape) => ({ fingerprint: shape.fingerprint, ...shape.series.summary(window, now) }))
      .filter((shape) => shape.count > 0)
      .sort((a, b) => b.count - a.count);
    const since = window === 'all' ? this.startedAt : Math.max(this.startedAt, now - WINDOW_MS[window]);
    return { window, since: new Date(since).toISOString(), methods, shapes };
  }

  getQueryStats(queryIdOrFingerprint: string): QueryStats | null {
    if (typeof queryIdOrFingerprint !== 'string' || queryIdOrFingerprint.length === 0) {
      throw new ValidationError(
        'queryIdOrFingerprint',
        `must be a query id or a query fingerprint (a non-empty string), got ${describe(queryIdOrFingerprint)}`,
      );
    }
    const now = this.clock.now();
    let shape = this.shapes.get(queryIdOrFingerprint);
    if (queryIdOrFingerprint === 'other') shape = this.other;
    let queryId: string | null = null;
    let slowQuery: SlowQueryEntry | null = null;
    if (shape === undefined) {
      const slow = this.slowLog.byQueryId(queryIdOrFingerprint);
      let fingerprint = slow?.fingerprint;
      for (let i = 1; fingerprint === undefined && i <= REMEMBERED_IDS; i++) {
        const at = (this.nextId - i + REMEMBERED_IDS) % REMEMBERED_IDS;
        if (this.ids[at] === queryIdOrFingerprint) fingerprint = this.idShapes[at];
      }
      if (fingerprint === undefined) return null;
      shape = fingerprint === 'other' ? this.other : this.shapes.get(fingerprint);
      if (shape === undefined) return null;
      queryId = queryIdOrFingerprint;
      slowQuery = slow ?? null;
    }
    const latency = {} as Record<LatencyWindow, LatencySummary>;
    for (const window of WINDOWS) latency[window] = shape.series.summary(window, now);
    return {
      fingerprint: shape.fingerprint,
      queryId,
      queryText: shape.example === undefined ? '' : JSON.stringify(shape.example),
      calls: shape.series.count,
      rowsReturned: shape.rowsReturned,
      rowsExamined: shape.rowsExamined,
      accessPaths: Object.fromEntries([...shape.paths].map(([name, path]) => [name, path.count])),
      latency,
      slowQueries: shape.slow,
      lastRunAt: shape.series.count === 0 ? null : new Date(shape.series.lastAt).toISOString(),
      slowQuery,
    };
  }

  getSlowQueries(filter: SlowQueryFilter = {}): SlowQueryEntry[] {
    return this.slowLog.entries(filter);
  }

  async analyzeIndexUsage(): Promise<IndexUsageReport> {
    const now = this.clock.now();
    const engine = this.engine;
    const usage = engine?.capabilities.userIndexes ? await engine.indexes.getIndexUsage() : [];
    const sizes = await this.indexSizes();
    const days = this.indexDays.rows(now, this.indexTotals(), sizes);
    const queries = this.queryCounts();
    const cache = await this.cacheCounts();
    const cacheRequests = cache === undefined ? 0 : cache.hits + cache.misses;
    return {
      days,
      indexes: usage.map((index) => ({
        name: index.name,
        builtIn: index.builtIn,
        usageCount: index.uses,
        lastUsed: index.lastUsed === null ? null : index.lastUsed.toISOString(),
        sizeBytes: sizes.get(index.name) ?? 0,
      })),
      unused: usage.filter((index) => !index.builtIn && index.uses === 0).map((index) => index.name),
      queries,
      successMetrics: {
        indexServedShare: queries.total === 0 ? null : queries.indexed / queries.total,
        slowQueryShare: queries.total === 0 ? null : queries.slow / queries.total,
        cacheHitRate: cache === undefined || cacheRequests === 0 ? null : cache.hits / cacheRequests,
      },
    };
  }

  cleanupEffectiveness(): CleanupEffectiveness {
    const c = this.cleanups;
    return { ...c, lastRun: c.lastRun === null ? null : { ...c.lastRun } };
  }

  appendThroughput(options: { window?: LatencyWindow } = {}): AppendThroughput {
    const window = checkWindow(options);
    const now = this.clock.now();
    const { events, seconds } = this.events.over(window, now);
    const latency = this.mergedAppendLatency(window, now);
    return {
      window,
      appends: latency.count,
      events,
      eventsPerSecond: seconds > 0 ? events / seconds : 0,
      latency,
    };
  }

  /** append and appendToStream together: the larger share decides the percentiles shown. */
  private mergedAppendLatency(window: LatencyWindow, now: number): LatencySummary {
    const append = this.appends.get('append')?.series.summary(window, now);
    const stream = this.appends.get('appendToStream')?.series.summary(window, now);
    if (append === undefined || stream === undefined) return append ?? (stream as LatencySummary);
    if (stream.count === 0) return append;
    if (append.count === 0) return stream;
    const main = append.count >= stream.count ? append : stream;
    const count = append.count + stream.count;
    return {
      ...main,
      count,
      max: Math.max(append.max ?? 0, stream.max ?? 0),
      mean: ((append.mean ?? 0) * append.count + (stream.mean ?? 0) * stream.count) / count,
    };
  }

  get registry(): Registry {
    this.registry_ ??= createMetricsRegistry({
      reads: () => [...this.reads].map(([method, entry]) => ({ method, ...entry })),
      appends: () => [...this.appends].map(([method, entry]) => ({ method, ...entry })),
      shapes: () => [...this.shapes.values(), this.other],
      eventsAppended: () => this.events.total,
      slowQueries: () => this.slowLog.total,
      indexLookups: () => new Map([...this.indexTotals()].map(([name, use]) => [name, use.count])),
      tableScans: () => this.scans,
      indexSizes: () => this.indexSizes(),
      cleanup: () => this.cleanups,
      cache: () => this.cacheCounts(),
      subscriptions: () => this.subscriptionLags(),
    });
    return this.registry_;
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  setSources(sources: MonitorSources): void {
    if (sources === null || typeof sources !== 'object' || Array.isArray(sources)) {
      throw new ValidationError(
        'sources',
        `must be an object like { cache, subscriptions }, got ${describe(sources)}`,
      );
    }
    for (const [key, source] of Object.entries(sources)) {
      if (key !== 'cache' && key !== 'subscriptions') {
        throw new ValidationError(
          `sources.${key}`,
          'is not a monitor source; expected cache or subscriptions',
        );
      }
      if (source !== undefined && typeof source !== 'function') {
        throw new ValidationError(
          `sources.${key}`,
          `must be a function or undefined, got ${describe(source)}`,
        );
      }
    }
    this.sources = { ...this.sources, ...sources };
  }

  // --- helpers ---------------------------------------------------------------------------------

  /** Queries per index since the store opened (and when one last used it), from the shapes' access paths. */
  private indexTotals(): Map<string, { count: number; lastUsed: number | null }> {
    const totals = new Map([...this.retiredIndexUse].map(([name, use]) => [name, { ...use }]));
    for (const shape of [...this.shapes.values(), this.other]) addIndexUse(totals, shape);
    return totals;
  }

  private queryCounts(): IndexUsageReport['queries'] {
    return { total: this.queries, indexed: this.indexed, scans: this.scans, slow: this.slowLog.total };
  }

  private async indexSizes(): Promise<Map<string, number>> {
    const engine = this.engine;
    if (engine === undefined || !engine.capabilities.userIndexes) return new Map();
    const { indexes } = await engine.indexes.getIndexSize();
    return new Map(indexes.map((index) => [index.name, index.bytes]));
  }

  /** The cache source's counts, checked: a source that fails or answers nonsense reports no cache. */
  private async cacheCounts(): Promise<CacheCounts | undefined> {
    const source = this.sources.cache;
    if (source === undefined) return undefined;
    try {
      const counts = await source();
      if (counts === undefined || !Number.isFinite(counts.hits) || !Number.isFinite(counts.misses))
        return undefined;
      return { hits: counts.hits, misses: counts.misses };
    } catch (error) {
      this.failures++;
      this.lastFailure = error instanceof Error ? error.message : String(error);
      return undefined;
    }
  }

  private async subscriptionLags(): Promise<readonly SubscriptionLagSource[]> {
    const source = this.sources.subscriptions;
    if (source === undefined) return [];
    try {
      return (await source()).filter(
        (lag) => typeof lag?.name === 'string' && Number.isFinite(lag.lagEvents),
      );
    } catch (error) {
      this.failures++;
      this.lastFailure = error instanceof Error ? error.message : String(error);
      return [];
    }
  }

  /** The figures `tamma-events stats` shows, as of now. */
  async snapshot(): Promise<MonitorSnapshot> {
    const latency = {} as Record<LatencyWindow, LatencyReport>;
    for (const window of WINDOWS) latency[window] = this.latency({ window });
    const cache = await this.cacheCounts();
    const requests = cache === undefined ? 0 : cache.hits + cache.misses;
    return {
      writtenAt: new Date(this.clock.now()).toISOString(),
      latency,
      appends: this.appendThroughput(),
      cleanup: this.cleanupEffectiveness(),
      queries: this.queryCounts(),
      cache:
        cache === undefined ? null : { ...cache, hitRate: requests === 0 ? null : cache.hits / requests },
    };
  }

  /** Writes the snapshot off the caller's path, one at a time. */
  private snapshotSoon(now: number): void {
    const { snapshotIntervalMs } = this.settings as MonitorSettings;
    this.nextSnapshotAt = now + snapshotIntervalMs;
    if (this.snapshotting !== undefined || this.dir === undefined) return;
    const dir = this.dir;
    this.snapshotting = this.snapshot()
      .then((snapshot) => writeSnapshot(dir, snapshot))
      .catch((error: unknown) => {
        this.failures++;
        this.lastFailure = error instanceof Error ? error.message : String(error);
      })
      .finally(() => {
        this.snapshotting = undefined;
      });
  }

  /** At the store's close: the slow-query file flushed, a last snapshot written. */
  async close(): Promise<void> {
    this.engine?.observeQueries?.(undefined);
    clearInterval(this.coarseTimer);
    this.profiles.fill(undefined);
    await this.slowLog.file?.flush();
    await this.snapshotting;
    const used = [...this.reads.values(), ...this.appends.values()].some(({ series }) => series.count > 0);
    const writable = this.engine !== undefined && !this.engine.capabilities.readOnly;
    if (this.settings === false || this.dir === undefined || !writable || !used) return;
    try {
      await writeSnapshot(this.dir, await this.snapshot());
    } catch (error) {
      this.failures++;
      this.lastFailure = error instanceof Error ? error.message : String(error);
    }
  }
}

function addIndexUse(totals: Map<string, { count: number; lastUsed: number | null }>, shape: Shape): void {
  for (const path of shape.paths.values()) {
    for (const index of path.indexes) {
      const use = totals.get(index);
      if (use === undefined) totals.set(index, { count: path.count, lastUsed: path.lastUsed });
      else {
        use.count += path.count;
        use.lastUsed = Math.max(use.lastUsed ?? -Infinity, path.lastUsed);
      }
    }
  }
}

function newShape(fingerprint: string, now: number): Shape {
  return {
    fingerprint,
    series: new LatencySeries(now),
    example: undefined,
    rowsReturned: 0,
    rowsExamined: 0,
    slow: 0,
    paths: new Map(),
    outlierMs: Infinity,
    outlierAt: -Infinity,
  };
}

function checkWindow(options: unknown): LatencyWindow {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ValidationError('options', `must be an object like { window: '5m' }, got ${describe(options)}`);
  }
  const window = (options as { window?: unknown }).window ?? 'all';
  if (!WINDOWS.includes(window as LatencyWindow)) {
    throw new ValidationError(
      'options.window',
      `must be one of ${WINDOWS.map((w) => `'${w}'`).join(', ')}, got ${describe(window)}`,
    );
  }
  return window as LatencyWindow;
}
