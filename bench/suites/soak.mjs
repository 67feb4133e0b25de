// Soak (issue 4): retention under a steady ingest of 10K events/s, for memory that stays flat, a
// bounded log, cheap cleanups, queries that cleanup does not stall, and no event lost.
//  - compressed: a ManualClock advances 10 ms of simulated time per append of 100 events, so an hour
//    of traffic (36M events) runs in minutes; cleanup every simulated cleanupEvery. Variants: on disk
//    with an archive (live + archived = appended, exactly), on disk without, in memory.
//  - realtime: the same rate on the system clock, paced; a query every 5 ms; cleanup on a timer.
//    Latencies are split by whether a cleanup was running.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import {
  PerformanceObserver,
  constants as perfConstants,
  monitorEventLoopDelay,
  performance,
} from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { clearInterval, setInterval } from 'node:timers';
import { pathToFileURL } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { DIST, loadLibrary } from '../engines/tamma.mjs';
import { runTask } from '../lib/child.mjs';
import { dirBytes } from '../lib/dir-bytes.mjs';
import { gc } from '../lib/memory.mjs';
import {
  fmtCount,
  fmtMB,
  fmtNum,
  fmtRatio,
  fmtUs,
  LatencyHistogram,
  percentile,
  ratio,
  textTable,
} from '../lib/stats.mjs';
import { ISSUES, TYPES, createWorkload, hash32 } from '../lib/workload.mjs';

/**
 * The runs on a timer do what the store's schedule does: cut what expired, and compact only once a
 * fifth of the events could go (retention.cleanupThreshold, default 0.2). The last run at each end
 * removes everything.
 */
const SCHEDULED_THRESHOLD = 0.2;

const SELF = import.meta.url;
const MiB = 1024 * 1024;
/** Simulated time starts here (any fixed instant: the store only compares it with itself). */
const START = Date.UTC(2026, 0, 1);
const LATE_FRACTION = 0.03;

const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
export function durationMs(d) {
  if (typeof d === 'number') return d;
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(d);
  if (!m) throw new Error(`soak: bad duration ${d}`);
  return Number(m[1]) * UNITS[m[2]];
}

/**
 * Workload events [from, from + count) stamped at `now`: 3% of them late by up to lateMaxMs (never
 * past maxAge, or the store would refuse them as expired on arrival).
 */
function stampedBatch(workload, from, count, now, lateMaxMs) {
  const events = workload.batch(from, count);
  for (let k = 0; k < count; k++) {
    const i = from + k;
    const late = hash32(workload.seed, i, 4) / 4294967296 < LATE_FRACTION;
    events[k].timestamp = late ? now - (hash32(workload.seed, i, 5) % lateMaxMs) : now;
  }
  return events;
}

/**
 * Counts appended events by timestamp, to know exactly how many must be live at any clock time
 * (an event is hidden once its timestamp is before now - maxAge). Forgets what can never be live again.
 */
class Stamps {
  counts = new Map();
  add(events) {
    for (const e of events) this.counts.set(e.timestamp, (this.counts.get(e.timestamp) ?? 0) + 1);
  }
  prune(cutoff) {
    for (const ts of this.counts.keys()) if (ts < cutoff) this.counts.delete(ts);
  }
  liveAt(cutoff) {
    let n = 0;
    for (const [ts, c] of this.counts) if (ts >= cutoff) n += c;
    return n;
  }
}

async function readManifestOf(archiveDir) {
  const url = pathToFileURL(join(dirname(DIST), 'retention', 'archive.js')).href;
  const { readManifest } = await import(url);
  return readManifest(archiveDir);
}

const cpuMsSince = (before) => {
  const u = process.cpuUsage(before);
  return (u.user + u.system) / 1000;
};

/**
 * The longest time the event loop was blocked while it runs: a 1 ms timer's largest gap, less its
 * period. Cleanup yields between slices; a timer due then runs before the next slice, so in a
 * process doing nothing else this is cleanup's longest synchronous step.
 */
function pauseMeter() {
  let last = performance.now();
  let max = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last);
    last = now;
  }, 1);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(0, Math.max(max, performance.now() - last) - 1);
    },
  };
}

const pickReport = (r) => ({
  durationMs: r.durationMs,
  cpuMs: r.cpuMs,
  examined: r.examined,
  removed: r.removed,
  archived: r.archived,
  bytesFreed: r.bytesFreed,
  spansRewritten: r.spansRewritten,
  spansDropped: r.spansDropped,
});

