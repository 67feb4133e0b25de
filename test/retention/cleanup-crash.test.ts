/**
 * A crash at every step of cleanup. A child process (cleanup-writer.mjs) appends a known set of
 * events over several small segments, deletes a stream, lets the clock expire the oldest events and
 * the short-lived type, and runs a cleanup with a fail point set: it is SIGKILLed at that step. The
 * parent reopens the directory, once with the same policy and once with none (in two runs, since the
 * first open after a crash is the one that finishes or clears the interrupted cleanup), and checks:
 *
 *  - every event appended is exactly once either in the store or in the archive (an event the
 *    archive took never comes back live, even with no policy to hide it), and only expired or
 *    deleted events ever left the store;
 *  - the archive holds all the expired and deleted events or none of them, as the step says;
 *  - reads equal the expected events, verifyStore finds nothing wrong, a second cleanup completes
 *    and leaves exactly the events to keep, appends go on at the next sequence, and all of this
 *    survives another close and reopen.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import {
  ManualClock,
  openEventStore,
  repairStore,
  verifyStore,
  type EventStore,
  type StoredEvent,
  type TagValue,
} from '../../src/index.js';
import type { RetentionOptions } from '../../src/retention/policy.js';
import { archivedEvents } from '../support/archive-contents.js';
import { removeDir, tempDir } from '../support/helpers.js';
import { ROOT, REGISTER, LIB } from '../support/child-paths.js';

const WRITER = fileURLToPath(new URL('./cleanup-writer.mjs', import.meta.url));

const T0 = Date.UTC(2026, 3, 1);
const MINUTE = 60_000;
const SEGMENT_SIZE = 4096;

/** Cleanup's steps, in order (src/storage/embedded/retention/cleanup.ts). */
const FAILPOINTS = [
  'cleanup:intent-written',
  'cleanup:archive-file-written',
  'cleanup:archived',
  'cleanup:cut',
  'cleanup:table-compacted',
  'cleanup:checkpoint-discarded',
  'cleanup:span-written',
  'cleanup:span-rewritten',
  'cleanup:log-start-written',
  'cleanup:front-dropped',
  'cleanup:checkpointed',
] as const;
type Failpoint = (typeof FAILPOINTS)[number];
/** Steps only an archiving cleanup takes. */
const ARCHIVE_STEPS = new Set<Failpoint>([
  'cleanup:intent-written',
  'cleanup:archive-file-written',
  'cleanup:archived',
]);
/** From this step on, the archive manifest names this run's file: its events are archived. */
const archivedBy = (failpoint: Failpoint) =>
  FAILPOINTS.indexOf(failpoint) >= FAILPOINTS.indexOf('cleanup:archived');

// ---- the events ----------------------------------------------------------------------------------

interface PlannedEvent {
  id: string;
  aggregateId: string;
  type: string;
  tags: Record<string, TagValue>;
  payload?: { n: number; pad: string };
}

interface Plan {
  batches: { at: number; events: PlannedEvent[] }[];
  deleted: string[];
  endAt: number;
}

/**
 * 'mixed': an old phase (all of it expires) and a recent one (its DEBUG events expire, and a deleted
 * stream runs through it): spans are rewritten, and the ones at the front of the log empty and
 * dropped. 'all-doomed': only the old phase: the whole log goes.
 */
function makePlan(kind: 'mixed' | 'all-doomed'): Plan {
  const batches: Plan['batches'] = [];
  let n = 0;
  const phase = (start: number, count: number, recent: boolean) => {
    for (let b = 0; b < count; b++) {
      const events: PlannedEvent[] = [];
      for (let i = 0; i < 10; i++, n++) {
        events.push({
          id: `ev-${n}`,
          aggregateId: recent && n % 7 === 3 ? 'gone' : `s${n % 5}`,
          type: n % 4 === 1 ? 'DEBUG.trace' : n % 4 === 2 ? 'ORDER.PAID' : 'ORDER.PLACED',
          tags: { batch: batches.length, kind: n % 3 === 0 ? 'a' : 'b' },
          ...(n % 6 === 5 ? {} : { payload: { n, pad: 'x'.repeat(30 + ((n * 37) % 90)) } }),
        });
      }
      batches.push({ at: start + b * MINUTE, events });
    }
  };
  phase(T0, 12, false);
  if (kind === 'mixed') phase(T0 + 180 * MINUTE, 18, true);
  // Past 2h for the old phase, past 30m for the recent phase's DEBUG events.
  return { batches, deleted: kind === 'mixed' ? ['gone'] : ['s1'], endAt: T0 + 230 * MINUTE };
}

