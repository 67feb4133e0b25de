import { existsSync } from 'node:fs';
import { readArchiveFile, readManifest } from '../../src/storage/embedded/retention/archive.js';
import {
  FRAME_HEADER,
  forEachRecord,
  frameBodyLength,
  frameCount,
  frameSequence,
} from '../../src/codec/frame.js';
import { decodeId } from '../../src/codec/record-codec.js';

export interface ArchivedEvent {
  sequence: number;
  id: string;
}

/**
 * Every event an archive holds, in manifest order, read the way a restore would: the manifest's
 * entries (orphan files a crash left are not archived), each file checked, its frames' records.
 */
export function archivedEvents(dir: string): ArchivedEvent[] {
  if (!existsSync(dir)) return [];
  const events: ArchivedEvent[] = [];
  for (const entry of readManifest(dir)) {
    const frames = readArchiveFile(dir, entry);
    for (let at = 0; at < frames.length; at += FRAME_HEADER + frameBodyLength(frames, at)) {
      const frame = frames.subarray(at, at + FRAME_HEADER + frameBodyLength(frames, at));
      const first = frameSequence(frame, 0);
      let i = 0;
      forEachRecord(frame, frameCount(frame, 0), (record) => {
        events.push({ sequence: first + i++, id: decodeId(record) });
      });
    }
  }
  return events;
}
