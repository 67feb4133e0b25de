// The benchmark runner: `node bench/run.mjs [--quick | --long[=hour]] [--only=append,queries,memory,reopen,indexes,scan,soak,restore,ids,analytics,monitor,subscriptions,cache] [--keep]`.
// Prints a table and writes bench/results/<timestamp>-<mode>.json, latest-<mode>.json and latest-<mode>.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PLANS } from './lib/plan.mjs';
import { SUITES, markdownReport, reportHeader, sectionReport, targetsReport } from './lib/report.mjs';
import { snapshotLibrary } from './lib/snapshot.mjs';
import { createWorkload } from './lib/workload.mjs';

const BENCH = fileURLToPath(new URL('.', import.meta.url));
const PEERS = join(BENCH, 'peers');
const RESULTS = join(BENCH, 'results');
/** Suites that run tamma alone: no peer engines to install. */
const TAMMA_ONLY = new Set(['memory', 'reopen', 'soak', 'ids', 'monitor', 'subscriptions', 'cache']);

function usage(message) {
  console.error(`bench: ${message}`);
  process.exit(2);
}

function heapBudget(value) {
  if (value === 'default') return null;
  const mib = Number(value);
  if (!Number.isInteger(mib) || mib < 64)
    usage(`--soak-heap: expected a heap size in MiB (an integer, at least 64) or default, got ${value}`);
  return mib;
}

function eventCounts(value) {
  const counts = value.split(',').map(Number);
  if (!counts.every((n) => Number.isInteger(n) && n >= 1000))
    usage(
      `--analytics-events: expected event counts (integers, at least 1000, comma-separated), got ${value}`,
    );
  return counts;
}

function parseArgs(argv) {
  const args = {
    quick: false,
    long: false,
    soakSeconds: undefined,
    only: Object.keys(SUITES),
    keep: false,
    seed: 42,
  };
  for (const a of argv) {
    if (a === '--quick') args.quick = true;
    // The full plan, with the soak suite at the length: 1 simulated hour, 10 min of real time
    // (--long=hour: 1 hour of real time).
    else if (a === '--long') args.long = true;
    else if (a === '--long=hour') {
      args.long = true;
      args.soakSeconds = 3600;
    } else if (a === '--keep') args.keep = true;
    else if (a.startsWith('--only=')) args.only = a.slice(7).split(',');
    // The soak suite's parts: compressed, realtime (default both).
    else if (a.startsWith('--soak=')) args.soakParts = a.slice(7).split(',');
    // The real-time soak's heap budget in MiB (the plan's heapMiB), or `default`: Node's own limit.
    else if (a.startsWith('--soak-heap=')) args.soakHeap = heapBudget(a.slice(12));
    else if (a.startsWith('--seed=')) args.seed = Number(a.slice(7));
    // The analytics suite's store sizes, e.g. --analytics-events=10000000 (the plan's by default).
    else if (a.startsWith('--analytics-events=')) args.analyticsEvents = eventCounts(a.slice(19));
    else if (a === '--help' || a === '-h') {
      console.log(
        'usage: node bench/run.mjs [--quick | --long[=hour]] [--only=append,queries,memory,reopen,indexes,scan,soak,restore,ids,analytics,monitor,subscriptions,cache] [--soak=compressed,realtime] [--soak-heap=MiB|default] [--analytics-events=N,...] [--seed=42] [--keep]',
      );
      process.exit(0);
    } else usage(`unknown argument ${a}; try --help`);
  }
  if (args.quick && args.long) usage('--quick and --long do not go together');
  for (const p of args.soakParts ?? [])
    if (p !== 'compressed' && p !== 'realtime') usage(`--soak: expected compressed or realtime, got ${p}`);
  for (const s of args.only)
    if (!SUITES[s]) usage(`unknown suite ${s}; expected ${Object.keys(SUITES).join(', ')}`);
  return args;
}

/** Installs bench/peers from its lockfile when missing, and rebuilds better-sqlite3 for this Node if needed. */
function ensurePeers() {
  const npm = (...args) => spawnSync('npm', args, { cwd: PEERS, stdio: ['ignore', 2, 2] }).status === 0;
  if (!existsSync(join(PEERS, 'node_modules', 'better-sqlite3'))) {
    console.error(
      'bench: installing the peer engines in bench/peers (better-sqlite3 compiles from source, ~2 min)',
    );
    if (!npm('ci', '--no-audit', '--no-fund') && !npm('install', '--no-audit', '--no-fund')) {
      throw new Error('could not install bench/peers: run `npm ci` there and look at its output');
    }
  }
  // pg (the restore suite's PostgreSQL client) came later: an older install lacks it.
  if (!existsSync(join(PEERS, 'node_modules', 'pg'))) {
    console.error('bench: installing pg in bench/peers (added to its package.json after your install)');
    if (!npm('install', '--no-audit', '--no-fund'))
      console.error('bench: npm install in bench/peers failed; the restore suite will skip PostgreSQL');
  }
  const load = () => createRequire(join(PEERS, 'package.json'))('better-sqlite3');
  try {
    load();
  } catch (error) {
    console.error(`bench: better-sqlite3 does not load (${error.message.split('\n')[0]}); rebuilding it`);
    if (!npm('rebuild', 'better-sqlite3'))
      throw new Error('npm rebuild better-sqlite3 failed in bench/peers');
  }
}

