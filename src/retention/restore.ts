import { ValidationError } from '../errors.js';
import {
  FRAME_HEADER,
  RECORD_PREFIX,
  frameBodyLength,
  frameCount,
  frameSequence,
  holeFrame,
  sealFrame,
} from '../storage/embedded/frame.js';
import type { RecordLog } from '../storage/embedded/record-log.js';
import type { EventTable } from '../table/event-table.js';
import { TableReplay } from '../table/table-replay.js';
import { readArchiveFile, readManifest } from './archive.js';
import { filesWithin } from './archive-reader.js';

export interface RestoreOptions {
  /** First sequence to restore (inclusive); default the archive's first. */
  fromSequence?: number;
  /** Last sequence to restore (inclusive); default the archive's last. */
  toSequence?: number;
  /** Called after each archive file is read: for progress on long restores. */
  onProgress?: (progress: { files: number; filesRead: number; events: number }) => void;
}

export interface RestoreReport {
  restored: number;
  files: number;
  firstSequence: number | null;
  lastSequence: number | null;
}

/**
 * Restores archived events into a store, keeping their sequence numbers, ids and bytes: the
 * archive holds whole log frames, which are appended to the log as they are (cut where a bound
 * falls inside one), with hole frames for the sequences between. So the store must end before the
 * first restored sequence: a new directory, or a store that the archive continues.
 *
 * Restoring into the middle of a live store (below its last sequence) is refused: the log holds
 * sequences in order, and putting old ones back between live ones would mean rewriting it.
 */
export function restoreFrames(
  table: EventTable,
  log: RecordLog,
  archiveDir: string,
  options: RestoreOptions,
): RestoreReport {
  const from = options.fromSequence ?? 1;
  const to = options.toSequence ?? Infinity;
  const entries = filesWithin(readManifest(archiveDir), {
    fromSequence: from,
    toSequence: to,
    from: -Infinity,
    to: Infinity,
  });
  const report: RestoreReport = {
    restored: 0,
    files: entries.length,
    firstSequence: null,
    lastSequence: null,
  };
  // Frames of interleaving files never overlap (each holds a run of one cleanup), so sorting whole
  // frames by their first sequence puts every event in order.
  const frames: Buffer[] = [];
  entries.forEach((entry, i) => {
    const bytes = readArchiveFile(archiveDir, entry);
    for (let at = 0; at < bytes.length; at += FRAME_HEADER + frameBodyLength(bytes, at)) {
      const frame = clip(bytes.subarray(at, at + FRAME_HEADER + frameBodyLength(bytes, at)), from, to);
      if (frame !== undefined) frames.push(frame);
    }
    options.onProgress?.({ files: entries.length, filesRead: i + 1, events: 0 });
  });
  frames.sort((a, b) => frameSequence(a, 0) - frameSequence(b, 0));
  const first = frames[0];
  if (first === undefined) return report;
  const firstSequence = frameSequence(first, 0);
  if (firstSequence <= table.rows) {
    throw new ValidationError(
      'archive',
      `holds sequence ${firstSequence}, but this store already reaches sequence ${table.rows}: restored ` +
        'events keep their sequence numbers, so restore into a new directory (or one that ends before ' +
        `${firstSequence}), or restore from --from-sequence ${table.rows + 1}`,
    );
  }
  const replay = new TableReplay(table);
  for (const frame of frames) {
    const sequence = frameSequence(frame, 0);
    if (sequence > table.rows + 1) log.append(holeFrame(table.rows + 1, sequence - table.rows - 1));
    table.skipTo(sequence - 1);
    const count = frameCount(frame, 0);
    replay.addFrame(frame, count, log.append(frame));
    report.restored += count;
  }
  report.firstSequence = firstSequence;
  report.lastSequence = table.rows;
  return report;
}

/** The part of a frame within [from, to], resealed when a bound cuts it; undefined when none is. */
function clip(frame: Buffer, from: number, to: number): Buffer | undefined {
  const first = frameSequence(frame, 0);
  const count = frameCount(frame, 0);
  const last = first + count - 1;
  if (last < from || first > to) return undefined;
  if (first >= from && last <= to) return frame;
  const start = Math.max(first, from);
  const end = Math.min(last, to);
  let at = FRAME_HEADER;
  const parts: Buffer[] = [];
  for (let sequence = first; sequence <= end; sequence++) {
    const length = RECORD_PREFIX + frame.readUInt32LE(at);
    if (sequence >= start) parts.push(frame.subarray(at, at + length));
    at += length;
  }
  const body = Buffer.concat(parts);
  const out = Buffer.alloc(FRAME_HEADER + body.length);
  body.copy(out, FRAME_HEADER);
  sealFrame(out, start, end - start + 1);
  return out;
}
