import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, gunzipSync, gzipSync } from 'node:zlib';
import { CorruptionError } from '../errors.js';
import {
  FRAME_HEADER,
  frameBodyLength,
  frameCount,
  frameProblemAt,
  frameSequence,
} from '../storage/embedded/frame.js';
import { writeFileDurably } from '../storage/embedded/durable-file.js';
import { failpoint } from './failpoint.js';

/**
 * Cold storage for events leaving the live store: a directory of compressed files and a manifest.
 *
 *   <archive>/manifest.json                           the files, in sequence order (the source of truth)
 *   <archive>/<first seq, 20 digits>-<last seq>.tzf    gzip of whole log frames, each with its own CRC
 *
 * Order of operations, and why it loses nothing: a file is written under a temporary name, fsync'ed,
 * renamed and its directory fsync'ed; only then is it added to the manifest (itself by temp file,
 * fsync and rename). The caller may delete the live copy of those events only after `archiveFrames`
 * returns. A crash before the manifest names a file leaves an orphan that nothing reads (the events
 * are still live); a crash after it leaves them archived and live at once, which the cleanup that
 * follows resolves by deleting the live copy: never none, at worst both until then.
 */
export interface ArchiveEntry {
  file: string;
  firstSequence: number;
  lastSequence: number;
  events: number;
  /** Event time range, epoch ms. */
  minTimestamp: number;
  maxTimestamp: number;
  /** Size and CRC-32 of the compressed file, checked by `verifyArchive` and every read. */
  bytes: number;
  crc32: number;
}

interface Manifest {
  format: 'tamma-archive';
  version: 1;
  files: ArchiveEntry[];
}

const MANIFEST = 'manifest.json';
const pad = (n: number) => String(n).padStart(20, '0');

export function readManifest(dir: string): ArchiveEntry[] {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) return [];
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch (error) {
    throw new CorruptionError(path, 0, `the archive manifest is unreadable (${(error as Error).message})`);
  }
  if (manifest.format !== 'tamma-archive' || !Array.isArray(manifest.files)) {
    throw new CorruptionError(path, 0, 'not a Tamma Events archive manifest');
  }
  return manifest.files;
}

/** What the caller knows of the frames it archives (the time range needs the records' headers). */
export interface FramesInfo {
  minTimestamp: number;
  maxTimestamp: number;
}

/**
 * Archives whole log frames (in ascending sequence order, gaps allowed) and returns their manifest
 * entry once file and manifest are durable.
 *
 * Files' sequence ranges may interleave: a cleanup archives what has expired by then, and with a
 * shorter maxAge for some types, a later cleanup archives older sequences of the other types. The
 * sets never overlap (an event leaves the live store once), so the name carries the run's ordinal.
 */
export function archiveFrames(dir: string, frames: Buffer, info: FramesInfo): ArchiveEntry {
  const { firstSequence, lastSequence, events } = checkFrames(frames, 'frames to archive');
  const files = readManifest(dir);
  mkdirSync(dir, { recursive: true });
  const compressed = gzipSync(frames);
  const entry: ArchiveEntry = {
    file: `${String(files.length + 1).padStart(8, '0')}-${pad(firstSequence)}-${pad(lastSequence)}.tzf`,
    firstSequence,
    lastSequence,
    events,
    minTimestamp: info.minTimestamp,
    maxTimestamp: info.maxTimestamp,
    bytes: compressed.length,
    crc32: crc32(compressed),
  };
  writeFileDurably(join(dir, entry.file), compressed);
  failpoint('cleanup:archive-file-written');
  const manifest: Manifest = { format: 'tamma-archive', version: 1, files: [...files, entry] };
  writeFileDurably(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return entry;
}

/** The frames of one archive file, after checking its size, CRC and every frame inside. */
export function readArchiveFile(dir: string, entry: ArchiveEntry): Buffer {
  const path = join(dir, entry.file);
  const compressed = readFileSync(path);
  if (compressed.length !== entry.bytes || crc32(compressed) !== entry.crc32) {
    throw new CorruptionError(path, 0, `the archive file does not match its manifest entry (size or CRC-32)`);
  }
  let frames: Buffer;
  try {
    frames = gunzipSync(compressed);
  } catch (error) {
    throw new CorruptionError(path, 0, `the archive file does not decompress (${(error as Error).message})`);
  }
  const found = checkFrames(frames, path);
  if (
    found.firstSequence !== entry.firstSequence ||
    found.lastSequence !== entry.lastSequence ||
    found.events !== entry.events
  ) {
    throw new CorruptionError(
      path,
      0,
      `the archive file holds sequences ${found.firstSequence}-${found.lastSequence}, its manifest entry says ${entry.firstSequence}-${entry.lastSequence}`,
    );
  }
  return frames;
}

export interface ArchiveReport {
  ok: boolean;
  files: number;
  events: number;
  problems: { file: string; detail: string }[];
}

/** Reads every file the manifest names, checking sizes, CRCs and every frame. */
export function verifyArchive(dir: string): ArchiveReport {
  const report: ArchiveReport = { ok: true, files: 0, events: 0, problems: [] };
  for (const entry of readManifest(dir)) {
    report.files++;
    if (!existsSync(join(dir, entry.file))) {
      report.problems.push({ file: entry.file, detail: 'missing' });
      continue;
    }
    try {
      readArchiveFile(dir, entry);
      report.events += entry.events;
    } catch (error) {
      report.problems.push({ file: entry.file, detail: (error as Error).message });
    }
  }
  report.ok = report.problems.length === 0;
  return report;
}

/** Sequence range and event count of intact frames in ascending sequence order; throws on anything else. */
function checkFrames(
  frames: Buffer,
  where: string,
): { firstSequence: number; lastSequence: number; events: number } {
  let at = 0;
  let firstSequence = -1;
  let next = -1;
  let events = 0;
  while (at < frames.length) {
    const problem = frameProblemAt(frames, at);
    if (problem !== undefined) throw new CorruptionError(where, at, `bad frame (${problem})`);
    const sequence = frameSequence(frames, at);
    if (firstSequence < 0) firstSequence = sequence;
    else if (sequence < next)
      throw new CorruptionError(
        where,
        at,
        `frame at sequence ${sequence}, after sequences up to ${next - 1}`,
      );
    const count = frameCount(frames, at);
    next = sequence + count;
    events += count;
    at += FRAME_HEADER + frameBodyLength(frames, at);
  }
  if (firstSequence < 0) throw new CorruptionError(where, 0, 'no frames');
  return { firstSequence, lastSequence: next - 1, events };
}
