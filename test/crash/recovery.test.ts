/**
 * Recovery from damaged directories, built in-process: clean reopen, bad checkpoints, torn tails and
 * mid-log corruption (with verifyStore / repairStore). The kill -9 tests are in kill.test.ts.
 */
import { appendFile, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  CorruptionError,
  ManualClock,
  openEventStore,
  repairStore,
  verifyStore,
  type EventStore,
  type StoredEvent,
} from '../../src/index.js';
import {
  expectError,
  fileSize,
  flipByte,
  FRAME_HEADER,
  FRAME_MAGIC,
  garbage,
  listSegments,
  parseFrames,
  rejection,
  removeDir,
  segmentFrames,
  sequences,
  snapshotStoreDir,
  tempDir,
} from '../support/helpers.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2024, 5, 1);
const SEGMENT_SIZE = 4096;

// After every event time (minutes 0 to 49): events may not be from the store's future.
const clock = new ManualClock(T0 + 50 * MINUTE);
const batchSize = (b: number): number => 1 + ((b * 7) % 6);

function batchEvents(b: number) {
  return Array.from({ length: batchSize(b) }, (_, i) => ({
    aggregateId: `agg-${(b + i) % 5}`,
    type: `T${b % 3}`,
    tags: { b, even: b % 2 === 0 },
    payload: { b, i, text: 'lorem ipsum '.repeat(8) },
    timestamp: T0 + ((b * 37 + i) % 50) * MINUTE,
  }));
}

/** Appends batches `from` .. `to - 1`, one frame each. */
async function appendBatches(store: EventStore, from: number, to: number): Promise<StoredEvent[][]> {
  const stored: StoredEvent[][] = [];
  for (let b = from; b < to; b++) stored.push(await store.append(batchEvents(b)));
  return stored;
}

/** Every query kind, to compare stores rebuilt in different ways. */
async function everything(store: EventStore): Promise<unknown> {
  const results: unknown[] = [await store.read(), store.stats().events, store.stats().lastSequence];
  for (let a = 0; a < 5; a++) results.push(await store.getEvents(`agg-${a}`));
  for (let t = 0; t < 3; t++) results.push(await store.getEventsByType(`T${t}`));
  results.push(await store.queryEvents({ tags: { even: true }, order: 'desc' }));
  results.push(await store.queryEvents({ tags: { b: [3, 17] } }));
  results.push(await store.getEventsInRange(T0 + 10 * MINUTE, T0 + 30 * MINUTE));
  results.push(
    await store.queryEvents({ aggregateId: ['agg-1', 'agg-2'], type: 'T1', from: T0 + 5 * MINUTE }),
  );
  return results;
}

/** Sequence-checks every segment: frames cover each file exactly and sequences follow on. */
async function expectCleanLog(dir: string, lastSequence: number): Promise<void> {
  let next = 1;
  for (const name of await listSegments(dir)) {
    const buffer = await readFile(join(dir, 'log', name));
    const frames = parseFrames(buffer);
    const end = frames.length === 0 ? 0 : frames.at(-1)!.offset + FRAME_HEADER + frames.at(-1)!.bodyLength;
    expect(end, `${name} has bytes after its last frame`).toBe(buffer.length);
    for (const frame of frames) {
      expect(frame.firstSequence, name).toBe(next);
      next += frame.count;
    }
  }
  expect(next - 1).toBe(lastSequence);
}

