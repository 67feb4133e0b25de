// Append throughput: batches of 1000 and one event per call, tamma vs sqlite vs a naive array.
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createEngine } from '../engines/index.mjs';
import { runTask } from '../lib/child.mjs';
import { loadEvents } from '../lib/load.mjs';
import { fmtCount, fmtNum, fmtRatio, fmtUs, ratio, summarize, textTable } from '../lib/stats.mjs';
import { createWorkload } from '../lib/workload.mjs';

const SELF = import.meta.url;

export const tasks = {
  /** Appends `events` workload events into a fresh engine; returns throughput and call latencies. */
  async append({ kind, engineOptions, events, batchSize, seed }, ctx) {
    const engine = await createEngine(kind, engineOptions);
    const workload = createWorkload(seed);
    const r = await loadEvents(engine, workload, 0, events, {
      batchSize,
      latencies: true,
      progress: ctx.progress,
    });
    const t = process.hrtime.bigint();
    await engine.flush();
    const flushMs = Number(process.hrtime.bigint() - t) / 1e6;
    await engine.close();
    const seconds = r.appendNs / 1e9;
    return { events, seconds, eventsPerSec: events / seconds, flushMs, callLatency: summarize(r.latencies) };
  },
};

/** The configurations measured, given the plan's event counts. */
function configs(plan) {
  const { appendEvents: n, oneAtATimeEvents: one, alwaysOneAtATimeEvents: few } = plan;
  return [
    {
      id: 'tamma-batch',
      kind: 'tamma',
      label: 'tamma',
      config: "fsync 'batch'",
      options: { fsync: 'batch' },
    },
    {
      id: 'tamma-always',
      kind: 'tamma',
      label: 'tamma',
      config: "fsync 'always'",
      options: { fsync: 'always' },
    },
    { id: 'sqlite', kind: 'sqlite', label: 'sqlite', config: 'WAL, synchronous=NORMAL', options: {} },
    {
      id: 'sqlite-full',
      kind: 'sqlite',
      label: 'sqlite',
      config: 'WAL, synchronous=FULL',
      options: { synchronous: 'FULL' },
    },
    { id: 'naive', kind: 'naive', label: 'naive array', config: 'push', options: {} },
  ]
    .filter((c) => c.id !== 'sqlite-full' || plan.sqliteFull)
    .flatMap((c) => [
      { ...c, batchSize: 1000, events: n },
      { ...c, batchSize: 1, events: c.id === 'tamma-always' || c.id === 'sqlite-full' ? few : one },
    ]);
}

export async function run(ctx) {
  const results = [];
  for (const c of configs(ctx.plan)) {
    const dir = await mkdtemp(join(ctx.tmp, `append-${c.id}-`));
    const engineOptions = c.kind === 'naive' ? {} : { ...c.options, dir };
    ctx.log(`append: ${c.label} ${c.config}, ${fmtCount(c.events)} events, batch ${c.batchSize}`);
    const r = await runTask(SELF, 'append', {
      kind: c.kind,
      engineOptions,
      events: c.events,
      batchSize: c.batchSize,
      seed: ctx.seed,
    });
    await rm(dir, { recursive: true, force: true });
    results.push({ id: c.id, engine: c.label, config: c.config, batchSize: c.batchSize, ...r });
  }
  return { results };
}

export function report(section) {
  const rows = section.results;
  const sqliteOf = (r) => rows.find((s) => s.id === 'sqlite' && s.batchSize === r.batchSize);
  return textTable(
    ['engine', 'config', 'per call', 'events', 'events/s', 'vs sqlite NORMAL', 'call p50 µs', 'call p99 µs'],
    rows.map((r) => [
      r.engine,
      r.config,
      r.batchSize === 1 ? '1 event' : `${r.batchSize} events`,
      fmtCount(r.events),
      fmtNum(r.eventsPerSec),
      fmtRatio(ratio(r.eventsPerSec, sqliteOf(r)?.eventsPerSec)),
      fmtUs(r.callLatency.p50),
      fmtUs(r.callLatency.p99),
    ]),
  );
}
