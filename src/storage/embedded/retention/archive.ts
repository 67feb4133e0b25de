import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { constants, crc32, gunzip, gunzipSync, gzip, gzipSync } from 'node:zlib';
import { CorruptionError, ValidationError } from '../../../errors.js';
import {
  FRAME_HEADER,
  RECORD_PREFIX,
  frameBodyLength,
  frameCount,
  frameProblemAt,
  frameSequence,
} from '../../../codec/frame.js';
import { writeFileDurably, writeFileDurablyAsync } from '../log/durable-file.js';
import { recordLengthsConsistent } from '../../../codec/record-codec.js';
import { failpoint } from '../../../support/failpoint.js';

/**
 * Cold storage for events leaving the live store: a directory of compressed files and a manifest.
 *
 *   <archive>/manifest.json                                   the files, in the order written (the source of truth)
 *   <archive>/<run, 8 digits>-<first seq, 20 digits>-<last seq>.tzf   gzip (of one or more members) of whole log frames, each with its own CRC
 *
 * Within a file, sequences only increase from frame to frame; they need not follow on (the events
 * archived together may be scattered through the log: a deleted stream's), so there may be gaps
 * between frames, never inside one. Files' ranges may interleave: a cleanup archives what has
 * expired by then, and with a shorter maxAge for some types, a later cleanup archives older
 * sequences of the other types. No event is ever in two files (it leaves the live store once), so
 * readers merge the files they open by sequence.
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

export const MANIFEST = 'manifest.json';
const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);
const pad = (n: number) => String(n).padStart(20, '0');
/** A plain file name inside the archive directory: a manifest must not point anywhere else. */
const FILE_NAME = /^[\w.-]+\.tzf$/;
const NUMERIC_FIELDS = [
  'firstSequence',
  'lastSequence',
  'events',
  'minTimestamp',
  'maxTimestamp',
  'bytes',
  'crc32',
] as const;

/** What to run about a damaged archive: the store's verify and repair do not look at archives. */
export const ARCHIVE_ADVICE = 'Run `tamma-events archive verify <archive dir>` for a report of every file.';

function corrupt(file: string, offset: number, detail: string): CorruptionError {
  return new CorruptionError(file, offset, detail, ARCHIVE_ADVICE);
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The manifest's entries, checked: each well formed. An archive not yet written has no manifest,
 * and no entries.
 */
export function readManifest(dir: string): ArchiveEntry[] {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) return [];
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch (error) {
    throw corrupt(path, 0, `the archive manifest is unreadable (${(error as Error).message})`);
  }
  if (
    manifest === null ||
    typeof manifest !== 'object' ||
    manifest.format !== 'tamma-archive' ||
    !Array.isArray(manifest.files)
  ) {
    throw corrupt(path, 0, 'not a Tamma Events archive manifest');
  }
  const names = new Set<string>();
  manifest.files.forEach((entry: unknown, i) => {
    const problem = entryProblem(entry, names);
    if (problem !== undefined) throw corrupt(path, 0, `files[${i}] ${problem}`);
    names.add((entry as ArchiveEntry).file);
  });
  return manifest.files;
}

function entryProblem(value: unknown, names: ReadonlySet<string>): string | undefined {
  if (value === null || typeof value !== 'object') return 'is not an object';
  const entry = value as Record<string, unknown>;
  if (typeof entry.file !== 'string' || !FILE_NAME.test(entry.file)) {
    return `has a bad file name ${JSON.stringify(entry.file)}; expected <run>-<first>-<last>.tzf`;
  }
  const bad = NUMERIC_FIELDS.find((key) => typeof entry[key] !== 'number' || !Number.isFinite(entry[key]));
  if (bad !== undefined) return `(${entry.file}) has no valid ${bad}`;
  const e = value as ArchiveEntry;
  if (e.firstSequence > e.lastSequence || e.events < 1 || e.events > e.lastSequence - e.firstSequence + 1) {
    return `(${e.file}) claims ${e.events} events in sequences ${e.firstSequence}-${e.lastSequence}`;
  }
  if (e.minTimestamp > e.maxTimestamp) return `(${e.file}) has a time range that ends before it starts`;
  if (names.has(e.file)) return `(${e.file}) is listed twice`;
  return undefined;
}

/**
 * A time range the caller already knows for the frames it archives. Optional: without it the range
 * is read from the records; with it, it must cover them (a range that misses events would make
 * time-bounded reads skip the file).
 */
