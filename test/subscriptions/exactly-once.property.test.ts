/**
 * The subscription's promise under interleavings: every matching event exactly once, in sequence
 * order, across the catch-up → live switch, with appends in flight while it reads the log, a
 * consumer that pauses at random, buffers small enough to overflow (and fall back to the log), and
 * on a durable store, where an append is visible to reads before its fsync resolves and its commit
 * is announced, and with catch-up reads answered late (a plugin holds them) while commits land.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { f, ManualClock, openEventStore, type StoredEvent, type StorePlugin } from '../../src/index.js';
import { turn } from '../../src/support/turn.js';
import { removeDir, tempDir, turnsUntil } from '../support/helpers.js';

const T0 = Date.UTC(2024, 0, 1);
const TYPES = ['A', 'B', 'C'] as const;

const step = fc.oneof(
  fc.record({
    kind: fc.constant('append' as const),
    types: fc.array(fc.constantFrom(...TYPES), { minLength: 1, maxLength: 8 }),
    wait: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('pause' as const), turns: fc.integer({ min: 0, max: 4 }) }),
);

const scenario = fc.record({
  initial: fc.array(fc.constantFrom(...TYPES), { maxLength: 40 }),
  steps: fc.array(step, { maxLength: 40 }),
  consumerPauses: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 20 }),
  batchSize: fc.integer({ min: 1, max: 16 }),
  bufferEvents: fc.integer({ min: 1, max: 24 }),
  filtered: fc.boolean(),
  afterFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  /** Turns each catch-up read is held after the engine answered: commits land while it is "in flight". */
  readDelays: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 8 }),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer S> ? S : never;

const appendOf = (types: readonly string[]) =>
  types.map((type, i) => ({ aggregateId: `agg-${i % 3}`, type, payload: { type } }));

/**
 * A plugin that holds each global read's answer for some turns, as a slow engine or a remote database
 * would: appends committed (and announced) meanwhile are not in the answer.
 */
function slowReads(delays: readonly number[]): StorePlugin {
  let reads = 0;
  return {
    name: 'slow-reads',
    async aroundRead(call, next) {
      const result = await next();
      if (call.kind !== 'global') return result;
      const delay = delays[reads++ % delays.length] as number;
      for (let t = 0; t < delay; t++) await turn();
      return result;
    },
  };
}

async function run(input: Scenario, dir: string | undefined): Promise<void> {
  const store = await openEventStore({
    clock: new ManualClock(T0),
    plugins: [slowReads(input.readDelays)],
    ...(dir === undefined ? {} : { dir, fsync: 'batch' as const }),
  });
  try {
    if (input.initial.length > 0) await store.append(appendOf(input.initial));
    const after = Math.floor(input.afterFraction * input.initial.length);
    const where = input.filtered ? f.in('type', ['A', 'C']) : undefined;
    const caughtUp: { sequence: number; position: number }[] = [];
    const sub = store.subscribe({
      after,
      batchSize: input.batchSize,
      buffer: { events: input.bufferEvents },
      ...(where === undefined ? {} : { where }),
      onCaughtUp: (sequence) => caughtUp.push({ sequence, position: sub.position }),
    });
    const received: number[] = [];
    let maxBuffered = 0;
    const consumer = (async () => {
      let i = 0;
      for await (const event of sub) {
        received.push(event.sequence);
        maxBuffered = Math.max(maxBuffered, sub.buffered.events);
        const pause = input.consumerPauses[i++ % input.consumerPauses.length] as number;
        for (let t = 0; t < pause; t++) await turn();
      }
    })();

    const inFlight: Promise<unknown>[] = [];
    for (const s of input.steps) {
      if (s.kind === 'pause') {
        for (let t = 0; t < s.turns; t++) await turn();
        continue;
      }
      const appending = store.append(appendOf(s.types));
      if (s.wait) await appending;
      else inFlight.push(appending);
    }
    await Promise.all(inFlight);

    // The oracle: the store's own read, filtered the same way.
    const all = (await store.read()) as StoredEvent[];
    const expected = all
      .filter((event) => event.sequence > after)
      .filter((event) => !input.filtered || event.type === 'A' || event.type === 'C')
      .map((event) => event.sequence);
    await turnsUntil(() => received.length >= expected.length && sub.live, 20_000);
    // A few more turns: a duplicate would show up now.
    for (let t = 0; t < 10; t++) await turn();
    expect(received).toEqual(expected);
    expect(sub.live).toBe(true);
    expect(maxBuffered).toBeLessThanOrEqual(input.bufferEvents);
    // onCaughtUp: at rising sequences, each once everything up to it was handed out.
    expect(caughtUp.length).toBeGreaterThan(0);
    for (const [i, call] of caughtUp.entries()) {
      expect(call.position).toBeGreaterThanOrEqual(call.sequence);
      if (i > 0)
        expect(call.sequence).toBeGreaterThanOrEqual((caughtUp[i - 1] as { sequence: number }).sequence);
    }
    expect(caughtUp.at(-1)?.sequence).toBeLessThanOrEqual(all.length);
    await sub.close();
    await consumer;
  } finally {
    await store.close();
  }
}

describe('subscriptions: exactly once, in order', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await removeDir(dir);
  });

  test('in memory, across the switch to live, with concurrent appends, pauses and overflows', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, (input) => run(input, undefined)),
      { numRuns: 150 },
    );
  }, 120_000);

  test('on a durable store (fsync batch: appends visible before their commit is announced)', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (input) => {
        const dir = await tempDir();
        dirs.push(dir);
        await run(input, dir);
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});
