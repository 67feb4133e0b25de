// The result cache (issue 17, part 4): hit rate and speed-up on a repeated dashboard workload while
// ~10K events/s are appended, and on a Zipf workload; the latency of a hit (L1 hit p99); the cache's
// overhead on append and on point queries, on vs off in the same run; freezing vs copying a cached
// answer. Two stores hold the same preloaded events, one opened with `cache: true`, one without.
import { setImmediate, setTimeout } from 'node:timers';
import { pathToFileURL } from 'node:url';
import { fmtCount, fmtNum, fmtRatio, fmtUs, percentile, textTable } from '../lib/stats.mjs';
import { T0, STEP_MS, createRng, createWorkload } from '../lib/workload.mjs';

const PLAN = {
  quick: {
    preload: 100_000,
    seconds: 4,
    zipfQueries: 10_000,
    zipfKeys: 500,
    hits: 20_000,
    appendBatches: 100,
  },
  full: {
    preload: 1_000_000,
    seconds: 15,
    zipfQueries: 50_000,
    zipfKeys: 2_000,
    hits: 100_000,
    appendBatches: 300,
  },
  long: {
    preload: 1_000_000,
    seconds: 30,
    zipfQueries: 100_000,
    zipfKeys: 2_000,
    hits: 200_000,
    appendBatches: 500,
  },
};

/** Appends arrive at ~10K events/s, a batch every ~10 ms (larger when the loop ran late). */
const APPEND_EVERY_MS = 10;
const APPENDS_PER_SEC = 10_000;

const now = () => process.hrtime.bigint();
const sinceUs = (t) => Number(process.hrtime.bigint() - t) / 1000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const sortedUs = (list) => [...list].sort((a, b) => a - b);

async function preload(store, workload, events) {
  for (let i = 0; i < events; i += 10_000)
    await store.append(workload.batch(i, Math.min(10_000, events - i)));
}

/**
 * The dashboard: a handful of aggregate and list panels, as a monitoring page shows them. Two read
 * history (a past hour: new events never touch them), the rest read what keeps arriving.
 */
function dashboard(lib, store, preloaded) {
  const { agg } = lib;
  // The first half of the preload's time span: appends (which continue the workload) never reach it.
  const pastHour = [T0, T0 + Math.min(3_600_000, (preloaded * STEP_MS) / 2)];
  const recentFrom = T0 + (preloaded - 50_000) * STEP_MS;
  const recentAggregate = createWorkload(42).batch(preloaded - 1, 1)[0].aggregateId;
  return [
    [
      'history: counts by type per 10 min (past window)',
      () =>
        store
          .query()
          .where('timestamp', 'between', pastHour[0], pastHour[1])
          .timeBucket('10m')
          .groupBy('type')
          .count()
          .execute(),
    ],
    [
      'history: avg duration by provider (past window)',
      () =>
        store
          .query()
          .where('timestamp', 'between', pastHour[0], pastHour[1])
          .groupBy('tags.provider')
          .aggregate({ avg: agg.avg('payload.durationMs'), n: agg.count() })
          .execute(),
    ],
    [
      'failed builds by provider (live)',
      () => store.query().where('type', 'eq', 'BUILD.FAILED').groupBy('tags.provider').count().execute(),
    ],
    [
      'latest 20 deploys (live)',
      () =>
        store.query().where('type', 'eq', 'DEPLOY.FINISHED').orderBy('sequence', 'desc').limit(20).execute(),
    ],
    [
      'recent tasks failed per 10 min (live)',
      () =>
        store
          .query()
          .where('type', 'eq', 'TASK.FAILED')
          .where('timestamp', 'gte', recentFrom)
          .timeBucket('10m')
          .count()
          .execute(),
    ],
    ['one workflow (queryEvents)', () => store.queryEvents({ aggregateId: recentAggregate })],
  ];
}

