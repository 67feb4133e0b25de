import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, gunzipSync, gzipSync } from 'node:zlib';
import type { ArchiveEntry } from '../../src/storage/embedded/retention/archive.js';
import { scanLog } from '../../src/storage/embedded/log/log-scan.js';
import { listSegments } from '../../src/storage/embedded/log/segment-files.js';

/** Every frame of a closed store's log, in order, each copied out of the scan's window. */
export function framesOf(storeDir: string): Buffer[] {
  const frames: Buffer[] = [];
  const result = scanLog(listSegments(storeDir), 0, 1, (frame) => frames.push(Buffer.from(frame.bytes)));
  if (result.problem !== undefined)
    throw new Error(`the test store's log is damaged: ${result.problem.detail}`);
  return frames;
}

/** XORs one byte of the file at `offset` (negative: from the end) with 0xff. */
export function flipFileByte(path: string, offset: number): void {
  const bytes = readFileSync(path);
  const at = offset < 0 ? bytes.length + offset : offset;
  bytes[at] = (bytes[at] as number) ^ 0xff;
  writeFileSync(path, bytes);
}

/**
 * Damages a frame inside an archive file while keeping the file's size and CRC-32 in the manifest
 * right: only the frames' own checksums can catch it.
 */
export function damageFrameInside(archive: string, entry: ArchiveEntry, offset: number): void {
  const path = join(archive, entry.file);
  const frames = gunzipSync(readFileSync(path));
  frames[offset] = (frames[offset] as number) ^ 0xff;
  const compressed = gzipSync(frames);
  writeFileSync(path, compressed);
  const manifestPath = join(archive, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { files: ArchiveEntry[] };
  manifest.files = manifest.files.map((e) =>
    e.file === entry.file ? { ...e, bytes: compressed.length, crc32: crc32(compressed) } : e,
  );
  writeFileSync(manifestPath, JSON.stringify(manifest));
}
