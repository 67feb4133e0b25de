import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CacheCounts, CleanupEffectiveness, SubscriptionLagSource } from '../../store/store-monitor.js';
import { DURATION_BUCKETS_SECONDS, LatencySeries } from './latency-series.js';

/** Query shapes exposed one by one; the rest are summed under `shape="other"`. */
export const EXPOSED_SHAPES = 50;
/** Subscriptions exposed one by one, the furthest behind first. */
export const EXPOSED_SUBSCRIPTIONS = 100;

/** What the metrics read from the monitor, at scrape time only. */
export interface MetricsSource {
  /** Read methods (queries, stream and global reads, explain) with their series and error counts. */
  reads(): Iterable<{ method: string; series: LatencySeries; errors: number }>;
  appends(): Iterable<{ method: string; series: LatencySeries; errors: number }>;
  /** Every query shape tracked, and `other`. */
  shapes(): { fingerprint: string; series: LatencySeries }[];
  eventsAppended(): number;
  slowQueries(): number;
  indexLookups(): ReadonlyMap<string, number>;
  tableScans(): number;
  indexSizes(): Promise<ReadonlyMap<string, number>>;
  cleanup(): CleanupEffectiveness;
  cache(): Promise<CacheCounts | undefined>;
  subscriptions(): Promise<readonly SubscriptionLagSource[]>;
}

interface HistogramLine {
  labels: Record<string, string>;
  buckets: Float64Array;
  sumSeconds: number;
  count: number;
}

/**
 * A prom-client Histogram whose values are the monitor's own bucket counts, read at scrape time.
 * Observing into prom-client on every call costs ~300 ns (label hashing); the monitor counts into
 * a fixed array instead (a few ns), and this hands the registry those counts in the form its
 * formatter takes. It stays a Histogram, so Registry.merge and the OpenMetrics format work on it.
 */
class PrecomputedHistogram extends Histogram<string> {
  private readonly metricName: string;
  private readonly metricHelp: string;

  constructor(
    config: { name: string; help: string; labelNames: string[]; registers: Registry[] },
    private readonly read: () => HistogramLine[],
  ) {
    super({ ...config, buckets: [...DURATION_BUCKETS_SECONDS] });
    this.metricName = config.name;
    this.metricHelp = config.help;
  }

  override async get(): Promise<Awaited<ReturnType<Histogram<string>['get']>>> {
    return this.values();
  }

  async getForPromString(): Promise<Awaited<ReturnType<Histogram<string>['get']>>> {
    return this.values();
  }

  private values(): Awaited<ReturnType<Histogram<string>['get']>> {
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
    for (const line of this.read()) {
      let cumulative = 0;
      DURATION_BUCKETS_SECONDS.forEach((bound, i) => {
        cumulative += line.buckets[i] as number;
        values.push({
          metricName: `${this.metricName}_bucket`,
          labels: { ...line.labels, le: bound },
          value: cumulative,
        });
      });
      values.push(
        {
          metricName: `${this.metricName}_bucket`,
          labels: { ...line.labels, le: '+Inf' },
          value: line.count,
        },
        { metricName: `${this.metricName}_sum`, labels: line.labels, value: line.sumSeconds },
        { metricName: `${this.metricName}_count`, labels: line.labels, value: line.count },
      );
    }
    return {
      name: this.metricName,
      help: this.metricHelp,
      type: 'histogram' as never,
      values,
      aggregator: 'sum',
      collect: () => undefined,
    };
  }
}

const line = (labels: Record<string, string>, series: LatencySeries): HistogramLine => ({
  labels,
  buckets: series.buckets,
  sumSeconds: series.sumMs / 1000,
  count: series.count,
});

/** The `other` line: every shape past the first EXPOSED_SHAPES (by calls), and the monitor's own `other`. */
function shapeLines(shapes: { fingerprint: string; series: LatencySeries }[]): HistogramLine[] {
  const sorted = shapes
    .filter((shape) => shape.fingerprint !== 'other' && shape.series.count > 0)
    .sort((a, b) => b.series.count - a.series.count);
  const lines = sorted
    .slice(0, EXPOSED_SHAPES)
    .map((shape) => line({ shape: shape.fingerprint }, shape.series));
  const rest = [...sorted.slice(EXPOSED_SHAPES), ...shapes.filter((shape) => shape.fingerprint === 'other')];
  const other: HistogramLine = {
    labels: { shape: 'other' },
    buckets: new Float64Array(DURATION_BUCKETS_SECONDS.length + 1),
    sumSeconds: 0,
    count: 0,
  };
  for (const shape of rest) {
    LatencySeries.addBuckets(other.buckets, shape.series);
    other.sumSeconds += shape.series.sumMs / 1000;
    other.count += shape.series.count;
  }
  if (other.count > 0) lines.push(other);
  return lines;
}

/**
 * The monitor's Prometheus metrics in their own prom-client Registry: `tamma_*` names, base units
 * (seconds, bytes), a bounded number of series. Every value is read from the monitor when scraped.
 */
