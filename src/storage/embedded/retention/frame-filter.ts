import {
  FRAME_HEADER,
  RECORD_PREFIX,
  frameBodyLength,
  frameCount,
  frameSequence,
  sealFrame,
} from '../../../codec/frame.js';

export interface FilteredFrames {
  /** The frames with the records left out; the input itself when none was. */
  frames: Buffer;
  /** Records left out. */
  dropped: number;
}

/**
 * Whole frames (checked, in sequence order) without the records `drop` picks: each frame becomes
 * one frame per run of consecutive records it keeps, resealed at the run's first sequence, so the
 * records kept keep their sequences and bytes, and a sequence left out is a gap between frames
 * (which archive files and restores allow; they never hold an empty record). For erasure: the
 * records of deleted streams taken out of an archive file, or out of what a restore reads.
 */
export function framesWithout(
  frames: Buffer,
  drop: (record: Buffer, sequence: number) => boolean,
): FilteredFrames {
  const parts: Buffer[] = [];
  let dropped = 0;
  for (let at = 0; at < frames.length; at += FRAME_HEADER + frameBodyLength(frames, at)) {
    const end = at + FRAME_HEADER + frameBodyLength(frames, at);
    const first = frameSequence(frames, at);
    const count = frameCount(frames, at);
    // [record offset, record end) of the run being kept, and its first sequence.
    let runStart = -1;
    let runSequence = 0;
    let runCount = 0;
    let record = at + FRAME_HEADER;
    const close = (runEnd: number) => {
      if (runStart < 0) return;
      if (runCount === count) parts.push(frames.subarray(at, end));
      else {
        const frame = Buffer.alloc(FRAME_HEADER + runEnd - runStart);
        frames.copy(frame, FRAME_HEADER, runStart, runEnd);
        sealFrame(frame, runSequence, runCount);
        parts.push(frame);
      }
      runStart = -1;
      runCount = 0;
    };
    for (let i = 0; i < count; i++) {
      const length = frames.readUInt32LE(record);
      const next = record + RECORD_PREFIX + length;
      if (drop(frames.subarray(record + RECORD_PREFIX, next), first + i)) {
        dropped++;
        close(record);
      } else {
        if (runStart < 0) {
          runStart = record;
          runSequence = first + i;
        }
        runCount++;
      }
      record = next;
    }
    close(record);
  }
  return { frames: dropped === 0 ? frames : Buffer.concat(parts), dropped };
}