const policy = (archiveDir: string | undefined): RetentionOptions => ({
  maxAge: '2h',
  types: { 'DEBUG.*': '30m' },
  schedule: false,
  ...(archiveDir === undefined ? {} : { archive: { dir: archiveDir } }),
});

interface Expected extends StoredEvent {
  /** Expired or deleted at the end of the plan: the cleanup's to remove. */
  doomed: boolean;
  deleted: boolean;
}

function expectedEvents(plan: Plan): Expected[] {
  const versions = new Map<string, number>();
  const out: Expected[] = [];
  for (const batch of plan.batches) {
    for (const e of batch.events) {
      const version = (versions.get(e.aggregateId) ?? 0) + 1;
      versions.set(e.aggregateId, version);
      const deleted = plan.deleted.includes(e.aggregateId);
      const maxAge = e.type.startsWith('DEBUG.') ? 30 * MINUTE : 120 * MINUTE;
      out.push({
        sequence: out.length + 1,
        id: e.id,
        aggregateId: e.aggregateId,
        version,
        type: e.type,
        timestamp: new Date(batch.at),
        tags: e.tags,
        payload: e.payload ?? null,
        metadata: {},
        deleted,
        doomed: deleted || batch.at < plan.endAt - maxAge,
      });
    }
  }
  return out;
}

const stored = ({ doomed: _, deleted: __, ...event }: Expected): StoredEvent => event;

// ---- the child -----------------------------------------------------------------------------------

interface Scenario {
  title: string;
  plan: Plan;
  archive: boolean;
  concurrent?: boolean;
  checkpointEvery?: number;
}

interface Run {
  dir: string;
  archiveDir: string | undefined;
  signal: NodeJS.Signals | null;
  code: number | null;
  ready: number;
  /** Appends the child made while cleanup ran, acknowledged before it died. */
  acked: { sequence: number; id: string }[];
  report: Record<string, number> | undefined;
  stderr: string;
}

const roots: string[] = [];
afterAll(async () => {
  for (const root of roots) await removeDir(root);
});

