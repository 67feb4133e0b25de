// How much each mode measures. Quick: a few minutes; full: well under an hour on 2 cores.
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
    scanRows: 1_000_000,
  },
  full: {
    ...common,
    sizes: [100_000, 1_000_000, 10_000_000],
    queryBudgetMs: 20_000,
    naiveHeapMB: 16_384, // ~1.2 KB of heap per naive event object
    memoryCurveEvents: 10_000_000,
    sqliteFull: true,
    scanRows: 10_000_000,
  },
};