describe('recovery', () => {
  let dir: string;
  const dirs: string[] = [];
  const stores: EventStore[] = [];

  const open = async (at = dir): Promise<EventStore> => {
    const store = await openEventStore({ dir: at, clock, segmentSize: SEGMENT_SIZE });
    stores.push(store);
    return store;
  };
  const closeAll = async () => {
    for (const store of stores.splice(0)) await store.close().catch(() => undefined);
  };
  const newDir = async () => {
    const d = await tempDir('tamma-recovery-');
    dirs.push(d);
    return d;
  };

  beforeEach(async () => {
    dir = await newDir();
  });

  afterEach(async () => {
    await closeAll();
    for (const d of dirs.splice(0)) await removeDir(d);
  });

  /** A closed store of 40 batches (one frame each) over several 4 KiB segments. */
  async function buildClosedStore(): Promise<{ all: StoredEvent[]; expected: unknown }> {
    const store = await openEventStore({ dir, clock, segmentSize: SEGMENT_SIZE, fsync: 'never' });
    await appendBatches(store, 0, 40);
    const all = await store.read();
    const expected = await everything(store);
    await store.close();
    expect((await listSegments(dir)).length).toBeGreaterThanOrEqual(3);
    return { all, expected };
  }

  test('reopen after a clean close returns identical data, several times over', async () => {
    const { expected, all } = await buildClosedStore();
    let store = await open();
    expect(await everything(store)).toEqual(expected);
    await store.close();
    store = await open();
    expect(await everything(store)).toEqual(expected);
    const report = await (async () => {
      await store.close();
      return verifyStore(dir);
    })();
    expect(report).toMatchObject({ ok: true, events: all.length, lastSequence: all.length, problems: [] });
    expect(report.checkpoint).toMatchObject({ valid: true, sequence: report.lastSequence });
    expect(report.segments).toBe((await listSegments(dir)).length);
    expect(report.frames).toBe(40);
  });

  describe('a corrupt checkpoint falls back to a rebuild from the log', () => {
    // [title, damage, whether verifyStore must name it as a bad checkpoint (an empty file may count as none)]
    const damages: [string, (file: string) => Promise<void>, boolean?][] = [
      [
        'bytes flipped in the middle',
        async (file) => {
          const size = await fileSize(file);
          await flipByte(file, Math.floor(size / 2));
          await flipByte(file, Math.floor(size / 3));
        },
      ],
      ['the last byte flipped', async (file) => flipByte(file, (await fileSize(file)) - 1)],
      ['the first byte flipped', async (file) => flipByte(file, 0)],
      ['truncated to half', async (file) => truncate(file, Math.floor((await fileSize(file)) / 2))],
      ['emptied', async (file) => truncate(file, 0), false],
      ['replaced with garbage', async (file) => writeFile(file, garbage(5000))],
    ];

    for (const [title, damage, strict = true] of damages) {
      test(title, async () => {
        const { expected, all } = await buildClosedStore();
        await damage(join(dir, 'checkpoint.bin'));

        const report = await verifyStore(dir);
        expect(report.ok).toBe(true);
        expect(report.checkpoint?.valid ?? false).toBe(false);
        if (strict) expect(report.problems.map((p) => p.kind)).toEqual(['bad-checkpoint']);
        else expect(report.problems.every((p) => p.kind === 'bad-checkpoint')).toBe(true);

        const store = await open();
        expect(await everything(store)).toEqual(expected);
        const [next] = await store.append({ aggregateId: 'agg-0', type: 'T9' });
        expect(next!.sequence).toBe(all.length + 1);
        expect(next!.version).toBe(all.filter((e) => e.aggregateId === 'agg-0').length + 1);
        await store.close();

        // The close wrote a good checkpoint again.
        const after = await verifyStore(dir);
        expect(after).toMatchObject({
          ok: true,
          problems: [],
          checkpoint: { valid: true, sequence: all.length + 1 },
        });
      });
    }
  });

  describe('a torn tail is truncated: only the torn last batch is lost', () => {
    /**
     * A crash image: the store's files after a flush, as SIGKILL would leave them (a checkpoint was
     * written earlier, the log goes on after it), copied to a fresh directory.
     */
    async function crashImage(): Promise<{ image: string; all: StoredEvent[]; lastBatch: StoredEvent[] }> {
      const store = await openEventStore({ dir, clock, segmentSize: SEGMENT_SIZE, fsync: 'never' });
      await appendBatches(store, 0, 20);
      await store.checkpoint();
      const stored = await appendBatches(store, 20, 37);
      await store.flush();
      const image = await newDir();
      await snapshotStoreDir(dir, image);
      const all = await store.read();
      await store.close();
      return { image, all, lastBatch: stored.at(-1)! };
    }

    async function newestSegment(at: string): Promise<string> {
      return join(at, 'log', (await listSegments(at)).at(-1)!);
    }

    async function expectRecovered(at: string, keep: StoredEvent[]): Promise<void> {
      const report = await verifyStore(at);
      expect(report.ok).toBe(true);
      const kinds = report.problems.map((p) => p.kind);
      expect(kinds.every((k) => k === 'torn-tail')).toBe(true);

      const store = await open(at);
      expect(await store.read()).toEqual(keep);
      expect(store.stats()).toMatchObject({ events: keep.length, lastSequence: keep.length });
      // Appends continue right after the last intact batch, and survive a reopen.
      const added = await store.append([
        { aggregateId: 'agg-0', type: 'AFTER', payload: 1 },
        { aggregateId: 'agg-9', type: 'AFTER', payload: 2 },
      ]);
      expect(sequences(added)).toEqual([keep.length + 1, keep.length + 2]);
      await store.close();
      const again = await open(at);
      expect(await again.read()).toEqual([...keep, ...added]);
      await again.close();
      await expectCleanLog(at, keep.length + 2);
      const after = await verifyStore(at);
      expect(after).toMatchObject({ ok: true, problems: [] });
    }

    for (const cut of [1, 5, 20, 24, 30]) {
      test(`the newest segment cut ${cut} bytes short`, async () => {
        const { image, all, lastBatch } = await crashImage();
        const segment = await newestSegment(image);
        const frames = parseFrames(await readFile(segment));
        const last = frames.at(-1)!;
        expect(last.firstSequence).toBe(lastBatch[0]!.sequence);
        expect(cut).toBeLessThan(FRAME_HEADER + last.bodyLength);
        await truncate(segment, (await fileSize(segment)) - cut);
        const report = await verifyStore(image);
        expect(report.problems).toHaveLength(1);
        expect(report.problems[0]).toMatchObject({ kind: 'torn-tail', offset: last.offset });
        expect(report.problems[0]!.file).toContain((await listSegments(image)).at(-1)!);
        await expectRecovered(image, all.slice(0, all.length - lastBatch.length));
      });
    }

    test('the newest segment cut to just a partial header of its last frame', async () => {
      const { image, all, lastBatch } = await crashImage();
      const segment = await newestSegment(image);
      const last = parseFrames(await readFile(segment)).at(-1)!;
      await truncate(segment, last.offset + 10);
      await expectRecovered(image, all.slice(0, all.length - lastBatch.length));
    });

    test('the newest segment torn inside its first frame: the one before takes appends again', async () => {
      const { image, all } = await crashImage();
      const segment = await newestSegment(image);
      const [first] = parseFrames(await readFile(segment));
      await truncate(segment, 10);
      await expectRecovered(
        image,
        all.filter((e) => e.sequence < first!.firstSequence),
      );
    });

    test('a few garbage bytes after the last frame', async () => {
      const { image, all } = await crashImage();
      await appendFile(await newestSegment(image), garbage(13));
      await expectRecovered(image, all);
    });

    test('a frame header promising more bytes than were written', async () => {
      const { image, all } = await crashImage();
      const header = Buffer.alloc(FRAME_HEADER + 50, 0x5a);
      header.writeUInt32LE(FRAME_MAGIC, 0);
      header.writeUInt32LE(5000, 4);
      header.writeUInt32LE(0, 8);
      header.writeDoubleLE(all.length + 1, 12);
      header.writeUInt32LE(3, 20);
      await appendFile(await newestSegment(image), header);
      await expectRecovered(image, all);
    });

    test('a cut under a checkpoint that covers it is a loss, not a torn tail: refused (lost-events.test.ts)', async () => {
      const store = await openEventStore({ dir, clock, segmentSize: SEGMENT_SIZE });
      await appendBatches(store, 0, 12);
      await store.close();
      const segment = await newestSegment(dir);
      await truncate(segment, (await fileSize(segment)) - 7);
      // Once, this reopened without the last batch, silently, and gave its sequences to new events.
      const error = await rejection(open);
      expect(error).toBeInstanceOf(CorruptionError);
      expect(error).toMatchObject({ code: 'CORRUPTION', file: segment });
    });
  });

  describe('corruption in the middle of the log', () => {
    interface Damage {
      all: StoredEvent[];
      segmentName: string;
      /** Offset of the damaged frame in its segment. */
      frameOffset: number;
      /** Events in frames before the damaged one. */
      kept: number;
      segmentBytes: number;
      laterSegments: string[];
      /** Total size of the later segments. */
      laterBytes: number;
    }

    /** Flips one byte ~40 bytes into frame `frameIndex` of segment `segmentIndex` (header or body). */
    async function damage(segmentIndex: number, frameIndex: number, into = 40): Promise<Damage> {
      const { all } = await buildClosedStore();
      const segments = await listSegments(dir);
      const segmentName = segments[segmentIndex]!;
      const frames = await segmentFrames(dir, segmentName);
      expect(frames.length, `${segmentName} should hold several frames`).toBeGreaterThan(frameIndex + 1);
      const frame = frames[frameIndex]!;
      expect(frame.bodyLength).toBeGreaterThan(into);
      const file = join(dir, 'log', segmentName);
      await flipByte(file, frame.offset + into);
      let laterBytes = 0;
      for (const name of segments.slice(segmentIndex + 1))
        laterBytes += await fileSize(join(dir, 'log', name));
      return {
        laterBytes,
        all,
        segmentName,
        frameOffset: frame.offset,
        kept: frame.firstSequence - 1,
        segmentBytes: await fileSize(file),
        laterSegments: segments.slice(segmentIndex + 1),
      };
    }

    const expectCorruption = (error: unknown, d: Damage) => {
      expectError(error, CorruptionError, 'CORRUPTION', d.segmentName);
      const e = error as CorruptionError;
      expect(e.file).toContain(d.segmentName);
      expect(e.offset).toBeGreaterThanOrEqual(d.frameOffset);
      expect(e.offset).toBeLessThanOrEqual(d.frameOffset + 40);
      expect(e.message).toContain(String(e.offset));
    };

    test('open refuses with a CorruptionError naming the file and offset (no checkpoint)', async () => {
      const d = await damage(0, 2);
      await rm(join(dir, 'checkpoint.bin'));
      expectCorruption(await rejection(() => openEventStore({ dir })), d);
      // Refusing must not have changed the files.
      expect(await fileSize(join(dir, 'log', d.segmentName))).toBe(d.segmentBytes);
      expectCorruption(await rejection(() => openEventStore({ dir })), d);
    });

    test('with a valid checkpoint the damage is still never returned as data', async () => {
      const d = await damage(0, 2);
      let store: EventStore;
      try {
        store = await openEventStore({ dir });
      } catch (error) {
        expectCorruption(error, d);
        return;
      }
      stores.push(store);
      // The store opened from its checkpoint without reading the damaged frame; reading it must fail.
      const error = await rejection(() => store.read());
      expectCorruption(error, d);
    });

    test('with a valid checkpoint, a flipped byte inside a payload is never returned as altered data', async () => {
      const store = await openEventStore({ dir });
      await store.append({ aggregateId: 'a', type: 'T', payload: { text: 'hello world' } });
      await store.append({ aggregateId: 'a', type: 'T', payload: { text: 'second frame' } });
      await store.close();
      const [segment] = await listSegments(dir);
      const file = join(dir, 'log', segment!);
      const bytes = await readFile(file);
      const at = bytes.indexOf('hello');
      bytes[at] = 'j'.charCodeAt(0); // 'jello world': the frame's CRC no longer matches
      await writeFile(file, bytes);
      let reopened: EventStore;
      try {
        reopened = await openEventStore({ dir });
      } catch (error) {
        expectError(error, CorruptionError, 'CORRUPTION', segment!);
        return;
      }
      stores.push(reopened);
      const result = await reopened.read().then(
        (events) => events.map((e) => e.payload),
        (error: unknown) => error,
      );
      expect(result).toBeInstanceOf(CorruptionError);
    });

    test('damage in a later segment names that segment', async () => {
      const d = await damage(2, 1);
      await rm(join(dir, 'checkpoint.bin'));
      expectCorruption(await rejection(() => openEventStore({ dir })), d);
    });

    test('a damaged frame header mid-log is corruption, not a torn tail', async () => {
      const d = await damage(1, 0, 1);
      await rm(join(dir, 'checkpoint.bin'));
      expectCorruption(await rejection(() => openEventStore({ dir })), d);
      const report = await verifyStore(dir);
      expect(report.ok).toBe(false);
      expect(report.problems.some((p) => p.kind === 'corrupt-frame')).toBe(true);
    });

    test('verifyStore reports it; repairStore moves that frame aside and keeps every other; the store then opens', async () => {
      const d = await damage(0, 2);
      const frame = (await segmentFrames(dir, d.segmentName))[2]!;
      const dropped = d.all.filter((e) => e.sequence > d.kept && e.sequence <= d.kept + frame.count);

      const report = await verifyStore(dir);
      expect(report.ok).toBe(false);
      const problem = report.problems.find((p) => p.kind === 'corrupt-frame');
      expect(problem, JSON.stringify(report.problems)).toBeDefined();
      expect(problem!.file).toContain(d.segmentName);
      expect(problem!.offset).toBe(d.frameOffset);
      expect(problem!.detail.length).toBeGreaterThan(0);
      // verify only reads.
      expect(await fileSize(join(dir, 'log', d.segmentName))).toBe(d.segmentBytes);

      const repair = await repairStore(dir);
      const kept = d.all.filter((e) => !dropped.includes(e));
      expect(repair.eventsKept).toBe(kept.length);
      expect(repair.lastSequence).toBe(d.all.length);
      // Exactly the damaged frame is dropped: its bytes moved to a quarantine file, its sequences a hole.
      expect(repair.dropped).toEqual([
        {
          kind: 'damaged',
          file: join(dir, 'log', d.segmentName),
          offset: d.frameOffset,
          bytes: FRAME_HEADER + frame.bodyLength,
          quarantineFile: expect.stringContaining('quarantine'),
          firstSequence: d.kept + 1,
          lastSequence: d.kept + frame.count,
          detail: expect.any(String),
        },
      ]);
      expect(repair.removedFiles).toEqual([]);
      expect(repair.checkpointDiscarded).toBe(true);
      // The segment shrank by the frame, less the 32-byte hole that stands for its sequences.
      expect(await fileSize(join(dir, 'log', d.segmentName))).toBe(
        d.segmentBytes - FRAME_HEADER - frame.bodyLength + 32,
      );
      expect(await listSegments(dir)).toHaveLength(d.laterSegments.length + 1);

      expect(await verifyStore(dir)).toMatchObject({
        ok: true,
        problems: [],
        events: kept.length,
        lastSequence: d.all.length,
      });

      const store = await open();
      expect(await store.read()).toEqual(kept);
      expect(store.stats()).toMatchObject({ events: kept.length, lastSequence: d.all.length });
      expect(await store.getEvents('agg-1')).toEqual(kept.filter((e) => e.aggregateId === 'agg-1'));
      const [next] = await store.append({ aggregateId: 'agg-1', type: 'AFTER' });
      expect(next).toMatchObject({
        sequence: d.all.length + 1,
        version: kept.filter((e) => e.aggregateId === 'agg-1').length + 1,
      });
      await store.close();
      const again = await open();
      expect((await again.read()).length).toBe(kept.length + 1);
      await again.close();
    });

    test('repairStore on a healthy store changes nothing', async () => {
      const { expected } = await buildClosedStore();
      const segmentsBefore = await listSegments(dir);
      const repair = await repairStore(dir);
      expect(repair).toMatchObject({
        dropped: [],
        removedFiles: [],
        logStart: null,
        checkpointDiscarded: false,
      });
      expect(await listSegments(dir)).toEqual(segmentsBefore);
      const store = await open();
      expect(await everything(store)).toEqual(expected);
    });
  });
});
