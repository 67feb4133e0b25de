// Filtered full-scan throughput (rows/s): the vectorized column scan on one core and split across
// the worker pool, the per-row compiled filter it replaced, sqlite counting the same filter, and the
// vectorized scan with a retention policy and deletions active (hidden rows left out by column terms)
// next to the per-row check such stores fell back to before.
// Every variant runs the query engine's row phase (plan, then selectRows: the matching row numbers,
// nothing hydrated), so this is a COUNT(*) on each side.
import { mkdtemp } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createSqlite } from '../engines/sqlite.mjs';
import { DIST, loadLibrary } from '../engines/tamma.mjs';
import { runTask } from '../lib/child.mjs';
import { loadEvents } from '../lib/load.mjs';
import { fmtCount, fmtNum, fmtRatio, ratio, summarize, textTable } from '../lib/stats.mjs';
import { STEP_MS, T0, createWorkload } from '../lib/workload.mjs';

const SELF = import.meta.url;
const WARMUP = 5;

/**
 * The filters, over the columns of the workload: as query-model nodes (built with the library's
 * `f`) and as SQL. Timestamps cover the middle half of the store.
 */
function filters(f, rows) {
  const from = T0 + Math.floor(rows / 4) * STEP_MS;
  const to = T0 + Math.floor((rows * 3) / 4) * STEP_MS;
  return [
    {
      id: 'selective',
      label: 'type in (2 rare types) and timestamp in the middle half',
      node: f.and(
        f.in('type', ['BUILD.FAILED', 'DEPLOY.FINISHED']),
        f.gte('timestamp', from),
        f.lt('timestamp', to),
      ),
      sql: [
        'type IN (?, ?) AND timestamp >= ? AND timestamp < ?',
        'BUILD.FAILED',
        'DEPLOY.FINISHED',
        from,
        to,
      ],
    },
    {
      id: 'wide',
      label: 'version <= 5 and type <> commonest',
      node: f.and(f.lte('version', 5), f.ne('type', 'WORKFLOW.STARTED')),
      sql: ['version <= ? AND type <> ?', 5, 'WORKFLOW.STARTED'],
    },
  ];
}

/**
 * A policy as a store might run one over the table: events expire after 90% of its time span (the
 * clock stands at its last event), deploy events are kept forever (a second cutoff group), and two
 * streams are deleted. Every kind of visibility term is then in the scan's filter.
 */
async function retention(table, workload, rows, ManualClock) {
  const { Visibility } = await internal('storage/embedded/retention/visibility.js');
  const { Tombstones } = await internal('storage/embedded/retention/tombstones.js');
  const { RetentionPolicy } = await internal('retention/policy.js');
  const span = rows * STEP_MS;
  const tombstones = new Tombstones(table, undefined);
  for (const i of [Math.floor(rows / 3), Math.floor((rows * 2) / 3)])
    tombstones.delete(workload.aggregateId(workload.aggregateOf(i)));
  const policy = RetentionPolicy.from({ maxAge: Math.round(span * 0.9), types: { 'DEPLOY.*': 'forever' } });
  const visibility = new Visibility(table, tombstones, new ManualClock(T0 + span), policy);
  return { isHidden: visibility.hidden(), visible: visibility.columnFilter() };
}

/**
 * Times each variant `iterations` times after a warm-up, interleaved so that the machine's noisy
 * moments fall on every variant alike. Returns per variant a latency summary (µs), what it returned,
 * and the cores it kept busy (this process's CPU time over wall time, worker threads included): on
 * a shared machine the workers get a second core only when nobody else is using it.
 */
async function timeRuns(variants, iterations) {
  const samples = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  const busy = Object.fromEntries(Object.keys(variants).map((name) => [name, { cpu: 0, wall: 0 }]));
  const counts = {};
  for (let k = -WARMUP; k < iterations; k++) {
    for (const [name, fn] of Object.entries(variants)) {
      const cpu = process.cpuUsage();
      const t = process.hrtime.bigint();
      const count = await fn();
      const ns = Number(process.hrtime.bigint() - t);
      const used = process.cpuUsage(cpu);
      if (k >= 0) {
        samples[name].push(ns);
        busy[name].cpu += (used.user + used.system) * 1000;
        busy[name].wall += ns;
      }
      counts[name] = count;
    }
  }
  return Object.fromEntries(
    Object.entries(samples).map(([name, ns]) => [
      name,
      { ...summarize(ns), matched: counts[name], cores: busy[name].cpu / busy[name].wall },
    ]),
  );
}

