import { closeSync, fstatSync, openSync } from 'node:fs';
import {
  FRAME_HEADER,
  FRAME_MAGIC,
  checkFrame,
  frameBodyLength,
  frameCount,
  frameProblemAt,
  frameSequence,
  frameSpan,
  type FrameInfo,
} from '../../../codec/frame.js';
import { readFully } from './read-fully.js';
import type { SegmentFile } from './segment-files.js';
import type { VerifyProblem } from '../recovery/verify-types.js';

const WINDOW = 16 * 1024 * 1024;

/** One frame as the scan passes it to its callback: the same object each time, valid only during the call. */
export interface ScannedFrame extends FrameInfo {
  /** The whole frame's bytes. */
  bytes: Buffer;
  /** Global log offset of the frame. */
  offset: number;
  /** Sequences it covers: `count`, or a hole's length (then count is 0). */
  span: number;
}

export interface ScanResult {
  /** Global offset just past the last intact frame. */
  end: number;
  frames: number;
  events: number;
  lastSequence: number;
  /** Where reading stopped early, if it did. A `torn-tail` is a crash mid-write; anything else is damage. */
  problem?: VerifyProblem & { globalOffset: number; segmentIndex: number };
}

/**
 * Reads the log's frames in order from `from` (a frame boundary), checking each frame's checksum and
 * that sequences follow on from `nextSequence`. Stops at the first bad frame and classifies it:
 * a bad frame with no intact frame anywhere after it, in the newest segment, is a torn tail (a
 * crash mid-write; safe to truncate); anything else is corruption, which must not be papered over.
 */
export function scanLog(
  segments: readonly SegmentFile[],
  from: number,
  nextSequence: number,
  onFrame: (frame: ScannedFrame) => void,
): ScanResult {
  const result: ScanResult = { end: from, frames: 0, events: 0, lastSequence: nextSequence - 1 };
  // One window buffer for the whole scan: reopening reads the entire log, and a fresh 16 MiB
  // allocation per window was pure garbage. It only grows for a frame larger than a window.
  let scratch = Buffer.allocUnsafeSlow(0);
  const fill = (fd: number, position: number, length: number): Buffer => {
    if (scratch.length < length) scratch = Buffer.allocUnsafeSlow(Math.max(length, WINDOW));
    return readInto(fd, scratch, position, length);
  };
  const frame: ScannedFrame = {
    firstSequence: 0,
    count: 0,
    bodyLength: 0,
    bytes: scratch,
    offset: 0,
    span: 0,
  };
  for (let s = 0; s < segments.length; s++) {
    const segment = segments[s] as SegmentFile;
    const next = segments[s + 1];
    const fd = openSync(segment.path, 'r');
    try {
      const size = fstatSync(fd).size;
      if (next !== undefined && from >= next.base) continue;
      let position = Math.max(0, from - segment.base);
      let window: Buffer = Buffer.alloc(0);
      let windowStart = position;
      while (position < size) {
        let local = position - windowStart;
        if (frameEndIn(window, local) > window.length) {
          // A fresh window from here: a window's worth, and then, if the frame's header says it is
          // longer than that (one large batch, or one event near maxEventSize), the whole frame.
          // Every frame must be read whole wherever it starts; a frame cut at the window's end
          // would read as torn. A header that claims more than the file holds is left short.
          window = fill(fd, position, Math.min(WINDOW, size - position));
          windowStart = position;
          local = 0;
          const frameLength = frameEndIn(window, 0);
          if (frameLength > window.length && frameLength <= size - position)
            window = fill(fd, position, frameLength);
        }
        const problem =
          frameProblemAt(window, local) ??
          (frameSequence(window, local) !== result.lastSequence + 1 ? 'sequence' : undefined);
        if (problem !== undefined) {
          const last = next === undefined;
          const torn = last && problem !== 'sequence' && !intactFrameAfter(fd, position + 1, size);
          result.problem = {
            file: segment.path,
            offset: position,
            globalOffset: segment.base + position,
            segmentIndex: s,
            kind: torn ? 'torn-tail' : problem === 'sequence' ? 'sequence-gap' : 'corrupt-frame',
            detail: describeProblem(problem, checkFrame(window.subarray(local)), result.lastSequence + 1),
          };
          return result;
        }
        // One frame object for the whole scan: the callback must not keep it (nor its bytes).
        const length = FRAME_HEADER + frameBodyLength(window, local);
        frame.firstSequence = frameSequence(window, local);
        frame.count = frameCount(window, local);
        frame.bodyLength = length - FRAME_HEADER;
        frame.bytes = window.subarray(local, local + length);
        frame.offset = segment.base + position;
        frame.span = frameSpan(window, local);
        onFrame(frame);
        result.frames++;
        result.events += frame.count;
        result.lastSequence = frame.firstSequence + frame.span - 1;
        position += length;
        result.end = segment.base + position;
      }
      // Cleanup rewrites a segment shorter in place, so the next may start past its end; never inside.
      if (next !== undefined && segment.base + size > next.base) {
        result.problem = {
          file: segment.path,
          offset: size,
          globalOffset: segment.base + size,
          segmentIndex: s,
          kind: 'corrupt-frame',
          detail: `segment ends at log offset ${segment.base + size}, past the start of the next segment at ${next.base}`,
        };
        return result;
      }
    } finally {
      closeSync(fd);
    }
  }
  return result;
}

/**
 * Where the frame starting at `local` in `window` ends (Infinity when not even its header is
 * there): past the window's end, it must be read again from its start.
 */
function frameEndIn(window: Buffer, local: number): number {
  if (local + FRAME_HEADER > window.length) return Infinity;
  return local + FRAME_HEADER + window.readUInt32LE(local + 4);
}

function describeProblem(problem: string, check: unknown, expected: number): string {
  switch (problem) {
    case 'short':
      return 'the frame is incomplete (the file ends inside it)';
    case 'bad-magic':
      return 'no frame header where one was expected';
    case 'bad-checksum':
      return 'the frame fails its CRC-32 checksum';
    case 'bad-records':
      return 'the frame passes its checksum but its records do not add up';
    default:
      return `the frame starts at sequence ${(check as FrameInfo).firstSequence}, expected ${expected}`;
  }
}

function readAt(fd: number, position: number, length: number): Buffer {
  return readInto(fd, Buffer.allocUnsafe(length), position, length);
}

/** Reads up to `length` bytes at `position` into the start of `buffer`; returns the part filled. */
function readInto(fd: number, buffer: Buffer, position: number, length: number): Buffer {
  return buffer.subarray(0, readFully(fd, buffer, length, position));
}

/** Whether any intact frame starts after `from`: tells damage in the middle from a torn end. */
function intactFrameAfter(fd: number, from: number, size: number): boolean {
  return from < size && intactFramesIn(readAt(fd, from, size - from), 1).length > 0;
}

/** Intact frames found anywhere in `bytes` by searching for frame headers (at most `max`): for damaged regions. */
export function intactFramesIn(bytes: Buffer, max = Infinity): FrameInfo[] {
  const found: FrameInfo[] = [];
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(FRAME_MAGIC);
  for (let at = bytes.indexOf(magic); at !== -1 && found.length < max; at = bytes.indexOf(magic, at + 1)) {
    const check = checkFrame(bytes.subarray(at));
    if (!('problem' in check)) found.push(check);
  }
  return found;
}