export function createMetricsRegistry(source: MetricsSource): Registry {
  const registry = new Registry();
  const registers = [registry];

  new PrecomputedHistogram(
    {
      name: 'tamma_query_duration_seconds',
      help: 'Duration of reads and queries by store method (query: the builder; analytics: queries with analytics)',
      labelNames: ['method'],
      registers,
    },
    () =>
      [...source.reads()]
        .filter(({ series }) => series.count > 0)
        .map(({ method, series }) => line({ method }, series)),
  );
  new PrecomputedHistogram(
    {
      name: 'tamma_query_shape_duration_seconds',
      help: `Engine time of queries by shape (query fingerprint): the ${EXPOSED_SHAPES} most frequent, the rest as "other"`,
      labelNames: ['shape'],
      registers,
    },
    () => shapeLines(source.shapes()),
  );
  new PrecomputedHistogram(
    {
      name: 'tamma_append_duration_seconds',
      help: 'Duration of appends by method',
      labelNames: ['method'],
      registers,
    },
    () =>
      [...source.appends()]
        .filter(({ series }) => series.count > 0)
        .map(({ method, series }) => line({ method }, series)),
  );

  new Counter({
    name: 'tamma_queries_total',
    help: 'Reads and queries by store method',
    labelNames: ['method'],
    registers,
    collect() {
      this.reset();
      for (const { method, series } of source.reads())
        if (series.count > 0) this.inc({ method }, series.count);
    },
  });
  new Counter({
    name: 'tamma_query_errors_total',
    help: 'Reads and queries that threw, by store method',
    labelNames: ['method'],
    registers,
    collect() {
      this.reset();
      for (const { method, errors } of source.reads()) if (errors > 0) this.inc({ method }, errors);
    },
  });
  new Counter({
    name: 'tamma_slow_queries_total',
    help: 'Queries logged as slow (over the threshold, or outliers of their shape)',
    registers,
    collect() {
      this.reset();
      this.inc(source.slowQueries());
    },
  });
  new Counter({
    name: 'tamma_appends_total',
    help: 'Append calls by method (each an atomic batch)',
    labelNames: ['method'],
    registers,
    collect() {
      this.reset();
      for (const { method, series } of source.appends())
        if (series.count > 0) this.inc({ method }, series.count);
    },
  });
  new Counter({
    name: 'tamma_events_appended_total',
    help: 'Events written by appends',
    registers,
    collect() {
      this.reset();
      this.inc(source.eventsAppended());
    },
  });
  new Counter({
    name: 'tamma_index_lookups_total',
    help: 'Queries whose plan used an index, by index',
    labelNames: ['index'],
    registers,
    collect() {
      this.reset();
      for (const [index, uses] of source.indexLookups()) this.inc({ index }, uses);
    },
  });
  new Counter({
    name: 'tamma_table_scans_total',
    help: 'Queries served by a scan rather than an index',
    registers,
    collect() {
      this.reset();
      this.inc(source.tableScans());
    },
  });
  new Gauge({
    name: 'tamma_index_size_bytes',
    help: 'Memory held by each index',
    labelNames: ['index'],
    registers,
    async collect() {
      this.reset();
      for (const [index, bytes] of await source.indexSizes()) this.set({ index }, bytes);
    },
  });
  new Counter({
    name: 'tamma_cache_requests_total',
    help: 'Result cache lookups by result (hit, miss); absent without a cache',
    labelNames: ['result'],
    registers,
    async collect() {
      this.reset();
      const counts = await source.cache();
      if (counts === undefined) return;
      this.inc({ result: 'hit' }, counts.hits);
      this.inc({ result: 'miss' }, counts.misses);
    },
  });
  new Gauge({
    name: 'tamma_subscription_lag_events',
    help: `Events each subscription is behind the store (the ${EXPOSED_SUBSCRIPTIONS} furthest behind)`,
    labelNames: ['subscription'],
    registers,
    async collect() {
      this.reset();
      const lags = [...(await source.subscriptions())].sort((a, b) => b.lagEvents - a.lagEvents);
      for (const { name, lagEvents } of lags.slice(0, EXPOSED_SUBSCRIPTIONS))
        this.set({ subscription: name }, lagEvents);
    },
  });
  const cleanupCounter = (name: string, help: string, value: (c: CleanupEffectiveness) => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(value(source.cleanup()));
      },
    });
  cleanupCounter('tamma_cleanup_runs_total', 'Cleanup runs', (c) => c.runs);
  cleanupCounter('tamma_cleanup_events_removed_total', 'Events cleanup removed', (c) => c.eventsRemoved);
  cleanupCounter('tamma_cleanup_bytes_freed_total', 'Log bytes cleanup gave back', (c) => c.bytesFreed);
  cleanupCounter(
    'tamma_cleanup_duration_seconds_total',
    'Wall time of cleanup runs',
    (c) => c.totalDurationMs / 1000,
  );
  cleanupCounter('tamma_cleanup_cpu_seconds_total', "Cleanup's own CPU time", (c) => c.totalCpuMs / 1000);
  return registry;
}