/** Runs the writer; `failpoint` may name the n-th time a step is reached: `cleanup:span-rewritten@3`. */
async function runChild(
  scenario: Scenario,
  failpoint: string | undefined,
  /** Only reopen the store this earlier run left. */
  reopen?: Run,
): Promise<Run> {
  let root = '';
  if (reopen === undefined) {
    root = await tempDir('tamma-cleanup-crash-');
    roots.push(root);
  }
  const dir = reopen?.dir ?? join(root, 'store');
  const archiveDir =
    reopen !== undefined ? reopen.archiveDir : scenario.archive ? join(root, 'archive') : undefined;
  const config = {
    reopenOnly: reopen !== undefined,
    lib: LIB,
    dir,
    plan: scenario.plan.batches,
    deleted: scenario.plan.deleted,
    endAt: scenario.plan.endAt,
    segmentSize: SEGMENT_SIZE,
    sliceRows: 7,
    concurrent: scenario.concurrent === true,
    checkpointEvery: scenario.checkpointEvery,
    retention: policy(archiveDir),
  };
  const child = spawn(process.execPath, ['--import', REGISTER, WRITER, JSON.stringify(config)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TAMMA_FAILPOINT: failpoint ?? '' },
  });
  const run: Run = {
    dir,
    archiveDir,
    signal: null,
    code: null,
    ready: -1,
    acked: [],
    report: undefined,
    stderr: '',
  };
  child.stderr.on('data', (chunk: Buffer) => {
    run.stderr += chunk.toString();
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const [word, ...rest] = line.split(' ');
    if (word === 'READY') run.ready = Number(rest[0]);
    else if (word === 'ACK') run.acked.push({ sequence: Number(rest[0]), id: rest[1] as string });
    else if (word === 'DONE') run.report = JSON.parse(rest.join(' ')) as Record<string, number>;
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the writer did not finish in time; stderr:\n${run.stderr}`));
    }, 50_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      run.code = code;
      run.signal = signal;
      resolve();
    });
  });
  return run;
}

// ---- after the crash -----------------------------------------------------------------------------

/** The events in the store, hidden by the policy or not (deleted streams' stay hidden), by id. */
async function presentIds(store: EventStore, retention: RetentionOptions | undefined): Promise<string[]> {
  store.setRetention({ schedule: false });
  try {
    return (await store.read()).map((e) => e.id);
  } finally {
    store.setRetention(retention);
  }
}

function duplicates(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  return ids.filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
}

/**
 * Reopens after the crash (`relaxed`: with no retention policy) and checks everything in the file
 * comment. `archivedNow` is what the archive must hold at the first open: all the doomed events, or none.
 */
async function checkRecovery(
  scenario: Scenario,
  run: Run,
  failpoint: Failpoint,
  relaxed: boolean,
): Promise<void> {
  const where = `${failpoint}, reopened ${relaxed ? 'with no policy' : 'with the same policy'}`;
  expect(run.signal, `${where}: the writer was not killed (code ${run.code}):\n${run.stderr}`).toBe(
    'SIGKILL',
  );
  const total = scenario.plan.batches.reduce((sum, batch) => sum + batch.events.length, 0);
  expect(run.ready, `${where}: ${run.stderr}`).toBe(total);
  const all = expectedEvents(scenario.plan);
  const duringEvent = (sequence: number, id: string, n: number): Expected => ({
    sequence,
    id,
    aggregateId: 'during',
    version: n + 1,
    type: 'ORDER.PLACED',
    timestamp: new Date(scenario.plan.endAt),
    tags: { during: true },
    payload: { n },
    metadata: {},
    doomed: false,
    deleted: false,
  });
  const during: Expected[] = run.acked.map(({ sequence, id }, n) => duringEvent(sequence, id, n));
  // The append in flight when the writer was killed: written, but not acknowledged (under 'batch'
  // an append past the fsync deadline waits for its fsync). Like any unacknowledged write it may be
  // there or not; once seen, it must stay.
  const inFlight = duringEvent(total + run.acked.length + 1, `during-${run.acked.length}`, run.acked.length);
  expect(during.map((e) => e.sequence)).toEqual(during.map((_, i) => total + i + 1));
  const events = [...all, ...during];
  const byId = new Map(events.map((e) => [e.id, e]));
  // What an archiving cleanup archives: the doomed events but the deleted stream's, which are erased.
  const doomed = events.filter((e) => e.doomed && !e.deleted).map((e) => e.id);

  const retention = relaxed ? undefined : policy(run.archiveDir);
  const clock = new ManualClock(scenario.plan.endAt);
  const open = () => openEventStore({ dir: run.dir, clock, segmentSize: SEGMENT_SIZE, retention });

  /** What must hold whenever the store is open: each event once, in the store or the archive. */
  const checkOnce = async (
    store: EventStore,
    step: string,
    archivedExpected: readonly string[] | undefined,
  ) => {
    const present = await presentIds(store, retention);
    const archived = run.archiveDir === undefined ? [] : archivedEvents(run.archiveDir).map((e) => e.id);
    if (!byId.has(inFlight.id) && (present.includes(inFlight.id) || archived.includes(inFlight.id))) {
      events.push(inFlight);
      byId.set(inFlight.id, inFlight);
    }
    expect(duplicates(present), `${where}, ${step}: twice in the store`).toEqual([]);
    expect(duplicates(archived), `${where}, ${step}: twice in the archive`).toEqual([]);
    const inBoth = present.filter((id) => archived.includes(id));
    expect(inBoth, `${where}, ${step}: both in the store and in the archive`).toEqual([]);
    const unknown = [...present, ...archived].filter((id) => !byId.has(id));
    expect(unknown, `${where}, ${step}: never appended`).toEqual([]);
    const gone = events.filter((e) => !present.includes(e.id) && !archived.includes(e.id));
    expect(
      gone.filter((e) => !e.deleted && (run.archiveDir !== undefined || !e.doomed)).map((e) => e.id),
      `${where}, ${step}: lost`,
    ).toEqual([]);
    if (archivedExpected !== undefined)
      expect([...archived].sort(), `${where}, ${step}: archive`).toEqual([...archivedExpected].sort());
    return present;
  };

  /** Reads equal the events present that the policy leaves visible. */
  const checkReads = async (store: EventStore, present: readonly string[], step: string) => {
    const visible = events.filter((e) => present.includes(e.id) && (relaxed ? !e.deleted : !e.doomed));
    expect(await store.read(), `${where}, ${step}: read()`).toEqual(visible.map(stored));
    for (const stream of ['s0', 's1', 's3', 'gone', 'during']) {
      expect(await store.getEvents(stream), `${where}, ${step}: getEvents(${stream})`).toEqual(
        visible.filter((e) => e.aggregateId === stream).map(stored),
      );
    }
    expect(
      (await store.getEventsByType('DEBUG.trace')).map((e) => e.id),
      `${where}, ${step}: getEventsByType`,
    ).toEqual(visible.filter((e) => e.type === 'DEBUG.trace').map((e) => e.id));
    expect(
      (await store.queryEvents({ tags: { kind: 'a' } })).map((e) => e.id),
      `${where}, ${step}: queryEvents`,
    ).toEqual(visible.filter((e) => e.tags.kind === 'a').map((e) => e.id));
    expect(store.stats().events, `${where}, ${step}: stats().events`).toBe(visible.length);
  };

  // verify, before anything opens the directory again: what a user would run after the crash.
  const crashed = await verifyStore(run.dir);
  expect(crashed.ok, `${where}: verify after the crash: ${JSON.stringify(crashed.problems)}`).toBe(true);

  let store = await open();
  try {
    const archivedAtCrash = run.archiveDir === undefined ? undefined : archivedBy(failpoint) ? doomed : [];
    const present = await checkOnce(store, 'first open', archivedAtCrash);
    await checkReads(store, present, 'first open');
    const verified = await verifyStore(run.dir);
    expect(verified.problems, `${where}: verify after reopening`).toEqual([]);

    // A second cleanup finishes the job: with the policy, every doomed event is gone (archived once,
    // when there is an archive); with none, only the deleted stream's.
    const report = await store.cleanup({ sliceRows: 5 });
    const left = await checkOnce(
      store,
      'second cleanup',
      run.archiveDir === undefined ? undefined : relaxed ? archivedAtCrash : doomed,
    );
    const keep = events.filter((e) => !(relaxed ? e.deleted : e.doomed)).map((e) => e.id);
    if (relaxed)
      expect(
        left.filter((id) => !keep.includes(id)),
        `${where}: left after the second cleanup`,
      ).toEqual([]);
    else expect(left, `${where}: left after the second cleanup`).toEqual(keep);
    expect(report.removed, `${where}: second cleanup`).toBe(present.length - left.length + report.tombstoned);
    await checkReads(store, left, 'second cleanup');
    const after = await verifyStore(run.dir);
    expect(after.problems, `${where}: verify after the second cleanup`).toEqual([]);
    expect(after.events, `${where}: events in the log`).toBe(left.length);

    // Appends go on at the next sequence, and the stream's versions after its last event still
    // there (a stream cleanup emptied starts again: see EventTable.streamVersion).
    const [next] = await store.append({ id: 'after-crash', aggregateId: 's0', type: 'ORDER.PLACED' });
    expect(next?.sequence, `${where}: next sequence`).toBe(events.length + 1);
    const s0 = events.filter((e) => e.aggregateId === 's0' && left.includes(e.id));
    expect(next?.version, `${where}: next version`).toBe((s0.at(-1)?.version ?? 0) + 1);
    byId.set('after-crash', { ...(s0.at(-1) as Expected), id: 'after-crash', doomed: false, deleted: false });
    await store.close();

    store = await open();
    const reopened = await checkOnce(store, 'reopened', undefined);
    expect(reopened).toEqual([...left, 'after-crash']);
    expect(store.stats().lastSequence).toBe(events.length + 1);
    expect((await verifyStore(run.dir)).problems, `${where}: verify at last`).toEqual([]);
  } finally {
    await store.close().catch(() => undefined);
  }
}

/** Two crashed runs, reopened with the policy and without: the first open is the one that recovers. */
async function crashAndRecover(scenario: Scenario, failpoint: Failpoint, nth?: number): Promise<void> {
  const point = nth === undefined ? failpoint : `${failpoint}@${nth}`;
  const [same, relaxed] = await Promise.all([runChild(scenario, point), runChild(scenario, point)]);
  await checkRecovery(scenario, same, failpoint, false);
  await checkRecovery(scenario, relaxed, failpoint, true);
}

// ---- the scenarios -------------------------------------------------------------------------------

const mixed = makePlan('mixed');

describe('a crash at each step of cleanup loses nothing and duplicates nothing', () => {
  const scenarios: (Scenario & { failpoints: readonly Failpoint[] })[] = [
    { title: 'with an archive', plan: mixed, archive: true, failpoints: FAILPOINTS },
    {
      title: 'without an archive',
      plan: mixed,
      archive: false,
      failpoints: FAILPOINTS.filter((f) => !ARCHIVE_STEPS.has(f)),
    },
    {
      title: 'with an archive, every event expired or deleted',
      plan: makePlan('all-doomed'),
      archive: true,
      failpoints: ['cleanup:archived', 'cleanup:cut', 'cleanup:log-start-written', 'cleanup:front-dropped'],
    },
    {
      title: 'without an archive, appends (each writing a checkpoint) while cleanup rewrites the log',
      plan: mixed,
      archive: false,
      concurrent: true,
      checkpointEvery: 1,
      failpoints: [
        'cleanup:cut',
        'cleanup:span-rewritten',
        'cleanup:log-start-written',
        'cleanup:front-dropped',
      ],
    },
  ];

  for (const scenario of scenarios) {
    describe(scenario.title, () => {
      test('uninterrupted, the cleanup cuts the oldest events, rewrites segments for the rest and drops the front ones', async () => {
        const run = await runChild(scenario, undefined);
        expect(run.code, run.stderr).toBe(0);
        const events = expectedEvents(scenario.plan);
        const doomed = events.filter((e) => e.doomed).length;
        // The cut takes the events that go before the first that stays, or the first of a deleted
        // stream (erasure rewrites the log: it never cuts); compaction the rest.
        const oldest = events.findIndex((e) => !e.doomed || e.deleted);
        const cut = oldest < 0 ? doomed : oldest;
        const erased = events.filter((e) => e.deleted).length;
        expect(run.report).toMatchObject({
          removed: doomed,
          removedInPlace: cut,
          archived: scenario.archive ? doomed - erased : 0,
          tombstoned: erased,
        });
        expect(run.report?.spansRewritten).toBeGreaterThanOrEqual(cut === doomed ? 0 : 2);
        expect(run.report?.spansDropped).toBeGreaterThanOrEqual(1);
        expect(existsSync(join(run.dir, 'cleanup.json'))).toBe(false);
        expect(readdirSync(join(run.dir, 'log')).filter((name) => name.endsWith('.tmp'))).toEqual([]);
      });

      for (const failpoint of scenario.failpoints) {
        test(`killed at ${failpoint}`, async () => {
          await crashAndRecover(scenario, failpoint);
        });
      }

      if (scenario.archive && scenario.failpoints.includes('cleanup:archived')) {
        // Opening after a crash finishes the interrupted cleanup, step by step as cleanup does:
        // a crash there too is recovered by the open after it.
        for (const again of [
          'cleanup:table-compacted',
          'cleanup:span-rewritten',
          'cleanup:front-dropped',
        ] as const) {
          test(`killed at cleanup:archived, then again at ${again} while reopening`, async () => {
            const runs = await Promise.all([
              runChild(scenario, 'cleanup:archived'),
              runChild(scenario, 'cleanup:archived'),
            ]);
            for (const [i, run] of runs.entries()) {
              expect(run.signal, run.stderr).toBe('SIGKILL');
              const reopened = await runChild(scenario, again, run);
              expect(reopened.signal, `the reopen did not reach ${again}: ${reopened.stderr}`).toBe(
                'SIGKILL',
              );
              await checkRecovery(scenario, run, 'cleanup:archived', i === 1);
            }
          });
        }
      }

      if (scenario.concurrent === true) {
        // Each append writes a checkpoint: one written between two span rewrites describes the
        // later spans' old contents, so if the process dies before cleanup's own checkpoint, the
        // store must not trust it.
        test('killed at the last cleanup:span-rewritten, after appends between the rewrites', async () => {
          const control = await runChild(scenario, undefined);
          const spans = control.report?.spansRewritten ?? 0;
          expect(spans).toBeGreaterThanOrEqual(3);
          await crashAndRecover(scenario, 'cleanup:span-rewritten', spans);
        });
      }

      if (scenario.failpoints.includes('cleanup:log-start-written')) {
        // The segments to drop are still there, before the log's recorded start: repair (what an
        // error message tells a user to run) must treat them as the leftovers they are, not damage.
        test('repair after a crash at cleanup:log-start-written keeps every event', async () => {
          const run = await runChild(scenario, 'cleanup:log-start-written');
          expect(run.signal, run.stderr).toBe('SIGKILL');
          const repaired = await repairStore(run.dir);
          expect(repaired).toMatchObject({ dropped: [], logStart: null });
          await checkRecovery(scenario, run, 'cleanup:log-start-written', false);
        });
      }
    });
  }
});
