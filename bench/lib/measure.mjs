// Times query methods: warm-up, then each call timed alone with process.hrtime.bigint().
import { summarize } from './stats.mjs';
import { gc } from './memory.mjs';

export const QUERY_METHODS = [
  'getEvents',
  'getEventsByType',
  'getEventsInRange',
  'queryAggregateType',
  'queryTag',
];

export const QUERY_LABELS = {
  getEvents: 'getEvents (aggregate, ~10)',
  getEventsByType: 'getEventsByType limit 100',
  getEventsInRange: 'getEventsInRange (~100)',
  queryAggregateType: 'queryEvents aggregate+type',
  queryTag: 'queryEvents tag issueId limit 100',
};

/** Checksum of a result: its length and the sum of its sequences, to compare engines' answers. */
const fingerprint = (rows) => {
  let sum = 0;
  for (const r of rows) sum = (sum + r.sequence) % 2147483647;
  return `${rows.length}:${sum}`;
};

/**
 * Runs fn over params[0..iterations) (stopping early once budgetMs is spent, after at least
 * minSamples), after `warmup` calls on warmupParams (stopping early after a fifth of the budget).
 * Returns a latency summary (µs), the mean rows returned, and fingerprints of the first `check` answers.
 */
export async function measureQueries(fn, params, warmupParams, options) {
  const { iterations, warmup, budgetMs, minSamples = 30, check = 200 } = options;
  const warmDeadline = Date.now() + budgetMs / 5;
  for (let k = 0; k < Math.min(warmup, warmupParams.length); k++) {
    await fn(warmupParams[k]);
    if (k >= 5 && Date.now() > warmDeadline) break;
  }
  gc();
  const samples = [];
  const fingerprints = [];
  let rows = 0;
  const deadline = Date.now() + budgetMs;
  for (let k = 0; k < Math.min(iterations, params.length); k++) {
    const t = process.hrtime.bigint();
    const result = await fn(params[k]);
    samples.push(Number(process.hrtime.bigint() - t));
    rows += result.length;
    if (k < check) fingerprints.push(fingerprint(result));
    if (samples.length >= minSamples && Date.now() > deadline) break;
  }
  return { ...summarize(samples), rows: rows / samples.length, fingerprints };
}
