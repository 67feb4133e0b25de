import { existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CorruptionError } from '../../../errors.js';
import { writeFileDurablyAsync } from '../log/durable-file.js';
import {
  FRAME_HEADER,
  FRAME_MAGIC,
  frameBodyLength,
  frameProblemAt,
  frameSequence,
  frameSpan,
  holeFrame,
} from '../../../codec/frame.js';
import {
  confirmedRemovedBefore,
  leftoverSegments,
  logStartPath,
  readLogStart,
  writeLogStart,
  type LogStart,
} from '../log/log-start.js';
import { LOG_DIR, listSegments, type SegmentFile } from '../log/segment-files.js';
import { syncDirectoryAsync } from '../log/segment-log.js';

/** Where repair moves the bytes it takes out of the log: nothing it removes is destroyed. */
export const QUARANTINE_DIR = 'quarantine';

/** One stretch of the log that repair took out (or found missing), and what it held. */
export interface DroppedRange {
  /**
   * - `damaged`: bytes that are not intact frames (a failed checksum, broken framing, or a frame
   *   repeating sequences already in the log), with intact frames after them.
   * - `torn-tail`: damaged bytes with no intact frame after them: the end of the log.
   * - `missing`: sequences no file holds at all (a segment file gone): no bytes to move aside.
   */
  kind: 'damaged' | 'torn-tail' | 'missing';
  /** The segment file the bytes were in (for `missing`, the one the gap was found in). */
  file: string;
  /** Where in `file` they started, and how many bytes there were. */
  offset: number;
  bytes: number;
  /** The file under `<dir>/quarantine/` that now holds those bytes; null when there were none. */
  quarantineFile: string | null;
  /**
   * The sequences the range held, now a hole in the log: they are never given to another event.
   * `firstSequence` is null when it is not known (damage at the log's start with no trustworthy
   * start record), `lastSequence` when nothing intact follows (a torn tail). Both null: it held
   * no sequence of its own (e.g. a frame that repeated sequences the log already has).
   */
  firstSequence: number | null;
  lastSequence: number | null;
  detail: string;
}

export interface LogRepair {
  dropped: DroppedRange[];
  /** Segment files deleted: cleanup's leftovers, and segments that held nothing intact (moved aside). */
  removedFiles: string[];
  /** Set when `log/start.json` was missing, damaged or disagreed with the segments, and was rewritten from them. */
  logStart: { recorded: LogStart | null; rebuilt: LogStart; reason: string } | null;
  /** Whether any file of the log changed (then the checkpoint's offsets are stale). */
  changed: boolean;
}

type Piece = { from: number; to: number } | { hole: Buffer };

interface SegmentPlan {
  segment: SegmentFile;
  size: number;
  /** Bytes the segment may hold without reaching into the next one's log offsets. */
  capacity: number;
  pieces: Piece[];
  changed: boolean;
}

interface Region {
  plan: SegmentPlan;
  /** Where in the plan's pieces a hole for it goes. */
  at: number;
  offset: number;
  end: number;
  detail: string;
}

/**
 * Repairs the log of a locked store directory, keeping every intact frame. Everything is decided
 * first, from reads only; a plan that cannot be carried out (a gap with no room for its hole)
 * throws a CorruptionError before any file changes. Then, in an order a crash can interrupt
 * anywhere (a rerun finishes the work):
 *  1. damaged bytes are copied, durably, to `<dir>/quarantine/<segment>.<from>-<to>.bin`;
 *  2. each segment that held damage is rewritten (temporary file, fsync, rename) without it: the
 *     sequences the damage held become a hole frame in its place (frame.ts), so they stay a gap and
 *     are never reused, and the intact frames around it stay as they were;
 *  3. the log start record is rewritten from the segments when it was missing, damaged, or
 *     disagreed with them (only then are cleanup's leftover segments left alone, not deleted).
 */
