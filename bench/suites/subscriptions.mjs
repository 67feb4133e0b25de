// Subscriptions (issue 17, items 1 and 7): append → consumer delivery latency with 1, 100 and 1,000
// subscribers while a producer appends at a steady rate (10K events/s), and what one stalled
// subscriber costs the store. Each configuration runs in its own process.
//
// Delivery: the producer appends a batch every `tickMs`, keeping to the rate by the clock; each event
// carries performance.now() at its append call, and every subscriber records now − that on receipt,
// in one fixed-memory histogram. Every subscriber also checks it got each sequence once, in order.
// After the producing time, the run waits for every subscriber to drain, and reports how long that
// took: a configuration that cannot keep up shows it there (and in its overflows), not as loss.
//
// Stalled: one subscriber takes an event and stops while the producer appends; the figures are its
// live buffer at most, the heap it keeps (measured by closing it: heap after a GC, before and after),
// and the process's RSS, beside a process that appends the same events with no subscriber.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { runTask } from '../lib/child.mjs';
import { gc, sampleMemory } from '../lib/memory.mjs';
import { fmtCount, fmtMB, fmtNum, LatencyHistogram, textTable } from '../lib/stats.mjs';

const SELF = import.meta.url;
const MiB = 1024 * 1024;
const PLAN = {
  quick: { subscribers: [1, 10, 100, 1000], rate: 10_000, seconds: 2, stalledEvents: 100_000 },
  full: { subscribers: [1, 10, 100, 1000], rate: 10_000, seconds: 10, stalledEvents: 500_000 },
  long: { subscribers: [1, 10, 100, 1000], rate: 10_000, seconds: 30, stalledEvents: 1_000_000 },
};
const TICK_MS = 10;
/** How long the subscribers may take to drain after the producer stops. */
const DRAIN_LIMIT_MS = 60_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const tasks = {
  async delivery({ lib, subscribers, rate, seconds }, ctx) {
    const { openEventStore } = await import(pathToFileURL(lib).href);
    const store = await openEventStore({});
    const histogram = new LatencyHistogram();
    const warmup = rate / 2;
    const consumers = [];
    let faults = 0;
    let caughtUp = 0;
    for (let k = 0; k < subscribers; k++) {
      const sub = store.subscribe({ onCaughtUp: () => caughtUp++ });
      const state = { sub, last: 0 };
      state.done = (async () => {
        for await (const event of sub) {
          // The first half second warms the JIT up, unrecorded.
          if (event.payload.i >= warmup) histogram.add((performance.now() - event.payload.t) * 1000);
          if (event.sequence !== state.last + 1) faults++;
          state.last = event.sequence;
        }
      })();
      consumers.push(state);
    }
    while (caughtUp < subscribers) await sleep(1);

    const total = rate * seconds + warmup;
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    let appended = 0;
    while (appended < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      if (due > appended) {
        const t = performance.now();
        const batch = [];
        for (let i = appended; i < due; i++)
          batch.push({ aggregateId: `order-${i % 1000}`, type: 'ORDER.PLACED', payload: { t, i } });
        await store.append(batch);
        appended = due;
      }
      await sleep(TICK_MS);
    }
    const producedMs = performance.now() - started;
    const drainStart = performance.now();
    while (consumers.some((c) => c.last < total) && performance.now() - drainStart < DRAIN_LIMIT_MS)
      await sleep(5);
    const drainMs = performance.now() - drainStart;
    const cpu = process.cpuUsage(cpuBefore);
    const received = consumers.reduce((sum, c) => sum + c.last, 0);
    const overflows = consumers.reduce((sum, c) => sum + c.sub.overflows, 0);
    for (const c of consumers) await c.sub.close();
    await Promise.all(consumers.map((c) => c.done));
    await store.close();
    ctx.progress(`subscriptions: ${subscribers} subscribers done`);
    return {
      subscribers,
      events: total,
      eventsPerSec: total / (producedMs / 1000),
      latencyUs: histogram.summary(),
      lost: subscribers * total - received,
      faults,
      overflows,
      drainMs,
      // CPU time per delivered event (producer included): what the machine's load does not change.
      cpuUsPerDelivery: (cpu.user + cpu.system) / Math.max(1, received),
      cpuShare: (cpu.user + cpu.system) / 1000 / (performance.now() - started),
    };
  },

  /**
   * One stalled subscriber beside one that keeps up (which keeps the shared tail of recent commits
   * alive, as any open subscription does). What the stalled one costs: the heap freed by closing it.
   * What the shared tail costs: the heap freed by closing the other, the last subscription.
   */
  async stalled({ lib, events, subscribe }) {
    const { openEventStore } = await import(pathToFileURL(lib).href);
    const store = await openEventStore({});
    let sub;
    let first;
    let witness;
    let witnessDone;
    if (subscribe) {
      witness = store.subscribe();
      witnessDone = (async () => {
        for await (const _ of witness);
      })();
      sub = store.subscribe();
      first = sub.next();
      while (!sub.live) await sleep(1);
    }
    const payload = { text: 'x'.repeat(400) };
    let mostBuffered = { events: 0, bytes: 0 };
    for (let i = 0; i < events; i += 100) {
      const batch = [];
      for (let k = 0; k < 100; k++)
        batch.push({ aggregateId: `order-${(i + k) % 1000}`, type: 'ORDER.PLACED', payload });
      await store.append(batch);
      if (sub && sub.buffered.bytes > mostBuffered.bytes) mostBuffered = sub.buffered;
      // Let the healthy subscriber keep up.
      if (i % 10_000 === 0) await sleep(0);
    }
    while (witness && witness.position < events) await sleep(1);
    const held = sampleMemory(events);
    let keptBytes = null;
    let sharedTailBytes = null;
    if (sub) {
      await first;
      const used = (m) => m.heapUsed + m.arrayBuffers;
      await sub.close();
      gc();
      const withoutStalled = sampleMemory(events);
      keptBytes = used(held) - used(withoutStalled);
      await witness.close();
      await witnessDone;
      gc();
      sharedTailBytes = used(withoutStalled) - used(sampleMemory(events));
    }
    await store.close();
    return {
      events,
      subscribed: subscribe,
      rss: held.rss,
      mostBuffered,
      keptBytes,
      sharedTailBytes,
      overflows: sub?.overflows ?? 0,
    };
  },
};

