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
 * CRC-32 (zlib, native and hardware-assisted in Node) rather than CRC-32C: Node has no built-in
 * CRC-32C, and a JavaScript one would cost more than the rest of the append path.
 */
export const FRAME_MAGIC = 0x31464d54;
export const FRAME_HEADER = 24;
export const RECORD_PREFIX = 4;

export function frameChecksum(frame: Buffer, bodyLength: number): number {
  const lengthCrc = crc32(frame.subarray(4, 8));
  return crc32(frame.subarray(12, FRAME_HEADER + bodyLength), lengthCrc);
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

/**
 * Checks the frame at the start of `bytes`. Returns its header, or a reason it is not a whole,
 * intact frame: 'short' when the bytes end before the frame does.
 */
export function checkFrame(
  bytes: Buffer,
): FrameInfo | { problem: 'short' | 'bad-magic' | 'bad-checksum' | 'bad-records' } {
  if (bytes.length < FRAME_HEADER) return { problem: 'short' };
  if (bytes.readUInt32LE(0) !== FRAME_MAGIC) return { problem: 'bad-magic' };
  const bodyLength = bytes.readUInt32LE(4);
  if (bytes.length < FRAME_HEADER + bodyLength) return { problem: 'short' };
  if (frameChecksum(bytes, bodyLength) !== bytes.readUInt32LE(8)) return { problem: 'bad-checksum' };
  const count = bytes.readUInt32LE(20);
  let at = FRAME_HEADER;
  const end = FRAME_HEADER + bodyLength;
  for (let i = 0; i < count; i++) {
    if (at + RECORD_PREFIX > end) return { problem: 'bad-records' };
    at += RECORD_PREFIX + bytes.readUInt32LE(at);
  }
  if (at !== end) return { problem: 'bad-records' };
  return { firstSequence: bytes.readDoubleLE(12), count, bodyLength };
}

/** Calls `visit` with each record of an intact frame and the record's offset within the frame. */
export function forEachRecord(
  frame: Buffer,
  count: number,
  visit: (record: Buffer, offset: number) => void,
): void {
  let at = FRAME_HEADER;
  for (let i = 0; i < count; i++) {
    const length = frame.readUInt32LE(at);
    const start = at + RECORD_PREFIX;
    visit(frame.subarray(start, start + length), start);
    at = start + length;
  }
}
