import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatError, UsageError } from '../cli/errors.js';
import { formatBytes, formatDuration, formatFixed, formatInt, formatRate, plural } from '../cli/format.js';
import { renderStats } from '../cli/render-stats.js';
import { renderPairs, renderTable } from '../cli/table.js';
import { openEventStore, verifyStore, type EventStore, type NewEvent } from '../index.js';
import { diskUsage } from './disk-usage.js';
import { Oracle } from './oracle.js';
import { ProgressLine } from './progress-line.js';
import { runAnalytics } from './analytics-cases.js';
import { checkResult, queryCases } from './query-cases.js';
import { Random } from './random.js';
import { EVENT_TYPES, generateTelemetry, materialize, type Telemetry } from './telemetry.js';
import { measure, summarize } from './timing.js';

/** Always this directory (in .gitignore), because the demo deletes it first. */
const DEMO_DIR = '.tamma-demo';
const BATCH_SIZE = 1000;
/** Runs per query kind checked against the linear-scan oracle (the timed runs are not checked). */
const CHECKED_RUNS = 25;

const USAGE = `Usage: npm run demo -- [--events N] [--runs N]   (or: node dist/demo/demo.js ...)

Generates workflow telemetry, appends it to a fresh store in ./${DEMO_DIR}/, then times each kind of query.
  --events N   events to generate (default 200000)
  --runs N     timed runs per query kind (default 1000)`;

function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function section(title: string): void {
  out();
  out(title);
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return n;
}

function parseOptions(): { count: number; runs: number; help: boolean } {
  let values: { events?: string; runs?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        events: { type: 'string' },
        runs: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    // parseArgs names the unknown or malformed option; that is a usage error, not a crash.
    throw new UsageError((error as Error).message);
  }
  return {
    count: positiveInt('events', values.events, 200_000),
    runs: positiveInt('runs', values.runs, 1000),
    help: values.help === true,
  };
}

function describeSample(t: Telemetry, elapsedMs: number): void {
  const issues = t.workflows.filter((w) => w.issueId !== undefined).length;
  const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
  const days = (t.lastTimestamp - t.firstTimestamp) / 86_400_000;
  section('Sample');
  out(
    renderPairs(
      [
        ['events', `${formatInt(t.count)} (generated in ${formatDuration(elapsedMs)}, seed ${t.seed})`],
        [
          'aggregates',
          `${formatInt(t.workflows.length)}: ${formatInt(issues)} issue-*, ${formatInt(t.workflows.length - issues)} workflow-*`,
        ],
        ['types', `${EVENT_TYPES.length}: ${EVENT_TYPES.slice(0, 3).join(', ')}, ... ${EVENT_TYPES.at(-1)}`],
        ['time span', `${day(t.firstTimestamp)} to ${day(t.lastTimestamp)} (${days.toFixed(1)} days)`],
        [
          'out of order',
          `${formatInt(t.outOfOrder)} events (${formatFixed((100 * t.outOfOrder) / t.count, 1)}%) stamped earlier than one appended before them`,
        ],
        ['tags', 'issueId (issue-* only), provider, model'],
      ],
      '  ',
    ),
  );
}

async function appendSample(store: EventStore, t: Telemetry): Promise<void> {
  section(`Append (./${DEMO_DIR}/, fsync 'batch', batches of ${formatInt(BATCH_SIZE)})`);
  const progress = new ProgressLine(process.stdout, t.count, 'appending');
  const batches = Math.ceil(t.count / BATCH_SIZE);
  const latencies = new Float64Array(batches);
  let buildMs = 0;
  const started = performance.now();
  for (let b = 0; b < batches; b++) {
    const buildStart = performance.now();
    const batch: NewEvent[] = [];
    for (let i = b * BATCH_SIZE; i < Math.min(t.count, (b + 1) * BATCH_SIZE); i++)
      batch.push(materialize(t, i));
    const appendStart = performance.now();
    buildMs += appendStart - buildStart;
    await store.append(batch);
    latencies[b] = (performance.now() - appendStart) * 1000;
    progress.update(Math.min(t.count, (b + 1) * BATCH_SIZE));
  }
  progress.done();
  const appendMs = performance.now() - started - buildMs;
  const latency = summarize(latencies);
  const bytes = diskUsage(DEMO_DIR);
  out(
    renderPairs(
      [
        [
          'written',
          `${plural(t.count, 'event')} in ${plural(batches, 'batch', 'batches')}: ${formatDuration(appendMs)} in append (${formatRate(t.count, appendMs, 'events')})`,
        ],
        [
          'per batch',
          `median ${formatDuration(latency.median / 1000)}, p99 ${formatDuration(latency.p99 / 1000)}`,
        ],
        ['on disk', `${formatBytes(bytes)} (${formatInt(bytes / t.count)} B/event)`],
        ['(excluded)', `${formatDuration(buildMs)} building the event objects`],
      ],
      '  ',
    ),
  );
}

