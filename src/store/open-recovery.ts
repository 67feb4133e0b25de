import { statSync } from 'node:fs';
import { discardCheckpoint } from '../storage/embedded/checkpoint.js';
import { holeFrame } from '../storage/embedded/frame.js';
import type { LostEvents } from '../storage/embedded/log-coverage.js';
import type { ScanResult } from '../storage/embedded/log-scan.js';
import { listSegments } from '../storage/embedded/segment-files.js';
import type { SegmentLog } from '../storage/embedded/segment-log.js';
import type { EventTable } from '../table/event-table.js';

/** What open dropped or found lost, so that no loss is invisible (`stats().storage.recovery`). */
export interface OpenRecovery {
  /**
   * Torn ends cut off at open: the last frame of the log, incomplete or failing its checksum with
   * nothing durable covering it (a crash mid-write, before the append was acknowledged).
   */
  tornTails: { file: string; offset: number; bytes: number }[];
  /**
   * With `recover: 'truncate'`: events a durable record proves were written but the log no longer
   * holds. Their sequences stay unused. Null when nothing was lost.
   */
  lost: {
    firstSequence: number;
    lastSequence: number;
    events: number;
    /** The file whose record proves the events were written. */
    provenBy: string;
    /** Where the log ended: segment file and byte offset. */
    file: string;
    offset: number;
  } | null;
}

/** Thrown inside open to start again without the checkpoint; never escapes open. */
export class RebuildWithoutCheckpoint extends Error {
  constructor(readonly rows: number) {
    super('rebuild without the checkpoint');
  }
}

/** Where the log's intact part ends: the damaged frame, or the end of the last segment. */
export function logEnding(dir: string, scan: ScanResult): { file: string; offset: number } {
  if (scan.problem !== undefined) return { file: scan.problem.file, offset: scan.problem.offset };
  const last = listSegments(dir).at(-1);
  return last === undefined
    ? { file: dir, offset: 0 }
    : { file: last.path, offset: statSync(last.path).size };
}

/**
 * recover: 'truncate': the lost sequences become a hole frame (as cleanup writes for removed
 * events), durably, so the log reads on without a gap and the next append continues after them. The
 * checkpoint, which may describe the lost frames, is dropped; close writes a new one.
 */
export function keepLostSequences(
  dir: string,
  log: SegmentLog,
  table: EventTable,
  lost: LostEvents,
): NonNullable<OpenRecovery['lost']> {
  const events = lost.lastSequence - lost.firstSequence + 1;
  log.append(holeFrame(lost.firstSequence, events));
  log.syncNow();
  table.skipTo(lost.lastSequence);
  discardCheckpoint(dir);
  return {
    firstSequence: lost.firstSequence,
    lastSequence: lost.lastSequence,
    events,
    provenBy: lost.provenBy.file,
    file: lost.file,
    offset: lost.offset,
  };
}
