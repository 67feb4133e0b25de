import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorruptionError, openEventStore } from '../../src/index.js';
import { archiveFrames, readArchiveFile, readManifest, verifyArchive } from '../../src/retention/archive.js';
import { FRAME_HEADER, frameBodyLength } from '../../src/storage/embedded/frame.js';
import { removeDir, tempDir } from '../support/helpers.js';

/** The log's frames, one buffer each, from a real store: three batches of 3, 2 and 4 events. */
async function framesOfAStore(dir: string): Promise<Buffer[]> {
  const store = await openEventStore({ dir: join(dir, 'store') });
  for (const size of [3, 2, 4]) {
    await store.append(
      Array.from({ length: size }, (_, i) => ({ aggregateId: `a${i}`, type: 'T', payload: { i, size } })),
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
    const first = archiveFrames(archive, Buffer.concat(frames.slice(0, 2)), {
      minTimestamp: 10,
      maxTimestamp: 20,
    });
    const second = archiveFrames(archive, frames[2] as Buffer, { minTimestamp: 30, maxTimestamp: 40 });
    expect(first).toMatchObject({
      firstSequence: 1,
      lastSequence: 5,
      events: 5,
      minTimestamp: 10,
      maxTimestamp: 20,
    });
    expect(second).toMatchObject({ firstSequence: 6, lastSequence: 9, events: 4 });
    expect(first.file).toBe('00000001-00000000000000000001-00000000000000000005.tzf');
    expect(readManifest(archive)).toEqual([first, second]);
    expect(readArchiveFile(archive, first)).toEqual(Buffer.concat(frames.slice(0, 2)));
    expect(readArchiveFile(archive, second)).toEqual(frames[2]);
    expect(verifyArchive(archive)).toEqual({ ok: true, files: 2, events: 9, problems: [] });
  });

  it('takes runs that leave gaps, and runs before earlier ones (a later cleanup of longer-kept types)', () => {
    const later = archiveFrames(archive, frames[2] as Buffer, { minTimestamp: 0, maxTimestamp: 0 });
    const earlier = archiveFrames(archive, frames[0] as Buffer, { minTimestamp: 0, maxTimestamp: 0 });
    expect([later.firstSequence, earlier.firstSequence]).toEqual([6, 1]);
    expect(verifyArchive(archive)).toEqual({ ok: true, files: 2, events: 7, problems: [] });
  });

  it('refuses frames out of sequence order, and writes nothing then', () => {
    archiveFrames(archive, frames[0] as Buffer, { minTimestamp: 0, maxTimestamp: 0 });
    const manifest = readFileSync(join(archive, 'manifest.json'), 'utf8');
    const backwards = Buffer.concat([frames[2] as Buffer, frames[1] as Buffer]);
    expect(() => archiveFrames(archive, backwards, { minTimestamp: 0, maxTimestamp: 0 })).toThrow(
      /frame at sequence 4, after sequences up to 9/,
    );
    expect(readFileSync(join(archive, 'manifest.json'), 'utf8')).toBe(manifest);
    expect(readdirSync(archive).sort()).toEqual([
      '00000001-00000000000000000001-00000000000000000003.tzf',
      'manifest.json',
    ]);
  });

  it('refuses bytes that are not whole, intact frames', () => {
    const torn = (frames[0] as Buffer).subarray(0, (frames[0] as Buffer).length - 1);
    expect(() => archiveFrames(archive, torn, { minTimestamp: 0, maxTimestamp: 0 })).toThrow(
      /bad frame \(short\)/,
    );
    expect(() => archiveFrames(archive, Buffer.alloc(0), { minTimestamp: 0, maxTimestamp: 0 })).toThrow(
      /no frames/,
    );
    expect(readManifest(archive)).toEqual([]);
  });

  it('detects a damaged file and a missing one, naming them', () => {
    const first = archiveFrames(archive, frames[0] as Buffer, { minTimestamp: 0, maxTimestamp: 0 });
    const second = archiveFrames(archive, frames[1] as Buffer, { minTimestamp: 0, maxTimestamp: 0 });
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
    archiveFrames(archive, frames[0] as Buffer, { minTimestamp: 0, maxTimestamp: 0 });
    writeFileSync(join(archive, '00000000000000000004-00000000000000000005.tzf.tmp'), 'half written');
    writeFileSync(join(archive, '00000000000000000004-00000000000000000005.tzf'), 'never in the manifest');
    expect(verifyArchive(archive)).toMatchObject({ ok: true, files: 1, events: 3 });
    // The next archive of those events replaces the orphan.
    const entry = archiveFrames(archive, frames[1] as Buffer, { minTimestamp: 0, maxTimestamp: 0 });
    expect(readArchiveFile(archive, entry)).toEqual(frames[1]);
  });

  it('refuses an unreadable manifest with a CorruptionError naming it', () => {
    archiveFrames(archive, frames[0] as Buffer, { minTimestamp: 0, maxTimestamp: 0 });
    writeFileSync(join(archive, 'manifest.json'), '{ not json');
    expect(() => readManifest(archive)).toThrow(CorruptionError);
    expect(() => readManifest(archive)).toThrow(/manifest\.json.*unreadable/);
  });
});
