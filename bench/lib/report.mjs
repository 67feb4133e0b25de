// Puts the suites' tables together: the console report and the Markdown headline for the README.
import * as analytics from '../suites/analytics.mjs';
import * as append from '../suites/append.mjs';
import * as cache from '../suites/cache.mjs';
import * as ids from '../suites/ids.mjs';
import * as subscriptions from '../suites/subscriptions.mjs';
import * as indexes from '../suites/indexes.mjs';
import * as memory from '../suites/memory.mjs';
import * as monitor from '../suites/monitor.mjs';
import * as queries from '../suites/queries.mjs';
import * as reopen from '../suites/reopen.mjs';
import * as restore from '../suites/restore.mjs';
import * as scan from '../suites/scan.mjs';
import * as soak from '../suites/soak.mjs';
import { fmtCount, fmtMB, fmtNum, fmtRatio, fmtUs, markdownTable, ratio, textTable } from './stats.mjs';
import { evaluateTargets } from './targets.mjs';

export const SUITES = {
  append,
  queries,
  memory,
  reopen,
  indexes,
  scan,
  soak,
  restore,
  ids,
  analytics,
  monitor,
  subscriptions,
  cache,
};

export function machineLine(machine) {
  return (
    `${machine.cpu} × ${machine.cores} cores, ${fmtMB(machine.totalMemory)} MiB RAM, ` +
    `Node ${machine.node}, ${machine.platform}; ${machine.date}${machine.commit ? `, commit ${machine.commit}` : ''}; ` +
    `CPU yardstick: JSON round-trip of 100K events in ${fmtNum(machine.yardstickMs)} ms`
  );
}

const TITLES = {
  append: 'Append throughput',
  queries: 'Query latency',
  memory: 'Memory',
  reopen: 'Reopen and recovery',
  indexes: 'Indexes and the planner (tamma vs sqlite vs DuckDB)',
  scan: 'Filtered full scan',
  soak: 'Soak: retention under a steady 10K events/s',
  restore: 'Restore from the archive into a live store (tamma vs sqlite vs PostgreSQL vs DuckDB)',
  ids: 'Unique event ids: the id index in memory and append throughput',
  analytics: 'Analytics (tamma vs DuckDB on the same rows)',
  monitor: 'Performance monitor overhead (on vs off in the same process)',
  subscriptions: 'Subscriptions: append → consumer delivery, and a stalled subscriber',
  cache: 'Result cache: hit rate, speed-up and overhead (cache on vs off)',
};

export function reportHeader(results) {
  return `Tamma Events benchmark (${results.mode})\n${machineLine(results.machine)}\n`;
}

export function sectionReport(name, section) {
  const body = section.error ? `FAILED: ${section.error}` : SUITES[name].report(section);
  return `== ${TITLES[name]} ==\n${body}\n`;
}

export function targetsReport(results) {
  const rows = evaluateTargets(results).map((t) => [t.target, t.measured, t.at, t.status]);
  return `== Targets ==\n${textTable(['target', 'measured', 'at', 'status'], rows)}`;
}

export function markdownReport(results) {
  const out = [
    `## Benchmark (${results.mode} run)`,
    '',
    `${machineLine(results.machine)}. Produced by \`npm run ${results.mode === 'quick' ? 'bench:quick' : 'bench'}\`; see bench/README.md.`,
    '',
    markdownTable(
      ['target', 'measured', 'at', 'status'],
      evaluateTargets(results).map((t) => [
        t.target,
        t.measured,
        t.at,
        t.status === 'PASS' ? '✅ PASS' : t.status === 'MISS' ? '❌ MISS' : t.status,
      ]),
      ['l', 'r', 'l', 'l'],
    ),
  ];
  const q = results.queries;
  if (q && !q.error) {
    const size = q.sizes[q.sizes.length - 1];
    out.push('', `### Query latency at ${fmtCount(size)} events (µs)`, '');
    out.push(
      markdownTable(
        [
          'query',
          'tamma p50',
          'tamma p99',
          'sqlite p50',
          'sqlite p99',
          'naive p50',
          'sqlite ÷ tamma (p50)',
          'naive ÷ tamma (p50)',
        ],
        queries
          .tableRows(q, size)
          .map(({ label, tamma, sqlite, naive }) => [
            label,
            fmtUs(tamma?.p50),
            fmtUs(tamma?.p99),
            fmtUs(sqlite?.p50),
            fmtUs(sqlite?.p99),
            fmtUs(naive?.p50),
            fmtRatio(ratio(sqlite?.p50, tamma?.p50)),
            fmtRatio(ratio(naive?.p50, tamma?.p50)),
          ]),
      ),
    );
  }
  const ix = results.indexes;
  if (ix && !ix.error) {
    const size = ix.sizes[ix.sizes.length - 1];
    out.push('', `### Indexes and the planner at ${fmtCount(size)} events (µs)`, '');
    out.push(
      markdownTable(
        [
          'query',
          'tamma p50',
          'tamma p99',
          'sqlite p50',
          'sqlite p99',
          'duckdb p50',
          'sqlite ÷ tamma (p50)',
          'tamma index',
        ],
        indexes.markdownRows(ix),
        ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
      ),
    );
  }
  const a = results.append;
  if (a && !a.error) {
    out.push('', '### Append throughput (events/s)', '');
    out.push(
      markdownTable(
        ['engine', 'config', 'per call', 'events', 'events/s'],
        a.results.map((r) => [
          r.engine,
          r.config,
          r.batchSize === 1 ? '1 event' : `${r.batchSize} events`,
          fmtCount(r.events),
          fmtNum(r.eventsPerSec),
        ]),
        ['l', 'l', 'l', 'r', 'r'],
      ),
    );
  }
  return out.join('\n') + '\n';
}