/** Runs `work` in a closed loop for `seconds` while a writer appends ~10K events/s; returns per-call times. */
async function underAppends(store, workload, from, seconds, work) {
  let next = from;
  let appending = true;
  // As many events as ~10K/s since the start, in batches of up to 1000, every 10 ms or so.
  const started = Date.now();
  const writer = (async () => {
    while (appending) {
      const due = Math.floor(((Date.now() - started) / 1000) * APPENDS_PER_SEC) - (next - from);
      if (due > 0) {
        const count = Math.min(due, 1000);
        await store.append(workload.batch(next, count));
        next += count;
      }
      await sleep(APPEND_EVERY_MS);
    }
  })();
  const times = [];
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    await work(times);
    // Let the writer in: a dashboard's viewers do not hold the event loop.
    await new Promise((resolve) => setImmediate(resolve));
  }
  appending = false;
  await writer;
  return { times, appended: next - from };
}

async function dashboardRun(lib, stores, plan, workload) {
  const out = {};
  for (const [name, store] of Object.entries(stores)) {
    const panels = dashboard(lib, store, plan.preload);
    const statsBefore = name === 'cached' ? await store.cache.getCacheStats() : undefined;
    const { times, appended } = await underAppends(
      store,
      workload,
      store.stats().lastSequence,
      plan.seconds,
      async (times) => {
        const t = now();
        for (const [, run] of panels) await run();
        times.push(sinceUs(t));
      },
    );
    const sorted = sortedUs(times);
    out[name] = {
      refreshes: times.length,
      appendedPerSec: appended / plan.seconds,
      refreshP50Us: percentile(sorted, 50),
      refreshP99Us: percentile(sorted, 99),
      refreshMeanUs: times.reduce((a, b) => a + b, 0) / times.length,
    };
    if (statsBefore) {
      const after = await store.cache.getCacheStats();
      const hits = after.hits - statsBefore.hits;
      const misses = after.misses - statsBefore.misses;
      out[name].hitRate = hits / (hits + misses);
      out[name].hits = hits;
      out[name].misses = misses;
      out[name].refreshed = after.refreshed - statsBefore.refreshed;
      out[name].invalidations = after.invalidations.commit - statsBefore.invalidations.commit;
    }
  }
  out.speedup = out.uncached.refreshMeanUs / out.cached.refreshMeanUs;
  out.panels = dashboard(lib, stores.cached, plan.preload).map(([label]) => label);
  return out;
}