export const tasks = {
  /** One time-compressed soak: the ManualClock moves batch / rate per append. */
  async compressed(args, ctx) {
    const { dir, archiveDir, simSeconds, rate, batch, maxAge, cleanupEvery, segmentSize, seed } = args;
    const { openEventStore, ManualClock } = await loadLibrary();
    const maxAgeMs = durationMs(maxAge);
    const clock = new ManualClock(START);
    const retention = { maxAge, schedule: false, ...(archiveDir ? { archive: { dir: archiveDir } } : {}) };
    const diskOptions = dir ? { dir, fsync: 'never', segmentSize } : {};
    const store = await openEventStore({ ...diskOptions, clock, retention });
    const workload = createWorkload(seed);
    const stamps = new Stamps();
    const total = simSeconds * rate;
    const stepMs = (batch * 1000) / rate;
    const lateMaxMs = Math.min(30_000, Math.floor(maxAgeMs / 4));

    const sample = async (appended) => {
      gc();
      const m = process.memoryUsage();
      const st = store.stats();
      return {
        simSeconds: (clock.now() - START) / 1000,
        appended,
        live: st.events,
        rss: m.rss,
        heapUsed: m.heapUsed,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
        engine: st.memory,
        diskBytes: dir ? await dirBytes(dir) : undefined,
        segments: st.storage?.segments,
      };
    };

    const samples = [await sample(0)];
    const runs = [];
    let appended = 0;
    let appendNs = 0n;
    let cleanupWallMs = 0;
    let nextCleanup = START + cleanupEvery;
    let lastProgress = Date.now();
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    for (let i = 0; i < total; i += batch) {
      const events = stampedBatch(workload, i, Math.min(batch, total - i), clock.now(), lateMaxMs);
      stamps.add(events);
      const t = process.hrtime.bigint();
      appended += (await store.append(events)).length;
      appendNs += process.hrtime.bigint() - t;
      clock.advance(stepMs);
      if (clock.now() >= nextCleanup) {
        nextCleanup += cleanupEvery;
        const c = performance.now();
        const pauses = pauseMeter();
        const report = await store.cleanup({ threshold: SCHEDULED_THRESHOLD });
        const maxPauseMs = pauses.stop();
        cleanupWallMs += performance.now() - c;
        runs.push({ simSeconds: (clock.now() - START) / 1000, ...pickReport(report), maxPauseMs });
        stamps.prune(clock.now() - maxAgeMs);
        samples.push(await sample(appended));
        if (Date.now() - lastProgress > 15_000) {
          lastProgress = Date.now();
          const s = samples[samples.length - 1];
          ctx.progress(
            `soak ${args.variant}: ${fmtCount(appended)} events, ${fmtNum(s.simSeconds)} simulated s, ` +
              `live ${fmtCount(s.live)}, RSS ${fmtMB(s.rss)} MiB (${((performance.now() - wall0) / 1000).toFixed(0)} s)`,
          );
        }
      }
    }
    const wallMs = performance.now() - wall0;
    const processCpuMs = cpuMsSince(cpu0);

    // The end: one more cleanup at the same clock removes everything hidden now; then count.
    const finalRun = pickReport(await store.cleanup());
    const st = store.stats();
    const cutoff = clock.now() - maxAgeMs;
    const expectedLive = stamps.liveAt(cutoff);
    const live = st.events;
    const { removed, archived: archivedReported, cpuMs: cleanupCpuMs, bytesFreed } = st.cleanup.totals;
    const manifest = archiveDir ? await readManifestOf(archiveDir) : [];
    const archivedInManifest = manifest.reduce((n, e) => n + e.events, 0);
    store.setRetention(undefined); // nothing hidden: every event the store still holds is counted
    const held = store.stats().events;
    const statsCpuShare = st.cleanup.cpuShare;
    await store.close();
    let heldAfterReopen;
    if (dir) {
      const reopened = await openEventStore({ ...diskOptions, clock });
      heldAfterReopen = reopened.stats().events;
      await reopened.close();
    }
    return {
      variant: args.variant,
      events: total,
      appended,
      wallMs,
      appendEventsPerSec: appended / (Number(appendNs) / 1e9),
      processCpuMs,
      cleanupCpuMs,
      cleanupWallMs,
      statsCpuShare,
      runs,
      finalRun,
      samples,
      accounting: {
        appended,
        expectedLive,
        live,
        held,
        removed,
        archivedReported,
        archivedInManifest,
        archiveFiles: manifest.length,
        heldAfterReopen,
        bytesFreed,
      },
      finalDiskBytes: dir ? await dirBytes(dir) : undefined,
      archiveBytes: archiveDir ? await dirBytes(archiveDir) : undefined,
    };
  },

  /** Real time: paced appends, a query loop and cleanup on a timer, all in this one process. */
  async realtime(args, ctx) {
    const { dir, seconds, rate, batch, maxAge, cleanupEvery, queryEveryMs, segmentSize, seed } = args;
    const { openEventStore } = await loadLibrary();
    const maxAgeMs = durationMs(maxAge);
    const store = await openEventStore({
      dir,
      fsync: 'batch',
      segmentSize,
      retention: { maxAge, schedule: false },
    });
    const workload = createWorkload(seed);
    const lateMaxMs = Math.min(30_000, Math.floor(maxAgeMs / 4));
    const stepMs = (batch * 1000) / rate;
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });

    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    // Latencies from the first maxAge on: before it the JIT warms up and cleanup has nothing to remove.
    const measureFrom = t0 + Math.min(maxAgeMs, (seconds * 1000) / 2);
    // Cleanup runs as [start, end) intervals; a sample counts as "during cleanup" when its own
    // interval, from when it fell due to when it was answered, overlaps one: a query that waited
    // behind a cleanup slice is charged to cleanup even if it ran after cleanup ended.
    const cleanups = [];
    const overlapsCleanup = (from, to) => {
      // Intervals are in start order and do not overlap: the last one starting before `to`.
      let lo = 0;
      let hi = cleanups.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cleanups[mid].start < to) lo = mid + 1;
        else hi = mid;
      }
      return lo > 0 && cleanups[lo - 1].end > from;
    };
    const kinds = ['append', 'appendCall', 'query', 'queryCall', 'tag', 'type'];
    // append: from when the batch fell due to when it was stored (what a producer on schedule sees);
    // query: from when it fell due (what a client sees); *Call: the call alone.
    const samples = Object.fromEntries(
      kinds.map((k) => [k, { during: new LatencyHistogram(), idle: new LatencyHistogram() }]),
    );
    // Recorded as it is answered (`to` is now), so every cleanup that began before it is listed.
    const record = (kind, from, to) => {
      samples[kind][overlapsCleanup(from, to) ? 'during' : 'idle'].add((to - from) * 1000);
    };

    let appended = 0;
    let lastSequence = 0;
    let lastAppendEnd = t0;
    let stopped = false;
    // A producer that queues what falls due and sends it every 10 ms: once behind (the loop was
    // blocked), one append carries every batch due by then (up to MAX_CATCH_UP of them), each batch
    // charged from its own due time.
    const MAX_CATCH_UP = 50;
    const ingest = (async () => {
      for (let k = 0; ;) {
        const due = t0 + k * stepMs;
        if (due >= end) break;
        await sleep(due - performance.now());
        const now = performance.now();
        let n = 1;
        while (n < MAX_CATCH_UP && t0 + (k + n) * stepMs <= now && t0 + (k + n) * stepMs < end) n++;
        const events = stampedBatch(workload, k * batch, n * batch, Date.now(), lateMaxMs);
        const s = performance.now();
        const stored = await store.append(events);
        const e = performance.now();
        appended += stored.length;
        lastSequence = stored[stored.length - 1].sequence;
        lastAppendEnd = e;
        for (let b = k; b < k + n; b++) {
          const batchDue = t0 + b * stepMs;
          if (batchDue >= measureFrom) record('append', batchDue, e);
        }
        if (due >= measureFrom) record('appendCall', s, e);
        k += n;
      }
    })();

    let queries = 0;
    let queryRows = 0;
    const issue = (k) => `ISSUE-${1000 + (hash32(seed, k, 21) % ISSUES)}`;
    const runQuery = (j) =>
      j % 2 === 0
        ? store.queryEvents({ tags: { issueId: issue(j) }, order: 'desc', limit: 100 })
        : store.getEventsByType(TYPES[hash32(seed, j, 22) % TYPES.length], {
            afterSequence: Math.max(0, lastSequence - 10_000),
            limit: 100,
          });
    const querying = (async () => {
      let j = 0;
      for (;;) {
        const due = t0 + j * queryEveryMs;
        if (due >= end) break;
        await sleep(due - performance.now());
        const s = performance.now();
        const rows = await runQuery(j);
        const e = performance.now();
        queries++;
        queryRows += rows.length;
        // Slots that fell due while this one waited or ran are answered by it (coordinated
        // omission: each is charged from its own due time, as a client issuing on schedule would see).
        let last = j;
        while (t0 + (last + 1) * queryEveryMs <= e && t0 + (last + 1) * queryEveryMs < end) last++;
        for (let slot = j; slot <= last; slot++) {
          const slotDue = t0 + slot * queryEveryMs;
          if (slotDue < measureFrom) continue;
          record('query', slotDue, e);
          record(slot % 2 === 0 ? 'tag' : 'type', slotDue, e);
        }
        if (due >= measureFrom) record('queryCall', s, e);
        j = last + 1;
      }
    })();

    const runs = [];
    const memory = [];
    // RSS right after each major GC the process ran on its own: what memory holds without the
    // garbage that RSS at an arbitrary moment also counts (how much of that there is depends on
    // when V8 chose to collect). A forced GC would stall the loops measured here; this does not.
    const afterGc = [];
    const gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if (entry.detail?.kind !== perfConstants.NODE_PERFORMANCE_GC_MAJOR) continue;
        const m = process.memoryUsage();
        afterGc.push({
          seconds: (performance.now() - t0) / 1000,
          rss: m.rss,
          heapUsed: m.heapUsed,
          arrayBuffers: m.arrayBuffers,
        });
      }
    });
    gcObserver.observe({ entryTypes: ['gc'] });
    const cleaning = (async () => {
      for (let c = 1; ; c++) {
        const due = t0 + c * cleanupEvery;
        if (due >= end) break;
        await sleep(due - performance.now());
        if (stopped) break;
        const cpu = process.cpuUsage();
        const interval = { start: performance.now(), end: Infinity };
        cleanups.push(interval);
        const report = await store.cleanup({ threshold: SCHEDULED_THRESHOLD });
        interval.end = performance.now();
        const cpuWhileRunning = cpuMsSince(cpu);
        const m = process.memoryUsage(); // no forced GC here: it would stall the other loops
        const at = (performance.now() - t0) / 1000;
        runs.push({ seconds: at, ...pickReport(report), processCpuMsWhileRunning: cpuWhileRunning });
        const st = store.stats();
        memory.push({
          seconds: at,
          appended,
          live: st.events,
          rss: m.rss,
          heapUsed: m.heapUsed,
          arrayBuffers: m.arrayBuffers,
          engine: st.memory,
        });
        if (c % Math.max(1, Math.round(30_000 / cleanupEvery)) === 0)
          ctx.progress(
            `soak realtime: ${fmtNum(at)} s, ${fmtCount(appended)} events, RSS ${fmtMB(m.rss)} MiB, ` +
              `last cleanup removed ${fmtCount(report.removed)} in ${fmtNum(report.durationMs)} ms`,
          );
      }
    })();

    // Event-loop stalls over 20 ms, when they ended, to tell cleanup's from the rest (GC, fsync, noise).
    const stalls = [];
    let tick = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      if (now - tick > 21) stalls.push({ end: now, ms: now - tick - 1 });
      tick = now;
    }, 1);
    const cpu0 = process.cpuUsage();
    loopDelay.enable();
    await Promise.all([ingest, querying]);
    stopped = true;
    await cleaning;
    gcObserver.disconnect();
    loopDelay.disable();
    clearInterval(ticker);
    const processCpuMs = cpuMsSince(cpu0);
    const wallMs = performance.now() - t0;
    const ingestSeconds = (lastAppendEnd - t0) / 1000;
    const cleanupCpuMs = runs.reduce((n, r) => n + r.cpuMs, 0);
    const statsCpuShare = store.stats().cleanup.cpuShare;

    await store.cleanup();
    const st = store.stats();
    const { removed } = st.cleanup.totals;
    const live = st.events;
    store.setRetention(undefined);
    const held = store.stats().events;
    const engineMemory = st.memory;
    await store.close();
    const heldAfterReopen = await (async () => {
      const s = await openEventStore({ dir });
      const n = s.stats().events;
      await s.close();
      return n;
    })();

    return {
      seconds,
      wallMs,
      heapLimit: getHeapStatistics().heap_size_limit,
      appended,
      ingestEventsPerSec: appended / ingestSeconds,
      targetRate: rate,
      queries,
      meanRows: queryRows / Math.max(1, queries),
      processCpuMs,
      cleanupCpuMs,
      statsCpuShare,
      loopDelayMs: {
        p50: loopDelay.percentile(50) / 1e6,
        p99: loopDelay.percentile(99) / 1e6,
        max: loopDelay.max / 1e6,
      },
      memoryAfterGc: afterGc,
      latency: Object.fromEntries(
        Object.entries(samples).map(([k, b]) => [k, { during: b.during.summary(), idle: b.idle.summary() }]),
      ),
      cleanupTimeShare: cleanups.reduce((n, c) => n + (c.end - c.start), 0) / wallMs,
      stalls: stalls.map(({ end, ms }) => {
        const during = overlapsCleanup(end - ms, end);
        // Time since the last cleanup ended (a GC of the table it replaced may follow it).
        const before = cleanups.filter((c) => c.end <= end - ms).at(-1);
        return {
          seconds: (end - t0) / 1000,
          ms,
          during,
          sinceCleanupMs: during || !before ? undefined : end - ms - before.end,
        };
      }),
      runs,
      memory,
      engineMemory,
      accounting: { appended, live, held, removed, heldAfterReopen },
      finalDiskBytes: await dirBytes(dir),
    };
  },
};

