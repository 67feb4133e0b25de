// The performance monitor's cost (issue 17, targets: ≤ 2% of point-query p50, ≤ 3% of batched append
// throughput), measured on and off in the same run: two stores in one process, one opened with the
// monitor (the default) and one with `monitor: false`, fed the same batches and asked the same
// queries in turns (which goes first alternates), so the load of a shared machine falls on both alike.
import { pathToFileURL } from 'node:url';
import { runTask } from '../lib/child.mjs';
import { fmtCount, fmtNum, textTable } from '../lib/stats.mjs';
import { createWorkload } from '../lib/workload.mjs';

const SELF = import.meta.url;
const PLAN = {
  quick: { events: 100_000, queries: 20_000, block: 200, repeats: 3 },
  full: { events: 1_000_000, queries: 100_000, block: 500, repeats: 5 },
  long: { events: 1_000_000, queries: 100_000, block: 500, repeats: 5 },
};
const BATCH = 1000;

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export const tasks = {
  async paired({ lib, events, queries, block, seed }) {
    const { openEventStore } = await import(pathToFileURL(lib).href);
    const stores = { on: await openEventStore({}), off: await openEventStore({ monitor: false }) };
    const names = ['on', 'off'];
    const order = (turn) => (turn % 2 ? ['off', 'on'] : names);
    const workload = createWorkload(seed);

    // Batched appends: per-batch time ratio (on / off), and events/s of each.
    const appendNs = { on: 0, off: 0 };
    const appendRatios = [];
    for (let i = 0, turn = 0; i < events; i += BATCH, turn++) {
      const times = {};
      for (const name of order(turn)) {
        const list = workload.batch(i, Math.min(BATCH, events - i));
        const t = process.hrtime.bigint();
        await stores[name].append(list);
        times[name] = Number(process.hrtime.bigint() - t);
        appendNs[name] += times[name];
      }
      appendRatios.push(times.on / times.off);
    }

    // Point queries: a stream read (getEvents: the aggregate index) and a builder query on the
    // sequence index (one event). Each is timed alone (p50 of single calls), and in blocks of `block`
    // calls whose time ratio (on / off) is less blurred by the timer's own cost.
    const aggregates = [];
    for (let k = 0; k < 1000; k++) aggregates.push(workload.event((k * 104_729) % events).aggregateId);
    const kinds = {
      getEvents: (store, k) => store.getEvents(aggregates[k % aggregates.length]),
      queryBySequence: (store, k) =>
        store
          .query()
          .where('sequence', 'eq', 1 + ((k * 7919) % events))
          .execute(),
    };
    const points = {};
    for (const [kind, call] of Object.entries(kinds)) {
      for (let k = 0; k < 2000; k++) for (const name of names) await call(stores[name], k); // warm up
      const single = { on: [], off: [] };
      for (let k = 0; k < queries; k++) {
        for (const name of order(k)) {
          const t = process.hrtime.bigint();
          await call(stores[name], k);
          single[name].push(Number(process.hrtime.bigint() - t));
        }
      }
      const blockRatios = [];
      for (let b = 0; b < queries / block; b++) {
        const times = {};
        for (const name of order(b)) {
          const t = process.hrtime.bigint();
          for (let k = b * block; k < (b + 1) * block; k++) await call(stores[name], k);
          times[name] = Number(process.hrtime.bigint() - t);
        }
        blockRatios.push(times.on / times.off);
      }
      points[kind] = {
        p50Us: { on: median(single.on) / 1000, off: median(single.off) / 1000 },
        blockRatio: median(blockRatios),
      };
    }
    const monitor = stores.on.monitor.latency();
    for (const store of Object.values(stores)) await store.close();
    return {
      appendPerSec: { on: events / (appendNs.on / 1e9), off: events / (appendNs.off / 1e9) },
      appendRatio: median(appendRatios),
      points,
      // What the monitor itself saw, as a check that it was on: its p50s are those of the single calls above.
      monitorP50Us: {
        getEvents: monitor.methods.getEvents.p50 * 1000,
        query: monitor.methods.query.p50 * 1000,
      },
    };
  },
};

export async function run(ctx) {
  const plan = PLAN[ctx.mode] ?? PLAN.full;
  const lib = process.env.TAMMA_BENCH_DIST;
  const runs = [];
  for (let k = 0; k < plan.repeats; k++) {
    ctx.log(
      `monitor: on and off in turns, process ${k + 1}/${plan.repeats}, ${fmtCount(plan.events)} events`,
    );
    runs.push(await runTask(SELF, 'paired', { lib, ...plan, seed: ctx.seed }));
  }
  const pct = (ratio) => (ratio - 1) * 100;
  return {
    ...plan,
    runs,
    // Throughput overhead: events/s off ÷ on − 1 per process, then the median; the per-batch ratio's
    // median is kept too (GC pauses fall on one store's batch or the other's, which skews it).
    appendOverheadPct: pct(median(runs.map((r) => r.appendPerSec.off / r.appendPerSec.on))),
    appendBatchOverheadPct: pct(median(runs.map((r) => r.appendRatio))),
    appendPerSec: {
      on: median(runs.map((r) => r.appendPerSec.on)),
      off: median(runs.map((r) => r.appendPerSec.off)),
    },
    points: Object.fromEntries(
      Object.keys(runs[0].points).map((kind) => {
        const of = (pick) => median(runs.map((r) => pick(r.points[kind])));
        const p50On = of((p) => p.p50Us.on);
        const p50Off = of((p) => p.p50Us.off);
        return [
          kind,
          {
            p50On,
            p50Off,
            p50OverheadPct: pct(median(runs.map((r) => r.points[kind].p50Us.on / r.points[kind].p50Us.off))),
            blockOverheadPct: pct(of((p) => p.blockRatio)),
          },
        ];
      }),
    ),
  };
}

export function report(section) {
  const fmtPct = (v) => `${v >= 0 ? '+' : ''}${fmtNum(v, 2)}%`;
  const rows = [
    [
      `batched append (${BATCH} events/batch), events/s`,
      fmtNum(section.appendPerSec.on),
      fmtNum(section.appendPerSec.off),
      `${fmtPct(section.appendOverheadPct)} (per-batch median: ${fmtPct(section.appendBatchOverheadPct)})`,
      '≤ 3%',
    ],
    ...Object.entries(section.points).map(([kind, p]) => [
      `${kind === 'getEvents' ? 'getEvents (stream read, ~10 events)' : "query().where('sequence', 'eq', n)"}, p50 µs`,
      fmtNum(p.p50On, 2),
      fmtNum(p.p50Off, 2),
      `${fmtPct(p.p50OverheadPct)} (blocks of ${section.block}: ${fmtPct(p.blockOverheadPct)})`,
      '≤ 2%',
    ]),
  ];
  return [
    `${fmtCount(section.events)} workload events, ${fmtCount(section.queries)} point queries of each kind; ` +
      `medians of ${section.repeats} processes, each with both stores taking turns (overhead: appends, events/s off ÷ on − 1; queries, p50 on ÷ off − 1)`,
    textTable(['measure', 'monitor on', 'monitor off', 'overhead', 'target'], rows),
  ].join('\n');
}
