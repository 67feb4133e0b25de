// Query latency (p50/p95/p99) per method at growing store sizes; one child process per engine
// loads the store step by step (100K → 1M → 10M) and measures at each step.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createEngine } from '../engines/index.mjs';
import { runTask } from '../lib/child.mjs';
import { loadEvents } from '../lib/load.mjs';
import { QUERY_LABELS, QUERY_METHODS, measureQueries } from '../lib/measure.mjs';
import { sampleMemory } from '../lib/memory.mjs';
import { fmtCount, fmtNum, fmtRatio, fmtUs, ratio, textTable } from '../lib/stats.mjs';
import { createWorkload } from '../lib/workload.mjs';

const SELF = import.meta.url;
export const ENGINES = ['tamma', 'sqlite', 'naive'];

export const tasks = {
  async queries({ kind, engineOptions, sizes, seed, iterations, warmup, budgetMs, sampleEvery }, ctx) {
    const engine = await createEngine(kind, engineOptions);
    const workload = createWorkload(seed);
    const loads = [];
    const curve = [sampleMemory(0)];
    const bySize = [];
    let loaded = 0;
    for (const size of sizes) {
      const r = await loadEvents(engine, workload, loaded, size, { sampleEvery, progress: ctx.progress });
      loads.push({
        from: loaded,
        to: size,
        seconds: r.appendNs / 1e9,
        eventsPerSec: r.events / (r.appendNs / 1e9),
      });
      curve.push(...r.samples);
      loaded = size;
      const count = engine.count();
      if (count !== size) throw new Error(`${engine.name} holds ${count} events after loading ${size}`);
      const params = workload.queryParams(size, iterations);
      const warm = workload.queryParams(size, warmup, seed ^ 0xbeef);
      const methods = {};
      for (const m of QUERY_METHODS) {
        ctx.progress(`${engine.name} @ ${fmtCount(size)}: ${m}`);
        methods[m] = await measureQueries(engine[m], params[m], warm[m], { iterations, warmup, budgetMs });
      }
      bySize.push({ size, methods, memory: sampleMemory(size) });
    }
    await engine.close();
    return { engine: engine.name, loads, curve, bySize };
  },
};

export async function run(ctx) {
  const { sizes, iterations, warmup, queryBudgetMs, naiveHeapMB } = ctx.plan;
  const max = sizes[sizes.length - 1];
  const sampleEvery = Math.max(1000, Math.round(max / 40 / 1000) * 1000);
  const engines = {};
  for (const kind of ENGINES) {
    const dir = join(ctx.tmp, `queries-${kind}`);
    await mkdir(dir, { recursive: true });
    ctx.log(
      `queries: ${kind}, loading to ${fmtCount(max)} and measuring at ${sizes.map(fmtCount).join(', ')}`,
    );
    const started = Date.now();
    engines[kind] = await runTask(
      SELF,
      'queries',
      {
        kind,
        engineOptions: kind === 'naive' ? {} : kind === 'sqlite' ? { dir, tagIndex: true } : { dir },
        sizes,
        seed: ctx.seed,
        iterations,
        warmup,
        budgetMs: queryBudgetMs,
        sampleEvery: kind === 'tamma' ? sampleEvery : 0, // a GC per sample: costly for a big JS heap
      },
      { execArgv: kind === 'naive' ? [`--max-old-space-size=${naiveHeapMB}`] : [], onProgress: ctx.log },
    );
    engines[kind].wallSeconds = (Date.now() - started) / 1000;
    if (kind !== 'naive') ctx.stores[kind] = { dir, events: max, curve: engines[kind].curve };
  }
  return { sizes, iterations, engines, mismatches: compareAnswers(engines, sizes) };
}

/** Engines must agree on every answer they all gave (result length and sequences). */
function compareAnswers(engines, sizes) {
  const mismatches = [];
  sizes.forEach((size, s) => {
    for (const m of QUERY_METHODS) {
      const lists = ENGINES.map((k) => engines[k]?.bySize[s]?.methods[m]?.fingerprints ?? []);
      const n = Math.min(...lists.map((l) => l.length));
      for (let q = 0; q < n; q++) {
        const answers = lists.map((l) => l[q]);
        if (new Set(answers).size > 1) {
          mismatches.push({
            size,
            method: m,
            query: q,
            answers: Object.fromEntries(ENGINES.map((k, i) => [k, answers[i]])),
          });
        }
      }
    }
  });
  return mismatches;
}

const triple = (r) => (r ? `${fmtUs(r.p50)} / ${fmtUs(r.p95)} / ${fmtUs(r.p99)}` : '—');

export function tableRows(section, size) {
  const s = section.sizes.indexOf(size);
  return QUERY_METHODS.map((m) => {
    const [t, q, n] = ENGINES.map((k) => section.engines[k]?.bySize[s]?.methods[m]);
    return { method: m, label: QUERY_LABELS[m], tamma: t, sqlite: q, naive: n };
  });
}

export function report(section) {
  const out = [];
  for (const size of section.sizes) {
    out.push(
      `\nQuery latency at ${fmtCount(size)} events (µs, p50 / p95 / p99; ratios are p50 and p99 of the peer ÷ tamma)`,
    );
    out.push(
      textTable(
        [
          'query',
          'tamma',
          'sqlite',
          'naive',
          'sqlite÷tamma p50',
          'p99',
          'naive÷tamma p50',
          'rows',
          'n naive',
        ],
        tableRows(section, size).map(({ label, tamma, sqlite, naive }) => [
          label,
          triple(tamma),
          triple(sqlite),
          triple(naive),
          fmtRatio(ratio(sqlite?.p50, tamma?.p50)),
          fmtRatio(ratio(sqlite?.p99, tamma?.p99)),
          fmtRatio(ratio(naive?.p50, tamma?.p50)),
          fmtNum(tamma?.rows ?? sqlite?.rows, 1),
          fmtNum(naive?.n),
        ]),
      ),
    );
  }
  out.push('\nLoading (batches of 1000) for the query datasets:');
  out.push(
    textTable(
      ['engine', ...section.sizes.map((s) => `to ${fmtCount(s)} events/s`)],
      ENGINES.filter((k) => section.engines[k]).map((k) => [
        section.engines[k].engine,
        ...section.engines[k].loads.map((l) => fmtNum(l.eventsPerSec)),
      ]),
    ),
  );
  if (section.mismatches.length) {
    out.push(
      `\n!! ${section.mismatches.length} answers differ between engines (length:sequence-sum), first ones:`,
    );
    for (const m of section.mismatches.slice(0, 8))
      out.push(`   ${fmtCount(m.size)} ${m.method} #${m.query}: ${JSON.stringify(m.answers)}`);
  } else {
    out.push('\nAll engines returned the same answers (length and sequences) for every query compared.');
  }
  return out.join('\n');
}