const VARIANTS = [
  { id: 'disk-archive', label: 'on disk + archive', disk: true, archive: true },
  { id: 'disk', label: 'on disk', disk: true, archive: false },
  { id: 'memory', label: 'in memory', disk: false, archive: false },
];

export async function run(ctx) {
  const plan = ctx.plan.soak;
  const c = plan.compressed;
  const compressed = [];
  const parts = ctx.soakParts ?? ['compressed', 'realtime'];
  const variants = parts.includes('compressed')
    ? VARIANTS.filter((x) => (c.variants ?? VARIANTS.map((y) => y.id)).includes(x.id))
    : [];
  for (const v of variants) {
    const base = await mkdtemp(join(ctx.tmp, `soak-${v.id}-`));
    const dir = v.disk ? join(base, 'store') : undefined;
    const archiveDir = v.archive ? join(base, 'archive') : undefined;
    if (dir) await mkdir(dir, { recursive: true });
    ctx.log(
      `soak: ${v.label}, ${fmtCount(c.simSeconds * c.rate)} events over ${fmtNum(c.simSeconds / 60, 1)} simulated min, ` +
        `maxAge ${c.maxAge}, cleanup every ${fmtNum(c.cleanupEvery / 1000)} simulated s`,
    );
    try {
      const r = await runTask(
        SELF,
        'compressed',
        { ...c, variant: v.id, dir, archiveDir, seed: ctx.seed },
        { onProgress: ctx.log },
      );
      compressed.push({ ...v, ...r });
    } catch (error) {
      ctx.log(`soak: ${v.label} failed: ${error.stack ?? error}`);
      compressed.push({ ...v, error: String(error.message ?? error) });
    } finally {
      if (!ctx.keep) await rm(base, { recursive: true, force: true });
    }
  }

  const r = {
    ...plan.realtime,
    seconds: ctx.soakSeconds ?? plan.realtime.seconds,
    heapMiB: ctx.soakHeap === undefined ? plan.realtime.heapMiB : ctx.soakHeap,
  };
  if (!parts.includes('realtime')) return { plan: { compressed: c, realtime: r }, compressed };
  const base = await mkdtemp(join(ctx.tmp, 'soak-realtime-'));
  ctx.log(
    `soak: real time, ${fmtNum(r.rate)} events/s for ${fmtNum(r.seconds)} s, maxAge ${r.maxAge}, ` +
      `cleanup every ${fmtNum(r.cleanupEvery / 1000)} s, a query every ${r.queryEveryMs} ms, ${heapBudgetLabel(r.heapMiB)}`,
  );
  let realtime;
  try {
    const execArgv = r.heapMiB ? [`--max-old-space-size=${r.heapMiB}`] : [];
    realtime = await runTask(
      SELF,
      'realtime',
      { ...r, dir: base, seed: ctx.seed },
      { execArgv, onProgress: ctx.log },
    );
  } catch (error) {
    ctx.log(`soak: real time failed: ${error.stack ?? error}`);
    realtime = { error: String(error.message ?? error) };
  } finally {
    if (!ctx.keep) await rm(base, { recursive: true, force: true });
  }
  return { plan: { compressed: c, realtime: r }, compressed, realtime };
}

