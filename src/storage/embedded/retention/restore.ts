import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  FRAME_HEADER,
  RECORD_PREFIX,
  frameBodyLength,
  frameCount,
  frameSequence,
  holeFrame,
  sealFrame,
} from '../../../codec/frame.js';
import type { RecordLog } from '../log/record-log.js';
import type { EventTable } from '../table/event-table.js';
import { TableReplay } from '../table/table-replay.js';
import { ValidationError } from '../../../errors.js';
import { optionalInteger, requireObject } from '../../../query/criteria.js';
import { describe } from '../../../support/describe.js';
import { checkPathLength } from '../../../support/path-length.js';
import { MANIFEST, readArchiveFileAsync, readManifest } from './archive.js';
import { filesWithin } from './archive-reader.js';
import { decodeAggregateId } from '../../../codec/record-codec.js';
import { framesWithout } from './frame-filter.js';
import type { ArchivedFrame } from './log-merge.js';
import type { RestoreOptions, RestoreReport } from '../../../retention/restore-report.js';

/**
 * Restores archived events after a store's last sequence, keeping their sequence numbers, ids and
 * bytes: the archive holds whole log frames, which are appended to the log as they are, with hole
 * frames for the sequences between. (Into the middle of a store, the log is rebuilt instead:
 * log-merge.ts.)
 */
export function restoreFrames(
  table: EventTable,
  log: RecordLog,
  frames: readonly ArchivedFrame[],
): RestoreReport {
  const report = newRestoreReport(frames);
  const first = frames[0];
  if (first === undefined) return report;
  const firstSequence = frameSequence(first.bytes, 0);
  if (firstSequence <= table.rows) {
    throw new RangeError(`restoreFrames appends after sequence ${table.rows}, not from ${firstSequence}`);
  }
  const replay = new TableReplay(table);
  for (const { bytes: frame } of frames) {
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

/**
 * The frames without the events of deleted streams (checked against the store restoring them):
 * erasure is not undone by a restore, whichever path it takes, and the events never reach the log.
 * An archive the erasing cleanup has rewritten holds none of them already (archive-erasure.ts).
 * Events the store still holds (hidden until the erasing cleanup) stay in: both restore paths leave
 * them out as already live, which is what the report calls them.
 */
export function withoutDeletedStreams(
  frames: readonly ArchivedFrame[],
  isDeleted: (aggregateId: string) => boolean,
  isLive: (sequence: number) => boolean,
): { frames: ArchivedFrame[]; dropped: number } {
  const kept: ArchivedFrame[] = [];
  let dropped = 0;
  for (const frame of frames) {
    const filtered = framesWithout(
      frame.bytes,
      (record, sequence) => !isLive(sequence) && isDeleted(decodeAggregateId(record)),
    );
    dropped += filtered.dropped;
    const bytes = filtered.frames;
    for (let at = 0; at < bytes.length; at += FRAME_HEADER + frameBodyLength(bytes, at))
      kept.push({
        bytes: bytes.subarray(at, at + FRAME_HEADER + frameBodyLength(bytes, at)),
        file: frame.file,
      });
  }
  return { frames: kept, dropped };
}

/** The sequences of whole frames, as [first, last] ranges by archive file. */
export function framesByFile(frames: readonly ArchivedFrame[]): Map<string, [number, number][]> {
  const ranges = new Map<string, [number, number][]>();
  for (const { bytes, file } of frames) {
    const first = frameSequence(bytes, 0);
    let list = ranges.get(file);
    if (list === undefined) ranges.set(file, (list = []));
    list.push([first, first + frameCount(bytes, 0) - 1]);
  }
  return ranges;
}

/**
 * `restoreArchive`'s arguments, checked: a ValidationError names the first bad one, before anything
 * is read or changed.
 */
export function checkRestoreArguments(archiveDir: unknown, options: unknown): RestoreOptions {
  if (typeof archiveDir !== 'string' || archiveDir.length === 0) {
    throw new ValidationError('archiveDir', `must be a directory path, got ${describe(archiveDir)}`);
  }
  checkPathLength(archiveDir, 'archiveDir', 'VALIDATION_FAILED');
  const input = requireObject(options, 'options');
  const fromSequence = optionalInteger(input.fromSequence, 'options.fromSequence');
  const toSequence = optionalInteger(input.toSequence, 'options.toSequence');
  const onProgress = input.onProgress;
  if (onProgress !== undefined && typeof onProgress !== 'function')
    throw new ValidationError('options.onProgress', `must be a function, got ${describe(onProgress)}`);
  for (const [name, value] of [
    ['fromSequence', fromSequence],
    ['toSequence', toSequence],
  ] as const) {
    if (value !== undefined && value < 1)
      throw new ValidationError(`options.${name}`, `must be a sequence number (1 or more), got ${value}`);
  }
  if (fromSequence !== undefined && toSequence !== undefined && toSequence < fromSequence) {
    throw new ValidationError(
      'options.toSequence',
      `must not be below fromSequence (${fromSequence}), got ${toSequence}`,
    );
  }
  if (!existsSync(join(archiveDir, MANIFEST))) {
    throw new ValidationError(
      'archiveDir',
      `${archiveDir} holds no archive (no ${MANIFEST} in it); check the path`,
    );
  }
  return {
    ...(fromSequence === undefined ? {} : { fromSequence }),
    ...(toSequence === undefined ? {} : { toSequence }),
    ...(onProgress === undefined ? {} : { onProgress: onProgress as RestoreOptions['onProgress'] }),
  };
}

/** A report of nothing restored yet, from the frames read. */
export function newRestoreReport(frames: readonly ArchivedFrame[]): RestoreReport {
  return {
    restored: 0,
    files: new Set(frames.map((frame) => frame.file)).size,
    firstSequence: null,
    lastSequence: null,
    alreadyLive: 0,
    ofDeletedStreams: 0,
    hiddenByRetention: 0,
  };
}

/**
 * The frames of the archive's files within the range, each cut to it (resealed where a bound falls
 * inside one), in sequence order. Every file is checked (size, CRC, frames) as it is read; reading
 * and decompressing run off the main thread, checking in slices with `pause` between them.
 */
export async function readArchivedFrames(
  archiveDir: string,
  options: RestoreOptions,
  pause: () => Promise<void>,
): Promise<ArchivedFrame[]> {
  const from = options.fromSequence ?? 1;
  const to = options.toSequence ?? Infinity;
  const entries = filesWithin(readManifest(archiveDir), {
    fromSequence: from,
    toSequence: to,
    from: -Infinity,
    to: Infinity,
  });
  // Frames of interleaving files never overlap (each holds a run of one cleanup), so sorting whole
  // frames by their first sequence puts every event in order.
  const frames: ArchivedFrame[] = [];
  for (const [i, entry] of entries.entries()) {
    const bytes = await readArchiveFileAsync(archiveDir, entry, pause);
    for (let at = 0; at < bytes.length; at += FRAME_HEADER + frameBodyLength(bytes, at)) {
      const frame = clip(bytes.subarray(at, at + FRAME_HEADER + frameBodyLength(bytes, at)), from, to);
      if (frame !== undefined) frames.push({ bytes: frame, file: entry.file });
    }
    options.onProgress?.({
      phase: 'reading',
      files: entries.length,
      filesRead: i + 1,
      events: 0,
      totalEvents: 0,
    });
  }
  return frames.sort((a, b) => frameSequence(a.bytes, 0) - frameSequence(b.bytes, 0));
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