export async function repairLog(dir: string): Promise<LogRepair> {
  const repair: LogRepair = { dropped: [], removedFiles: [], logStart: null, changed: false };
  const startFile = logStartPath(dir);
  let recorded: LogStart | null = null;
  let distrust: string | undefined;
  let leftovers: SegmentFile[] = [];
  if (existsSync(startFile)) {
    try {
      recorded = readLogStart(dir);
      leftovers = leftoverSegments(dir, recorded.firstSequence);
    } catch (error) {
      distrust = error instanceof CorruptionError ? error.detail : (error as Error).message;
    }
  }
  const trusted = recorded !== null && distrust === undefined;
  const leftoverPaths = new Set(leftovers.map((segment) => segment.path));
  const segments = listSegments(dir).filter((segment) => !leftoverPaths.has(segment.path));

  // --- Plan: every decision from reads alone. ---
  // No record at all is what a store that cleanup never shortened has: its log begins at 1 (a log
  // that begins later without damage before it lost its record, and gets it back, below).
  let expected: number | undefined = trusted
    ? (recorded as LogStart).firstSequence
    : recorded === null && distrust === undefined
      ? 1
      : undefined;
  /** The first sequence the repaired log starts with (its first frame or hole). */
  let logFirst: number | undefined;
  const plans: SegmentPlan[] = [];
  let pending: Region[] = [];
  /** Hole frames to insert, applied once planning is over (inserting shifts piece indexes). */
  const inserts: { plan: SegmentPlan; at: number; hole: Buffer }[] = [];
  const insertOrder = new Map<object, number>();

  const settle = (next: number): void => {
    // Damage before an intact frame starting at `next`: the sequences in between were in it.
    const first = expected;
    if (first !== undefined && next > first) {
      const region = pending[0] as Region;
      inserts.push({ plan: region.plan, at: region.at, hole: holeFrame(first, next - first) });
      logFirst ??= first;
    }
    pending.forEach((region, i) => {
      const holds = i === 0 && (first === undefined || next > first);
      repair.dropped.push({
        kind: 'damaged',
        file: region.plan.segment.path,
        offset: region.offset,
        bytes: region.end - region.offset,
        quarantineFile: null,
        firstSequence: holds ? (first ?? null) : null,
        lastSequence: holds ? next - 1 : null,
        detail: region.detail,
      });
    });
    pending = [];
  };

  segments.forEach((segment, s) => {
    const bytes = readFileSync(segment.path);
    const next = segments[s + 1];
    const plan: SegmentPlan = {
      segment,
      size: bytes.length,
      capacity: next === undefined ? Infinity : next.base - segment.base,
      pieces: [],
      changed: false,
    };
    plans.push(plan);
    let position = 0;
    while (position < bytes.length) {
      const problem = frameProblemAt(bytes, position);
      const sequence = problem === undefined ? frameSequence(bytes, position) : 0;
      if (problem === undefined && (expected === undefined || sequence >= expected)) {
        const end = position + FRAME_HEADER + frameBodyLength(bytes, position);
        if (pending.length > 0) settle(sequence);
        else if (expected !== undefined && sequence > expected) {
          // Intact frames on both sides and no bytes between: sequences no file holds. At the
          // log's start with no record of it, the record was lost (cleanup dropped them): not a loss.
          const previous = plans[plans.length - 2];
          if (logFirst !== undefined || trusted)
            repair.dropped.push({
              kind: 'missing',
              file: segment.path,
              offset: position,
              bytes: 0,
              quarantineFile: null,
              firstSequence: expected,
              lastSequence: sequence - 1,
              detail: `sequences ${expected} to ${sequence - 1} are in no segment file`,
            });
          if (logFirst !== undefined) {
            // A hole keeps them a gap; at the log's start, the start record says so instead.
            const into = plan.pieces.length === 0 && previous !== undefined ? previous : plan;
            inserts.push({
              plan: into,
              at: into.pieces.length,
              hole: holeFrame(expected, sequence - expected),
            });
            into.changed = true;
          }
        }
        logFirst ??= sequence;
        plan.pieces.push({ from: position, to: end });
        expected = sequence + frameSpan(bytes, position);
        position = end;
        continue;
      }
      const end = resumeAfter(bytes, position, expected ?? 1);
      pending.push({
        plan,
        at: plan.pieces.length,
        offset: position,
        end,
        detail:
          problem === undefined
            ? `an intact frame at sequence ${sequence} repeats sequences the log already holds (it goes on at ${expected})`
            : describe(problem),
      });
      plan.changed = true;
      position = end;
    }
  });
  // Damage with nothing intact after it: the log's end. No hole: nothing after it proves its
  // sequences were ever acknowledged (a crash mid-write), and no later event holds them.
  for (const region of pending) {
    repair.dropped.push({
      kind: 'torn-tail',
      file: region.plan.segment.path,
      offset: region.offset,
      bytes: region.end - region.offset,
      quarantineFile: null,
      firstSequence: region === pending[0] ? (expected ?? null) : null,
      lastSequence: null,
      detail: region.detail,
    });
  }
  // Last first, so earlier indexes stay right; two at one place keep their order.
  inserts.forEach((insert, i) => insertOrder.set(insert, i));
  inserts.sort((a, b) => b.at - a.at || (insertOrder.get(b) as number) - (insertOrder.get(a) as number));
  for (const { plan, at, hole } of inserts) plan.pieces.splice(at, 0, { hole });
  for (const plan of plans) {
    const size = sizeOf(plan.pieces);
    if (plan.changed && size > plan.capacity) {
      throw new CorruptionError(
        plan.segment.path,
        0,
        `repair would need ${size} bytes for this segment, more than the ${plan.capacity} before the next one; nothing was changed`,
      );
    }
  }
  const rebuilt: LogStart = trusted
    ? {
        firstSequence: logFirst ?? (recorded as LogStart).firstSequence,
        removedBefore: (recorded as LogStart).removedBefore,
      }
    : {
        firstSequence: logFirst ?? 1,
        // Without a record to trust, no event the log holds is taken for removed (cleanup removes
        // expired ones again), unless the record's checksum confirms its cut for this first sequence.
        removedBefore: (logFirst !== undefined && confirmedRemovedBefore(dir, logFirst)) || (logFirst ?? 1),
      };
  const startChanged = trusted
    ? rebuilt.firstSequence !== (recorded as LogStart).firstSequence
    : distrust !== undefined || rebuilt.firstSequence !== 1;
  if (startChanged) {
    repair.logStart = {
      recorded,
      rebuilt,
      reason:
        distrust ??
        (recorded === null
          ? `there was none, and the log begins at sequence ${rebuilt.firstSequence}`
          : `the log begins at sequence ${rebuilt.firstSequence}, not ${recorded.firstSequence}`),
    };
  }

  // --- Carry it out. ---
  const quarantine = join(dir, QUARANTINE_DIR);
  const byFile = new Map<string, Buffer>();
  const contents = (path: string): Buffer => {
    let bytes = byFile.get(path);
    if (bytes === undefined) byFile.set(path, (bytes = readFileSync(path)));
    return bytes;
  };
  for (const range of repair.dropped) {
    if (range.bytes === 0) continue;
    mkdirSync(quarantine, { recursive: true });
    const name = `${basename(range.file)}.${range.offset}-${range.offset + range.bytes}`;
    let path = join(quarantine, `${name}.bin`);
    for (let n = 1; existsSync(path); n++) path = join(quarantine, `${name}.${n}.bin`);
    await writeFileDurablyAsync(
      path,
      contents(range.file).subarray(range.offset, range.offset + range.bytes),
    );
    range.quarantineFile = path;
  }
  for (const segment of leftovers) {
    unlinkSync(segment.path);
    repair.removedFiles.push(segment.path);
  }
  for (const plan of plans) {
    if (!plan.changed) continue;
    const bytes = contents(plan.segment.path);
    const parts = plan.pieces.map((piece) =>
      'hole' in piece ? piece.hole : bytes.subarray(piece.from, piece.to),
    );
    const isLast = plan === plans[plans.length - 1];
    if (parts.length === 0 && !isLast) {
      unlinkSync(plan.segment.path);
      repair.removedFiles.push(plan.segment.path);
    } else {
      await writeFileDurablyAsync(plan.segment.path, parts);
    }
    byFile.delete(plan.segment.path);
  }
  if (repair.removedFiles.length > 0) await syncDirectoryAsync(join(dir, LOG_DIR));
  if (repair.logStart !== null) await writeLogStart(dir, rebuilt);
  repair.changed = repair.removedFiles.length > 0 || plans.some((plan) => plan.changed) || startChanged;
  return repair;
}