/** Checks a few runs of each query against the oracle, then times `runs` more; false when a check failed. */
async function runQueries(store: EventStore, t: Telemetry, runs: number): Promise<boolean> {
  section(
    `Queries (${formatInt(runs)} timed runs each, fresh arguments per run; ${CHECKED_RUNS} runs each checked against a linear scan)`,
  );
  const oracle = new Oracle(t);
  const rows: string[][] = [];
  const failures: string[] = [];
  let caseIndex = 0;
  for (const c of queryCases(t)) {
    const checkRnd = new Random(1000 + caseIndex);
    let failure: string | undefined;
    for (let k = 0; k < CHECKED_RUNS && failure === undefined; k++) {
      const params = c.params(checkRnd);
      const reason = checkResult(oracle, await c.run(store, params), c.expected(oracle, params));
      if (reason) failure = `${c.name} with ${JSON.stringify(params)}: ${reason}`;
    }
    if (failure) failures.push(failure);
    const rnd = new Random(2000 + caseIndex);
    const params = Array.from({ length: runs + 50 }, () => c.params(rnd));
    const { timing, meanResult } = await measure(
      runs,
      50,
      async (i) => (await c.run(store, params[i])).length,
    );
    rows.push([
      c.name,
      formatFixed(meanResult, 1),
      formatFixed(timing.median, 1),
      formatFixed(timing.p99, 1),
      failure ? 'FAILED' : 'ok',
    ]);
    caseIndex++;
  }
  out(
    renderTable(
      [
        { header: 'query' },
        { header: 'avg rows', align: 'right' },
        { header: 'median µs', align: 'right' },
        { header: 'p99 µs', align: 'right' },
        { header: 'check' },
      ],
      rows,
      '  ',
    ),
  );
  for (const failure of failures) out(`  MISMATCH ${failure}`);
  return failures.length === 0;
}

async function lifecycle(store: EventStore, dir: string, t: Telemetry): Promise<boolean> {
  section('Lifecycle');
  let start = performance.now();
  await store.close();
  const closeMs = performance.now() - start;

  start = performance.now();
  const reopened = await openEventStore({ dir });
  const reopenMs = performance.now() - start;
  const stats = reopened.stats();
  start = performance.now();
  const sample = await reopened.getEvents(t.workflows[0]?.aggregateId ?? '');
  const firstReadMs = performance.now() - start;
  await reopened.close();

  start = performance.now();
  const report = await verifyStore(dir);
  const verifyMs = performance.now() - start;
  const intact = stats.events === t.count && stats.lastSequence === t.count && report.ok;
  out(
    renderPairs(
      [
        ['close', formatDuration(closeMs)],
        [
          'reopen',
          `${formatDuration(reopenMs)}: ${plural(stats.events, 'event')}, last sequence ${formatInt(stats.lastSequence)}`,
        ],
        ['first read', `${formatDuration(firstReadMs)} (getEvents on ${sample.length} events after reopen)`],
        [
          'verify',
          `${formatDuration(verifyMs)}: ${report.ok ? 'OK' : 'DAMAGED'}, ${plural(report.frames, 'frame')} in ${plural(report.segments, 'segment')}, ${plural(report.problems.length, 'problem')}`,
        ],
      ],
      '  ',
    ),
  );
  if (!intact) out(`  MISMATCH after reopen: expected ${formatInt(t.count)} events and a clean verify`);
  return intact;
}

async function main(): Promise<number> {
  const { count, runs, help } = parseOptions();
  if (help) {
    out(USAGE);
    return 0;
  }
  const demoStarted = performance.now();
  const dir = resolve(DEMO_DIR);

  out('Tamma Events demo: AI workflow telemetry in an embedded event store');
  const start = performance.now();
  const telemetry = generateTelemetry(count);
  describeSample(telemetry, performance.now() - start);

  rmSync(dir, { recursive: true, force: true });
  const store = await openEventStore({ dir });
  let ok = true;
  try {
    await appendSample(store, telemetry);
    ok = (await runQueries(store, telemetry, runs)) && ok;
    section('Analytics (each timed once, its first run)');
    await runAnalytics(store, out);
    section('Stats');
    out(renderStats(store.stats(), '  '));
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  ok = (await lifecycle(store, dir, telemetry)) && ok;
  out();
  out(
    `Done in ${formatDuration(performance.now() - demoStarted)}${ok ? '.' : ', WITH MISMATCHES (see above).'} The store is in ./${DEMO_DIR}/; try:`,
  );
  out(`  node dist/cli/main.js query --dir ${DEMO_DIR} --type WORKFLOW.FAILED --order desc --limit 3`);
  out(
    `  node dist/cli/main.js analyze --dir ${DEMO_DIR} --type WORKFLOW.COMPLETED --group-by tags.provider ` +
      '--agg n=count --agg p95=percentile:payload.totalDurationMs:0.95 --order-by n:desc',
  );
  return ok ? 0 : 1;
}

try {
  process.exitCode = await main();
} catch (error) {
  // A bad option gets the usage; anything else is a bug worth its stack.
  const usage = error instanceof UsageError;
  process.stderr.write(`${formatError(error, !usage)}\n${usage ? `\n${USAGE}\n` : ''}`);
  process.exitCode = usage ? 2 : 1;
}
