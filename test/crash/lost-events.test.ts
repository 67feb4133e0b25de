/**
 * Loss is never silent (issue 14, item 5): when the log ends before what a durable record proves
 * was written, open refuses (or, with `recover: 'truncate'`, opens, says what was lost and never
 * reuses its sequences), and verifyStore says so. A damaged end nothing durable covers is a torn
 * write: dropped at open, and reported.
 */
import { readFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  CorruptionError,
  ManualClock,
  openEventStore,
  repairStore,
  verifyStore,
  type EventStore,
  type OpenOptions,
} from '../../src/index.js';
import {
  flipByte,
  listSegments,
  parseFrames,
  rejection,
  removeDir,
  snapshotStoreDir,
  tempDir,
} from '../support/helpers.js';

const T0 = Date.UTC(2026, 0, 1);
const clock = new ManualClock(T0);

let root: string;
let dir: string;

beforeEach(async () => {
  root = await tempDir('lost-events');
  dir = join(root, 'store');
});

afterEach(async () => {
  await removeDir(root);
});

const open = (options: Partial<OpenOptions> = {}, at = dir) =>
  openEventStore({ dir: at, clock, fsync: 'always', segmentSize: 4096, ...options });

/** 20 batches of 3 events (sequences 1..60), one frame each, over several 4 KiB segments. */
async function fill(store: EventStore): Promise<void> {
  for (let b = 0; b < 20; b++)
    await store.append(
      [0, 1, 2].map((i) => ({
        aggregateId: `s${(b + i) % 4}`,
        type: 'T',
        payload: { b, i, pad: 'x'.repeat(40) },
      })),
    );
}

async function newestSegment(at = dir): Promise<string> {
  return join(at, 'log', (await listSegments(at)).at(-1)!);
}

/** Offset of the last frame of the newest segment, and the first sequence it holds. */
async function lastFrame(at = dir): Promise<{ path: string; offset: number; firstSequence: number }> {
  const path = await newestSegment(at);
  const frame = parseFrames(await readFile(path)).at(-1)!;
  return { path, offset: frame.offset, firstSequence: frame.firstSequence };
}

const sequences = async (store: EventStore) => (await store.read()).map((event) => event.sequence);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('the log ends before what a durable record proves', () => {
  test('a segment cut below the checkpoint: open refuses, recover: truncate opens, reports and never reuses a sequence', async () => {
    const store = await open();
    await fill(store);
    await store.checkpoint();
    await store.close();
    // Cut the newest segment inside its last-but-one frame: two batches (6 events) lost.
    const path = await newestSegment();
    const frames = parseFrames(await readFile(path));
    expect(frames.length).toBeGreaterThanOrEqual(2);
    const cutFrame = frames.at(-2)!;
    await truncate(path, cutFrame.offset + 10);
    const firstLost = cutFrame.firstSequence;

    const error = await rejection(() => open());
    expect(error).toBeInstanceOf(CorruptionError);
    expect(error).toMatchObject({ code: 'CORRUPTION', file: path, offset: cutFrame.offset });
    expect((error as Error).message).toContain('checkpoint.bin');
    expect((error as Error).message).toContain(`${firstLost}..60`);
    // Refusing changed nothing: the cut bytes are still there.
    expect((await readFile(path)).length).toBe(cutFrame.offset + 10);

    const report = await verifyStore(dir);
    expect(report.ok).toBe(false);
    expect(report.problems).toContainEqual(
      expect.objectContaining({ kind: 'lost-events', file: path, offset: cutFrame.offset }),
    );
    expect(report.problems.map((p) => p.kind)).not.toContain('torn-tail');

    const recovered = await open({ recover: 'truncate' });
    expect(recovered.stats().storage?.recovery.lost).toEqual({
      firstSequence: firstLost,
      lastSequence: 60,
      events: 60 - firstLost + 1,
      provenBy: join(dir, 'checkpoint.bin'),
      file: path,
      offset: cutFrame.offset,
    });
    expect(await sequences(recovered)).toEqual(range(1, firstLost - 1));
    const [next] = await recovered.append({ aggregateId: 's9', type: 'AFTER' });
    expect(next!.sequence).toBe(61);
    await recovered.close();

    // The loss is settled: a plain open works and still keeps 61 after the lost ones.
    const again = await open();
    expect(await sequences(again)).toEqual([...range(1, firstLost - 1), 61]);
    expect(again.stats().storage?.recovery).toEqual({ tornTails: [], lost: null });
    await again.close();
    expect((await verifyStore(dir)).ok).toBe(true);
  });

  test('a tombstone proves the log reached its sequence (no checkpoint): refused, then repair accepts the loss', async () => {
    const store = await open({ checkpointEvery: 0 });
    await fill(store);
    await store.deleteAggregate('s0');
    // A copy while open: as after a crash, no checkpoint was written at close.
    await snapshotStoreDir(dir, join(root, 'copy'));
    await store.close();
    const copy = join(root, 'copy');
    const { path, offset, firstSequence } = await lastFrame(copy);
    await truncate(path, offset);
    expect(await rejection(() => open({}, copy))).toMatchObject({
      code: 'CORRUPTION',
      file: path,
      offset,
      message: expect.stringContaining('tombstones.log'),
    });
    const repaired = await repairStore(copy);
    expect(repaired.lostEvents).toMatchObject({ firstSequence, lastSequence: 60 });
    const reopened = await open({}, copy);
    const [next] = await reopened.append({ aggregateId: 's9', type: 'AFTER' });
    expect(next!.sequence).toBe(61);
    await reopened.close();
  });

  test('a flipped bit in the last complete frame, covered by the checkpoint: corruption, not a torn tail', async () => {
    const store = await open();
    await fill(store);
    await store.close(); // writes the checkpoint, which covers every frame
    const { path, offset } = await lastFrame();
    await flipByte(path, offset + 30);
    expect(await rejection(() => open())).toMatchObject({ code: 'CORRUPTION', file: path, offset });
    const report = await verifyStore(dir);
    expect(report.ok).toBe(false);
    expect(report.problems).toContainEqual(
      expect.objectContaining({ kind: 'lost-events', file: path, offset }),
    );
  });

  test('a flipped bit in the last frame nothing durable covers: a torn write, dropped and reported', async () => {
    const store = await open({ checkpointEvery: 0 });
    await fill(store);
    await snapshotStoreDir(dir, join(root, 'copy'));
    await store.close();
    const copy = join(root, 'copy');
    const { path, offset, firstSequence } = await lastFrame(copy);
    await flipByte(path, offset + 30);
    const report = await verifyStore(copy);
    expect(report.ok).toBe(true);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'torn-tail', file: path, offset })]);
    const reopened = await open({}, copy);
    expect(reopened.stats().storage?.recovery).toEqual({
      tornTails: [{ file: path, offset, bytes: expect.any(Number) }],
      lost: null,
    });
    expect(await sequences(reopened)).toEqual(range(1, firstSequence - 1));
    await reopened.close();
  });
});
