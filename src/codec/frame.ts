import { crc32 } from 'node:zlib';

/**
 * A frame is one append batch in the log: the unit of atomicity. A batch whose frame is torn or
 * fails its checksum is dropped whole, so no partial batch is ever visible.
 *
 *   0  u32  magic 'TMF1'
 *   4  u32  body length (bytes after this header)
 *   8  u32  CRC-32 of bytes 4..8 and 12..end (everything but the magic and the CRC itself)
 *  12  f64  first sequence
 *  20  u32  record count
 *  24  records, each: u32 length, then the record (see record-codec.ts)
 *
 * A hole is a frame with no records (count 0) whose 8-byte body is an f64: how many sequences from
 * its first one the log leaves out. Cleanup writes holes where it removed events, so sequences
 * still follow on frame by frame and a lost frame is still told from a removed one. A few events
 * removed from between others are cheaper as empty records (length 0) inside the frame: a record
 * is never empty otherwise, and an empty one holds no event (its sequence is left out, like a hole's).
 *
 * CRC-32 (zlib, native and hardware-assisted in Node) rather than CRC-32C: Node has no built-in
 * CRC-32C, and a JavaScript one would cost more than the rest of the append path.
 */
export const FRAME_MAGIC = 0x31464d54;
export const FRAME_HEADER = 24;
export const RECORD_PREFIX = 4;

/** CRC-32 (the zlib polynomial) lookup table, for the four length bytes only. */
const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/**
 * The frame's checksum, for the frame starting at `at` in `bytes`. The four length bytes are
 * folded in JavaScript, so each frame costs one native CRC call and one view: replaying a log of
 * one-event frames is dominated by per-frame fixed costs.
 */
export function frameChecksum(bytes: Buffer, bodyLength: number, at = 0): number {
  let crc = 0xffffffff;
  for (let i = at + 4; i < at + 8; i++)
    crc = (CRC_TABLE[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return crc32(bytes.subarray(at + 12, at + FRAME_HEADER + bodyLength), (crc ^ 0xffffffff) >>> 0);
}

/** Fills in the header of a frame whose records are already at `frame[FRAME_HEADER..]`. */
export function sealFrame(frame: Buffer, firstSequence: number, count: number): void {
  const bodyLength = frame.length - FRAME_HEADER;
  frame.writeUInt32LE(FRAME_MAGIC, 0);
  frame.writeUInt32LE(bodyLength, 4);
  frame.writeDoubleLE(firstSequence, 12);
  frame.writeUInt32LE(count, 20);
  frame.writeUInt32LE(frameChecksum(frame, bodyLength), 8);
}

export interface FrameInfo {
  firstSequence: number;
  count: number;
  bodyLength: number;
}

/** Why bytes are not a whole, intact frame: 'short' when they end before the frame does. */
export type FrameProblem = 'short' | 'bad-magic' | 'bad-checksum' | 'bad-records';

/**
 * Checks the frame starting at `at` in `bytes` (up to `end`) without allocating: returns a problem,
 * or undefined when it is intact (then `frameCount`/`frameSequence`/`frameBodyLength` read it).
 */
export function frameProblemAt(bytes: Buffer, at: number, end = bytes.length): FrameProblem | undefined {
  if (end - at < FRAME_HEADER) return 'short';
  if (bytes.readUInt32LE(at) !== FRAME_MAGIC) return 'bad-magic';
  const bodyLength = bytes.readUInt32LE(at + 4);
  const frameEnd = at + FRAME_HEADER + bodyLength;
  if (end < frameEnd) return 'short';
  if (frameChecksum(bytes, bodyLength, at) !== bytes.readUInt32LE(at + 8)) return 'bad-checksum';
  const count = bytes.readUInt32LE(at + 20);
  if (count === 0)
    return bodyLength === HOLE_BODY && bytes.readDoubleLE(at + FRAME_HEADER) >= 1 ? undefined : 'bad-records';
  let record = at + FRAME_HEADER;
  for (let i = 0; i < count; i++) {
    if (record + RECORD_PREFIX > frameEnd) return 'bad-records';
    record += RECORD_PREFIX + bytes.readUInt32LE(record);
  }
  return record === frameEnd ? undefined : 'bad-records';
}

export const frameBodyLength = (bytes: Buffer, at: number): number => bytes.readUInt32LE(at + 4);
export const frameSequence = (bytes: Buffer, at: number): number => bytes.readDoubleLE(at + 12);
export const frameCount = (bytes: Buffer, at: number): number => bytes.readUInt32LE(at + 20);

const HOLE_BODY = 8;

/** Sequences an intact frame covers: its records, or the length of a hole. */
export const frameSpan = (bytes: Buffer, at: number): number => {
  const count = frameCount(bytes, at);
  return count > 0 ? count : bytes.readDoubleLE(at + FRAME_HEADER);
};

/** A hole frame: sequences [firstSequence, firstSequence + length) are left out of the log. */
export function holeFrame(firstSequence: number, length: number): Buffer {
  const frame = Buffer.alloc(FRAME_HEADER + HOLE_BODY);
  frame.writeDoubleLE(length, FRAME_HEADER);
  sealFrame(frame, firstSequence, 0);
  return frame;
}

/**
 * Checks the frame at the start of `bytes`. Returns its header, or a reason it is not a whole,
 * intact frame.
 */
export function checkFrame(bytes: Buffer): FrameInfo | { problem: FrameProblem } {
  const problem = frameProblemAt(bytes, 0);
  if (problem !== undefined) return { problem };
  return {
    firstSequence: frameSequence(bytes, 0),
    count: frameCount(bytes, 0),
    bodyLength: frameBodyLength(bytes, 0),
  };
}

/** Calls `visit` with each record of an intact frame and the record's offset within the frame. */
export function forEachRecord(
  frame: Buffer,
  count: number,
  visit: (record: Buffer, offset: number, index: number) => void,
): void {
  let at = FRAME_HEADER;
  for (let i = 0; i < count; i++) {
    const length = frame.readUInt32LE(at);
    const start = at + RECORD_PREFIX;
    visit(frame.subarray(start, start + length), start, i);
    at = start + length;
  }
}
