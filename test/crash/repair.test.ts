/**
 * Recovery never destroys intact data (issue 14, item 3): open decides whether it can open before it
 * changes anything, and repair keeps every intact frame, moves damaged bytes to a quarantine file,
 * leaves the sequences they held as a hole (never reused), rebuilds log/start.json from the
 * segments, and reports exactly what it dropped.
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import {
  CorruptionError,
  ManualClock,
  openEventStore,
  repairStore,
  verifyStore,
  type StoredEvent,
} from '../../src/index.js';
import {
  expectError,
  listSegments,
  rejection,
  removeDir,
  segmentFrames,
  sequences,
  tempDir,
} from '../support/helpers.js';

const T0 = Date.UTC(2026, 0, 1);
const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await removeDir(dir);
});

/** Every file under `dir` (but the LOCK) and its bytes: to prove a refusal changed nothing. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name !== 'LOCK')
        files.set(relative(dir, path), (await readFile(path)).toString('base64'));
    }
  };
  await walk(dir);
  return files;
}

/** 1,000 events in frames of 10 over 4 KiB segments (about 50 of them), closed. */
async function build(options: { cleanup: boolean }): Promise<{ dir: string; live: StoredEvent[] }> {
  const dir = await tempDir('tamma-repair-');
  dirs.push(dir);
  const clock = new ManualClock(T0);
  const store = await openEventStore({
    dir,
    clock,
    segmentSize: 4096,
    retention: options.cleanup ? { maxAge: '5m', schedule: false } : { schedule: false },
  });
  for (let b = 0; b < 100; b++) {
    clock.set(T0 + b * 6_000);
    await store.append(
      Array.from({ length: 10 }, (_, i) => ({
        aggregateId: `s${(b + i) % 7}`,
        type: 'T',
        payload: { n: b * 10 + i, pad: 'x'.repeat(60) },
      })),
    );
  }
  if (options.cleanup) {
    clock.set(T0 + 5 * 60_000 + 30 * 6_000); // the first 300 events have expired
    const report = await store.cleanup();
    expect(report.spansDropped).toBeGreaterThan(0);
  }
  const live = await store.read();
  await store.close();
  return { dir, live };
}

const startFile = (dir: string): string => join(dir, 'log', 'start.json');

/** Opens the store, checks it holds exactly `live`, and that the next append follows `lastSequence`. */
async function expectEvents(dir: string, live: StoredEvent[], lastSequence = 1000): Promise<void> {
  const store = await openEventStore({ dir, retention: { schedule: false } });
  try {
    const events = await store.read();
    expect(events).toEqual(live);
    const [next] = await store.append({ aggregateId: 'after', type: 'AFTER' });
    expect(next!.sequence).toBe(lastSequence + 1);
  } finally {
    await store.close();
  }
}

