/** Summary of repeated measurements, in microseconds. */
export interface Timing {
  runs: number;
  median: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function summarize(samples: Float64Array): Timing {
  const sorted = Float64Array.from(samples).sort();
  return {
    runs: sorted.length,
    median: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : 0,
  };
}

/**
 * Times `runs` calls of `fn` one after another (each awaited, so a call's cost includes its
 * promise), after `warmup` untimed calls that let the JIT and the block cache settle. Returns the
 * timing and the mean of what `fn` returned (the result size).
 */
export async function measure(
  runs: number,
  warmup: number,
  fn: (run: number) => Promise<number>,
): Promise<{ timing: Timing; meanResult: number }> {
  for (let i = 0; i < warmup; i++) await fn(runs + i);
  const samples = new Float64Array(runs);
  let results = 0;
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    results += await fn(i);
    samples[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  return { timing: summarize(samples), meanResult: runs > 0 ? results / runs : 0 };
}
