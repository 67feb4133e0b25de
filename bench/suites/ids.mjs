// Unique event ids (issue 14, item 10): what the id index costs in memory per event and in append
// throughput. Each configuration loads the workload into a fresh store in its own process, `repeats`
// times; the table gives medians. With TAMMA_BENCH_BASELINE_DIST set to another build's
// dist/index.js (e.g. the commit before the index), every configuration also runs against it, and
// the table gives the ratio: the cost of the index.
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runTask } from '../lib/child.mjs';
import { sampleMemory } from '../lib/memory.mjs';
import { fmtCount, fmtMB, fmtNum, fmtRatio, textTable } from '../lib/stats.mjs';
import { createWorkload } from '../lib/workload.mjs';

const SELF = import.meta.url;
const PLAN = {
  quick: { events: 1_000_000, repeats: 3 },
  full: { events: 2_000_000, repeats: 5 },
  long: { events: 2_000_000, repeats: 5 },
};
/** Separate processes give each build its own heap (memory figures); paired runs give the throughput ratio. */
const MEMORY_REPEATS = 1;

/** A caller's own id for workload event i: what an application or a re-ingested file brings. */
const callerId = (i) => `order-${i.toString(36).padStart(8, '0')}-evt`;

export const tasks = {
  /**
   * Both builds in one process, one store each, appended the same batches in turns (which goes
   * first alternates): the load of a shared machine falls on both alike, batch by batch. Returns
   * each build's events/s and the median of the per-batch time ratios (current / baseline).
   */
  async paired({ libs, events, ids, seed }) {
    const stores = {};
    for (const [name, lib] of Object.entries(libs))
      stores[name] = await (await import(pathToFileURL(lib).href)).openEventStore({});
    const names = Object.keys(stores);
    const workload = createWorkload(seed);
    const ns = Object.fromEntries(names.map((name) => [name, 0]));
    const ratios = [];
    for (let i = 0, turn = 0; i < events; i += 1000, turn++) {
      const times = {};
      for (const name of turn % 2 ? [...names].reverse() : names) {
        const list = workload.batch(i, Math.min(1000, events - i));
        if (ids === 'caller') list.forEach((event, k) => (event.id = callerId(i + k)));
        const t = process.hrtime.bigint();
        await stores[name].append(list);
        times[name] = Number(process.hrtime.bigint() - t);
        ns[name] += times[name];
      }
      ratios.push(times.current / times.baseline);
    }
    for (const store of Object.values(stores)) await store.close();
    return {
      eventsPerSec: Object.fromEntries(names.map((name) => [name, events / (ns[name] / 1e9)])),
      batchRatio: median(ratios),
    };
  },

  /**
   * Loads `events` workload events (batches of 1000) into a fresh store of the library at `lib`;
   * with `retry`, appends them all again (every event an exact retry) and times that too.
   */
  async load({ lib, dir, events, ids, retry, seed }, ctx) {
    const { openEventStore } = await import(pathToFileURL(lib).href);
    const store = await openEventStore(dir ? { dir, fsync: 'batch' } : {});
    const workload = createWorkload(seed);
    const batch = (from, count) => {
      const list = workload.batch(from, count);
      if (ids === 'caller') list.forEach((event, k) => (event.id = callerId(from + k)));
      return list;
    };
    const pass = async () => {
      let ns = 0n;
      for (let i = 0; i < events; i += 1000) {
        const list = batch(i, Math.min(1000, events - i));
        const t = process.hrtime.bigint();
        await store.append(list);
        ns += process.hrtime.bigint() - t;
        if (i % 1_000_000 === 0 && i > 0) ctx.progress(`ids: ${fmtCount(i)} events`);
      }
      return events / (Number(ns) / 1e9);
    };
    const before = sampleMemory(0);
    const eventsPerSec = await pass();
    const after = sampleMemory(events);
    const stats = store.stats();
    const retryPerSec = retry ? await pass() : null;
    const lastSequence = store.stats().lastSequence;
    await store.close();
    return {
      eventsPerSec,
      retryPerSec,
      lastSequence,
      arrayBuffersPerEvent: (after.arrayBuffers - before.arrayBuffers) / events,
      rssPerEvent: (after.rss - before.rss) / events,
      idIndexBytes: stats.indexes.id?.bytes ?? null,
    };
  },
};

const CONFIGS = [
  { id: 'memory-generated', label: 'in memory, generated ids', ids: 'generated', disk: false, retry: false },
  { id: 'memory-caller', label: 'in memory, caller ids', ids: 'caller', disk: false, retry: true },
  {
    id: 'disk-generated',
    label: "on disk (fsync 'batch'), generated ids",
    ids: 'generated',
    disk: true,
    retry: false,
  },
];