function sizeOf(pieces: readonly Piece[]): number {
  return pieces.reduce(
    (total, piece) => total + ('hole' in piece ? piece.hole.length : piece.to - piece.from),
    0,
  );
}

/**
 * Where the intact log goes on after damage at `from` in a segment's bytes: at the next intact
 * frame header with a sequence not before `expected`, unless the damaged frame's own header (whole,
 * with an intact frame or the segment's end where it says it ends) puts its end at or before it.
 * A header found inside the damaged frame's claimed extent is believed only when intact frames run
 * on from it to exactly that end: real frames that a changed length would swallow do; a frame's
 * bytes stored inside a payload do not (its end falls in the payload).
 */
function resumeAfter(bytes: Buffer, from: number, expected: number): number {
  let claimedEnd: number | undefined;
  if (bytes.length - from >= FRAME_HEADER && bytes.readUInt32LE(from) === FRAME_MAGIC) {
    const end = from + FRAME_HEADER + frameBodyLength(bytes, from);
    if (end === bytes.length || (end < bytes.length && frameProblemAt(bytes, end) === undefined))
      claimedEnd = end;
  }
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(FRAME_MAGIC);
  for (let at = bytes.indexOf(magic, from + 1); at !== -1; at = bytes.indexOf(magic, at + 1)) {
    if (claimedEnd !== undefined && at >= claimedEnd) return claimedEnd;
    if (frameProblemAt(bytes, at) !== undefined || frameSequence(bytes, at) < expected) continue;
    if (claimedEnd === undefined || framesRunTo(bytes, at, claimedEnd)) return at;
  }
  return claimedEnd ?? bytes.length;
}

/** Whether intact frames, sequences following on, run from `at` to exactly `end`. */
function framesRunTo(bytes: Buffer, at: number, end: number): boolean {
  let position = at;
  let next: number | undefined;
  while (position < end && frameProblemAt(bytes, position) === undefined) {
    if (next !== undefined && frameSequence(bytes, position) !== next) return false;
    next = frameSequence(bytes, position) + frameSpan(bytes, position);
    position += FRAME_HEADER + frameBodyLength(bytes, position);
  }
  return position === end;
}

function describe(problem: string): string {
  switch (problem) {
    case 'short':
      return 'an incomplete frame (the file ends inside it)';
    case 'bad-magic':
      return 'bytes that are not a frame';
    case 'bad-checksum':
      return 'a frame that fails its CRC-32 checksum';
    default:
      return 'a frame that passes its checksum but whose records do not add up';
  }
}