/** Zipf(s = 1) over `keys` distinct queries: a few are asked very often, most rarely. */
async function zipfRun(lib, stores, plan, workload) {
  const weights = Array.from({ length: plan.zipfKeys }, (_, k) => 1 / (k + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  let acc = 0;
  const cdf = weights.map((w) => (acc += w / total));
  const pick = (u) => {
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  // Query k: one workflow's events (aggregates of the preload, which new events do not touch), or
  // every third one an issue's event counts by type over a past hour.
  const events = workload.batch(0, Math.min(plan.preload, plan.zipfKeys * 10));
  const aggregates = [...new Set(events.map((event) => event.aggregateId))];
  // Five past windows within the first half of the preload: appends never reach them.
  const slice = (plan.preload * STEP_MS) / 10;
  const query = (store, k) =>
    k % 3 === 2
      ? store
          .query()
          .where('tags.issueId', 'eq', `ISSUE-${1000 + (k % 100)}`)
          .where('timestamp', 'between', T0 + (k % 5) * slice, T0 + ((k % 5) + 1) * slice)
          .groupBy('type')
          .count()
          .execute()
      : store.queryEvents({ aggregateId: aggregates[k % aggregates.length] });
  const out = {};
  for (const [name, store] of Object.entries(stores)) {
    const rng = createRng(7);
    const before = name === 'cached' ? await store.cache.getCacheStats() : undefined;
    const seconds = plan.seconds;
    let asked = 0;
    const { times, appended } = await underAppends(
      store,
      workload,
      store.stats().lastSequence,
      seconds,
      async (list) => {
        for (let j = 0; j < 50 && asked < plan.zipfQueries; j++, asked++) {
          const t = now();
          await query(store, pick(rng.next()));
          list.push(sinceUs(t));
        }
        if (asked >= plan.zipfQueries) await sleep(1);
      },
    );
    const sorted = sortedUs(times);
    out[name] = {
      queries: times.length,
      appendedPerSec: appended / seconds,
      p50Us: percentile(sorted, 50),
      p99Us: percentile(sorted, 99),
      meanUs: times.reduce((a, b) => a + b, 0) / Math.max(1, times.length),
    };
    if (before) {
      const after = await store.cache.getCacheStats();
      const hits = after.hits - before.hits;
      const misses = after.misses - before.misses;
      out[name].hitRate = hits / (hits + misses);
      out[name].entries = after.entries;
      out[name].bytes = after.bytes;
    }
  }
  out.speedup = out.uncached.meanUs / out.cached.meanUs;
  out.keys = plan.zipfKeys;
  return out;
}

/** A hit, timed one by one: a prebuilt builder whose answer is cached (20 events), no appends. */
async function hitLatency(stores, plan) {
  const store = stores.cached;
  const builder = store.query().where('type', 'eq', 'DEPLOY.FINISHED').orderBy('sequence', 'desc').limit(20);
  await builder.execute();
  const times = [];
  for (let i = 0; i < plan.hits; i++) {
    const t = now();
    await builder.execute();
    times.push(sinceUs(t));
  }
  const criteria = { type: 'DEPLOY.FINISHED', limit: 20 };
  await store.queryEvents(criteria);
  const criteriaTimes = [];
  for (let i = 0; i < plan.hits; i++) {
    const t = now();
    await store.queryEvents(criteria);
    criteriaTimes.push(sinceUs(t));
  }
  const a = sortedUs(times);
  const b = sortedUs(criteriaTimes);
  return {
    builder: { p50Us: percentile(a, 50), p99Us: percentile(a, 99), maxUs: a[a.length - 1] },
    queryEvents: { p50Us: percentile(b, 50), p99Us: percentile(b, 99), maxUs: b[b.length - 1] },
  };
}

/**
 * What the cache costs where it cannot help: appends (each commit walks the entries its types
 * index), and point reads that miss (getEvents is never cached; queryEvents by a new aggregate each
 * time misses, keys, freezes and keeps its answer). On and off alternate, batch by batch.
 */
async function overhead(stores, plan, workload) {
  const appendNs = { cached: 0, uncached: 0 };
  // A dashboard's worth of entries in the cached store, so each commit has something to check.
  for (let k = 0; k < 50; k++) await stores.cached.queryEvents({ type: 'DEPLOY.FINISHED', limit: k + 1 });
  let next = Math.max(stores.cached.stats().lastSequence, stores.uncached.stats().lastSequence);
  for (let b = 0; b < plan.appendBatches; b++) {
    const batch = workload.batch(next, 1000);
    next += 1000;
    const order = b % 2 ? ['uncached', 'cached'] : ['cached', 'uncached'];
    for (const name of order) {
      const t = process.hrtime.bigint();
      await stores[name].append(batch.map((event) => ({ ...event })));
      appendNs[name] += Number(process.hrtime.bigint() - t);
    }
  }
  const point = { cached: { getEvents: [], queryEvents: [] }, uncached: { getEvents: [], queryEvents: [] } };
  const aggregates = workload.batch(0, 20_000).map((event) => event.aggregateId);
  for (let i = 0; i < 2000; i++) {
    const id = aggregates[i % aggregates.length];
    const order = i % 2 ? ['uncached', 'cached'] : ['cached', 'uncached'];
    for (const name of order) {
      let t = now();
      await stores[name].getEvents(id);
      point[name].getEvents.push(sinceUs(t));
      t = now();
      await stores[name].queryEvents({ aggregateId: id, limit: 10 + (i % 1000) });
      point[name].queryEvents.push(sinceUs(t));
    }
  }
  const p50 = (list) => percentile(sortedUs(list), 50);
  const events = plan.appendBatches * 1000;
  return {
    appendPerSec: { cached: events / (appendNs.cached / 1e9), uncached: events / (appendNs.uncached / 1e9) },
    getEventsP50Us: { cached: p50(point.cached.getEvents), uncached: p50(point.uncached.getEvents) },
    queryEventsMissP50Us: {
      cached: p50(point.cached.queryEvents),
      uncached: p50(point.uncached.queryEvents),
    },
  };
}

/** Freezing an answer once vs a structured copy per hit, for a 100-event answer. */
async function freezeVsCopy(stores) {
  const rows = await stores.uncached
    .query()
    .where('type', 'eq', 'TASK.CREATED')
    .limit(100)
    .hint({ cache: false })
    .execute();
  const copies = 2000;
  let t = now();
  for (let i = 0; i < copies; i++) globalThis.structuredClone(rows);
  const copyUs = sinceUs(t) / copies;
  const fresh = [];
  for (let i = 0; i < copies; i++)
    fresh.push(await stores.uncached.query().where('type', 'eq', 'TASK.CREATED').limit(100).execute());
  const deepFreeze = (value) => {
    if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
    for (const key of Object.keys(value)) deepFreeze(value[key]);
    Object.freeze(value);
  };
  t = now();
  for (const answer of fresh) deepFreeze(answer);
  const freezeUs = sinceUs(t) / copies;
  return { rows: rows.length, copyPerHitUs: copyUs, freezeOnceUs: freezeUs };
}

export async function run(ctx) {
  const plan = PLAN[ctx.mode] ?? PLAN.full;
  const lib = await import(pathToFileURL(process.env.TAMMA_BENCH_DIST).href);
  const workload = createWorkload(ctx.seed);
  const stores = {
    cached: await lib.openEventStore({ cache: true }),
    uncached: await lib.openEventStore({}),
  };
  try {
    for (const [name, store] of Object.entries(stores)) {
      ctx.log(`cache: preloading ${fmtCount(plan.preload)} events (${name})`);
      await preload(store, workload, plan.preload);
    }
    ctx.log(`cache: dashboard for ${plan.seconds} s per store under ~10K appends/s`);
    const dashboardResult = await dashboardRun(lib, stores, plan, workload);
    ctx.log(`cache: Zipf over ${plan.zipfKeys} queries`);
    const zipf = await zipfRun(lib, stores, plan, workload);
    ctx.log('cache: hit latency');
    const hits = await hitLatency(stores, plan);
    ctx.log('cache: overhead on append and point queries');
    const cost = await overhead(stores, plan, workload);
    const freezing = await freezeVsCopy(stores);
    const stats = await stores.cached.cache.getCacheStats();
    return { plan, dashboard: dashboardResult, zipf, hits, overhead: cost, freezing, stats };
  } finally {
    for (const store of Object.values(stores)) await store.close();
  }
}

export function report(section) {
  const d = section.dashboard;
  const z = section.zipf;
  const o = section.overhead;
  const out = [];
  out.push(
    `Two in-memory stores of ${fmtCount(section.plan.preload)} workload events, one with cache: true; ` +
      `a writer appends ${fmtNum(APPENDS_PER_SEC)} events/s meanwhile (a batch every ~${APPEND_EVERY_MS} ms).`,
  );
  out.push(
    `Dashboard (${d.panels.length} panels: ${d.panels.join('; ')}), re-run in a closed loop for ${section.plan.seconds} s:`,
  );
  out.push(
    textTable(
      ['store', 'refreshes', 'appends/s', 'refresh p50', 'refresh p99', 'hit rate'],
      ['cached', 'uncached'].map((name) => [
        name,
        fmtNum(d[name].refreshes),
        fmtNum(d[name].appendedPerSec),
        fmtUs(d[name].refreshP50Us),
        fmtUs(d[name].refreshP99Us),
        d[name].hitRate === undefined ? '—' : `${fmtNum(d[name].hitRate * 100, 2)}%`,
      ]),
    ),
  );
  out.push(
    `Dashboard speed-up (mean refresh, uncached / cached): ${fmtRatio(d.speedup)}; cached: ${fmtNum(d.cached.hits)} hits, ` +
      `${fmtNum(d.cached.misses)} misses, ${fmtNum(d.cached.refreshed)} answers refreshed from new events, ` +
      `${fmtNum(d.cached.invalidations)} dropped by commits`,
  );
  out.push(`Zipf (s = 1) over ${z.keys} distinct queries, same appends:`);
  out.push(
    textTable(
      ['store', 'queries', 'p50', 'p99', 'hit rate'],
      ['cached', 'uncached'].map((name) => [
        name,
        fmtNum(z[name].queries),
        fmtUs(z[name].p50Us),
        fmtUs(z[name].p99Us),
        z[name].hitRate === undefined ? '—' : `${fmtNum(z[name].hitRate * 100, 1)}%`,
      ]),
    ),
  );
  out.push(`Zipf speed-up (mean): ${fmtRatio(z.speedup)}`);
  out.push(
    `L1 hit (a cached 20-event answer): builder p50 ${fmtUs(section.hits.builder.p50Us)}, p99 ${fmtUs(section.hits.builder.p99Us)}; ` +
      `queryEvents p50 ${fmtUs(section.hits.queryEvents.p50Us)}, p99 ${fmtUs(section.hits.queryEvents.p99Us)}`,
  );
  out.push(
    textTable(
      ['overhead (same run, alternating)', 'cache on', 'cache off', 'on / off'],
      [
        [
          'append, batches of 1000 (events/s)',
          fmtNum(o.appendPerSec.cached),
          fmtNum(o.appendPerSec.uncached),
          fmtRatio(o.appendPerSec.cached / o.appendPerSec.uncached),
        ],
        [
          'getEvents p50 (never cached)',
          fmtUs(o.getEventsP50Us.cached),
          fmtUs(o.getEventsP50Us.uncached),
          fmtRatio(o.getEventsP50Us.cached / o.getEventsP50Us.uncached),
        ],
        [
          'queryEvents by aggregate, a miss each time, p50',
          fmtUs(o.queryEventsMissP50Us.cached),
          fmtUs(o.queryEventsMissP50Us.uncached),
          fmtRatio(o.queryEventsMissP50Us.cached / o.queryEventsMissP50Us.uncached),
        ],
      ],
    ),
  );
  const fz = section.freezing;
  out.push(
    `Sharing a ${fz.rows}-event answer: deep-freeze once ${fmtUs(fz.freezeOnceUs)} vs structuredClone per hit ${fmtUs(fz.copyPerHitUs)}`,
  );
  out.push(
    `Cache at the end: ${fmtNum(section.stats.entries)} entries, ${fmtNum(section.stats.bytes / 1024)} KiB of ${fmtNum(section.stats.maxBytes / 1024 / 1024)} MiB`,
  );
  return out.join('\n');
}

/** [target, measured, at, pass] rows for the targets table. */
export function cacheTargets(section) {
  const at = `${fmtCount(section.plan.preload)} events, ~10K appends/s`;
  return [
    [
      'cache hit rate > 70% on the repeated dashboard',
      `${fmtNum(section.dashboard.cached.hitRate * 100, 1)}%`,
      at,
      section.dashboard.cached.hitRate > 0.7,
    ],
    [
      'cache hit rate ≥ 90% on the Zipf workload',
      `${fmtNum(section.zipf.cached.hitRate * 100, 1)}%`,
      at,
      section.zipf.cached.hitRate >= 0.9,
    ],
    [
      'L1 hit p99 ≤ 20 µs',
      fmtUs(section.hits.builder.p99Us),
      'builder, 20-event answer',
      section.hits.builder.p99Us <= 20,
    ],
    [
      'cache bytes ≤ maxBytes',
      `${fmtNum(section.stats.bytes / 1024)} KiB`,
      `maxBytes ${fmtNum(section.stats.maxBytes / 1024 / 1024)} MiB`,
      section.stats.bytes <= section.stats.maxBytes,
    ],
  ];
}