/** A fixed piece of CPU work, to compare machines (and noisy moments) across result files. */
function yardstick() {
  const events = createWorkload(1).batch(0, 20_000);
  JSON.parse(JSON.stringify(events));
  const t = process.hrtime.bigint();
  for (let r = 0; r < 5; r++) JSON.parse(JSON.stringify(events));
  return Number(process.hrtime.bigint() - t) / 1e6;
}

function machine() {
  const cpus = os.cpus();
  let commit;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: BENCH,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
  } catch {
    commit = undefined;
  }
  return {
    cpu: cpus[0]?.model ?? 'unknown CPU',
    cores: cpus.length,
    totalMemory: os.totalmem(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
    commit,
    yardstickMs: yardstick(),
  };
}

/** Fingerprints only serve the cross-engine check; keep the JSON small. */
function stripFingerprints(results) {
  return JSON.parse(JSON.stringify(results, (key, value) => (key === 'fingerprints' ? undefined : value)));
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const mode = args.quick ? 'quick' : args.long ? 'long' : 'full';
  const plan = args.analyticsEvents
    ? { ...PLANS[mode], analytics: { ...PLANS[mode].analytics, sizes: args.analyticsEvents } }
    : PLANS[mode];
  // Only the suites that compare with sqlite or DuckDB need the peers (installing them compiles one).
  if (args.only.some((s) => !TAMMA_ONLY.has(s))) ensurePeers();
  const tmp = await mkdtemp(join(os.tmpdir(), 'tamma-bench-'));
  const started = Date.now();
  const log = (message) =>
    console.error(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}`);
  const cleanup = async () => {
    if (!args.keep) await rm(tmp, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => void cleanup().finally(() => process.exit(130)));
  }
  try {
    process.env.TAMMA_BENCH_DIST = await snapshotLibrary(tmp);
  } catch (error) {
    await cleanup();
    throw new Error(`the built library (dist/) does not load; run npm run build: ${error.message}`);
  }
  const results = { mode, machine: machine(), plan, seed: args.seed, complete: false };
  const ctx = {
    mode,
    plan,
    seed: args.seed,
    tmp,
    log,
    stores: {},
    keep: args.keep,
    soakSeconds: args.soakSeconds,
    soakParts: args.soakParts,
    soakHeap: args.soakHeap,
  };
  await mkdir(RESULTS, { recursive: true });
  const stamp = results.machine.date.replace(/[:.]/g, '-');
  const save = (name) =>
    writeFile(join(RESULTS, name), JSON.stringify(stripFingerprints(results), null, 2) + '\n');
  log(`${mode} run, data in ${tmp}`);
  console.log(reportHeader(results));
  try {
    for (const name of args.only) {
      try {
        results[name] = await SUITES[name].run(ctx);
      } catch (error) {
        log(`${name} failed: ${error.stack ?? error}`);
        results[name] = { error: String(error.message ?? error) };
      }
      console.log(sectionReport(name, results[name]));
      await save(`${stamp}-${mode}.json`); // so an interrupted run keeps what it measured
    }
  } finally {
    await cleanup();
  }
  results.seconds = (Date.now() - started) / 1000;
  results.complete = true;
  console.log(`${targetsReport(results)}\n\nTotal time ${(results.seconds / 60).toFixed(1)} min.`);
  await save(`${stamp}-${mode}.json`);
  if (args.only.length === Object.keys(SUITES).length) {
    await save(`latest-${mode}.json`);
    await writeFile(join(RESULTS, `latest-${mode}.md`), markdownReport(results));
    log(`wrote bench/results/${stamp}-${mode}.json, latest-${mode}.json and latest-${mode}.md`);
  } else {
    log(`wrote bench/results/${stamp}-${mode}.json (latest-${mode}.* are left to runs of every suite)`);
  }
  if (Object.values(results).some((s) => s?.error)) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error.stack ?? error);
  process.exit(1);
});
