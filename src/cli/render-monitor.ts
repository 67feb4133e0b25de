import type { MonitorSnapshot } from '../live/performance-monitor/monitor-files.js';
import type { LatencySummary, SlowQueryEntry } from '../index.js';
import { formatFixed, formatInt } from './format.js';
import { renderPairs, renderTable } from './table.js';

/** A latency in the unit that reads best: `42.1 µs`, `3.20 ms`, `1,204 ms`. */
export function formatLatency(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1) return `${formatFixed(ms * 1000, 1)} µs`;
  if (ms < 100) return `${formatFixed(ms, 2)} ms`;
  return `${formatInt(ms)} ms`;
}

const share = (value: number | null) => (value === null ? '-' : `${formatFixed(value * 100, 1)}%`);

function latencyTable(rows: [string, LatencySummary][], first: string, indent: string): string {
  const shown = rows.filter(([, summary]) => summary.count > 0);
  if (shown.length === 0) return `${indent}(no calls)`;
  return renderTable(
    [
      { header: first },
      { header: 'calls', align: 'right' },
      { header: 'p50', align: 'right' },
      { header: 'p95', align: 'right' },
      { header: 'p99', align: 'right' },
      { header: 'max', align: 'right' },
    ],
    shown.map(([name, s]) => [
      name,
      formatInt(s.count),
      formatLatency(s.p50),
      formatLatency(s.p95),
      formatLatency(s.p99),
      formatLatency(s.max),
    ]),
    indent,
  );
}

/**
 * The performance monitor's section of `tamma-events stats`: latency percentiles per method (since
 * the store opened, and over the last 5 minutes), the busiest query shapes, appends, index use and
 * the result cache, from the snapshot the process that has the store open writes (monitor-files.ts).
 */
export function renderMonitor(snapshot: MonitorSnapshot | undefined, indent = ''): string {
  if (snapshot === undefined) {
    return (
      `${indent}monitor: no figures yet. The process that uses the store writes them to monitor/snapshot.json ` +
      'every 10 s while it works, and when it closes the store (monitor: false turns that off).'
    );
  }
  const all = snapshot.latency.all;
  const recent = snapshot.latency['5m'];
  const a = snapshot.appends;
  const q = snapshot.queries;
  const pairs: [string, string][] = [
    ['monitor', `figures as of ${snapshot.writtenAt}, since ${all.since}`],
    [
      'appends',
      `${formatInt(a.appends)} calls, ${formatInt(a.events)} events, ${formatInt(a.eventsPerSecond)} events/s since open`,
    ],
    [
      'queries',
      `${formatInt(q.total)}: ${share(q.total === 0 ? null : q.indexed / q.total)} by an index, ` +
        `${formatInt(q.scans)} scans, ${formatInt(q.slow)} slow (${share(q.total === 0 ? null : q.slow / q.total)})`,
    ],
    [
      'cache',
      snapshot.cache === null
        ? 'no result cache connected'
        : `${formatInt(snapshot.cache.hits)} hits, ${formatInt(snapshot.cache.misses)} misses, hit rate ${share(snapshot.cache.hitRate)}`,
    ],
  ];
  const c = snapshot.cleanup;
  if (c.runs > 0) {
    pairs.push([
      'cleanup',
      `${formatInt(c.runs)} runs: ${formatInt(c.eventsRemoved)} events removed, CPU share ${share(c.cpuShare)}`,
    ]);
  }
  return [
    renderPairs(pairs, indent),
    '',
    `${indent}latency since open`,
    latencyTable(Object.entries(all.methods), 'method', indent),
    '',
    `${indent}latency, last 5 minutes`,
    latencyTable(Object.entries(recent.methods), 'method', indent),
    '',
    `${indent}busiest query shapes since open`,
    latencyTable(
      all.shapes.slice(0, 10).map((shape) => [shape.fingerprint, shape]),
      'shape (query without its constants)',
      indent,
    ),
  ].join('\n');
}

/** `tamma-events slow-queries`: one line per slow query, newest first. */
export function renderSlowQueries(entries: readonly SlowQueryEntry[], plans: boolean): string {
  if (entries.length === 0) return 'no slow queries logged';
  if (plans) {
    return entries
      .map((e) =>
        [
          `${e.createdAt}  ${formatLatency(e.executionTimeMs)}  ${formatInt(e.rowsReturned)} rows  query ${e.queryId || '-'}`,
          `  ${e.queryText}`,
          e.phases === null
            ? '  (no profile from the engine)'
            : `  plan ${formatLatency(e.phases.planMs)}, index ${formatLatency(e.phases.indexMs)}, ` +
              `scan ${formatLatency(e.phases.scanMs)}, decode ${formatLatency(e.phases.decodeMs)}`,
          ...(e.plan === null ? [] : e.plan.text.split('\n').map((line) => `  ${line}`)),
        ].join('\n'),
      )
      .join('\n\n');
  }
  return renderTable(
    [
      { header: 'time' },
      { header: 'took', align: 'right' },
      { header: 'rows', align: 'right' },
      { header: 'indexes' },
      { header: 'query id' },
      { header: 'shape' },
    ],
    entries.map((e) => [
      e.createdAt,
      formatLatency(e.executionTimeMs),
      formatInt(e.rowsReturned),
      e.indexesUsed.length === 0 ? 'scan' : e.indexesUsed.join(', '),
      e.queryId || '-',
      e.fingerprint,
    ]),
  );
}