// ---------------------------------------------------------------------------------------------
// Judging and reporting (also used by lib/targets.mjs)

const heapBudgetLabel = (heapMiB) =>
  heapMiB ? `heap budget --max-old-space-size=${heapMiB}` : "Node's default heap limit";

/** Post-warm-up samples: those taken after warmupWindows × maxAge. */
function afterWarmup(samples, seconds, maxAge, windows) {
  const from = (durationMs(maxAge) * windows) / 1000;
  return samples.filter((s) => seconds(s) >= from);
}

/**
 * Whether `values` stay within ±tolerance of their median: { median, min, max, worst (largest
 * relative deviation), flat }; undefined with fewer than 3 values.
 */
export function flatness(values, tolerance = 0.1) {
  if (values.length < 3) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const median = percentile(sorted, 50);
  const min = sorted[0];
  const max = sorted[sorted.length - 1];
  const worst = Math.max((max - median) / median, (median - min) / median);
  return { n: values.length, median, min, max, worst, flat: worst <= tolerance };
}

/** Mean of the first and of the last third of `values`, and their ratio: a drift flatness may hide. */
function thirds(values) {
  if (values.length < 3) return undefined;
  const third = Math.floor(values.length / 3);
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const first = mean(values.slice(0, third));
  const last = mean(values.slice(-third));
  return { first, last, ratio: last / first };
}

