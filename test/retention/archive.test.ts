import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorruptionError, ValidationError, openEventStore } from '../../src/index.js';
import {
  archiveFrames,
  readArchiveFile,
  readManifest,
  verifyArchive,
} from '../../src/storage/embedded/retention/archive.js';
import { FRAME_HEADER, frameBodyLength } from '../../src/codec/frame.js';
import { removeDir, tempDir } from '../support/helpers.js';

const T0 = Date.UTC(2025, 0, 1);

/**
 * The log's frames, one buffer each, from a real store: three batches of 3, 2 and 4 events; batch b's
 * event i is at T0 + b seconds + i ms.
 */
async function framesOfAStore(dir: string): Promise<Buffer[]> {
  const store = await openEventStore({ dir: join(dir, 'store') });
  for (const [b, size] of [3, 2, 4].entries()) {
    await store.append(
      Array.from({ length: size }, (_, i) => ({
        aggregateId: `a${i}`,
        type: 'T',
        payload: { i, size },
        timestamp: T0 + b * 1000 + i,
      })),
    );
  }
  await store.close();
  const log = join(dir, 'store', 'log');
  const bytes = readFileSync(join(log, readdirSync(log)[0] as string));
  const frames: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += FRAME_HEADER + frameBodyLength(bytes, at)) {
    frames.push(bytes.subarray(at, at + FRAME_HEADER + frameBodyLength(bytes, at)));
  }
  return frames;
}

let dir: string;
let archive: string;
let frames: Buffer[];

beforeEach(async () => {
  dir = await tempDir('archive');
  archive = join(dir, 'archive');
  frames = await framesOfAStore(dir);
  expect(frames).toHaveLength(3);
});

afterEach(async () => {
  await removeDir(dir);
});

