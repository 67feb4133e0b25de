// The cost of commit hooks on batched append throughput: the same batches of 1,000 workload events
// appended into fresh stores with no hooks, with empty hooks (a plain beforeCommit and afterCommit)
// and with empty async hooks (each returns a resolved promise: the commit-turn path), the variants
// interleaved round by round in one process so that drift and GC hit them alike.
//
//   npm run build && node bench/commit-hooks.mjs [--events=200000] [--rounds=5] [--memory]
//
// Prints events/s per variant (median over rounds, wall and CPU time) and each against no hooks;
// then, since on a loaded machine that difference drowns in noise, what the store adds per batch
// around an empty hook (the beforeCommit wrapper: a frozen copy of the batch and the re-entry mark;
// afterCommit through the plugin host), timed alone.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DIST, loadLibrary } from './engines/tamma.mjs';
import { fmtNum, textTable } from './lib/stats.mjs';
import { createWorkload } from './lib/workload.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).map((arg) => {
    const [key, value] = arg.replace(/^--/, '').split('=');
    return [key, value ?? 'true'];
  }),
);
const EVENTS = Number(args.events ?? 200_000);
const ROUNDS = Number(args.rounds ?? 5);
const BATCH = 1000;
const IN_MEMORY = args.memory === 'true';

const { openEventStore } = await loadLibrary();
const workload = createWorkload(42);
const batches = [];
for (let start = 0; start < EVENTS; start += BATCH) {
  batches.push(Array.from({ length: Math.min(BATCH, EVENTS - start) }, (_, i) => workload.event(start + i)));
}

const VARIANTS = {
  'no hooks': undefined,
  'empty hooks': { beforeCommit() {}, afterCommit() {} },
  'empty async hooks': { async beforeCommit() {}, async afterCommit() {} },
};

/** Appends every batch, one after the other, into a fresh store; events/s of the appends alone. */
async function measure(hooks) {
  const dir = IN_MEMORY ? undefined : await mkdtemp(join(os.tmpdir(), 'tamma-hooks-bench-'));
  const store = await openEventStore({
    ...(dir === undefined ? {} : { dir, fsync: 'batch', checkpointEvery: 0 }),
    retention: { schedule: false },
    ...(hooks === undefined ? {} : { hooks }),
  });
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  for (const batch of batches) await store.append(batch);
  const cpu = process.cpuUsage(cpuStart);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await store.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  return { wall: EVENTS / seconds, cpu: EVENTS / ((cpu.user + cpu.system) / 1e6) };
}

const samples = Object.fromEntries(Object.keys(VARIANTS).map((name) => [name, []]));
await measure(undefined); // warm-up: JIT, page cache
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order each round, so no variant always runs first (after a close and rm).
  const names = Object.keys(VARIANTS);
  const order = names.map((_, k) => names[(k + round) % names.length]);
  for (const name of order) samples[name].push(await measure(VARIANTS[name]));
  process.stderr.write(`round ${round + 1}/${ROUNDS}\n`);
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const base = (measure) => median(samples['no hooks'].map((sample) => sample[measure]));
console.log(
  `append throughput, batches of ${BATCH}, ${fmtNum(EVENTS)} events per store, ${
    IN_MEMORY ? 'in memory' : "on disk, fsync 'batch'"
  }, median of ${ROUNDS} rounds (node ${process.version}, ${os.cpus().length} cores, load ${os
    .loadavg()
    .map((load) => load.toFixed(1))
    .join(' ')})`,
);
// Wall time is what a caller sees; CPU time (this process, all its threads) is steadier on a
// shared machine, where other processes take the cores for a while.
console.log(
  textTable(
    ['variant', 'events/s wall', 'min', 'max', 'vs none', 'events per CPU s', 'vs none'],
    Object.entries(samples).map(([name, values]) => {
      const wall = median(values.map((sample) => sample.wall));
      const cpu = median(values.map((sample) => sample.cpu));
      const versus = (value, measure) =>
        name === 'no hooks' ? '' : `${(((value - base(measure)) / base(measure)) * 100).toFixed(1)}%`;
      return [
        name,
        fmtNum(wall),
        fmtNum(Math.min(...values.map((sample) => sample.wall))),
        fmtNum(Math.max(...values.map((sample) => sample.wall))),
        versus(wall, 'wall'),
        fmtNum(cpu),
        versus(cpu, 'cpu'),
      ];
    }),
  ),
);

// The store's own work around an empty hook, per batch, without the append around it.
const internal = (path) => import(pathToFileURL(join(dirname(DIST), path)).href);
const { BeforeCommitHook } = await internal('store/before-commit.js');
const { PluginHost } = await internal('store/plugin-host.js');
const { afterCommitPlugin } = await internal('store/commit-hooks.js');
const perBatch = [];
for (const size of [1, BATCH]) {
  const stored = Array.from({ length: size }, (_, i) => ({
    ...workload.event(i),
    sequence: i + 1,
    version: 1,
  }));
  const before = new BeforeCommitHook(() => undefined);
  const host = new PluginHost(undefined, afterCommitPlugin({ afterCommit() {} }));
  const calls = 100_000;
  const time = (call) => {
    let best = Infinity;
    for (let run = 0; run < 5; run++) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < calls; i++) call();
      best = Math.min(best, Number(process.hrtime.bigint() - start) / calls);
    }
    return best;
  };
  perBatch.push([
    `${size} event${size === 1 ? '' : 's'}`,
    time(() => before.call(stored)).toFixed(0),
    time(() => host.afterCommit(stored)).toFixed(0),
  ]);
}
console.log('\nper batch, around an empty hook (best of 5 runs of 100,000 calls)');
console.log(textTable(['batch', 'beforeCommit ns', 'afterCommit ns'], perBatch));
