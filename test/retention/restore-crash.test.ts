/**
 * A crash at every step of a restore into the middle of a live store (src/storage/embedded/retention/restore-between.ts,
 * src/storage/embedded/log/log-swap.ts). The parent builds a store whose first events cleanup archived
 * and whose streams went on; a child process (restore-writer.mjs) restores the archive into it and
 * is SIGKILLed at a fail point. The parent reopens the directory and checks:
 *
 *  - before the commit point (the staged log's READY file) the store is as it was, and after it
 *    the restore is whole: every event at its sequence, none lost, none twice, no staging left;
 *  - verifyStore finds nothing wrong, also before the reopen finishes the swap;
 *  - reading through to the archive gives every event once, whatever the step;
 *  - a retried restore (when the crash came first) completes; a cleanup under the short policy
 *    then removes the restored events without archiving them twice; appends go on at the next
 *    sequence, and all of it survives another reopen.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import {
  ManualClock,
  openEventStore,
  verifyStore,
  type EventStore,
  type StoredEvent,
} from '../../src/index.js';
import type { RetentionOptions } from '../../src/retention/policy.js';
import { STAGING_DIR } from '../../src/storage/embedded/log/log-swap.js';
import { archivedEvents } from '../support/archive-contents.js';
import { removeDir, tempDir } from '../support/helpers.js';
import { ROOT, REGISTER, LIB } from '../support/child-paths.js';

const WRITER = fileURLToPath(new URL('./restore-writer.mjs', import.meta.url));

const T0 = Date.UTC(2026, 4, 1);
const MINUTE = 60_000;
const SEGMENT_SIZE = 4096;

/** The restore's steps, in order; from 'restore:staged' on, the new log is committed. */
const FAILPOINTS = [
  'restore:log-built',
  'restore:copies-recorded',
  'restore:staged',
  'restore:checkpoint-dropped',
  'restore:old-moved',
  'restore:swapped',
] as const;
const committedBy = (failpoint: string | undefined) =>
  failpoint === undefined || FAILPOINTS.indexOf(failpoint as never) >= FAILPOINTS.indexOf('restore:staged');

const short = (archive: string): RetentionOptions => ({
  maxAge: '1h',
  archive: { dir: archive },
  schedule: false,
});
const long = (archive: string): RetentionOptions => ({
  maxAge: '30d',
  archive: { dir: archive },
  schedule: false,
});

interface Setup {
  dir: string;
  archive: string;
  clock: ManualClock;
  /** Every event appended, in order. */
  all: StoredEvent[];
  /** The events live before the restore. */
  live: StoredEvent[];
}

const roots: string[] = [];
afterAll(async () => {
  for (const root of roots) await removeDir(root);
});

/**
 * 90 events a minute apart over five streams; 30 minutes on, a cleanup archives the first 60 or
 * so; then 20 more events, so every stream goes on past the restored ones. Closed (with a checkpoint).
 */
async function setUp(): Promise<Setup> {
  const root = await tempDir('tamma-restore-crash-');
  roots.push(root);
  const dir = join(root, 'store');
  const archive = join(root, 'archive');
  const clock = new ManualClock(T0);
  const store = await openEventStore({ dir, clock, segmentSize: SEGMENT_SIZE, retention: short(archive) });
  const all: StoredEvent[] = [];
  const append = async (n: number) => {
    const [event] = await store.append({
      id: `ev-${n}`,
      aggregateId: `s${n % 5}`,
      type: n % 3 === 0 ? 'ORDER.PAID' : 'ORDER.PLACED',
      timestamp: clock.now(),
      tags: { n, kind: n % 2 === 0 ? 'even' : 'odd' },
      payload: { n, pad: 'x'.repeat(20 + ((n * 31) % 70)) },
    });
    all.push(event as StoredEvent);
  };
  for (let n = 0; n < 90; n++, clock.advance(MINUTE)) await append(n);
  clock.advance(30 * MINUTE);
  const report = await store.cleanup();
  expect(report.archived).toBeGreaterThan(50);
  store.setRetention(long(archive));
  for (let n = 90; n < 110; n++) await append(n);
  const live = await store.read();
  expect(live.length).toBe(all.length - report.archived);
  await store.close();
  return { dir, archive, clock, all, live };
}

async function runChild(setup: Setup, failpoint: string | undefined) {
  const config = {
    lib: LIB,
    dir: setup.dir,
    archiveDir: setup.archive,
    now: setup.clock.now(),
    segmentSize: SEGMENT_SIZE,
    retention: long(setup.archive),
  };
  const child = spawn(process.execPath, ['--import', REGISTER, WRITER, JSON.stringify(config)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TAMMA_FAILPOINT: failpoint ?? '' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the restore did not finish in time; stderr:\n${stderr}`));
      }, 50_000);
      child.on('close', (exitCode, exitSignal) => {
        clearTimeout(timer);
        resolve({ code: exitCode, signal: exitSignal });
      });
    },
  );
  return { code, signal, stdout, stderr };
}

const open = (setup: Setup, retention: RetentionOptions): Promise<EventStore> =>
  openEventStore({ dir: setup.dir, clock: setup.clock, segmentSize: SEGMENT_SIZE, retention });

describe('a crash at each step of a restore into a live store loses nothing and duplicates nothing', () => {
  for (const failpoint of [...FAILPOINTS, undefined]) {
    test(failpoint === undefined ? 'uninterrupted' : `killed at ${failpoint}`, async () => {
      const setup = await setUp();
      const run = await runChild(setup, failpoint);
      if (failpoint === undefined) expect(run.stdout, run.stderr).toContain('DONE');
      else expect(run.signal, run.stderr).toBe('SIGKILL');
      const committed = committedBy(failpoint);

      // Verify looks at the log open will use, before open finishes anything.
      expect((await verifyStore(setup.dir)).problems).toEqual([]);

      let store = await open(setup, long(setup.archive));
      expect(existsSync(join(setup.dir, STAGING_DIR))).toBe(false);
      expect(await store.read()).toEqual(committed ? setup.all : setup.live);
      expect(await store.queryEvents({}, { includeArchived: true })).toEqual(setup.all);
      if (!committed) {
        const report = await store.restoreArchive(setup.archive);
        expect(report.restored).toBe(setup.all.length - setup.live.length);
        expect(await store.read()).toEqual(setup.all);
      }
      expect(await store.getEvents('s2')).toEqual(setup.all.filter((e) => e.aggregateId === 's2'));

      // Under the short policy the restored events expire again: removed, not archived twice.
      const archivedBefore = archivedEvents(setup.archive);
      store.setRetention(short(setup.archive));
      const cleanup = await store.cleanup();
      expect(cleanup.removed).toBeGreaterThanOrEqual(setup.all.length - setup.live.length);
      const archivedAfter = archivedEvents(setup.archive);
      expect(archivedAfter.length).toBe(archivedBefore.length + cleanup.archived);
      expect(new Set(archivedAfter.map((e) => e.sequence)).size).toBe(archivedAfter.length);
      expect(await store.queryEvents({}, { includeArchived: true })).toEqual(setup.all);

      const [next] = await store.append({
        aggregateId: 's2',
        type: 'ORDER.PLACED',
        timestamp: setup.clock.now(),
      });
      expect(next).toMatchObject({ sequence: setup.all.length + 1, version: 23 });
      const visible = await store.read();
      await store.close();
      expect((await verifyStore(setup.dir)).problems).toEqual([]);
      store = await open(setup, short(setup.archive));
      expect(await store.read()).toEqual(visible);
      await store.close();
    });
  }
});
