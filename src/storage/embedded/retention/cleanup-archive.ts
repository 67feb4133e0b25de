import { failpoint } from '../../../support/failpoint.js';
import {
  archiveCompressedAsync,
  CompressedParts,
  compressFrames,
  newFramesSummary,
  readManifest,
  summarizeFrames,
} from './archive.js';
import { writeIntent } from './cleanup-intent.js';
import type { CleanupRun } from './cleanup-run.js';
import { Pacer } from './cleanup-slices.js';
import { forEachRunFrame, RecordWindow } from './log-compaction.js';

// Steps 2-3 of a cleanup run (cleanup.ts): the intent, then the archive file, built in slices with
// appends and queries running between them.

/** Frames compressed together as one gzip member: big enough that a member's overhead is nothing. */
const MEMBER_BYTES = 1 << 20;

/**
 * Records the intent, then archives the rows into `archiveDir`: their frames are built slice by
 * slice, compressed and written off the main thread (archive.ts archiveCompressedAsync). False when
 * the store is closing (nothing archived; the intent is cleared at the next open).
 */
export async function archiveRows(run: CleanupRun, archiveDir: string, rows: Uint32Array): Promise<boolean> {
  const { host, meter, report } = run;
  const { table, log } = host;
  // Each slice's frames become one gzip member, compressed off the main thread while appends and
  // queries run: no copy of all the frames is ever held.
  const members = new CompressedParts();
  const summary = newFramesSummary();
  const records = new RecordWindow(log);
  // A member's frames are built in place, one after the other, in a buffer every member reuses
  // (it is free again once the member is compressed): a Buffer per frame and a concatenated copy
  // per member were most of the memory an archiving run churned outside the JS heap.
  const member = new MemberBuffer();
  const pace = new Pacer(run.slice);
  for (let from = 0, to = 0; from < rows.length; from = to) {
    to = Math.min(rows.length, from + pace.size);
    const visit = (frame: Buffer) => summarizeFrames(frame, 'frames to archive', summary, true);
    pace.timed(
      to - from,
      () => forEachRunFrame(table, log, rows.subarray(from, to), visit, undefined, records, member.alloc),
      meter,
    );
    if (member.length >= MEMBER_BYTES || to === rows.length) {
      const bytes = member.bytes.subarray(0, member.length);
      const compressed = await meter.measureAsync(() => compressFrames(bytes));
      meter.slice(() => members.add(compressed));
      member.length = 0;
    }
    if (!(await run.yieldSlice())) return false;
  }
  if (host.dir !== undefined) await writeIntent(host.dir, archiveDir, readManifest(archiveDir).length);
  failpoint('cleanup:intent-written');
  const entry = await meter.measureAsync(() => archiveCompressedAsync(archiveDir, members, summary));
  failpoint('cleanup:archived');
  report.archived += entry.events;
  report.archiveFile = entry.file;
  return true;
}

/** Frames built back to back in one growing buffer (see archiveRows). */
class MemberBuffer {
  bytes = Buffer.alloc(0);
  length = 0;

  /** The next `size` bytes; what was built before them is kept if the buffer has to grow. */
  readonly alloc = (size: number): Buffer => {
    const end = this.length + size;
    if (end > this.bytes.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(end, 2 * this.bytes.length, 4 * MEMBER_BYTES));
      this.bytes.copy(grown, 0, 0, this.length);
      this.bytes = grown;
    }
    const frame = this.bytes.subarray(this.length, end);
    this.length = end;
    return frame;
  };
}