/** Memory and disk judgments of one compressed variant. */
export function compressedVerdict(v, plan) {
  const post = afterWarmup(v.samples, (s) => s.simSeconds, plan.maxAge, plan.warmupWindows);
  const rss = flatness(post.map((s) => s.rss));
  const heap = flatness(post.map((s) => s.heapUsed));
  const trend = thirds(post.map((s) => s.rss));
  const maxRss = Math.max(...v.samples.map((s) => s.rss));
  let disk;
  if (v.disk && post.length >= 3) {
    // Bounded: the last third of the post-warm-up samples holds no more than the first third
    // (+10%, + one segment: the log grows and shrinks a whole segment at a time).
    const third = Math.max(1, Math.floor(post.length / 3));
    const mean = (xs) => xs.reduce((a, s) => a + s.diskBytes, 0) / xs.length;
    const first = mean(post.slice(0, third));
    const last = mean(post.slice(-third));
    const max = Math.max(...post.map((s) => s.diskBytes));
    disk = { first, last, max, bounded: last <= first * 1.1 + plan.segmentSize };
  }
  const a = v.accounting;
  // Lost: events the store neither holds nor removed, plus (archive) removed ones not in the archive.
  const lost =
    a.appended -
    (a.held + a.removed) +
    (v.archive ? Math.max(0, a.removed - a.archivedInManifest) : 0) +
    Math.max(0, a.expectedLive - a.live) +
    (a.heldAfterReopen === undefined ? 0 : Math.max(0, a.held - a.heldAfterReopen));
  const simMs = plan.simSeconds * 1000;
  const working = v.runs.filter((x) => x.removed > 0);
  return {
    post: post.length,
    rss,
    heap,
    trend,
    maxRss,
    // Cleanup's CPU per run divided by the rows it looked at: every run scans the whole window to decide.
    cpuNsPerExaminedRow:
      (working.reduce((n, x) => n + x.cpuMs, 0) * 1e6) / working.reduce((n, x) => n + x.examined, 0),
    maxPauseMs: Math.max(0, ...working.map((x) => x.maxPauseMs ?? 0)),
    medianPauseMs: percentile(
      working.map((x) => x.maxPauseMs ?? 0).sort((a, b) => a - b),
      50,
    ),
    disk,
    lost,
    wrongLive: a.live - a.expectedLive,
    cleanupShareOfProcess: v.cleanupCpuMs / v.processCpuMs,
    cleanupShareOfSimulatedCore: v.cleanupCpuMs / simMs,
  };
}

export function realtimeVerdict(rt) {
  const q = rt.latency.query;
  const a = rt.accounting;
  const post = afterWarmup(rt.memory, (s) => s.seconds, rt.maxAge ?? '0s', 2);
  return {
    queryP99Ratio: ratio(q.during.p99, q.idle.p99),
    appendP99Ratio: ratio(rt.latency.append.during.p99, rt.latency.append.idle.p99),
    cleanupShare: rt.cleanupCpuMs / rt.processCpuMs,
    rss: flatness(post.map((s) => s.rss)),
    trend: thirds(post.map((s) => s.rss)),
    maxRss: Math.max(...rt.memory.map((s) => s.rss)),
    ...afterGcVerdict(rt),
    lost: a.appended - (a.held + a.removed) + Math.max(0, a.held - a.heldAfterReopen),
  };
}

/**
 * Flatness of the RSS sampled after each natural major GC, from 2 × maxAge on: of every sample, and
 * of the lowest in each cleanup interval (the floor). The floor is what is judged: a sample taken
 * the moment a GC ends can still count pages V8 and the allocator give back a few hundred
 * milliseconds later (seen: 288 MiB right after a GC, 254 MiB 0.6 s and one GC later, with the same
 * JS heap), while a climb in what memory holds lifts every floor.
 */
function afterGcVerdict(rt) {
  const post = afterWarmup(rt.memoryAfterGc ?? [], (s) => s.seconds, rt.maxAge ?? '0s', 2);
  const windowSeconds = (rt.cleanupEvery ?? 10_000) / 1000;
  const floors = new Map();
  for (const s of post) {
    const window = Math.floor(s.seconds / windowSeconds);
    floors.set(window, Math.min(floors.get(window) ?? Infinity, s.rss));
  }
  const floor = [...floors.values()];
  if (floor.length < 3) return { gcRss: undefined, gcFloor: undefined, gcSamples: post.length };
  return {
    gcRss: flatness(post.map((s) => s.rss)),
    gcFloor: flatness(floor),
    gcFloorTrend: thirds(floor),
    gcFloorWindows: floor.length,
    gcSamples: post.length,
  };
}

/**
 * Where the real-time run's memory went, minute by minute: RSS after the major GCs V8 ran on its
 * own (lowest and median), the JS heap and the ArrayBuffers (column chunks, posting lists) after
 * them, and what the store held and counted itself at the cleanups of that minute (median).
 */
function memoryByMinute(rt) {
  const minutes = Math.ceil(rt.seconds / 60);
  const median = (xs) =>
    xs.length === 0
      ? NaN
      : percentile(
          [...xs].sort((a, b) => a - b),
          50,
        );
  const rows = [];
  for (let minute = 0; minute < minutes; minute++) {
    const inMinute = (s) => s.seconds >= minute * 60 && s.seconds < (minute + 1) * 60;
    const gcs = (rt.memoryAfterGc ?? []).filter(inMinute);
    const at = rt.memory.filter(inMinute);
    const mb = (xs) => (xs.length === 0 ? '' : fmtMB(median(xs)));
    rows.push([
      `${minute}-${minute + 1}`,
      fmtNum(gcs.length),
      gcs.length === 0 ? '' : fmtMB(Math.min(...gcs.map((s) => s.rss))),
      mb(gcs.map((s) => s.rss)),
      mb(gcs.map((s) => s.heapUsed)),
      mb(gcs.filter((s) => s.arrayBuffers !== undefined).map((s) => s.arrayBuffers)),
      at.length === 0 || at[0].live === undefined ? '' : fmtCount(median(at.map((s) => s.live))),
      mb(at.filter((s) => s.engine).map((s) => s.engine.columns)),
      mb(at.filter((s) => s.engine).map((s) => s.engine.indexes)),
      mb(at.filter((s) => s.engine).map((s) => s.engine.dictionaries)),
    ]);
  }
  return [
    textTable(
      [
        'minute',
        'major GCs',
        'RSS min',
        'RSS p50',
        'heap',
        'ArrayBuffers',
        'live',
        'columns',
        'indexes',
        'dicts',
      ],
      rows,
    ),
    "  (MiB; RSS, heap and ArrayBuffers right after major GCs; live events and the store's own counts at the cleanups, median)",
  ];
}

