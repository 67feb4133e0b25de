import { closeSync, existsSync, openSync, readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { CorruptionError } from '../../../errors.js';
import { writeFileDurablyAsync } from './durable-file.js';
import { readFully } from './read-fully.js';
import { FRAME_HEADER, FRAME_MAGIC, frameSequence } from '../../../codec/frame.js';
import { LOG_DIR, listSegments, type SegmentFile } from './segment-files.js';

/**
 * Where the log begins once cleanup has removed its oldest events:
 * - `firstSequence`: the first sequence the oldest remaining segment holds. Recorded so that a
 *   missing first segment is still told from a dropped one: reading the log from a sequence later
 *   than this is damage, not cleanup. Cleanup writes this file (durably) before it unlinks the
 *   segments, so after a crash between the two, segments wholly before the start are leftovers that
 *   open deletes (`leftoverSegments`).
 * - `removedBefore`: every event with a lower sequence is removed, though the oldest remaining
 *   segment may still hold some of them (cleanup cuts the oldest rows in place and leaves a segment
 *   whole until all of it can go). Open removes them again after replaying the log.
 */
export interface LogStart {
  firstSequence: number;
  removedBefore: number;
}

export const START_FILE = 'start.json';

/**
 * The record's checksum: a changed digit in `firstSequence` made open take every segment before it
 * for cleanup's leftovers and delete them, and one in `removedBefore` hides events as removed.
 * Files written before it existed have none and are read as they are (see leftoverSegments).
 */
const startChecksum = (start: LogStart): number => crc32(`${start.firstSequence},${start.removedBefore}`);

export const logStartPath = (dir: string): string => join(dir, LOG_DIR, START_FILE);

export function readLogStart(dir: string): LogStart {
  const path = logStartPath(dir);
  if (!existsSync(path)) return { firstSequence: 1, removedBefore: 1 };
  let record: { firstSequence?: unknown; removedBefore?: unknown; crc32?: unknown };
  try {
    record = JSON.parse(readFileSync(path, 'utf8')) as typeof record;
  } catch (error) {
    throw new CorruptionError(path, 0, `the log start record is unreadable (${(error as Error).message})`);
  }
  const { firstSequence, removedBefore = firstSequence } = record;
  const isSequence = (value: unknown): value is number =>
    typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
  if (!isSequence(firstSequence))
    throw new CorruptionError(path, 0, `the log start record names no first sequence`);
  if (!isSequence(removedBefore))
    throw new CorruptionError(path, 0, `the log start record's removedBefore is not a sequence`);
  if (record.crc32 !== undefined && record.crc32 !== startChecksum({ firstSequence, removedBefore }))
    throw new CorruptionError(path, 0, `the log start record fails its CRC-32 checksum`);
  return { firstSequence, removedBefore };
}

/**
 * For a record that fails its checksum or disagrees with the log: its `removedBefore`, when the
 * checksum proves it is what cleanup wrote beside `firstSequence` (the log's real first sequence).
 * A changed digit in `firstSequence` then costs nothing: the cut is recovered exactly.
 */
export function confirmedRemovedBefore(dir: string, firstSequence: number): number | undefined {
  try {
    const record = JSON.parse(readFileSync(logStartPath(dir), 'utf8')) as {
      removedBefore?: unknown;
      crc32?: unknown;
    };
    const { removedBefore, crc32: checksum } = record;
    if (typeof removedBefore !== 'number' || !Number.isSafeInteger(removedBefore) || removedBefore < 1)
      return undefined;
    return checksum === startChecksum({ firstSequence, removedBefore }) ? removedBefore : undefined;
  } catch {
    return undefined;
  }
}

/** Durable when it resolves; the fsyncs run off the main thread. */
export function writeLogStart(dir: string, start: LogStart): Promise<void> {
  const { firstSequence, removedBefore } = start;
  const record = { firstSequence, removedBefore, crc32: startChecksum(start) };
  return writeFileDurablyAsync(logStartPath(dir), `${JSON.stringify(record)}\n`);
}

/**
 * Segments a crash left behind while cleanup dropped the log's front: every segment cleanup keeps
 * starts at or after the recorded start, so one whose first frame is before it was being dropped.
 * (The next segment need not say so: when cleanup dropped the whole log, it is the empty active one.)
 *
 * Deleting them is only safe when the record is right, so this checks before anything is deleted:
 * the first segment kept must begin exactly at the recorded start (cleanup recorded its first
 * frame's sequence), or be the last, with no whole frame header yet. Otherwise the record, not the
 * log, is wrong (a changed digit made every segment before it look like a leftover): this throws a
 * CorruptionError naming start.json, and nothing is deleted.
 */
export function leftoverSegments(dir: string, firstSequence: number): SegmentFile[] {
  if (firstSequence === 1) return [];
  const segments = listSegments(dir);
  // Leftovers are the front of the log: reading stops at the first segment cleanup kept, so an
  // open reads one header, not one per segment.
  const leftovers: SegmentFile[] = [];
  for (const segment of segments.slice(0, -1)) {
    if ((firstFrameSequence(segment.path) ?? firstSequence) >= firstSequence) break;
    leftovers.push(segment);
  }
  if (leftovers.length === 0) return leftovers;
  const kept = segments[leftovers.length] as SegmentFile;
  const keptFirst = firstFrameSequence(kept.path);
  const isLast = kept === segments[segments.length - 1];
  if (keptFirst === firstSequence || (isLast && keptFirst === undefined && !hasFrameHeader(kept.path)))
    return leftovers;
  throw new CorruptionError(
    logStartPath(dir),
    0,
    `the log start record says the log begins at sequence ${firstSequence}, but the first segment ` +
      `after the ${leftovers.length} that would be cleanup's leftovers, ${kept.path}, ` +
      (keptFirst === undefined ? 'has no intact frame header' : `begins at sequence ${keptFirst}`) +
      '; no segment was deleted',
  );
}

/**
 * Deletes the segments a crash left behind while cleanup dropped the log's front (see
 * leftoverSegments, which refuses first when the record disagrees with the log), and half-written
 * segment rewrites (`*.tmp`), which nothing refers to. Returns the segments deleted.
 */
export function dropLeftoverSegments(dir: string, firstSequence: number): SegmentFile[] {
  const logDir = join(dir, LOG_DIR);
  if (!existsSync(logDir)) return [];
  const leftovers = leftoverSegments(dir, firstSequence);
  for (const name of readdirSync(logDir)) if (name.endsWith('.seg.tmp')) unlinkSync(join(logDir, name));
  for (const segment of leftovers) unlinkSync(segment.path);
  return leftovers;
}

/** The first sequence of a segment's first frame, or undefined when it has none intact. */
export function firstFrameSequence(path: string): number | undefined {
  const header = readHeader(path);
  return header !== undefined && header.readUInt32LE(0) === FRAME_MAGIC
    ? frameSequence(header, 0)
    : undefined;
}

/** Whether a segment holds at least a frame header's worth of bytes. */
const hasFrameHeader = (path: string): boolean => readHeader(path) !== undefined;

function readHeader(path: string): Buffer | undefined {
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(FRAME_HEADER);
    return readFully(fd, header, FRAME_HEADER, 0) < FRAME_HEADER ? undefined : header;
  } finally {
    closeSync(fd);
  }
}
