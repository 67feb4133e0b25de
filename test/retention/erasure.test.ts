/**
 * Erasure (issue 14, item 9): once `deleteAggregate` has resolved and the next cleanup has run, no
 * file of the store or of its archive holds the stream's events, and no restore brings them back,
 * also for events the archive took before the deletion. Each test writes a stream whose every
 * event carries a marker string (in its id, payload, metadata and tags), deletes it, cleans up,
 * then greps every file under the store and the archive, raw and gunzipped, for the marker.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ManualClock,
  openEventStore,
  verifyStore,
  type EventStore,
  type NewEvent,
  type OpenOptions,
} from '../../src/index.js';
import { verifyArchive } from '../../src/storage/embedded/retention/archive.js';
import { readArchivedEvents } from '../../src/storage/embedded/retention/archive-reader.js';
import { removeDir, tempDir } from '../support/helpers.js';
import { cli } from '../support/cli.js';
import { ROOT, REGISTER, LIB } from '../support/child-paths.js';

const MARKER = 'ZQX-ERASE-ME-7f3a';
const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

const dirs: string[] = [];
async function newDir(prefix: string): Promise<string> {
  const dir = await tempDir(prefix);
  dirs.push(dir);
  return dir;
}
// After all, not each: the crash tests run concurrently (each waits on its own child process).
afterAll(async () => {
  for (const dir of dirs) await removeDir(dir);
});

/** The files under `dir` (recursively) whose bytes, or gunzipped bytes, contain the marker. */
export function filesHolding(dir: string, marker: string): string[] {
  const found: string[] = [];
  const needle = Buffer.from(marker);
  const walk = (path: string) => {
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path)) walk(join(path, name));
      return;
    }
    const bytes = readFileSync(path);
    if (bytes.includes(needle)) found.push(path);
    else if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
      let plain: Buffer | undefined;
      try {
        plain = gunzipSync(bytes);
      } catch {
        plain = undefined;
      }
      if (plain?.includes(needle)) found.push(`${path} (gunzipped)`);
    }
  };
  walk(dir);
  return found;
}

/** A victim event: the marker in every field a user writes but the stream's name. */
function victim(n: number): NewEvent {
  return {
    id: `${MARKER}-${n}`,
    aggregateId: 'victim',
    type: 'SECRET.NOTED',
    payload: { note: `${MARKER} payload ${n}`, pad: 'x'.repeat(40) },
    metadata: { by: `${MARKER}-meta` },
    tags: { secret: `${MARKER}-tag-${n % 3}` },
  };
}

function keeper(stream: string, n: number): NewEvent {
  return {
    id: `${stream}-${n}`,
    aggregateId: stream,
    type: 'ORDER.PLACED',
    payload: { n },
    tags: { shop: 'a' },
  };
}

/** Hours of interleaved events: each hour, victim and two other streams. */
async function appendHours(
  store: EventStore,
  clock: ManualClock,
  from: number,
  hours: number,
  withVictim = true,
): Promise<void> {
  for (let h = from; h < from + hours; h++) {
    clock.set(T0 + h * HOUR);
    const batch: NewEvent[] = [];
    for (let i = 0; i < 6; i++) {
      const n = h * 6 + i;
      if (withVictim) batch.push(victim(n));
      batch.push(keeper('keep-a', n), keeper('keep-b', n));
    }
    await store.append(batch);
  }
}

interface Setup {
  dir: string;
  archive: string;
  clock: ManualClock;
  options: OpenOptions;
}

async function setup(maxAge: string | undefined, segmentSize = 8192): Promise<Setup> {
  const dir = await newDir('tamma-erasure-');
  const archive = await newDir('tamma-erasure-archive-');
  const clock = new ManualClock(T0);
  const options: OpenOptions = {
    dir,
    clock,
    segmentSize,
    retention: { ...(maxAge === undefined ? {} : { maxAge }), archive: { dir: archive }, schedule: false },
  };
  return { dir, archive, clock, options };
}

/** The other streams' ids, live and archived: what must survive intact. */
async function keptIds(store: EventStore, archive: string): Promise<string[]> {
  const live = (await store.queryEvents({})).map((e) => e.id);
  // Before the erasing cleanup the archive may still hold the deleted stream: not counted here.
  const archived = [...readArchivedEvents(archive)]
    .filter((e) => e.aggregateId !== 'victim')
    .map((e) => e.id);
  return [...live, ...archived].sort();
}

function expectedKept(hours: number): string[] {
  const ids: string[] = [];
  for (let n = 0; n < hours * 6; n++) ids.push(`keep-a-${n}`, `keep-b-${n}`);
  return ids.sort();
}

