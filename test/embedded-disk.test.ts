import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  EventTooLargeError,
  openEventStore,
  StoreLockedError,
  TammaError,
  type EventStore,
} from '../src/index.js';
import { embeddedOnDisk, embeddedOnDiskWith } from './contract/embedded-factories.js';
import { embeddedSpecifics } from './contract/embedded-specifics.js';
import { eventStoreContract } from './contract/event-store.contract.js';
import {
  expectError,
  fileSize,
  listSegments,
  rejection,
  removeDir,
  segmentFrames,
  tempDir,
  turnsUntil,
} from './support/helpers.js';

const KiB = 1024;

for (const factory of [
  embeddedOnDisk,
  embeddedOnDiskWith('64 KiB segments, fsync always, checkpoint every 3 events', {
    segmentSize: 64 * KiB,
    fsync: 'always',
    checkpointEvery: 3,
  }),
  embeddedOnDiskWith('fsync never', { fsync: 'never' }),
]) {
  eventStoreContract(factory);
  embeddedSpecifics(factory);
}

/**
 * The sequence the store's last checkpoint covers, once a background one has landed: turns of the
 * event loop (I/O, not time) until it does, at most 10,000.
 */
async function checkpointLanded(store: EventStore): Promise<number> {
  const covered = () => store.stats().storage!.lastCheckpointSequence;
  await turnsUntil(() => covered() > 0);
  return covered();
}