export interface FramesInfo {
  minTimestamp: number;
  maxTimestamp: number;
}

/**
 * Archives whole log frames (in increasing sequence order, gaps allowed) as the archive's next run,
 * and returns their manifest entry once file and manifest are durable.
 */
export function archiveFrames(dir: string, frames: Buffer, info?: FramesInfo): ArchiveEntry {
  const run = prepareRun(dir, frames, info);
  const compressed = gzipSync(frames);
  writeFileDurably(join(dir, run.entry.file), compressed);
  return recordRun(dir, run, compressed);
}

/**
 * archiveFrames for cleanup, which compresses the frames itself, slice by slice, each slice a gzip
 * member of its own (compressFrames; a gzip file may hold several, read back as one): compression,
 * every write and every fsync run off the main thread, and no copy of all the frames is ever held.
 * `summary` is the frames' FramesSummary, which cleanup adds up while it builds them.
 */
export async function archiveCompressedAsync(
  dir: string,
  /** The gzip members, written one after the other: one copy of them all was a cleanup's largest buffer. */
  members: CompressedParts,
  summary: FramesSummary,
): Promise<ArchiveEntry> {
  if (summary.firstSequence < 0) throw corrupt('frames to archive', 0, 'no frames');
  const run = runFor(dir, summary, undefined);
  await writeFileDurablyAsync(join(dir, run.entry.file), members.parts);
  failpoint('cleanup:archive-file-written');
  await writeFileDurablyAsync(join(dir, MANIFEST), manifestWith(run, members));
  return run.entry as ArchiveEntry;
}

/** Whole frames as one gzip member, at gzip's fastest level, off the main thread. */
export function compressFrames(frames: Buffer): Promise<Buffer> {
  return gzipAsync(frames, { level: constants.Z_BEST_SPEED, chunkSize: GZIP_CHUNK });
}

/** Compressed output per zlib callback: the default 16 KiB meant a callback on the main thread per 16 KiB. */
const GZIP_CHUNK = 1 << 20;

interface PreparedRun {
  files: ArchiveEntry[];
  /** Its size and checksum are filled in once it is compressed (manifestWith). */
  entry: Omit<ArchiveEntry, 'bytes' | 'crc32'> & Partial<Pick<ArchiveEntry, 'bytes' | 'crc32'>>;
}

function prepareRun(dir: string, frames: Buffer, info: FramesInfo | undefined): PreparedRun {
  return runFor(dir, checkFrames(frames, 'frames to archive'), info);
}

function runFor(dir: string, found: FramesSummary, info: FramesInfo | undefined): PreparedRun {
  if (
    info !== undefined &&
    !(info.minTimestamp <= found.minTimestamp && info.maxTimestamp >= found.maxTimestamp)
  ) {
    throw new ValidationError(
      'info',
      `the frames hold events from ${iso(found.minTimestamp)} to ${iso(found.maxTimestamp)}, which the given ` +
        `range ${info.minTimestamp}-${info.maxTimestamp} does not cover; pass their range or none`,
    );
  }
  const files = readManifest(dir);
  mkdirSync(dir, { recursive: true });
  return {
    files,
    entry: {
      file: `${String(files.length + 1).padStart(8, '0')}-${pad(found.firstSequence)}-${pad(found.lastSequence)}.tzf`,
      firstSequence: found.firstSequence,
      lastSequence: found.lastSequence,
      events: found.events,
      minTimestamp: info?.minTimestamp ?? found.minTimestamp,
      maxTimestamp: info?.maxTimestamp ?? found.maxTimestamp,
    },
  };
}

/** Adds the run, whose file is durable, to the manifest (durably): from then on it is archived. */
function recordRun(dir: string, run: PreparedRun, compressed: Buffer): ArchiveEntry {
  failpoint('cleanup:archive-file-written');
  writeFileDurably(join(dir, MANIFEST), manifestWith(run, new CompressedParts().add(compressed)));
  return run.entry as ArchiveEntry;
}

/**
 * An archive file's compressed parts (gzip members), with their total size and CRC-32 kept up as
 * each is added: one pass over a whole run's file at the end would stall the main thread.
 */
export class CompressedParts {
  readonly parts: Buffer[] = [];
  bytes = 0;
  crc32 = 0;

  add(part: Buffer): this {
    this.parts.push(part);
    this.bytes += part.length;
    this.crc32 = crc32(part, this.crc32);
    return this;
  }
}