const SPARK = '▁▂▃▄▅▆▇█';
/** A sparkline scaled from 0 to the largest value (so a flat series looks flat). */
export function sparkline(values) {
  const max = Math.max(...values);
  if (!(max > 0)) return '';
  return values.map((v) => SPARK[Math.min(7, Math.floor((v / max) * 7.999))]).join('');
}

/** At most `rows` evenly spaced items, always with the last one. */
function thin(items, rows) {
  const step = Math.max(1, Math.ceil((items.length - 1) / (rows - 1)));
  return items.filter((_, k) => k % step === 0 || k === items.length - 1);
}

const pct = (x) => (Number.isFinite(x) ? `${(x * 100).toFixed(x < 0.1 ? 2 : 1)}%` : '—');
const summary = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), max: s[s.length - 1], sum: xs.reduce((a, b) => a + b, 0) };
};

function compressedReport(v, plan, out) {
  out.push(`\n-- ${v.label} --`);
  if (v.error) {
    out.push(`FAILED: ${v.error}`);
    return;
  }
  const verdict = compressedVerdict(v, plan);
  out.push(
    `${fmtCount(v.appended)} events in ${fmtNum(v.wallMs / 1000)} s of wall time ` +
      `(appends alone ${fmtNum(v.appendEventsPerSec)} events/s), ${v.runs.length} cleanups`,
  );
  const rows = thin(v.samples, 13).map((s) => [
    `${fmtNum(s.simSeconds / 60, 1)}`,
    fmtCount(s.appended),
    fmtCount(s.live),
    fmtMB(s.rss),
    fmtMB(s.heapUsed),
    fmtMB(s.engine.columns),
    fmtMB(s.engine.indexes),
    fmtMB(s.engine.dictionaries),
    fmtMB(s.engine.records),
    v.disk ? fmtMB(s.diskBytes) : '',
  ]);
  out.push(
    textTable(
      ['sim min', 'appended', 'live', 'RSS', 'heap', 'columns', 'indexes', 'dicts', 'records', 'disk'],
      rows,
    ),
  );
  out.push(
    `  (MiB, after a full GC, sampled after each cleanup; ${v.samples.length} samples, ${thin(v.samples, 13).length} shown)`,
  );
  out.push(`  RSS  ${sparkline(v.samples.map((s) => s.rss))}  (0 to ${fmtMB(verdict.maxRss)} MiB)`);
  out.push(`  heap ${sparkline(v.samples.map((s) => s.heapUsed))}`);
  if (v.disk) out.push(`  disk ${sparkline(v.samples.map((s) => s.diskBytes))}`);
  const r = verdict.rss;
  out.push(
    r
      ? `  after warm-up (${plan.warmupWindows} × maxAge ${plan.maxAge}; ${r.n} samples): RSS median ${fmtMB(r.median)} MiB, ` +
          `range ${fmtMB(r.min)}-${fmtMB(r.max)}, worst ${pct(r.worst)} from the median: ${r.flat ? 'flat' : 'NOT flat'} (±10%); ` +
          `heap ${fmtMB(verdict.heap.min)}-${fmtMB(verdict.heap.max)} MiB (worst ${pct(verdict.heap.worst)}); ` +
          `RSS drift: last third ${fmtRatio(verdict.trend.ratio)} the first`
      : '  too few samples after warm-up to judge flatness',
  );
  if (verdict.disk)
    out.push(
      `  disk after warm-up: first third ${fmtMB(verdict.disk.first)} MiB, last third ${fmtMB(verdict.disk.last)} MiB, ` +
        `max ${fmtMB(verdict.disk.max)} MiB: ${verdict.disk.bounded ? 'bounded' : 'GROWING'}; at the end ${fmtMB(v.finalDiskBytes)} MiB` +
        (v.archive ? `; archive ${fmtMB(v.archiveBytes)} MiB in ${v.accounting.archiveFiles} files` : ''),
    );
  const working = v.runs.filter((x) => x.removed > 0);
  const d = summary(working.map((x) => x.durationMs));
  const cpu = summary(working.map((x) => x.cpuMs));
  const rm_ = summary(working.map((x) => x.removed));
  out.push(
    `  cleanup: ${working.length} runs with work; per run duration p50 ${fmtNum(d.p50)} ms (max ${fmtNum(d.max)}), ` +
      `CPU p50 ${fmtNum(cpu.p50)} ms (max ${fmtNum(cpu.max)}), removed p50 ${fmtCount(rm_.p50)}; ` +
      `totals: removed ${fmtCount(v.accounting.removed)}, freed ${fmtMB(v.accounting.bytesFreed)} MiB, CPU ${fmtNum(v.cleanupCpuMs)} ms, ` +
      `spans rewritten ${v.runs.reduce((a, x) => a + x.spansRewritten, 0)}, dropped ${v.runs.reduce((a, x) => a + x.spansDropped, 0)}`,
  );
  out.push(
    `  cleanup CPU: ${pct(verdict.cleanupShareOfProcess)} of the process's (stats().cleanup.cpuShare ${pct(v.statsCpuShare)}); ` +
      `${pct(verdict.cleanupShareOfSimulatedCore)} of one core per simulated second (what it would cost in real time); ` +
      `${fmtNum(verdict.cpuNsPerExaminedRow)} ns per row examined (every run scans the whole window to decide)`,
  );
  out.push(
    `  longest event-loop block inside a cleanup: p50 ${fmtNum(verdict.medianPauseMs)} ms, max ${fmtNum(verdict.maxPauseMs)} ms (per run)`,
  );
  const a = v.accounting;
  out.push(
    `  events: appended ${fmtNum(a.appended)} = held ${fmtNum(a.held)} + removed ${fmtNum(a.removed)}` +
      (v.archive
        ? ` (archived: ${fmtNum(a.archivedInManifest)} by the manifest, ${fmtNum(a.archivedReported)} by the reports)`
        : '') +
      `; live ${fmtNum(a.live)} vs expected ${fmtNum(a.expectedLive)}` +
      (a.heldAfterReopen !== undefined ? `; after reopen ${fmtNum(a.heldAfterReopen)}` : '') +
      ` → lost ${fmtNum(verdict.lost)}`,
  );
}

