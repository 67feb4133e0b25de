import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptionError } from '../../errors.js';
import { writeFileDurablyAsync } from './durable-file.js';
import { FRAME_HEADER, FRAME_MAGIC, frameSequence } from './frame.js';
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

const START_FILE = 'start.json';

export function readLogStart(dir: string): LogStart {
  const path = join(dir, LOG_DIR, START_FILE);
  if (!existsSync(path)) return { firstSequence: 1, removedBefore: 1 };
  let record: { firstSequence?: unknown; removedBefore?: unknown };
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
  return { firstSequence, removedBefore };
}

/** Durable when it resolves; the fsyncs run off the main thread. */
export function writeLogStart(dir: string, start: LogStart): Promise<void> {
  return writeFileDurablyAsync(join(dir, LOG_DIR, START_FILE), `${JSON.stringify(start)}\n`);
}

/**
 * Segments a crash left behind while cleanup dropped the log's front: every segment cleanup keeps
 * starts at or after the recorded start, so one whose first frame is before it was being dropped.
 * (The next segment need not say so: when cleanup dropped the whole log, it is the empty active one.)
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
  return leftovers;
}

/**
 * Deletes the segments a crash left behind while cleanup dropped the log's front (see
 * leftoverSegments), and half-written segment rewrites (`*.tmp`), which nothing refers to.
 */
export function dropLeftoverSegments(dir: string, firstSequence: number): void {
  const logDir = join(dir, LOG_DIR);
  if (!existsSync(logDir)) return;
  for (const name of readdirSync(logDir)) if (name.endsWith('.seg.tmp')) unlinkSync(join(logDir, name));
  for (const segment of leftoverSegments(dir, firstSequence)) unlinkSync(segment.path);
}

/** The first sequence of a segment's first frame, or undefined when it has none intact. */
function firstFrameSequence(path: string): number | undefined {
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(FRAME_HEADER);
    if (readSync(fd, header, 0, FRAME_HEADER, 0) < FRAME_HEADER) return undefined;
    return header.readUInt32LE(0) === FRAME_MAGIC ? frameSequence(header, 0) : undefined;
  } finally {
    closeSync(fd);
  }
}