async function cliNdjson(archive: string): Promise<string> {
  const { code, stdout, stderr } = await cli(['archive', 'restore', archive, '--ndjson', '-']);
  expect(code, stderr).toBe(0);
  return stdout;
}

/** Everything a user could get the stream back from, checked after the erasure cleanup. */
async function expectErased(s: Setup, hours: number): Promise<void> {
  expect(filesHolding(s.dir, MARKER)).toEqual([]);
  expect(filesHolding(s.archive, MARKER)).toEqual([]);
  if (existsSync(join(s.archive, 'manifest.json'))) {
    expect(verifyArchive(s.archive).ok).toBe(true);
    const ndjson = await cliNdjson(s.archive);
    expect(ndjson).not.toContain(MARKER);
    expect(ndjson).not.toContain('"victim"');
    // Into a fresh store, which has no tombstones: the archive itself must be free of the stream.
    const fresh = await openEventStore({ dir: await newDir('tamma-erasure-fresh-') });
    await fresh.restoreArchive(s.archive);
    const restored = await fresh.queryEvents({});
    expect(restored.length).toBeGreaterThan(0);
    expect(restored.every((e) => e.aggregateId.startsWith('keep-'))).toBe(true);
    await fresh.close();
  }
  const report = await verifyStore(s.dir);
  expect(report.ok, JSON.stringify(report)).toBe(true);
  // Reopened: the other streams intact, the deleted one still deleted.
  const store = await openEventStore(s.options);
  expect(await keptIds(store, s.archive)).toEqual(expectedKept(hours));
  expect(await store.getEvents('victim')).toEqual([]);
  await store.close();
  expect(filesHolding(s.dir, MARKER)).toEqual([]);
}

describe('erasure: deleteAggregate, then cleanup', () => {
  it('leaves no trace of a stream that was never archived', async () => {
    const s = await setup(undefined);
    const store = await openEventStore(s.options);
    // User indexes over the marked fields: their keys must not keep the stream either.
    await store.indexes.createIndex({ name: 'by_note', fields: ['payload.note'] });
    await store.indexes.createIndex({ name: 'by_secret', fields: ['tags.secret'] });
    await appendHours(store, s.clock, 0, 12);
    await store.checkpoint();
    const before = filesHolding(s.dir, MARKER);
    expect(before.some((file) => file.includes('checkpoint'))).toBe(true); // the check can fail
    expect(before.some((file) => file.endsWith('.seg'))).toBe(true);
    await store.deleteAggregate('victim');
    const report = await store.cleanup();
    expect(report.archived).toBe(0); // erased, not archived
    expect(filesHolding(s.dir, MARKER)).toEqual([]);
    expect(await keptIds(store, s.archive)).toEqual(expectedKept(12));
    await store.close();
    await expectErased(s, 12);
  });

  it('removes the stream from the archive when it was archived before the deletion', async () => {
    const s = await setup('6h');
    const store = await openEventStore(s.options);
    await appendHours(store, s.clock, 0, 12);
    s.clock.set(T0 + 15 * HOUR);
    const archiving = await store.cleanup();
    expect(archiving.archived).toBeGreaterThan(0);
    expect(filesHolding(s.archive, MARKER).length).toBeGreaterThan(0); // the check can fail
    await store.deleteAggregate('victim');
    // Before the cleanup that erases: a restore into this store leaves the stream out already.
    await store.cleanup();
    await store.close();
    await expectErased(s, 12);
  });

  it('the same when all of the stream was cut before the deletion, and its segment kept', async () => {
    // The stream writes in the first hours only, which all expire: the cut removes them in place
    // (archived), and the one segment, which still holds their bytes, is kept until all of it is
    // removed. No event of the stream is left in the table for a compaction to find.
    const s = await setup('3h', 1 << 20);
    const store = await openEventStore(s.options);
    await appendHours(store, s.clock, 0, 3);
    await appendHours(store, s.clock, 3, 5, false);
    s.clock.set(T0 + 6 * HOUR + HOUR / 2);
    await store.cleanup();
    await store.deleteAggregate('victim');
    await store.cleanup();
    await store.close();
    await expectErased(s, 8);
  });

  it('a restore before the erasing cleanup leaves the stream out, into this store or another that deleted it', async () => {
    const s = await setup('6h');
    const store = await openEventStore(s.options);
    await appendHours(store, s.clock, 0, 12);
    s.clock.set(T0 + 15 * HOUR);
    await store.cleanup();
    await store.deleteAggregate('victim');
    // Into this store (below its last sequence: the log is rebuilt).
    const back = await store.restoreArchive(s.archive);
    expect(back.ofDeletedStreams).toBeGreaterThan(0);
    expect(back.restored).toBeGreaterThan(0);
    expect(await store.getEvents('victim')).toEqual([]);
    // Into another store that deleted the stream too (after its last sequence: frames appended).
    const otherDir = await newDir('tamma-erasure-other-');
    const other = await openEventStore({ dir: otherDir });
    await other.deleteAggregate('victim');
    const report = await other.restoreArchive(s.archive);
    expect(report.ofDeletedStreams).toBeGreaterThan(0);
    expect((await other.queryEvents({})).every((e) => e.aggregateId.startsWith('keep-'))).toBe(true);
    await other.close();
    expect(filesHolding(otherDir, MARKER)).toEqual([]);
    expect((await verifyStore(otherDir)).ok).toBe(true);
    // The stream's live events are still in the log until the cleanup that erases them.
    await store.cleanup();
    await store.close();
    expect(filesHolding(s.dir, MARKER)).toEqual([]);
    expect(filesHolding(s.archive, MARKER)).toEqual([]);
  });
});