describe('open decides before it deletes; repair rebuilds log/start.json from the segments', () => {
  for (const legacy of [false, true]) {
    test(`a raised digit in start.json${legacy ? ' (an older record, with no checksum)' : ''}: open refuses and deletes nothing; repair keeps every event`, async () => {
      const { dir, live } = await build({ cleanup: true });
      const record = JSON.parse(await readFile(startFile(dir), 'utf8')) as {
        firstSequence: number;
        removedBefore: number;
        crc32?: number;
      };
      expect(record.firstSequence).toBeGreaterThan(100);
      // Cleanup writes the record with its checksum (checked at the end, so that this test shows
      // what an older build did: delete segments, then refuse or open without them).
      const checksum = record.crc32;
      if (legacy) delete record.crc32;
      // 301 -> 401 names a later segment's first frame: only the checksum tells it from a cleanup's
      // record. 301 -> 311 names a frame inside the first segment: the segments tell.
      const raised = record.firstSequence + (legacy ? 10 : 100);
      await writeFile(
        startFile(dir),
        `${JSON.stringify(record).replace(String(record.firstSequence), String(raised))}\n`,
      );
      const before = await snapshot(dir);
      const segmentsBefore = (await listSegments(dir)).length;
      expect(segmentsBefore).toBeGreaterThan(20);

      const error = await rejection(() => openEventStore({ dir }));
      expectError(error, CorruptionError, 'CORRUPTION', 'start.json');
      expect((error as CorruptionError).file).toBe(startFile(dir));
      expect(await snapshot(dir)).toEqual(before);
      // verify reports it, and reads only.
      const report = await verifyStore(dir);
      expect(report.ok).toBe(false);
      expect(report.problems.map((p) => p.kind)).toContain('bad-log-start');
      expect(report.events).toBeGreaterThanOrEqual(live.length);
      expect(await snapshot(dir)).toEqual(before);

      const repair = await repairStore(dir);
      expect(repair).toMatchObject({ dropped: [], removedFiles: [] });
      expect(repair.logStart).toMatchObject({ rebuilt: { firstSequence: record.firstSequence } });
      expect((await listSegments(dir)).length).toBe(segmentsBefore);
      if (legacy) {
        // With no checksum the cut cannot be trusted: no event the log holds is taken for removed.
        const store = await openEventStore({ dir, retention: { schedule: false } });
        const events = await store.read();
        await store.close();
        expect(events.slice(events.length - live.length)).toEqual(live);
        expect(events[0]!.sequence).toBe(record.firstSequence);
      } else {
        // The checksum confirms the cut beside the log's real first sequence: exactly as before.
        expect(repair.logStart!.rebuilt.removedBefore).toBe(record.removedBefore);
        await expectEvents(dir, live);
      }
      expect(await verifyStore(dir)).toMatchObject({ ok: true, problems: [] });
      expect(checksum).toBeTypeOf('number');
    });
  }

  test('start.json deleted: open refuses and deletes nothing; repair keeps every event', async () => {
    const { dir, live } = await build({ cleanup: true });
    const record = JSON.parse(await readFile(startFile(dir), 'utf8')) as { firstSequence: number };
    await rm(startFile(dir));
    const before = await snapshot(dir);
    expectError(await rejection(() => openEventStore({ dir })), CorruptionError, 'CORRUPTION');
    expect(await snapshot(dir)).toEqual(before);

    const repair = await repairStore(dir);
    expect(repair).toMatchObject({
      dropped: [],
      removedFiles: [],
      logStart: { recorded: null, rebuilt: { firstSequence: record.firstSequence } },
    });
    const store = await openEventStore({ dir, retention: { schedule: false } });
    const events = await store.read();
    await store.close();
    expect(events.slice(events.length - live.length)).toEqual(live);
    expect(events[0]!.sequence).toBe(record.firstSequence);
    expect(await verifyStore(dir)).toMatchObject({ ok: true, problems: [] });
  });

  test('a raised removedBefore in an older record (no checksum) past the log end: open refuses', async () => {
    const { dir } = await build({ cleanup: true });
    const record = JSON.parse(await readFile(startFile(dir), 'utf8')) as Record<string, number>;
    delete record.crc32;
    record.removedBefore = 9_000;
    await writeFile(startFile(dir), JSON.stringify(record));
    const before = await snapshot(dir);
    expectError(await rejection(() => openEventStore({ dir })), CorruptionError, 'CORRUPTION', 'start.json');
    expect(await snapshot(dir)).toEqual(before);
  });
});

describe('repair keeps every intact frame and quarantines the damage', () => {
  const cases = [
    { title: "a flipped bit in the first segment's first frame", segment: 0, frame: 0, at: 60 },
    { title: "a flipped bit in a frame header's length, mid-log", segment: 3, frame: 1, at: 5 },
  ];
  for (const c of cases) {
    test(`${c.title}: open refuses; repair drops that frame's events only and says so`, async () => {
      const { dir, live } = await build({ cleanup: false });
      const name = (await listSegments(dir))[c.segment]!;
      const file = join(dir, 'log', name);
      const frame = (await segmentFrames(dir, name))[c.frame]!;
      const length = 24 + frame.bodyLength;
      const damagedBytes = (await readFile(file)).subarray(frame.offset, frame.offset + length);
      damagedBytes[c.at] = damagedBytes[c.at]! ^ 0x10;
      const bytes = await readFile(file);
      bytes[frame.offset + c.at] = bytes[frame.offset + c.at]! ^ 0x10;
      await writeFile(file, bytes);

      await rm(join(dir, 'checkpoint.bin'));
      const before = await snapshot(dir);
      expectError(await rejection(() => openEventStore({ dir })), CorruptionError, 'CORRUPTION', name);
      expect(await snapshot(dir)).toEqual(before);

      const repair = await repairStore(dir);
      const first = frame.firstSequence;
      const last = frame.firstSequence + frame.count - 1;
      expect(repair.dropped).toEqual([
        {
          kind: 'damaged',
          file,
          offset: frame.offset,
          bytes: length,
          quarantineFile: expect.stringContaining(join(dir, 'quarantine', name)),
          firstSequence: first,
          lastSequence: last,
          detail: expect.any(String),
        },
      ]);
      expect(repair).toMatchObject({ removedFiles: [], logStart: null, eventsKept: 990, lastSequence: 1000 });
      // The damaged bytes are kept, exactly, in the quarantine file.
      expect(await readFile(repair.dropped[0]!.quarantineFile!)).toEqual(damagedBytes);

      const kept = live.filter((e) => e.sequence < first || e.sequence > last);
      expect(kept).toHaveLength(990);
      await expectEvents(dir, kept);
      // The dropped sequences stay a gap after reopening, and nothing reuses them.
      const store = await openEventStore({ dir });
      expect(sequences(await store.read({ fromSequence: first - 1, limit: 2 }))).toEqual(
        first === 1 ? [last + 1, last + 2] : [first - 1, last + 1],
      );
      expect(store.stats()).toMatchObject({ events: 991, lastSequence: 1001 });
      await store.close();
      expect(await verifyStore(dir)).toMatchObject({ ok: true, problems: [], events: 991 });
      // A second repair finds nothing to do.
      expect(await repairStore(dir)).toMatchObject({ dropped: [], removedFiles: [], logStart: null });
    });
  }
});

