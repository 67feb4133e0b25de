import type { CleanupProgress, CleanupReport, CleanupStats } from '../../../retention/cleanup-report.js';
import type { CleanupHost } from './cleanup-host.js';
import type { CpuMeter } from './cleanup-slices.js';

// What the steps of one cleanup run share (cleanup.ts runs them in order), and how a run's report
// starts out and is added to the store's totals.

export interface CleanupRun {
  readonly host: CleanupHost;
  /** Rows per slice at most (CleanupOptions.sliceRows). */
  readonly slice: number;
  readonly meter: CpuMeter;
  readonly report: CleanupReport;
  /** The caller's onProgress (the latest run() call's, when one joined a running cleanup). */
  progress(progress: CleanupProgress): void;
  /** Lets appends and queries run; false when the store is closing and cleanup must stop. */
  yieldSlice(): Promise<boolean>;
}

export function newCleanupReport(now: number): CleanupReport {
  return {
    startedAt: new Date(now).toISOString(),
    durationMs: 0,
    cpuMs: 0,
    examined: 0,
    removed: 0,
    archived: 0,
    tombstoned: 0,
    bytesFreed: 0,
    spansRewritten: 0,
    spansDropped: 0,
    removedInPlace: 0,
    erasedFromArchive: 0,
    deferred: false,
  };
}

/** Ends the report (its duration, from `started`) and adds it to the totals. */
export function recordCleanupRun(stats: CleanupStats, report: CleanupReport, started: number): CleanupReport {
  report.durationMs = performance.now() - started;
  stats.runs++;
  stats.lastRun = report;
  stats.totals.removed += report.removed;
  stats.totals.archived += report.archived;
  stats.totals.tombstoned += report.tombstoned;
  stats.totals.bytesFreed += report.bytesFreed;
  stats.totals.cpuMs += report.cpuMs;
  return report;
}