/**
 * Replaces the manifest's list of files, durably (temporary file, fsync, rename): for erasure,
 * which swaps rewritten files in for the old ones (archive-erasure.ts).
 */
export function writeManifestAsync(dir: string, files: readonly ArchiveEntry[]): Promise<void> {
  const manifest: Manifest = { format: 'tamma-archive', version: 1, files: [...files] };
  return writeFileDurablyAsync(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The manifest text with the run added; fills in the run entry's size and checksum. */
function manifestWith(run: PreparedRun, compressed: CompressedParts): string {
  const entry = Object.assign(run.entry, { bytes: compressed.bytes, crc32: compressed.crc32 });
  const manifest: Manifest = { format: 'tamma-archive', version: 1, files: [...run.files, entry] };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/**
 * The frames of one archive file, after checking everything its manifest entry claims: size and
 * CRC-32 of the file, every frame's CRC, sequences, event count and time range.
 */
export function readArchiveFile(dir: string, entry: ArchiveEntry): Buffer {
  const path = join(dir, entry.file);
  let compressed: Buffer;
  try {
    compressed = readFileSync(path);
  } catch (error) {
    throw missingFile(path, error);
  }
  checkCompressed(path, compressed, entry);
  let frames: Buffer;
  try {
    frames = gunzipSync(compressed);
  } catch (error) {
    throw undecompressable(path, error);
  }
  checkAgainstEntry(path, checkFrames(frames, path), entry);
  return frames;
}

/** Bytes of frames checked between two turns of the event loop when reading asynchronously. */
const CHECK_SLICE_BYTES = 2 << 20;

/**
 * readArchiveFile off the main thread where it can be (reading, decompressing), and with the
 * frames checked in slices, `pause` between them: for a restore, which reads while the store serves.
 */
export async function readArchiveFileAsync(
  dir: string,
  entry: ArchiveEntry,
  pause: () => Promise<void>,
): Promise<Buffer> {
  const path = join(dir, entry.file);
  let compressed: Buffer;
  try {
    compressed = await readFile(path);
  } catch (error) {
    throw missingFile(path, error);
  }
  checkCompressed(path, compressed, entry);
  let frames: Buffer;
  try {
    frames = await gunzipAsync(compressed);
  } catch (error) {
    throw undecompressable(path, error);
  }
  const summary = newFramesSummary();
  for (let at = 0; at < frames.length;) {
    let end = at;
    while (end < frames.length && end - at < CHECK_SLICE_BYTES) {
      if (frames.length - end < FRAME_HEADER) {
        end = frames.length;
        break;
      }
      end = Math.min(frames.length, end + FRAME_HEADER + frameBodyLength(frames, end));
    }
    summarizeFrames(frames.subarray(at, end), path, summary, false, at);
    at = end;
    if (at < frames.length) await pause();
  }
  if (summary.firstSequence < 0) throw corrupt(path, 0, 'no frames');
  checkAgainstEntry(path, summary, entry);
  return frames;
}

function missingFile(path: string, error: unknown): Error {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return error as Error;
  return corrupt(path, 0, 'the manifest names this file but it does not exist');
}

function undecompressable(path: string, error: unknown): CorruptionError {
  return corrupt(path, 0, `the archive file does not decompress (${(error as Error).message})`);
}

/** The file's size and CRC-32 against its manifest entry. */
function checkCompressed(path: string, compressed: Buffer, entry: ArchiveEntry): void {
  if (compressed.length !== entry.bytes) {
    throw corrupt(
      path,
      0,
      `the archive file does not match its manifest entry: it is ${compressed.length} bytes, the entry says ${entry.bytes}`,
    );
  }
  if (crc32(compressed) !== entry.crc32) {
    throw corrupt(
      path,
      0,
      'the archive file does not match its manifest entry: its CRC-32 differs (bytes changed after archiving)',
    );
  }
}

/** What the frames hold against what the manifest entry claims. */
function checkAgainstEntry(path: string, found: FramesSummary, entry: ArchiveEntry): void {
  if (
    found.firstSequence !== entry.firstSequence ||
    found.lastSequence !== entry.lastSequence ||
    found.events !== entry.events
  ) {
    throw corrupt(
      path,
      0,
      `the archive file holds ${found.events} events in sequences ${found.firstSequence}-${found.lastSequence}, its manifest entry says ${entry.events} in ${entry.firstSequence}-${entry.lastSequence}`,
    );
  }
  if (found.minTimestamp < entry.minTimestamp || found.maxTimestamp > entry.maxTimestamp) {
    throw corrupt(
      path,
      0,
      `the archive file holds events from ${iso(found.minTimestamp)} to ${iso(found.maxTimestamp)}, outside its manifest entry's time range`,
    );
  }
}

export interface ArchiveReport {
  ok: boolean;
  files: number;
  events: number;
  problems: { file: string; detail: string }[];
}

/** Reads every file the manifest names and checks it against its entry (see readArchiveFile). */
export function verifyArchive(dir: string): ArchiveReport {
  const report: ArchiveReport = { ok: true, files: 0, events: 0, problems: [] };
  let entries: ArchiveEntry[];
  try {
    entries = readManifest(dir);
  } catch (error) {
    if (!(error instanceof CorruptionError)) throw error;
    report.problems.push({ file: MANIFEST, detail: error.detail });
    report.ok = false;
    return report;
  }
  for (const entry of entries) {
    report.files++;
    if (!existsSync(join(dir, entry.file))) {
      report.problems.push({ file: entry.file, detail: 'missing' });
      continue;
    }
    try {
      readArchiveFile(dir, entry);
      report.events += entry.events;
    } catch (error) {
      const detail = error instanceof CorruptionError ? error.detail : (error as Error).message;
      report.problems.push({ file: entry.file, detail });
    }
  }
  report.ok = report.problems.length === 0;
  return report;
}

/** What an archive file's frames hold: its manifest entry's ranges and count. */
export interface FramesSummary {
  firstSequence: number;
  lastSequence: number;
  events: number;
  minTimestamp: number;
  maxTimestamp: number;
}

export function newFramesSummary(): FramesSummary {
  return { firstSequence: -1, lastSequence: -1, events: 0, minTimestamp: Infinity, maxTimestamp: -Infinity };
}

/**
 * Adds the frames in `frames` (whole frames, in increasing sequence order after those already
 * summed) to `summary`, checking each frame's checksum and each record's layout (unless
 * `sealedHere`: frames this process just built from records it had checked). Throws naming `where` at the first problem.
 */
export function summarizeFrames(
  frames: Buffer,
  where: string,
  summary: FramesSummary,
  sealedHere = false,
  /** Where `frames` starts in the file's frames: for the offsets errors name. */
  base = 0,
): FramesSummary {
  let at = 0;
  while (at < frames.length) {
    const problem = sealedHere ? undefined : frameProblemAt(frames, at);
    if (problem !== undefined) throw corrupt(where, base + at, `bad frame (${problem})`);
    const sequence = frameSequence(frames, at);
    const count = frameCount(frames, at);
    if (!Number.isSafeInteger(sequence) || sequence < 1 || count === 0) {
      throw corrupt(where, base + at, `bad frame (sequence ${sequence}, ${count} events)`);
    }
    if (sequence <= summary.lastSequence) {
      throw corrupt(
        where,
        base + at,
        `frame at sequence ${sequence} overlaps or precedes the previous one, which ends at ${summary.lastSequence}`,
      );
    }
    let record = at + FRAME_HEADER;
    for (let i = 0; i < count; i++) {
      const length = frames.readUInt32LE(record);
      if (!sealedHere) {
        const bytes = frames.subarray(record + RECORD_PREFIX, record + RECORD_PREFIX + length);
        if (!recordLengthsConsistent(bytes)) {
          throw corrupt(where, base + record, `the record of sequence ${sequence + i} is malformed`);
        }
      }
      // A record starts with its timestamp (record-codec.ts).
      const timestamp = frames.readDoubleLE(record + RECORD_PREFIX);
      if (timestamp < summary.minTimestamp) summary.minTimestamp = timestamp;
      if (timestamp > summary.maxTimestamp) summary.maxTimestamp = timestamp;
      record += RECORD_PREFIX + length;
    }
    if (summary.firstSequence < 0) summary.firstSequence = sequence;
    summary.lastSequence = sequence + count - 1;
    summary.events += count;
    at += FRAME_HEADER + frameBodyLength(frames, at);
  }
  return summary;
}

/**
 * Sequence range, event count and time range of intact frames in increasing sequence order (gaps
 * between frames allowed); throws on anything else. Offsets in errors are into the uncompressed
 * frames.
 */
export function checkFrames(frames: Buffer, where: string): FramesSummary {
  const summary = summarizeFrames(frames, where, newFramesSummary());
  if (summary.firstSequence < 0) throw corrupt(where, 0, 'no frames');
  return summary;
}