function realtimeReport(rt, out) {
  out.push(
    `\nReal time: ${fmtNum(rt.rate)} events/s target for ${fmtNum(rt.seconds)} s (on disk, fsync 'batch', maxAge ${rt.maxAge}, ` +
      `cleanup every ${fmtNum(rt.cleanupEvery / 1000)} s by timer, a query every ${rt.queryEveryMs} ms alternating a tag and a type query; ` +
      `${heapBudgetLabel(rt.heapMiB)}${rt.heapLimit ? `, V8 heap limit ${fmtMB(rt.heapLimit)} MiB` : ''})`,
  );
  if (rt.error) {
    out.push(`FAILED: ${rt.error}`);
    return;
  }
  const v = realtimeVerdict(rt);
  out.push(
    `  ingest ${fmtNum(rt.ingestEventsPerSec)} events/s (${fmtNum(rt.appended)} events); ${fmtNum(rt.queries)} queries, ` +
      `${fmtNum(rt.meanRows, 1)} rows each on average; event-loop delay p50 ${rt.loopDelayMs.p50.toFixed(1)} ms, ` +
      `p99 ${rt.loopDelayMs.p99.toFixed(1)} ms, max ${rt.loopDelayMs.max.toFixed(1)} ms`,
  );
  const L = rt.latency;
  const row = (label, b) => [
    label,
    fmtNum(b.idle.n),
    fmtUs(b.idle.p50),
    fmtUs(b.idle.p99),
    fmtNum(b.during.n),
    fmtUs(b.during.p50),
    fmtUs(b.during.p99),
    fmtUs(b.during.max),
    fmtRatio(ratio(b.during.p99, b.idle.p99)),
  ];
  out.push(
    textTable(
      ['µs', 'n idle', 'p50', 'p99', 'n cleanup', 'p50', 'p99', 'max', 'p99 ratio'],
      [
        row('query, from due time', L.query),
        row('  tag (desc, limit 100)', L.tag),
        row('  type (tail, limit 100)', L.type),
        row('query call alone', L.queryCall),
        row('append, from due time', L.append),
        row('append call alone', L.appendCall),
      ],
    ),
  );
  if (rt.stalls) {
    const measured = rt.stalls.filter((x) => x.seconds >= durationMs(rt.maxAge) / 1000);
    const part = (xs) =>
      xs.length
        ? `${xs.length} (max ${fmtNum(Math.max(...xs.map((x) => x.ms)))} ms, total ${fmtNum(xs.reduce((n, x) => n + x.ms, 0))} ms)`
        : 'none';
    out.push(
      `  event-loop stalls over 20 ms (from maxAge on): during cleanup ${part(measured.filter((x) => x.during))}; ` +
        `outside ${part(measured.filter((x) => !x.during))}`,
    );
  }
  const working = rt.runs.filter((x) => x.removed > 0);
  const d = summary(working.map((x) => x.durationMs));
  const cpu = summary(working.map((x) => x.cpuMs));
  out.push(
    `  cleanup: ${rt.runs.length} runs (${working.length} with work), duration p50 ${fmtNum(d.p50)} ms (max ${fmtNum(d.max)}), ` +
      `CPU p50 ${fmtNum(cpu.p50)} ms (max ${fmtNum(cpu.max)}); CPU share ${pct(v.cleanupShare)} of the process's ` +
      `(stats().cleanup.cpuShare ${pct(rt.statsCpuShare)}); ${pct(rt.cleanupCpuMs / rt.wallMs)} of one core; ` +
      `a cleanup was running ${pct(rt.cleanupTimeShare)} of the time`,
  );
  out.push(
    `  RSS (no forced GC) ${sparkline(rt.memory.map((s) => s.rss))} max ${fmtMB(v.maxRss)} MiB` +
      (v.rss
        ? `; after 2 × maxAge: median ${fmtMB(v.rss.median)}, range ${fmtMB(v.rss.min)}-${fmtMB(v.rss.max)}, worst ${pct(v.rss.worst)}, ` +
          `drift: last third ${fmtRatio(v.trend.ratio)} the first`
        : ''),
  );
  if (v.gcRss)
    out.push(
      `  RSS after each major GC (${v.gcSamples} after 2 × maxAge, none forced) ` +
        `${sparkline(thin(rt.memoryAfterGc ?? [], 120).map((s) => s.rss))}: median ${fmtMB(v.gcRss.median)}, ` +
        `range ${fmtMB(v.gcRss.min)}-${fmtMB(v.gcRss.max)}, worst ${pct(v.gcRss.worst)}`,
      `  its floor (lowest per cleanup interval, ${v.gcFloorWindows} intervals): median ${fmtMB(v.gcFloor.median)}, ` +
        `range ${fmtMB(v.gcFloor.min)}-${fmtMB(v.gcFloor.max)}, worst ${pct(v.gcFloor.worst)}, ` +
        `drift: last third ${fmtRatio(v.gcFloorTrend.ratio)} the first`,
    );
  out.push(...memoryByMinute(rt));
  const a = rt.accounting;
  out.push(
    `  events: appended ${fmtNum(a.appended)} = held ${fmtNum(a.held)} + removed ${fmtNum(a.removed)}; after reopen ${fmtNum(a.heldAfterReopen)} → lost ${fmtNum(v.lost)}`,
  );
}