describe('erasure: closing while the erasing cleanup rewrites the log', () => {
  it('writes no checkpoint that would forget the spans not rewritten yet; the next cleanup erases them', async () => {
    const s = await setup(undefined, 4096);
    const store = await openEventStore(s.options);
    await appendHours(store, s.clock, 0, 12);
    await store.deleteAggregate('victim');
    let closing: Promise<void> | undefined;
    // Stopped after the first span is rewritten: the table no longer has the stream's rows, the
    // other spans still hold their bytes.
    const report = await store.cleanup({
      onProgress: ({ phase, done, total }) => {
        if (phase === 'rewriting' && done === 1 && total > 1) closing ??= store.close();
      },
    });
    expect(closing).toBeDefined();
    expect(report.spansRewritten).toBe(1);
    await closing;
    expect(filesHolding(s.dir, MARKER).length).toBeGreaterThan(0);
    const reopened = await openEventStore(s.options);
    expect(await reopened.getEvents('victim')).toEqual([]);
    await reopened.cleanup();
    await reopened.close();
    await expectErased(s, 12);
  });
});

// ---- a crash in the middle of the erasure ------------------------------------------------------

const WRITER = fileURLToPath(new URL('./erasure-writer.mjs', import.meta.url));

/** The erasing cleanup's steps (src/storage/embedded/retention/cleanup.ts, archive-erasure.ts), in order. */
const ERASURE_STEPS = [
  'cleanup:table-compacted',
  'cleanup:span-rewritten',
  'cleanup:front-dropped',
  'cleanup:checkpointed',
  'erasure:archive-file-written',
  'erasure:manifest-written',
  'cleanup:erasure-recorded',
] as const;

/** Deletes the stream and cleans up in a child process, SIGKILLed at `failpoint`; resolves its signal. */
function eraseInChild(s: Setup, failpoint: string): Promise<{ signal: string | null; stderr: string }> {
  const config = {
    lib: LIB,
    dir: s.dir,
    now: s.clock.now(),
    segmentSize: s.options.segmentSize,
    retention: s.options.retention,
    deleted: 'victim',
    sliceRows: 16,
  };
  const child = spawn(process.execPath, ['--import', REGISTER, WRITER, JSON.stringify(config)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TAMMA_FAILPOINT: failpoint },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.resume();
  return new Promise((resolve) => child.on('exit', (_code, signal) => resolve({ signal, stderr })));
}

describe('erasure: a crash in the middle of the erasing cleanup', () => {
  // Some of the stream archived, some live, over several segments; the child deletes it and is
  // killed at one step of the cleanup. Reopened: no other event is lost, the stream stays deleted,
  // and the next cleanup finishes the erasure.
  for (const failpoint of ERASURE_STEPS) {
    it.concurrent(`killed at ${failpoint}`, async () => {
      const s = await setup('6h');
      const store = await openEventStore(s.options);
      await appendHours(store, s.clock, 0, 12);
      s.clock.set(T0 + 15 * HOUR);
      expect((await store.cleanup()).archived).toBeGreaterThan(0);
      await store.close();
      const child = await eraseInChild(s, failpoint);
      expect(child.signal, `the child reached ${failpoint}: ${child.stderr}`).toBe('SIGKILL');

      expect((await verifyStore(s.dir)).problems).toEqual([]);
      expect(verifyArchive(s.archive).problems).toEqual([]);
      const reopened = await openEventStore(s.options);
      expect(await reopened.getEvents('victim')).toEqual([]);
      expect(await keptIds(reopened, s.archive)).toEqual(expectedKept(12));
      expect(await reopened.deleteAggregate('victim')).toBe(false);
      await reopened.cleanup();
      expect(await keptIds(reopened, s.archive)).toEqual(expectedKept(12));
      await reopened.close();
      await expectErased(s, 12);
    });
  }
});