describe('repair reports what no file holds, and what ends the log', () => {
  test('a segment file deleted from the middle: repair keeps every other, and its sequences stay a gap', async () => {
    const { dir, live } = await build({ cleanup: false });
    const names = await listSegments(dir);
    const gone = names[10]!;
    const frames = await segmentFrames(dir, gone);
    const first = frames[0]!.firstSequence;
    const last = frames.at(-1)!.firstSequence + frames.at(-1)!.count - 1;
    await rm(join(dir, 'log', gone));
    await rm(join(dir, 'checkpoint.bin'));
    const before = await snapshot(dir);
    expectError(await rejection(() => openEventStore({ dir })), CorruptionError, 'CORRUPTION');
    expect(await snapshot(dir)).toEqual(before);

    const repair = await repairStore(dir);
    expect(repair.dropped).toEqual([
      {
        kind: 'missing',
        file: join(dir, 'log', names[11]!),
        offset: 0,
        bytes: 0,
        quarantineFile: null,
        firstSequence: first,
        lastSequence: last,
        detail: expect.any(String),
      },
    ]);
    await expectEvents(
      dir,
      live.filter((e) => e.sequence < first || e.sequence > last),
    );
  });

  test('garbage after the last frame: repair moves it aside as a torn tail', async () => {
    const { dir, live } = await build({ cleanup: false });
    const last = (await listSegments(dir)).at(-1)!;
    const file = join(dir, 'log', last);
    const size = (await readFile(file)).length;
    const junk = Buffer.alloc(100, 0xab);
    await writeFile(file, Buffer.concat([await readFile(file), junk]));
    const repair = await repairStore(dir);
    expect(repair.dropped).toEqual([
      {
        kind: 'torn-tail',
        file,
        offset: size,
        bytes: 100,
        quarantineFile: expect.stringContaining('quarantine'),
        firstSequence: 1001,
        lastSequence: null,
        detail: expect.any(String),
      },
    ]);
    expect(await readFile(repair.dropped[0]!.quarantineFile!)).toEqual(junk);
    await expectEvents(dir, live);
  });
});

test('a frame whose length was changed to swallow the next frame: repair keeps the next one', async () => {
  const { dir, live } = await build({ cleanup: false });
  const name = (await listSegments(dir))[5]!;
  const file = join(dir, 'log', name);
  const [frame, following] = await segmentFrames(dir, name);
  const bytes = await readFile(file);
  bytes.writeUInt32LE(frame!.bodyLength + 24 + following!.bodyLength, frame!.offset + 4);
  await writeFile(file, bytes);
  await rm(join(dir, 'checkpoint.bin'));
  const repair = await repairStore(dir);
  const first = frame!.firstSequence;
  const last = first + frame!.count - 1;
  expect(repair.dropped).toMatchObject([
    {
      kind: 'damaged',
      offset: frame!.offset,
      bytes: 24 + frame!.bodyLength,
      firstSequence: first,
      lastSequence: last,
    },
  ]);
  await expectEvents(
    dir,
    live.filter((e) => e.sequence < first || e.sequence > last),
  );
});