const median = (values) => {
  const sorted = values.filter((v) => v !== null).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export async function run(ctx) {
  const { events, repeats } = PLAN[ctx.mode] ?? PLAN.full;
  const libs = { current: process.env.TAMMA_BENCH_DIST };
  if (process.env.TAMMA_BENCH_BASELINE_DIST) libs.baseline = process.env.TAMMA_BENCH_BASELINE_DIST;
  const results = [];
  // On disk adds I/O noise on a shared machine: the full plan only.
  for (const c of CONFIGS.filter((config) => !config.disk || ctx.mode !== 'quick')) {
    const row = { id: c.id, label: c.label, events, repeats };
    const runs = Object.fromEntries(Object.keys(libs).map((name) => [name, []]));
    // The builds take turns, so load on a shared machine falls on both alike.
    for (let k = 0; k < MEMORY_REPEATS; k++) {
      for (const [name, lib] of Object.entries(libs)) {
        const dir = c.disk ? await mkdtemp(join(ctx.tmp, `ids-${c.id}-`)) : undefined;
        ctx.log(`ids: ${c.label}, ${name} build, run ${k + 1}/${repeats}, ${fmtCount(events)} events`);
        runs[name].push(
          await runTask(SELF, 'load', { lib, dir, events, ids: c.ids, retry: c.retry, seed: ctx.seed }),
        );
        if (dir) await rm(dir, { recursive: true, force: true });
      }
    }
    for (const [name, list] of Object.entries(runs)) {
      row[name] = {
        runs: list,
        eventsPerSec: median(list.map((r) => r.eventsPerSec)),
        retryPerSec: median(list.map((r) => r.retryPerSec)),
        lastSequence: list[0].lastSequence,
        arrayBuffersPerEvent: median(list.map((r) => r.arrayBuffersPerEvent)),
        rssPerEvent: median(list.map((r) => r.rssPerEvent)),
        idIndexBytes: median(list.map((r) => r.idIndexBytes)),
      };
    }
    if (libs.baseline) {
      row.paired = [];
      for (let k = 0; k < repeats; k++) {
        ctx.log(
          `ids: ${c.label}, both builds in turns, run ${k + 1}/${repeats}, ${fmtCount(events)} events each`,
        );
        row.paired.push(await runTask(SELF, 'paired', { libs, events, ids: c.ids, seed: ctx.seed }));
      }
      row.pairedRatio = median(row.paired.map((r) => r.batchRatio));
      row.pairedPerSec = {
        current: median(row.paired.map((r) => r.eventsPerSec.current)),
        baseline: median(row.paired.map((r) => r.eventsPerSec.baseline)),
      };
    }
    results.push(row);
  }
  return { events, repeats, baseline: libs.baseline ?? null, results };
}

export function report(section) {
  const out = [];
  const withBaseline = section.baseline !== null;
  const rows = section.results.map((r) => {
    const c = r.current;
    const b = r.baseline;
    return [
      r.label,
      ...(withBaseline
        ? [
            fmtNum(r.pairedPerSec.current),
            fmtNum(r.pairedPerSec.baseline),
            fmtRatio(r.pairedPerSec.current / r.pairedPerSec.baseline),
            fmtRatio(1 / r.pairedRatio),
          ]
        : [fmtNum(c.eventsPerSec)]),
      c.retryPerSec === null ? '—' : `${fmtNum(c.retryPerSec)} (last seq ${fmtCount(c.lastSequence)})`,
      ...(withBaseline
        ? [b.retryPerSec === null ? '—' : `${fmtNum(b.retryPerSec)} (last seq ${fmtCount(b.lastSequence)})`]
        : []),
      c.idIndexBytes === null ? '—' : fmtNum(c.idIndexBytes / r.events),
      fmtNum(c.arrayBuffersPerEvent),
      ...(withBaseline ? [fmtNum(b.arrayBuffersPerEvent)] : []),
    ];
  });
  out.push(
    `${fmtCount(section.events)} workload events in batches of 1000 into a fresh in-memory store` +
      (withBaseline
        ? `; baseline: ${section.baseline}. Throughput: both builds in one process, taking turns batch by batch (medians of ${section.repeats} processes); memory and retries: each build alone in its process`
        : ' (set TAMMA_BENCH_BASELINE_DIST for a without-index baseline)'),
  );
  out.push(
    textTable(
      [
        'configuration',
        ...(withBaseline
          ? ['events/s (paired)', 'baseline events/s (paired)', 'ratio', 'median batch ratio']
          : ['events/s']),
        'all again (retries), events/s',
        ...(withBaseline ? ['baseline all again (duplicates)'] : []),
        'id index bytes/event',
        'array buffers bytes/event',
        ...(withBaseline ? ['baseline array buffers bytes/event'] : []),
      ],
      rows,
    ),
  );
  const top = section.results.find((r) => r.current.idIndexBytes !== null);
  if (top) {
    const perEvent = top.current.idIndexBytes / top.events;
    out.push(
      `id index: ${fmtNum(perEvent)} bytes/event at ${fmtCount(top.events)} (${fmtMB(top.current.idIndexBytes)} MiB); ` +
        'at 10M events a 4-byte hash a row plus 2^24 4-byte slots: 40 + 64 MiB = 104 MiB',
    );
  }
  return out.join('\n');
}
