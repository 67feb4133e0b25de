import type { CleanupReport } from '../../../retention/cleanup-report.js';

// How cleanup divides its work into slices, with appends and queries running between them, and
// what those slices cost.

/**
 * Sizes slices by time rather than count: a row costs 20 ns to decide and over a microsecond to
 * archive, and more on a cold process (cleanup runs hourly, so its code is rarely hot). Each slice
 * aims at SLICE_MS, never more than the `most` asked for (CleanupOptions.sliceRows).
 */
export class Pacer {
  size: number;

  constructor(private readonly most: number) {
    this.size = Math.min(most, FIRST_SLICE);
  }

  /** Runs a slice of `units` (measured by `meter`), then sizes the next from how long it took. */
  timed<T>(units: number, work: () => T, meter: CpuMeter): T {
    const started = performance.now();
    const result = meter.slice(work);
    const took = performance.now() - started;
    if (units >= this.size) {
      const next = took > 0 ? Math.round((units * SLICE_MS) / took) : this.size * 2;
      this.size = Math.min(this.most, Math.max(MIN_SLICE, Math.min(next, this.size * 2)));
    }
    return result;
  }
}

const SLICE_MS = 1;
const FIRST_SLICE = 256;
const MIN_SLICE = 64;

/** CPU time spent in cleanup's own slices (not in the appends and queries that run between them). */
export class CpuMeter {
  constructor(private readonly report: CleanupReport) {}

  slice<T>(work: () => T): T {
    const before = process.cpuUsage();
    try {
      return work();
    } finally {
      const used = process.cpuUsage(before);
      this.report.cpuMs += (used.user + used.system) / 1000;
    }
  }

  /** The synchronous start of async work (what runs before its first await), measured as a slice. */
  async sliceAsync(work: () => Promise<void>): Promise<void> {
    await this.slice(work);
  }

  /**
   * Work that runs partly off the main thread (compression on the thread pool): all the process's
   * CPU time while it runs is counted, since that pool works for it. Appends and queries running
   * meanwhile are counted too: an overestimate, never an underestimate.
   */
  async measureAsync<T>(work: () => Promise<T>): Promise<T> {
    const before = process.cpuUsage();
    try {
      return await work();
    } finally {
      const used = process.cpuUsage(before);
      this.report.cpuMs += (used.user + used.system) / 1000;
    }
  }
}
