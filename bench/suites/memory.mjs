// Memory: RSS and heap growth while loading tamma (on disk and in memory), and the RSS of a
// fresh process that only opens the big on-disk store.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createTamma } from '../engines/tamma.mjs';
import { runTask } from '../lib/child.mjs';
import { loadEvents } from '../lib/load.mjs';
import { sampleMemory } from '../lib/memory.mjs';
import { fmtCount, fmtMB, fmtNum, textTable } from '../lib/stats.mjs';
import { createWorkload } from '../lib/workload.mjs';

const SELF = import.meta.url;
const REOPEN = new URL('./reopen.mjs', import.meta.url).href;

export const tasks = {
  /** Loads `events` into a fresh tamma store (dir omitted: in memory), sampling memory as it grows. */
  async curve({ dir, events, sampleEvery, seed }, ctx) {
    const engine = await createTamma({ dir });
    const first = sampleMemory(0);
    const r = await loadEvents(engine, createWorkload(seed), 0, events, {
      sampleEvery,
      progress: ctx.progress,
    });
    const engineMemory = engine.store.stats().memory;
    await engine.close();
    return { curve: [first, ...r.samples], eventsPerSec: events / (r.appendNs / 1e9), engineMemory };
  },
};

const everyFor = (n) => Math.max(1000, Math.round(n / 40 / 1000) * 1000);

/** The largest on-disk store of the run: built by the queries suite, or here when it did not run. */
export async function ensureTammaStore(ctx) {
  const max = ctx.plan.sizes[ctx.plan.sizes.length - 1];
  if (!ctx.stores.tamma) {
    const dir = join(ctx.tmp, 'queries-tamma');
    await mkdir(dir, { recursive: true });
    ctx.log(`memory: loading ${fmtCount(max)} events into an on-disk store`);
    const r = await runTask(
      SELF,
      'curve',
      { dir, events: max, sampleEvery: everyFor(max), seed: ctx.seed },
      { onProgress: ctx.log },
    );
    ctx.stores.tamma = { dir, events: max, curve: r.curve };
  }
  return ctx.stores.tamma;
}

export async function run(ctx) {
  const inMemoryEvents = ctx.plan.memoryCurveEvents;
  await ensureTammaStore(ctx);
  ctx.log(`memory: loading ${fmtCount(inMemoryEvents)} events into an in-memory store`);
  const inMemory = await runTask(
    SELF,
    'curve',
    { events: inMemoryEvents, sampleEvery: everyFor(inMemoryEvents), seed: ctx.seed },
    { onProgress: ctx.log },
  );
  ctx.log(`memory: a fresh process opens the ${fmtCount(ctx.stores.tamma.events)}-event store`);
  const opened = await runTask(REOPEN, 'open', { dir: ctx.stores.tamma.dir });
  const at1M =
    inMemory.curve.find((s) => s.events === 1_000_000) ?? inMemory.curve[inMemory.curve.length - 1];
  return {
    onDisk: { events: ctx.stores.tamma.events, curve: ctx.stores.tamma.curve },
    inMemory: { events: inMemoryEvents, ...inMemory },
    inMemoryAt1M: at1M,
    openedOnDisk: opened,
  };
}

/** At most `rows` evenly spaced samples of a curve, always with the last one. */
function thin(curve, rows) {
  const step = Math.max(1, Math.ceil((curve.length - 1) / (rows - 1)));
  return curve.filter((_, k) => k % step === 0 || k === curve.length - 1);
}

export function report(section) {
  const out = [];
  const curveTable = (title, curve) => {
    out.push(`\n${title} (after a full GC; MiB)`);
    out.push(
      textTable(
        ['events', 'RSS', 'heap used', 'external', 'array buffers', 'RSS bytes/event'],
        thin(curve, 11).map((s) => [
          fmtCount(s.events),
          fmtMB(s.rss),
          fmtMB(s.heapUsed),
          fmtMB(s.external),
          fmtMB(s.arrayBuffers),
          s.events ? fmtNum((s.rss - curve[0].rss) / s.events) : '',
        ]),
      ),
    );
  };
  if (section.onDisk.curve)
    curveTable(`tamma on disk, loading ${fmtCount(section.onDisk.events)} events`, section.onDisk.curve);
  curveTable(`tamma in memory, loading ${fmtCount(section.inMemory.events)} events`, section.inMemory.curve);
  const o = section.openedOnDisk;
  const parts = (m) =>
    m
      ? `columns ${fmtMB(m.columns)}, indexes ${fmtMB(m.indexes)}, dictionaries ${fmtMB(m.dictionaries)}, records ${fmtMB(m.records)}`
      : '—';
  out.push(
    `\nFresh process that only opens the ${fmtCount(o.events)}-event on-disk store: RSS ${fmtMB(o.memory.rss)} MiB ` +
      `(heap ${fmtMB(o.memory.heapUsed)} MiB; before opening, with the library loaded: ${fmtMB(o.baselineRss)} MiB); open took ${fmtNum(o.openMs)} ms`,
  );
  out.push(`  its store.stats().memory (MiB): ${parts(o.engineMemory)}`);
  const m = section.inMemoryAt1M;
  out.push(`Fresh process holding ${fmtCount(m.events)} events in memory: RSS ${fmtMB(m.rss)} MiB`);
  out.push(
    `  store.stats().memory (MiB) after loading ${fmtCount(section.inMemory.events)}: ${parts(section.inMemory.engineMemory)}`,
  );
  return out.join('\n');
}
