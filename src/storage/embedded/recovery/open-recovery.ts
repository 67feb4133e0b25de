import { statSync } from 'node:fs';
import { discardCheckpoint } from '../checkpoint.js';
import { holeFrame } from '../../../codec/frame.js';
import type { LostEvents } from './log-coverage.js';
import type { ScanResult } from '../log/log-scan.js';
import { listSegments } from '../log/segment-files.js';
import type { SegmentLog } from '../log/segment-log.js';
import type { OpenRecovery } from '../../store-stats.js';
import type { EventTable } from '../table/event-table.js';

export type { OpenRecovery };

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