describe('embedded, on disk: specifics', () => {
  const withDir = async (fn: (dir: string) => Promise<void>) => {
    const dir = await tempDir();
    try {
      await fn(dir);
    } finally {
      await removeDir(dir);
    }
  };

  const payloadOf = (n: number) => ({ n, text: `event number ${n} `.repeat(8) });

  async function appendMany(store: EventStore, total: number, batch: number): Promise<void> {
    for (let start = 0; start < total; start += batch) {
      const size = Math.min(batch, total - start);
      await store.append(
        Array.from({ length: size }, (_, i) => ({
          aggregateId: `agg-${(start + i) % 17}`,
          type: `T${(start + i) % 5}`,
          tags: { k: (start + i) % 3 },
          payload: payloadOf(start + i),
        })),
      );
    }
  }

  test('the directory has the documented layout', async () => {
    await withDir(async (dir) => {
      const store = await openEventStore({ dir });
      await store.append({ aggregateId: 'a', type: 'T' });
      expect(existsSync(join(dir, 'store.json'))).toBe(true);
      expect((await readFile(join(dir, 'LOCK'), 'utf8')).includes(String(process.pid))).toBe(true);
      const segments = await listSegments(dir);
      expect(segments.length).toBeGreaterThanOrEqual(1);
      for (const name of segments) expect(name).toMatch(/^\d{20}\.seg$/);
      expect(segments[0]).toBe(`${'0'.repeat(20)}.seg`);
      await store.close();
      expect(existsSync(join(dir, 'checkpoint.bin'))).toBe(true);
      const files = await readdir(dir);
      expect(files.filter((f) => f.includes('tmp'))).toEqual([]);
    });
  });

  test('a directory is open in one store at a time, also within one process', async () => {
    await withDir(async (dir) => {
      const first = await openEventStore({ dir });
      await first.append({ aggregateId: 'a', type: 'T' });
      const error = await rejection(() => openEventStore({ dir }));
      expectError(error, StoreLockedError, 'STORE_LOCKED', dir);
      expect((error as StoreLockedError).dir).toBe(dir);
      expect(await first.read()).toHaveLength(1);
      await first.close();
      const second = await openEventStore({ dir });
      expect(await second.read()).toHaveLength(1);
      await second.close();
    });
  });

  test('checkpointEvery and the batch fsync start inside a tight append loop that never yields to timers', async () => {
    await withDir(async (dir) => {
      // No scheduled cleanup: the default schedule runs on the wall clock at the top of each hour, and
      // a run then abandons the background checkpoint this test waits for.
      const store = await openEventStore({
        dir,
        fsync: 'batch',
        fsyncIntervalMs: 1,
        checkpointEvery: 500,
        retention: { schedule: false },
      });
      // Awaiting already-resolved appends never lets setImmediate or setTimeout callbacks run.
      const covered = () => store.stats().storage!.lastCheckpointSequence;
      let first = 0;
      for (let i = 0; i < 2000; i++) {
        await store.append({ aggregateId: `a-${i % 7}`, type: 'T' });
        if (first === 0) first = covered();
      }
      expect(store.stats().storage!.fsyncs).toBeGreaterThan(0);
      // The checkpoint the 500th append started is written in the background: it lands once the
      // loop lets I/O callbacks run (an append past the fsync deadline waits for its fsync, so that
      // can be within the loop), and holds the events as of the append that started it. No other
      // starts while it is written, so it is the first to land. (Later ones start 500 events after
      // the last one landed: at 1000, 1500, ... only when each lands within 500 appends, which a
      // loaded machine does not promise.)
      if (first === 0) first = await checkpointLanded(store);
      expect(first).toBe(500);
      await store.close();
      const reopened = await openEventStore({ dir });
      expect(reopened.stats()).toMatchObject({ events: 2000, lastSequence: 2000 });
      await reopened.close();
    });
  });

  test('dir must be a directory, and a non-empty one must already be a store', async () => {
    await withDir(async (dir) => {
      const file = join(dir, 'plain-file');
      await writeFile(file, 'not a store');
      expectError(await rejection(() => openEventStore({ dir: file })), TammaError, 'NOT_A_STORE', file);
      const foreign = join(dir, 'foreign');
      await mkdir(foreign);
      await writeFile(join(foreign, 'notes.txt'), 'keep me');
      expectError(
        await rejection(() => openEventStore({ dir: foreign })),
        TammaError,
        'NOT_A_STORE',
        'notes.txt',
      );
      expect(await readdir(foreign)).toEqual(['notes.txt']);
    });
  });

  test("fsync 'always': concurrent appends share fsyncs (group commit) and all are acknowledged", async () => {
    await withDir(async (dir) => {
      const store = await openEventStore({ dir, fsync: 'always' });
      const before = store.stats().storage!.fsyncs;
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => store.append({ aggregateId: `a-${i}`, type: 'T' })),
      );
      const used = store.stats().storage!.fsyncs - before;
      expect(results.map((r) => r[0]!.sequence).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 100 }, (_, i) => i + 1),
      );
      expect(used).toBeGreaterThanOrEqual(1);
      expect(used).toBeLessThanOrEqual(3);
      await store.close();
    });
  });

  test('each batch is one frame with the documented header', async () => {
    await withDir(async (dir) => {
      const store = await openEventStore({ dir, fsync: 'always' });
      await store.append([
        { aggregateId: 'a', type: 'T' },
        { aggregateId: 'b', type: 'T' },
      ]);
      await store.append({ aggregateId: 'a', type: 'T' });
      await store.append([
        { aggregateId: 'a', type: 'T' },
        { aggregateId: 'c', type: 'T' },
        { aggregateId: 'c', type: 'T' },
      ]);
      await store.close();
      const [segment] = await listSegments(dir);
      const frames = await segmentFrames(dir, segment!);
      expect(frames.map((f) => [f.firstSequence, f.count])).toEqual([
        [1, 2],
        [3, 1],
        [4, 3],
      ]);
      const last = frames[frames.length - 1]!;
      expect(last.offset + 24 + last.bodyLength).toBe(await fileSize(join(dir, 'log', segment!)));
    });
  });

  test('segments roll past segmentSize; names are the base byte offsets; stats().storage agrees', async () => {
    await withDir(async (dir) => {
      const store = await openEventStore({ dir, segmentSize: 4096, fsync: 'never' });
      await appendMany(store, 400, 7);
      await store.flush();
      const segments = await listSegments(dir);
      expect(segments.length).toBeGreaterThan(5);
      let base = 0;
      let total = 0;
      for (const name of segments) {
        expect(Number(name.slice(0, 20))).toBe(base);
        const size = await fileSize(join(dir, 'log', name));
        base += size;
        total += size;
      }
      const storage = store.stats().storage!;
      expect(storage).toMatchObject({ dir, segments: segments.length, logBytes: total, fsync: 'never' });
      // Every frame lives wholly in one segment and sequences follow on across segments.
      let expectedSequence = 1;
      for (const name of segments) {
        for (const frame of await segmentFrames(dir, name)) {
          expect(frame.firstSequence).toBe(expectedSequence);
          expectedSequence += frame.count;
        }
      }
      expect(expectedSequence).toBe(401);
      const before = await store.read();
      await store.close();
      const reopened = await openEventStore({ dir, segmentSize: 4096 });
      expect(await reopened.read()).toEqual(before);
      expect((await reopened.getEvents('agg-3')).map((e) => e.payload)).toEqual(
        before.filter((e) => e.aggregateId === 'agg-3').map((e) => e.payload),
      );
      const [next] = await reopened.append({ aggregateId: 'agg-3', type: 'T0' });
      expect(next!.sequence).toBe(401);
      await reopened.close();
    });
  });

  test('checkpoint() writes checkpoint.bin and records the sequence', async () => {
    await withDir(async (dir) => {
      const store = await openEventStore({ dir, checkpointEvery: 0 });
      await appendMany(store, 30, 4);
      await store.checkpoint();
      expect(existsSync(join(dir, 'checkpoint.bin'))).toBe(true);
      expect(store.stats().storage!.lastCheckpointSequence).toBe(30);
      await appendMany(store, 5, 5);
      expect(store.stats().storage!.lastCheckpointSequence).toBe(30);
      await store.close();
      const reopened = await openEventStore({ dir });
      expect(reopened.stats().storage!.lastCheckpointSequence).toBe(35);
      expect(reopened.stats()).toMatchObject({ events: 35, lastSequence: 35 });
      await reopened.close();
    });
  });

  test('checkpointEvery writes checkpoints while appending', async () => {
    await withDir(async (dir) => {
      const store = await openEventStore({ dir, checkpointEvery: 10 });
      await appendMany(store, 25, 5);
      expect(await checkpointLanded(store)).toBeGreaterThanOrEqual(10);
      expect(existsSync(join(dir, 'checkpoint.bin'))).toBe(true);
      await store.close();
    });
  });

  test('a missing checkpoint rebuilds from the log with identical results', async () => {
    await withDir(async (dir) => {
      const store = await openEventStore({ dir, segmentSize: 8192 });
      await appendMany(store, 300, 9);
      const before = [
        await store.read(),
        await store.getEvents('agg-4'),
        await store.getEventsByType('T3', { afterSequence: 100 }),
        await store.queryEvents({ tags: { k: 2 }, type: ['T1', 'T2'], order: 'desc', limit: 17 }),
      ];
      await store.close();
      await rm(join(dir, 'checkpoint.bin'));
      const reopened = await openEventStore({ dir });
      expect([
        await reopened.read(),
        await reopened.getEvents('agg-4'),
        await reopened.getEventsByType('T3', { afterSequence: 100 }),
        await reopened.queryEvents({ tags: { k: 2 }, type: ['T1', 'T2'], order: 'desc', limit: 17 }),
      ]).toEqual(before);
      expect(reopened.stats()).toMatchObject({ events: 300, aggregates: 17, types: 5, lastSequence: 300 });
      await reopened.close();
    });
  });

  test('fsync never: flush() then close() keeps everything', async () => {
    await withDir(async (dir) => {
      const store = await openEventStore({ dir, fsync: 'never' });
      await appendMany(store, 50, 10);
      await store.flush();
      await appendMany(store, 5, 5);
      const before = await store.read();
      await store.close();
      const reopened = await openEventStore({ dir, fsync: 'always' });
      expect(await reopened.read()).toEqual(before);
      expect(reopened.stats().storage!.fsync).toBe('always');
      await reopened.close();
    });
  });

  test('maxEventSize is enforced and nothing reaches the log', async () => {
    await withDir(async (dir) => {
      const store = await openEventStore({ dir, maxEventSize: 1024 });
      await store.append({ aggregateId: 'a', type: 'T', payload: 'x'.repeat(500) });
      const error = await rejection(() =>
        store.append([
          { aggregateId: 'a', type: 'T' },
          { aggregateId: 'a', type: 'T', payload: 'x'.repeat(2000) },
        ]),
      );
      expectError(error, EventTooLargeError, 'EVENT_TOO_LARGE', 'events[1]');
      await store.flush();
      const [segment] = await listSegments(dir);
      const frames = await segmentFrames(dir, segment!);
      expect(frames.map((f) => [f.firstSequence, f.count])).toEqual([[1, 1]]);
      await store.close();
      const reopened = await openEventStore({ dir });
      expect(reopened.stats().events).toBe(1);
      await reopened.close();
    });
  });
});
