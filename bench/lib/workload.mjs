// A deterministic, seeded workload. Event i (0-based; sequence i + 1) is a pure function of
// (seed, i), so any process (a child measuring memory, a child killed mid-append) regenerates
// exactly the events the others saw, without holding them all in memory.

export const EVENTS_PER_AGGREGATE = 10;
/** Aggregates live side by side: this many are interleaved at any time, as in a busy system. */
export const ACTIVE_AGGREGATES = 1000;
export const BLOCK = EVENTS_PER_AGGREGATE * ACTIVE_AGGREGATES;
export const ISSUES = 100; // tag issueId: each value on ~1% of events
export const T0 = Date.UTC(2025, 0, 1);
export const STEP_MS = 20; // mean gap between event times: 1M events span ~5.5 hours
export const LATE_FRACTION = 0.03; // events whose timestamp is late (out of order)
export const LATE_MAX_MS = 5 * 60_000;
export const RANGE_WINDOW_MS = 100 * STEP_MS; // a window holding ~100 events

export const TYPES = [
  'WORKFLOW.STARTED',
  'WORKFLOW.COMPLETED',
  'TASK.CREATED',
  'TASK.ASSIGNED',
  'TASK.STARTED',
  'TASK.COMPLETED',
  'TASK.FAILED',
  'TASK.RETRIED',
  'AGENT.PROMPTED',
  'AGENT.RESPONDED',
  'TOOL.CALLED',
  'TOOL.RETURNED',
  'REVIEW.REQUESTED',
  'REVIEW.APPROVED',
  'REVIEW.REJECTED',
  'BUILD.STARTED',
  'BUILD.SUCCEEDED',
  'BUILD.FAILED',
  'DEPLOY.STARTED',
  'DEPLOY.FINISHED',
];
const PROVIDERS = ['github', 'gitlab', 'jira', 'linear'];
const STATUSES = ['ok', 'ok', 'ok', 'pending', 'error'];
const WORDS =
  'the agent ran tests on branch main and found two flaky cases in the parser module retry later'.split(' ');

// Zipf-like type frequencies (s = 1): the commonest type is ~28% of events, the rarest ~1.4%.
const TYPE_CDF = (() => {
  const weights = TYPES.map((_, k) => 1 / (k + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  let acc = 0;
  return weights.map((w) => (acc += w / total));
})();

/** 32-bit integer hash of (seed, i, salt): splitmix-style avalanche. */
export function hash32(seed, i, salt = 0) {
  let h =
    (Math.imul(i | 0, 0x9e3779b1) ^ Math.imul(Math.floor(i / 4294967296) + salt, 0x85ebca77) ^ seed) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

const unit = (seed, i, salt) => hash32(seed, i, salt) / 4294967296;

/** A seeded PRNG (mulberry32) for query parameters. */
export function createRng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n) };
}

export function createWorkload(seed = 42) {
  const aggregateOf = (i) => {
    const block = Math.floor(i / BLOCK);
    return block * ACTIVE_AGGREGATES + ((i % BLOCK) % ACTIVE_AGGREGATES);
  };
  const versionOf = (i) => Math.floor((i % BLOCK) / ACTIVE_AGGREGATES) + 1;
  const aggregateId = (a) =>
    `wf-${a.toString(36).padStart(6, '0')}-${(hash32(seed, a, 7) & 0xffff).toString(16)}`;
  const issueOf = (a) => hash32(seed, a, 3) % ISSUES;
  const issueId = (k) => `ISSUE-${1000 + k}`;
  const typeOf = (i) => {
    const u = unit(seed, i, 1);
    let k = 0;
    while (k < TYPES.length - 1 && TYPE_CDF[k] < u) k++;
    return TYPES[k];
  };
  const timestampOf = (i) => {
    const base = T0 + i * STEP_MS + (hash32(seed, i, 2) % STEP_MS);
    return unit(seed, i, 4) < LATE_FRACTION ? base - (hash32(seed, i, 5) % LATE_MAX_MS) : base;
  };

  /** The i-th event (0-based) as a NewEvent; its sequence in a fresh store is i + 1. */
  function event(i) {
    const a = aggregateOf(i);
    const h = hash32(seed, i, 6);
    const words = 3 + (h % 9);
    const parts = new Array(words);
    for (let w = 0; w < words; w++) parts[w] = WORDS[(h >>> (w * 3)) % WORDS.length];
    const note = parts.join(' '); // a flat string, as JSON.parse would make it
    const items = [];
    for (let k = 0; k < (h >>> 20) % 4; k++) items.push((h >>> (k * 5)) % 997);
    return {
      aggregateId: aggregateId(a),
      type: typeOf(i),
      timestamp: timestampOf(i),
      tags: { issueId: issueId(issueOf(a)), provider: PROVIDERS[hash32(seed, a, 8) % PROVIDERS.length] },
      payload: {
        step: versionOf(i),
        status: STATUSES[h % STATUSES.length],
        durationMs: h % 5000,
        note,
        items,
      },
      metadata: {
        correlationId: `c-${hash32(seed, a, 9).toString(16)}`,
        user: `user-${hash32(seed, a, 10) % 500}`,
      },
    };
  }

  function batch(start, count) {
    const out = new Array(count);
    for (let k = 0; k < count; k++) out[k] = event(start + k);
    return out;
  }

  /**
   * Query parameters for a store holding the first n events, drawn from a seeded PRNG so that
   * every engine answers the same questions in the same order.
   */
  function queryParams(n, count, paramSeed = seed ^ 0x5eed) {
    const rng = createRng(paramSeed + n);
    const complete = Math.floor(n / BLOCK) * ACTIVE_AGGREGATES || Math.max(1, aggregateOf(n - 1) + 1);
    const span = n * STEP_MS - RANGE_WINDOW_MS;
    const out = {
      getEvents: [],
      getEventsByType: [],
      getEventsInRange: [],
      queryAggregateType: [],
      queryTag: [],
    };
    for (let q = 0; q < count; q++) {
      out.getEvents.push({ aggregateId: aggregateId(rng.int(complete)) });
      out.getEventsByType.push({ type: TYPES[rng.int(TYPES.length)], afterSequence: rng.int(n), limit: 100 });
      const start = T0 + Math.floor(rng.next() * span);
      out.getEventsInRange.push({ start, end: start + RANGE_WINDOW_MS });
      const i = rng.int(n);
      out.queryAggregateType.push({ aggregateId: aggregateId(aggregateOf(i)), type: typeOf(i) });
      out.queryTag.push({
        key: 'issueId',
        value: issueId(rng.int(ISSUES)),
        afterSequence: rng.int(n),
        limit: 100,
      });
    }
    return out;
  }

  return { seed, event, batch, queryParams, aggregateId, aggregateOf, versionOf, typeOf, timestampOf };
}
