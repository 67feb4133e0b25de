// Appends workload events to an engine, timing only the append calls (not event generation).
import { sampleMemory } from './memory.mjs';

const now = () => process.hrtime.bigint();

/**
 * Appends events [from, to) in batches of batchSize (1: one append call per event).
 * Returns { events, appendNs, samples, latencies? }: samples (every sampleEvery events) are memory
 * readings; latencies (with options.latencies) are the ns of each append call.
 */
export async function loadEvents(engine, workload, from, to, options = {}) {
  const {
    batchSize = 1000,
    sampleEvery = 0,
    progress,
    progressEvery = 1_000_000,
    label = engine.name,
  } = options;
  const latencies = options.latencies ? [] : undefined;
  let appendNs = 0n;
  const samples = [];
  const started = Date.now();
  for (let i = from; i < to; i += batchSize) {
    const count = Math.min(batchSize, to - i);
    if (batchSize === 1) {
      const event = workload.event(i);
      const t = now();
      await engine.appendOne(event);
      const ns = now() - t;
      appendNs += ns;
      latencies?.push(Number(ns));
    } else {
      const events = workload.batch(i, count);
      const t = now();
      await engine.append(events);
      const ns = now() - t;
      appendNs += ns;
      latencies?.push(Number(ns));
    }
    const done = i + count;
    if (sampleEvery && done % sampleEvery === 0) samples.push(sampleMemory(done));
    if (progress && done % progressEvery === 0 && done < to) {
      progress(
        `${label}: ${done.toLocaleString('en-US')} events (${((Date.now() - started) / 1000).toFixed(0)} s)`,
      );
    }
  }
  return { events: to - from, appendNs: Number(appendNs), samples, latencies };
}