const internal = (path) => import(pathToFileURL(join(dirname(DIST), path)).href);

export const tasks = {
  /** Builds a table of `rows` workload events in memory and times each scan variant over it. */
  async tamma({ rows, seed, iterations }, ctx) {
    const { f, ManualClock } = await loadLibrary();
    const { EventTable } = await internal('storage/embedded/table/event-table.js');
    const { createExecutionPlan } = await internal('storage/embedded/exec/query-optimizer.js');
    const { selectRows } = await internal('storage/embedded/exec/executor.js');
    const { findNode } = await internal('storage/embedded/exec/plan-nodes.js');
    const { QueryGuard } = await internal('storage/embedded/exec/query-guard.js');
    const { ParallelScanPool } = await internal('storage/embedded/exec/parallel-scan.js');

    const workload = createWorkload(seed);
    const table = new EventTable();
    for (let i = 0; i < rows; i++) {
      const aggregate = workload.aggregateId(workload.aggregateOf(i));
      // recordLength 1: a record is there (0 marks a removed row, which visibility hides).
      table.addRow(aggregate, workload.typeOf(i), workload.timestampOf(i), workload.versionOf(i), 0, 1, {});
      if ((i + 1) % 1_000_000 === 0) ctx.progress(`scan: table of ${fmtCount(i + 1)} rows`);
    }
    const pool = new ParallelScanPool(table);
    const noRecords = () => {
      throw new Error('a column filter reads no record');
    };
    const hidden = await retention(table, workload, rows, ManualClock);
    const plan = (node, parallel, context = {}) =>
      createExecutionPlan(
        table,
        { kind: 'query', filter: node, orderBy: [], hints: { forceIndex: ['scan'], parallel } },
        noRecords,
        { workers: pool.size, ...context },
      );
    const results = [];
    for (const filter of filters(f, rows)) {
      ctx.progress(`scan: ${filter.id}, ${fmtCount(rows)} rows`);
      const serial = plan(filter.node, false);
      const parallel = plan(filter.node, true);
      const perRow = plan(filter.node, false, { vectorize: false });
      const retained = plan(filter.node, false, hidden);
      if (findNode(retained.root, 'VectorizedFilter') === undefined)
        throw new Error('a scan with hidden rows was not vectorized');
      const retainedPerRow = plan(filter.node, false, { ...hidden, vectorize: false });
      const select = async (p) =>
        (await selectRows(p, table, noRecords, new QueryGuard('bench', undefined, undefined), pool)).length;
      const variants = await timeRuns(
        {
          serial: () => select(serial),
          parallel: () => select(parallel),
          perRow: () => select(perRow),
          retention: () => select(retained),
          retentionPerRow: () => select(retainedPerRow),
        },
        iterations,
      );
      results.push({ id: filter.id, label: filter.label, variants });
    }
    await pool.close();
    return { rows, workers: pool.size, results };
  },

  /** Opens (or loads) a sqlite store of `rows` workload events and times COUNT(*) of each filter. */
  async sqlite({ rows, seed, iterations, dir, load }, ctx) {
    const { f } = await loadLibrary();
    const engine = createSqlite({ dir });
    if (load) await loadEvents(engine, createWorkload(seed), 0, rows, { progress: ctx.progress });
    const count = engine.count();
    if (count !== rows) throw new Error(`sqlite holds ${count} events, expected ${rows}`);
    const results = [];
    for (const filter of filters(f, rows)) {
      ctx.progress(`scan: sqlite ${filter.id}`);
      const [where, ...params] = filter.sql;
      const sql = `SELECT count(*) n FROM events WHERE ${where}`;
      const statement = engine.db.prepare(sql);
      const plan = engine.db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...params)
        .map((step) => step.detail)
        .join('; ');
      const variants = await timeRuns({ sqlite: () => statement.get(...params).n }, iterations);
      results.push({ id: filter.id, plan, variants });
    }
    await engine.close();
    return { results };
  },
};