export function report(section) {
  const out = [];
  const c = section.plan.compressed;
  out.push(
    `Time-compressed: a ManualClock, ${fmtNum(c.rate)} events/s of simulated time in appends of ${c.batch}, ` +
      `${fmtNum(c.simSeconds / 60, 1)} simulated min (${fmtCount(c.simSeconds * c.rate)} events), retention maxAge ${c.maxAge}, ` +
      `cleanup every ${fmtNum(c.cleanupEvery / 1000)} simulated s; on disk: fsync 'never', segments of ${fmtMB(c.segmentSize)} MiB`,
  );
  for (const v of section.compressed) compressedReport(v, c, out);
  if (section.realtime) realtimeReport({ ...section.plan.realtime, ...section.realtime }, out);
  return out.join('\n');
}

/** Target rows for lib/targets.mjs: [target, measured, at, ok]. */
export function soakTargets(section) {
  const rows = [];
  const c = section.plan.compressed;
  const ok = section.compressed.filter((v) => !v.error);
  const at = `${fmtCount(c.simSeconds * c.rate)} events, ${fmtNum(c.simSeconds / 60, 1)} sim min`;
  const failed = section.compressed.filter((v) => v.error).map((v) => v.label);
  const verdicts = ok.map((v) => ({ v, x: compressedVerdict(v, c) }));
  const judged = verdicts.filter(({ x }) => x.rss);
  rows.push([
    'soak: RSS flat within ±10% after warm-up (every variant)',
    judged.map(({ v, x }) => `${v.id} ${pct(x.rss.worst)}`).join(', ') || '—',
    at,
    judged.length === 0 || failed.length ? undefined : judged.every(({ x }) => x.rss.flat),
  ]);
  // In memory the store holds its records too: its RSS is shown, not judged against 1 GiB.
  const onDisk = verdicts.filter(({ v }) => v.disk);
  const inMemory = verdicts.find(({ v }) => !v.disk);
  rows.push([
    'soak: RSS ≤ 1 GiB (on disk)',
    onDisk.map(({ v, x }) => `${v.id} ${fmtMB(x.maxRss)} MiB`).join(', ') +
      (inMemory ? ` (in memory: ${fmtMB(inMemory.x.maxRss)} MiB, not judged)` : ''),
    at,
    onDisk.length ? onDisk.every(({ x }) => x.maxRss <= 1024 * MiB) : undefined,
  ]);
  const disks = verdicts.filter(({ x }) => x.disk);
  rows.push([
    'soak: store on disk stays bounded',
    disks.map(({ v, x }) => `${v.id} ${fmtMB(x.disk.first)} → ${fmtMB(x.disk.last)} MiB`).join(', ') || '—',
    at,
    disks.length ? disks.every(({ x }) => x.disk.bounded) : undefined,
  ]);
  rows.push([
    'soak: cleanup CPU ≤ 5% of a core at 10K events/s (compressed, per simulated s)',
    verdicts.map(({ v, x }) => `${v.id} ${pct(x.cleanupShareOfSimulatedCore)}`).join(', ') || '—',
    at,
    verdicts.length ? verdicts.every(({ x }) => x.cleanupShareOfSimulatedCore <= 0.05) : undefined,
  ]);
  // Only the parts that ran (--soak=compressed or realtime runs one).
  if (section.compressed.length === 0) rows.length = 0;
  const rt = section.realtime;
  const { heapMiB } = section.plan.realtime;
  const rtAt = `${fmtNum(section.plan.realtime.seconds)} s real time${heapMiB ? `, heap ${heapMiB} MiB` : ''}`;
  const rv = rt && !rt.error ? realtimeVerdict({ ...section.plan.realtime, ...rt }) : undefined;
  const lost = verdicts.reduce((n, { x }) => n + x.lost, 0) + (rv?.lost ?? 0);
  rows.push([
    'soak: no event lost (live + archived/removed = appended, also after reopen)',
    `${fmtNum(lost)} lost` + (verdicts.some(({ x }) => x.wrongLive) ? ' (live ≠ expected!)' : ''),
    [section.compressed.length ? at : '', rt ? rtAt : ''].filter(Boolean).join('; '),
    failed.length || (rt && !rv) || (!rv && verdicts.length === 0)
      ? undefined
      : lost === 0 && verdicts.every(({ x }) => x.wrongLive === 0),
  ]);
  if (rv) {
    rows.push([
      'soak: ingest keeps 10K events/s (≥ 99%)',
      `${fmtNum(rt.ingestEventsPerSec)} events/s`,
      rtAt,
      rt.ingestEventsPerSec >= 0.99 * section.plan.realtime.rate,
    ]);
    const q = rt.latency.query;
    rows.push([
      'soak: query p99 during cleanup ≤ 2× without',
      `${fmtRatio(rv.queryP99Ratio)} (${fmtUs(q.during.p99)} vs ${fmtUs(q.idle.p99)} µs)`,
      rtAt,
      Number.isNaN(rv.queryP99Ratio) ? undefined : rv.queryP99Ratio <= 2,
    ]);
    rows.push([
      'soak: cleanup CPU ≤ 5% of the process (real time)',
      `${pct(rv.cleanupShare)} (stats: ${pct(rt.statsCpuShare)})`,
      rtAt,
      rv.cleanupShare <= 0.05,
    ]);
    rows.push([
      'soak: RSS flat within ±10% (real time, after 2 × maxAge)',
      rv.rss ? `worst ${pct(rv.rss.worst)} (max ${fmtMB(rv.maxRss)} MiB)` : '—',
      rtAt,
      rv.rss ? rv.rss.flat : undefined,
    ]);
    rows.push([
      'soak: RSS floor after major GCs flat within ±10% (real time, after 2 × maxAge)',
      rv.gcFloor
        ? `worst ${pct(rv.gcFloor.worst)} (median ${fmtMB(rv.gcFloor.median)} MiB, ${rv.gcFloorWindows} intervals, ${rv.gcSamples} GCs)`
        : '—',
      rtAt,
      rv.gcFloor ? rv.gcFloor.flat : undefined,
    ]);
  }
  return rows;
}