describe('the archive', () => {
  it('keeps frames byte for byte, with a manifest of sequence and time ranges', () => {
    const first = archiveFrames(archive, Buffer.concat(frames.slice(0, 2)));
    const second = archiveFrames(archive, frames[2] as Buffer, {
      minTimestamp: T0,
      maxTimestamp: T0 + 9000,
    });
    expect(first).toMatchObject({
      firstSequence: 1,
      lastSequence: 5,
      events: 5,
      minTimestamp: T0,
      maxTimestamp: T0 + 1001,
    });
    // A range the caller gives is kept when it covers the events.
    expect(second).toMatchObject({
      firstSequence: 6,
      lastSequence: 9,
      events: 4,
      minTimestamp: T0,
      maxTimestamp: T0 + 9000,
    });
    expect(first.file).toBe('00000001-00000000000000000001-00000000000000000005.tzf');
    expect(readManifest(archive)).toEqual([first, second]);
    expect(readArchiveFile(archive, first)).toEqual(Buffer.concat(frames.slice(0, 2)));
    expect(readArchiveFile(archive, second)).toEqual(frames[2]);
    expect(verifyArchive(archive)).toEqual({ ok: true, files: 2, events: 9, problems: [] });
  });

  it('takes sequences with gaps, between files and between the frames of one file', () => {
    const scattered = archiveFrames(archive, Buffer.concat([frames[0] as Buffer, frames[2] as Buffer]));
    expect(scattered).toMatchObject({
      file: '00000001-00000000000000000001-00000000000000000009.tzf',
      firstSequence: 1,
      lastSequence: 9,
      events: 7,
      minTimestamp: T0,
      maxTimestamp: T0 + 2003,
    });
    expect(readArchiveFile(archive, scattered)).toEqual(
      Buffer.concat([frames[0] as Buffer, frames[2] as Buffer]),
    );
    expect(verifyArchive(archive)).toEqual({ ok: true, files: 1, events: 7, problems: [] });
  });

  it('takes a run of sequences before an earlier run (a later cleanup of longer-kept types)', () => {
    const later = archiveFrames(archive, frames[2] as Buffer);
    const earlier = archiveFrames(archive, frames[0] as Buffer);
    expect([later.firstSequence, earlier.firstSequence]).toEqual([6, 1]);
    expect(earlier.file).toBe('00000002-00000000000000000001-00000000000000000003.tzf');
    expect(verifyArchive(archive)).toEqual({ ok: true, files: 2, events: 7, problems: [] });
  });

  it('refuses frames out of sequence order, and writes nothing then', () => {
    archiveFrames(archive, frames[0] as Buffer);
    const manifest = readFileSync(join(archive, 'manifest.json'), 'utf8');
    expect(() => archiveFrames(archive, Buffer.concat([frames[1] as Buffer, frames[0] as Buffer]))).toThrow(
      /frame at sequence 1 overlaps or precedes the previous one, which ends at 5/,
    );
    expect(readFileSync(join(archive, 'manifest.json'), 'utf8')).toBe(manifest);
    expect(readdirSync(archive).sort()).toEqual([
      '00000001-00000000000000000001-00000000000000000003.tzf',
      'manifest.json',
    ]);
  });

  it('refuses a time range that does not cover the frames', () => {
    expect(() =>
      archiveFrames(archive, frames[1] as Buffer, { minTimestamp: T0, maxTimestamp: T0 + 1000 }),
    ).toThrow(ValidationError);
    expect(() => archiveFrames(archive, frames[1] as Buffer, { minTimestamp: 0, maxTimestamp: 0 })).toThrow(
      /from 2025-01-01T00:00:01.000Z to 2025-01-01T00:00:01.001Z, which the given range 0-0 does not cover/,
    );
    expect(readManifest(archive)).toEqual([]);
  });

  it('refuses bytes that are not whole, intact frames', () => {
    const torn = (frames[0] as Buffer).subarray(0, (frames[0] as Buffer).length - 1);
    expect(() => archiveFrames(archive, torn)).toThrow(/bad frame \(short\)/);
    expect(() => archiveFrames(archive, Buffer.alloc(0))).toThrow(/no frames/);
    expect(readManifest(archive)).toEqual([]);
  });

  it('detects a damaged file and a missing one, naming them', () => {
    const first = archiveFrames(archive, frames[0] as Buffer);
    const second = archiveFrames(archive, frames[1] as Buffer);
    const path = join(archive, first.file);
    const bytes = readFileSync(path);
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] as number) ^ 0xff;
    writeFileSync(path, bytes);
    rmSync(join(archive, second.file));
    expect(() => readArchiveFile(archive, first)).toThrow(CorruptionError);
    const report = verifyArchive(archive);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      { file: first.file, detail: expect.stringMatching(/does not match its manifest entry/) },
      { file: second.file, detail: 'missing' },
    ]);
  });

  it('ignores a file a crash left before the manifest named it', () => {
    archiveFrames(archive, frames[0] as Buffer);
    writeFileSync(join(archive, '00000000000000000004-00000000000000000005.tzf.tmp'), 'half written');
    writeFileSync(join(archive, '00000000000000000004-00000000000000000005.tzf'), 'never in the manifest');
    expect(verifyArchive(archive)).toMatchObject({ ok: true, files: 1, events: 3 });
    // The next archive of those events replaces the orphan.
    const entry = archiveFrames(archive, frames[1] as Buffer);
    expect(readArchiveFile(archive, entry)).toEqual(frames[1]);
  });

  it('checks every claim of the manifest: names, counts, file names and time ranges', () => {
    const first = archiveFrames(archive, frames[0] as Buffer);
    const second = archiveFrames(archive, frames[2] as Buffer);
    const path = join(archive, 'manifest.json');
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as { files: Record<string, unknown>[] };
    const write = (files: Record<string, unknown>[]) =>
      writeFileSync(path, JSON.stringify({ ...manifest, files }));

    write([{ ...second }, { ...second }]);
    expect(() => readManifest(archive)).toThrow(/files\[1\] \(0+2-0+6-0+9\.tzf\) is listed twice/);
    expect(verifyArchive(archive)).toEqual({
      ok: false,
      files: 0,
      events: 0,
      problems: [{ file: 'manifest.json', detail: expect.stringMatching(/^files\[1\].*listed twice/) }],
    });

    write([{ ...first, file: '../../elsewhere.tzf' }]);
    expect(() => readManifest(archive)).toThrow(/files\[0\] has a bad file name/);
    write([{ ...first, events: 4 }]);
    expect(() => readManifest(archive)).toThrow(/claims 4 events in sequences 1-3/);
    write([{ ...first, crc32: 'x' }]);
    expect(() => readManifest(archive)).toThrow(/has no valid crc32/);

    // A time range that misses some events would let time-bounded reads skip the file.
    write([{ ...first, maxTimestamp: T0 + 1 }, { ...second }]);
    expect(() => readArchiveFile(archive, { ...first, maxTimestamp: T0 + 1 })).toThrow(
      /holds events from 2025-01-01T00:00:00.000Z to 2025-01-01T00:00:00.002Z, outside its manifest entry's time range/,
    );
    expect(verifyArchive(archive).problems).toEqual([
      { file: first.file, detail: expect.stringMatching(/outside its manifest entry's time range/) },
    ]);
  });

  it('reports a missing file as a CorruptionError naming it', () => {
    const entry = archiveFrames(archive, frames[0] as Buffer);
    rmSync(join(archive, entry.file));
    let error: unknown;
    try {
      readArchiveFile(archive, entry);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CorruptionError);
    expect((error as CorruptionError).file).toBe(join(archive, entry.file));
    expect((error as Error).message).toMatch(/the manifest names this file but it does not exist/);
    expect((error as Error).message).toMatch(/tamma-events archive verify/);
  });

  it('refuses an unreadable manifest with a CorruptionError naming it', () => {
    archiveFrames(archive, frames[0] as Buffer);
    writeFileSync(join(archive, 'manifest.json'), '{ not json');
    expect(() => readManifest(archive)).toThrow(CorruptionError);
    expect(() => readManifest(archive)).toThrow(/manifest\.json.*unreadable/);
  });
});
