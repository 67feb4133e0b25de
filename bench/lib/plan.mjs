// How much each mode measures. Quick: a few minutes; full: well under an hour on 2 cores; long: the
// full plan with the soak suite at the length (1 simulated hour, 10 minutes of real time).

/**
 * The soak suite (issue 4): a steady 10K events/s under retention.
 *  - compressed: a ManualClock advances batch / rate per append; cleanup every cleanupEvery (simulated
 *    ms); memory is judged after a warm-up of warmupWindows × maxAge.
 *  - realtime: paced appends on the system clock, a query every queryEveryMs, cleanup every cleanupEvery
 *    ms by timer. seconds is overridden by --long=hour (3600). heapMiB is the child's
 *    --max-old-space-size (--soak-heap overrides it); why it has one: bench/README.md, *The soak suite*.
 */
const soakCommon = { rate: 10_000, batch: 100, segmentSize: 32 * 1024 * 1024, warmupWindows: 2 };
const realtimeCommon = { ...soakCommon, heapMiB: 512 };
const SOAK = {
  quick: {
    compressed: { ...soakCommon, simSeconds: 60, maxAge: '10s', cleanupEvery: 2_000 },
    realtime: { ...realtimeCommon, seconds: 20, maxAge: '5s', cleanupEvery: 2_000, queryEveryMs: 5 },
  },
  full: {
    compressed: { ...soakCommon, simSeconds: 600, maxAge: '2m', cleanupEvery: 15_000 },
    realtime: { ...realtimeCommon, seconds: 90, maxAge: '20s', cleanupEvery: 5_000, queryEveryMs: 5 },
  },
  long: {
    compressed: { ...soakCommon, simSeconds: 3600, maxAge: '5m', cleanupEvery: 60_000 },
    realtime: { ...realtimeCommon, seconds: 600, maxAge: '2m', cleanupEvery: 10_000, queryEveryMs: 5 },
  },
};
/**
 * The restore suite: a store of `events` (then `extra` more after cleanup), the oldest expireFraction
 * archived by one cleanup; a small range of smallRange events restored smallRepeats times, then all.
 */
const restoreCommon = {
  extraFraction: 0.1,
  expireFraction: 0.3,
  smallRange: 10_000,
  smallRepeats: 3,
  readEveryMs: 5,
  idleReadMs: 1_000,
};
/**
 * The analytics suite: per size, `runs` timed runs of each query after `warmup` untimed ones; a query
 * stops early (at 3 timed runs, and the report says so) once it has spent budgetMs. Up to
 * semanticsMaxEvents, DuckDB's answers are also checked against the library's pure semantics functions.
 */
const analyticsCommon = { runs: 11, warmup: 2, semanticsMaxEvents: 1_000_000 };
const common = {
  appendEvents: 1_000_000, // batched appends (1000 per call)
  oneAtATimeEvents: 100_000, // one append call per event
  alwaysOneAtATimeEvents: 5_000, // one call per event under fsync 'always' / synchronous=FULL: one fsync each
  iterations: 2000, // random queries per method and size, after the warm-up
  warmup: 200,
  killAfterEvents: 1_500_000, // SIGKILL after this many acknowledged events (a checkpoint is at 1M)
  scanIterations: 31, // timed full scans per variant and filter, after 5 warm-up runs
};

export const PLANS = {
  quick: {
    ...common,
    sizes: [100_000, 1_000_000],
    queryBudgetMs: 4_000, // per method and size; slow engines stop early (with at least 30 samples)
    naiveHeapMB: 4096,
    memoryCurveEvents: 1_000_000,
    sqliteFull: false, // also measure sqlite with synchronous=FULL (the peer of fsync 'always')
    indexes: {
      sizes: [1_000_000],
      iterations: 500, // random queries per query and variant, each with other constants
      warmup: 50,
      budgetMs: 1_500, // per query and variant; stops early with at least 30 samples
      scanIterations: 10, // full scans (forced, or no index serves): at least one, within scanBudgetMs
      scanBudgetMs: 3_000,
      scanMaxEvents: 1_000_000, // and none above this size (one takes about 10 s at 1M)
    },
    scanRows: 1_000_000,
    soak: SOAK.quick,
    restore: { ...restoreCommon, events: 100_000 },
    analytics: { ...analyticsCommon, sizes: [1_000_000], budgetMs: 15_000 },
  },
  full: {
    ...common,
    sizes: [100_000, 1_000_000, 10_000_000],
    queryBudgetMs: 20_000,
    naiveHeapMB: 16_384, // ~1.2 KB of heap per naive event object
    memoryCurveEvents: 10_000_000,
    sqliteFull: true,
    indexes: {
      sizes: [1_000_000, 10_000_000],
      iterations: 1000,
      warmup: 100,
      budgetMs: 3_000,
      scanIterations: 10,
      scanBudgetMs: 6_000,
      scanMaxEvents: 1_000_000, // a full scan of 10M events: about 2 minutes each
    },
    scanRows: 10_000_000,
    soak: SOAK.full,
    restore: { ...restoreCommon, events: 1_000_000 },
    analytics: { ...analyticsCommon, sizes: [1_000_000, 10_000_000], budgetMs: 90_000 },
  },
};
PLANS.long = { ...PLANS.full, soak: SOAK.long };