export async function run(ctx) {
  const plan = PLAN[ctx.mode] ?? PLAN.full;
  const lib = process.env.TAMMA_BENCH_DIST;
  const delivery = [];
  for (const subscribers of plan.subscribers) {
    ctx.log(
      `subscriptions: ${subscribers} subscribers at ${fmtCount(plan.rate)} events/s for ${plan.seconds} s`,
    );
    delivery.push(
      await runTask(SELF, 'delivery', { lib, subscribers, rate: plan.rate, seconds: plan.seconds }),
    );
  }
  ctx.log(`subscriptions: one stalled subscriber over ${fmtCount(plan.stalledEvents)} appended events`);
  const stalled = await runTask(SELF, 'stalled', { lib, events: plan.stalledEvents, subscribe: true });
  const baseline = await runTask(SELF, 'stalled', { lib, events: plan.stalledEvents, subscribe: false });
  return { rate: plan.rate, seconds: plan.seconds, delivery, stalled, baseline };
}

export function report(section) {
  const rows = section.delivery.map((r) => [
    fmtCount(r.subscribers),
    fmtNum(r.eventsPerSec),
    fmtNum(r.latencyUs.p50 / 1000, 2),
    fmtNum(r.latencyUs.p99 / 1000, 2),
    fmtNum(r.latencyUs.max / 1000, 1),
    fmtNum(r.lost),
    fmtNum(r.faults),
    fmtNum(r.overflows),
    fmtNum(r.drainMs),
    fmtNum(r.cpuUsPerDelivery, 2),
    fmtNum(r.cpuShare * 100),
  ]);
  const s = section.stalled;
  return [
    `Append → consumer delivery, in-memory store, ${fmtCount(section.rate)} events/s for ${section.seconds} s, batches every ${TICK_MS} ms; every subscriber takes every event:`,
    textTable(
      [
        'subscribers',
        'events/s',
        'p50 ms',
        'p99 ms',
        'max ms',
        'lost',
        'out of order',
        'overflows',
        'drain ms',
        'CPU µs/delivery',
        'CPU %',
      ],
      rows,
    ),
    `One stalled subscriber (beside one that keeps up) over ${fmtCount(s.events)} appended events (~0.5 KB each): its live buffer held at most ${fmtNum(s.mostBuffered.events)} events / ${fmtMB(s.mostBuffered.bytes)} MiB (estimated); ` +
      `the heap it keeps: ${fmtMB(s.keptBytes)} MiB; the shared tail of recent commits (one per store, while any subscription is open): ${fmtMB(s.sharedTailBytes)} MiB; ` +
      `RSS ${fmtMB(s.rss)} MiB vs ${fmtMB(section.baseline.rss)} MiB without subscribers; overflows ${fmtNum(s.overflows)}.`,
  ].join('\n');
}

/** The subscription targets, for targets.mjs: [target, measured, at, pass]. */
export function subscriptionTargets(section) {
  const out = [];
  const add = (...row) => out.push(row);
  const at = `${fmtCount(section.rate)} events/s, ${section.seconds} s`;
  const hundred = section.delivery.find((r) => r.subscribers === 100);
  const thousand = section.delivery.find((r) => r.subscribers === 1000);
  add(
    'subscription delivery p99 ≤ 10 ms, 100 subscribers',
    `${fmtNum(hundred?.latencyUs.p99 / 1000, 2)} ms`,
    at,
    hundred ? hundred.latencyUs.p99 <= 10_000 : undefined,
  );
  add(
    '1,000 subscribers without loss',
    thousand ? `${fmtNum(thousand.lost)} lost, ${fmtNum(thousand.faults)} out of order` : 'n/a',
    at,
    thousand ? thousand.lost === 0 && thousand.faults === 0 : undefined,
  );
  const kept = section.stalled.keptBytes;
  add(
    'a stalled subscriber costs the store ≤ 1 MiB',
    `${fmtMB(kept)} MiB kept (buffer ≤ ${fmtMB(section.stalled.mostBuffered.bytes)} MiB)`,
    `${fmtCount(section.stalled.events)} events`,
    kept === null ? undefined : kept <= MiB,
  );
  return out;
}