export async function run(ctx) {
  const { scanRows: rows, scanIterations: iterations } = ctx.plan;
  ctx.log(`scan: tamma, ${fmtCount(rows)} rows, ${iterations} runs of each variant`);
  const tamma = await runTask(SELF, 'tamma', { rows, seed: ctx.seed, iterations }, { onProgress: ctx.log });
  // The queries suite's sqlite store holds the same workload, when it ran and reached this size.
  const existing = ctx.stores.sqlite?.events === rows ? ctx.stores.sqlite.dir : undefined;
  const dir = existing ?? (await mkdtemp(join(ctx.tmp, 'scan-sqlite-')));
  ctx.log(`scan: sqlite, ${existing ? 'the queries suite store' : `loading ${fmtCount(rows)} events`}`);
  const sqlite = await runTask(
    SELF,
    'sqlite',
    { rows, seed: ctx.seed, iterations, dir, load: existing === undefined },
    { onProgress: ctx.log },
  );
  const results = tamma.results.map((r) => {
    const other = sqlite.results.find((s) => s.id === r.id);
    return { ...r, sqlitePlan: other?.plan, variants: { ...r.variants, ...other?.variants } };
  });
  // Variants over the same visible rows must count alike: those without hidden rows, and those with.
  const mismatches = results.flatMap((r) =>
    [VARIANTS, RETENTION_VARIANTS].flatMap((group) => {
      const counts = new Set(group.filter(([id]) => r.variants[id]).map(([id]) => r.variants[id].matched));
      return counts.size <= 1 ? [] : [`${r.id}: ${JSON.stringify(r.variants, ['matched'])}`];
    }),
  );
  return { rows, workers: tamma.workers, results, mismatches };
}

const VARIANTS = [
  ['serial', 'tamma vectorized, 1 core'],
  ['parallel', 'tamma vectorized, worker pool'],
  ['perRow', 'tamma per-row closure (before)'],
  ['sqlite', 'sqlite COUNT(*)'],
];

/** With a retention policy active: fewer rows match, so they are compared with each other. */
const RETENTION_VARIANTS = [
  ['retention', 'scan with retention policy active, vectorized, 1 core'],
  ['retentionPerRow', 'scan with retention policy active, per-row check (before)'],
];

/** Rows scanned per second at the median run. */
export const rowsPerSecond = (section, variant) => section.rows / (variant.p50 / 1e6);

export function report(section) {
  const lines = [];
  for (const r of section.results) {
    const serial = r.variants.serial;
    lines.push(`${r.label} (${r.id}): ${fmtNum(serial.matched)} of ${fmtCount(section.rows)} rows match`);
    if (r.variants.retention)
      lines.push(`with the retention policy and deletions: ${fmtNum(r.variants.retention.matched)} match`);
    lines.push(
      textTable(
        ['variant', 'p50 ms', 'p99 ms', 'rows/s (p50)', 'vs 1 core (p50)', 'cores used'],
        [...VARIANTS, ...RETENTION_VARIANTS]
          .filter(([id]) => r.variants[id])
          .map(([id, label]) => {
            const v = r.variants[id];
            return [
              id === 'parallel' ? `${label} (${section.workers} workers)` : label,
              fmtNum(v.p50 / 1000, 2),
              fmtNum(v.p99 / 1000, 2),
              fmtNum(rowsPerSecond(section, v)),
              fmtRatio(ratio(serial.p50, v.p50)),
              fmtNum(v.cores, 2),
            ];
          }),
      ),
    );
    if (r.sqlitePlan) lines.push(`sqlite plan: ${r.sqlitePlan}`);
    lines.push('');
  }
  for (const m of section.mismatches) lines.push(`COUNT MISMATCH ${m}`);
  return lines.join('\n');
}
