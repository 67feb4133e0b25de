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

// Fields for the indexes suite only (createWorkload(seed, { indexFields: true })). Off by default, so
// the events every other suite stores and measures stay exactly what they were.
export const TENANTS = 50; // tags.tenant, per aggregate: each tenant on ~2% of events
export const CUSTOMER_BLOCK = 100_000; // tags.customer: CUSTOMERS_PER_BLOCK customers in each block of
export const CUSTOMERS_PER_BLOCK = 2_000; // 100K events, ~50 events each (Poisson), spread over the block
export const AMOUNT_MAX = 1_000_000; // payload.amount: an integer, uniform in [0, AMOUNT_MAX)
export const RANGE_FRACTION = 0.001; // the amount range query selects ~0.1% of the events
export const COMPOSITE_ROWS = 50; // the tenant + amount range query selects ~50 events at any size

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

/**
 * @param {number} seed
 * @param {{ indexFields?: boolean }} options indexFields: add tags.tenant, tags.customer and
 *   payload.amount (see TENANTS, CUSTOMER_BLOCK, AMOUNT_MAX) for the indexes suite.
 */
export function createWorkload(seed = 42, { indexFields = false } = {}) {
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

  const tenant = (k) => `tenant-${k}`;
  const tenantOf = (a) => hash32(seed, a, 11) % TENANTS;
  const customer = (block, k) => `cust-${block}-${k}`;
  const customerOf = (i) =>
    customer(Math.floor(i / CUSTOMER_BLOCK), hash32(seed, i, 12) % CUSTOMERS_PER_BLOCK);
  const amountOf = (i) => hash32(seed, i, 13) % AMOUNT_MAX;

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
    if (indexFields) return withIndexFields(i, a, h, note, items);
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

  /** The same event with tags.tenant, tags.customer and payload.amount added. */
  function withIndexFields(i, a, h, note, items) {
    return {
      aggregateId: aggregateId(a),
      type: typeOf(i),
      timestamp: timestampOf(i),
      tags: {
        issueId: issueId(issueOf(a)),
        provider: PROVIDERS[hash32(seed, a, 8) % PROVIDERS.length],
        tenant: tenant(tenantOf(a)),
        customer: customerOf(i),
      },
      payload: {
        step: versionOf(i),
        status: STATUSES[h % STATUSES.length],
        durationMs: h % 5000,
        amount: amountOf(i),
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

  /**
   * Parameters for the indexes suite over the first n events (n a multiple of CUSTOMER_BLOCK), from a
   * seeded PRNG as queryParams: every engine answers the same questions, each with other constants.
   *  - customer: a customer that exists (~50 events); missing: one that does not (an empty lookup);
   *  - composite: a tenant and an amount range holding ~COMPOSITE_ROWS of its events;
   *  - missingTenant: the same shape with a tenant that does not exist (an empty lookup);
   *  - range: an amount range holding ~RANGE_FRACTION of all events.
   */
  function indexQueryParams(n, count, paramSeed = seed ^ 0x1de5) {
    const rng = createRng(paramSeed + n);
    const blocks = Math.max(1, Math.floor(n / CUSTOMER_BLOCK));
    const compositeWidth = Math.max(1, Math.round((AMOUNT_MAX * COMPOSITE_ROWS * TENANTS) / n));
    const rangeWidth = Math.round(AMOUNT_MAX * RANGE_FRACTION);
    const out = { customer: [], missing: [], composite: [], range: [], missingTenant: [] };
    for (let q = 0; q < count; q++) {
      out.customer.push({ customer: customer(rng.int(blocks), rng.int(CUSTOMERS_PER_BLOCK)) });
      out.missing.push({ customer: customer(blocks + rng.int(1000), rng.int(CUSTOMERS_PER_BLOCK)) });
      const low = rng.int(AMOUNT_MAX - compositeWidth);
      out.composite.push({ tenant: tenant(rng.int(TENANTS)), low, high: low + compositeWidth - 1 });
      const from = rng.int(AMOUNT_MAX - rangeWidth);
      out.range.push({ low: from, high: from + rangeWidth - 1 });
      const other = rng.int(AMOUNT_MAX - compositeWidth);
      out.missingTenant.push({
        tenant: tenant(TENANTS + rng.int(1000)),
        low: other,
        high: other + compositeWidth - 1,
      });
    }
    return out;
  }

  return {
    seed,
    event,
    batch,
    queryParams,
    indexQueryParams,
    aggregateId,
    aggregateOf,
    versionOf,
    typeOf,
    timestampOf,
  };
}
