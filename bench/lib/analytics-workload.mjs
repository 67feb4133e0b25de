// The analytics suite's workload: flights through a 20-step process, spread over 30 days. Generated
// in order from a seeded PRNG, in chunks of columns, so that the tamma child and the DuckDB child
// build exactly the same rows without holding them twice (event i has sequence i + 1 in both).
//
// - Aggregates (flights) live side by side: ACTIVE = n / 10,000 of them at any time (100 at 1M, 1,000
//   at 10M); each event picks one at random, so a flight's events are ~259 s apart at any size (30 days
//   over n events, times ACTIVE) and a 10-minute window holds one or two of its next events.
// - A flight has 1-16 events (90%) or 20-28 (10%): ~10 on average, so ~100K flights at 1M events and
//   ~1M at 10M; the long ones can reach the 20th step of the funnel.
// - Types: the 20 STEPS. A flight at step p emits STEPS[p] with probability 0.85 (and moves on), else
//   a random type: funnels, patterns and HAVING have work to do.
// - Timestamps: spread evenly over SPAN_MS from T0, with jitter; 3% are up to 15 minutes late (out of
//   order: per-flight order by timestamp differs from sequence order).
// - tags.origin: one of 300 airports per flight. payload.delay: minutes (one decimal), log-normal,
//   missing on 5% of events. payload.seats (integer), payload.fuel and payload.distance: numeric fields
//   no query touches before the first-extraction measurement.
import { createRng } from './workload.mjs';

export const T0 = Date.UTC(2025, 0, 1);
export const SPAN_MS = 30 * 86_400_000;
export const EVENTS_PER_ACTIVE = 10_000;
export const ORIGINS = 300;
export const MISSING_DELAY = 0.05;
export const LATE_FRACTION = 0.03;
export const LATE_MAX_MS = 15 * 60_000;
export const STEPS = [
  'FLIGHT.SCHEDULED',
  'FLIGHT.GATE_ASSIGNED',
  'CREW.CHECKED_IN',
  'FLIGHT.BOARDING_OPENED',
  'PASSENGERS.BOARDED',
  'CARGO.LOADED',
  'FLIGHT.FUELLED',
  'DOORS.CLOSED',
  'FLIGHT.PUSHBACK',
  'FLIGHT.TAXI_OUT',
  'FLIGHT.TAKEOFF',
  'FLIGHT.CLIMB',
  'FLIGHT.CRUISE',
  'FLIGHT.DESCENT',
  'FLIGHT.APPROACH',
  'FLIGHT.LANDED',
  'FLIGHT.TAXI_IN',
  'FLIGHT.AT_GATE',
  'BAGS.DELIVERED',
  'FLIGHT.CLOSED',
];
/** The pattern queries' A and B: consecutive steps, so B often follows A within 10 minutes. */
export const PATTERN_A = STEPS[3];
export const PATTERN_B = STEPS[4];

const PROGRESS = 0.85;
const CHUNK = 16_384;

/** Three-letter airport codes, fixed by index. */
const ORIGIN_CODES = Array.from({ length: ORIGINS }, (_, k) => {
  const x = (k * 7919 + 104_729) % 17_576; // 26³, a permutation step coprime with it
  return String.fromCharCode(65 + Math.floor(x / 676), 65 + (Math.floor(x / 26) % 26), 65 + (x % 26));
});

/**
 * Calls onChunk(chunk) for consecutive chunks of the n events, in order. A chunk holds columns:
 * { start, length, aggregateId: string[], type: string[], ts: Float64Array (epoch ms), origin:
 * string[], delay: Float64Array (NaN: missing), seats, fuel, distance: Float64Array }.
 */
export async function generateAnalytics(seed, n, onChunk) {
  const rng = createRng(seed ^ 0xa11a);
  const active = Math.max(10, Math.round(n / EVENTS_PER_ACTIVE));
  const step = SPAN_MS / n;
  let nextAggregate = 0;
  const newFlight = () => {
    const a = nextAggregate++;
    const long = rng.next() < 0.1;
    return {
      id: `fl-${a.toString(36).padStart(6, '0')}`,
      left: long ? 20 + rng.int(9) : 1 + rng.int(16),
      progress: 0,
      origin: ORIGIN_CODES[rng.int(ORIGINS)],
    };
  };
  const slots = Array.from({ length: active }, newFlight);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  for (let start = 0; start < n; start += CHUNK) {
    const length = Math.min(CHUNK, n - start);
    const chunk = {
      start,
      length,
      aggregateId: new Array(length),
      type: new Array(length),
      ts: new Float64Array(length),
      origin: new Array(length),
      delay: new Float64Array(length),
      seats: new Float64Array(length),
      fuel: new Float64Array(length),
      distance: new Float64Array(length),
    };
    for (let k = 0; k < length; k++) {
      const i = start + k;
      const slot = rng.int(active);
      const flight = slots[slot];
      chunk.aggregateId[k] = flight.id;
      chunk.origin[k] = flight.origin;
      if (flight.progress < STEPS.length && rng.next() < PROGRESS) chunk.type[k] = STEPS[flight.progress++];
      else chunk.type[k] = STEPS[rng.int(STEPS.length)];
      let ts = Math.floor(T0 + i * step + rng.next() * step);
      if (rng.next() < LATE_FRACTION) ts -= rng.int(LATE_MAX_MS);
      chunk.ts[k] = ts;
      chunk.delay[k] =
        rng.next() < MISSING_DELAY
          ? NaN
          : Math.max(0.1, Math.round(Math.exp(2.5 + 1.2 * normal()) * 10) / 10);
      chunk.seats[k] = 50 + rng.int(351);
      chunk.fuel[k] = Math.round(rng.next() * 1e6) / 100;
      chunk.distance[k] = 100 + rng.int(9_900);
      if (--flight.left === 0) slots[slot] = newFlight();
    }
    await onChunk(chunk);
  }
  return { aggregates: nextAggregate, active };
}

/** A chunk's rows as NewEvents for store.append (a missing delay is left out of the payload). */
export function chunkEvents(chunk) {
  const events = new Array(chunk.length);
  for (let k = 0; k < chunk.length; k++) {
    const delay = chunk.delay[k];
    const payload = Number.isNaN(delay)
      ? { seats: chunk.seats[k], fuel: chunk.fuel[k], distance: chunk.distance[k] }
      : { delay, seats: chunk.seats[k], fuel: chunk.fuel[k], distance: chunk.distance[k] };
    events[k] = {
      aggregateId: chunk.aggregateId[k],
      type: chunk.type[k],
      timestamp: chunk.ts[k],
      tags: { origin: chunk.origin[k] },
      payload,
    };
  }
  return events;
}
