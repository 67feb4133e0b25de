import { existsSync, readFileSync, statSync, truncateSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptionError, TammaError } from '../../errors.js';
import { openOnDisk } from '../../store/open.js';
import { resolveOptions } from '../../store/options.js';
import { discardCheckpoint, parseCheckpoint } from './checkpoint.js';
import { forEachRecord } from './frame.js';
import { acquireLock } from './lock.js';
import { finishLogSwap, logHome } from './log-swap.js';
import { dropLeftoverSegments, leftoverSegments, readLogStart, type LogStart } from './log-start.js';
import { intactFramesIn, scanLog, type ScanResult } from './log-scan.js';
import { durableClaims, lostEvents, lostEventsError, type CoverageClaim } from './log-coverage.js';
import { verifyStoreFiles } from './verify-files.js';
import { recordLengthsConsistent } from './record-codec.js';
import { STORE_FILE, listSegments, type SegmentFile } from './segment-files.js';
import type { RepairReport, VerifyProblem, VerifyReport } from './verify-types.js';

function requireStore(dir: string): void {
  if (!existsSync(join(dir, STORE_FILE))) {
    throw new TammaError('NOT_A_STORE', `${dir} is not a Tamma Events store (it has no ${STORE_FILE})`);
  }
}

function logSize(segments: readonly SegmentFile[]): number {
  const last = segments[segments.length - 1];
  return last === undefined ? 0 : last.base + statSync(last.path).size;
}

/**
 * Whether the log's record at `sequence` is an event cleanup removed: emptied inside its frame by a
 * compaction (frame.ts), or below the cut, which leaves records in place until their segment goes.
 */
function isRemoved(record: Buffer, sequence: number, start: LogStart): boolean {
  return record.length === 0 || sequence < start.removedBefore;
}

function scanAll(
  segments: readonly SegmentFile[],
  start: LogStart,
): ScanResult & { badRecords: VerifyProblem[] } {
  const badRecords: VerifyProblem[] = [];
  let removed = 0;
  const result = scanLog(segments, 0, start.firstSequence, (frame) => {
    forEachRecord(frame.bytes, frame.count, (record, offset, i) => {
      if (isRemoved(record, frame.firstSequence + i, start)) removed++;
      if (record.length > 0 && !recordLengthsConsistent(record)) {
        badRecords.push({
          file: 'log',
          offset: frame.offset + offset,
          kind: 'corrupt-frame',
          detail: `a record in the frame at sequence ${frame.firstSequence} has inconsistent lengths`,
        });
      }
    });
  });
  return { ...result, events: result.events - removed, badRecords };
}

/** The durable claims about the log's end; those of a damaged tombstones.log (reported already) left out. */
function claimsOf(dir: string, start: LogStart, checkpointRows: number | undefined): CoverageClaim[] {
  try {
    return durableClaims(dir, start, checkpointRows);
  } catch (error) {
    if (!(error instanceof CorruptionError)) throw error;
    return durableClaims(dir, start, checkpointRows, { skipTombstones: true });
  }
}

/**
 * Reads the whole log and the checkpoint, checking every checksum, without changing anything.
 *
 * @example
 * const report = await verifyStore('./events');
 * if (!report.ok) console.error(report.problems);
 */
export async function verifyStore(dir: string): Promise<VerifyReport> {
  requireStore(dir);
  // A restore's new log that a crash left committed but not yet in place is the one open will use
  // (and it discards the checkpoint).
  const home = logHome(dir);
  const problems: VerifyProblem[] = [];
  // Every other file the store relies on (verify-files.ts); the log start is the one at home.
  const { start: dirStart } = verifyStoreFiles(dir, problems);
  const start = home === dir ? dirStart : readLogStart(home);
  // Segments a crash left while cleanup dropped the log's front are garbage that opening deletes.
  const leftovers = new Set(leftoverSegments(home, start.firstSequence).map((segment) => segment.path));
  const segments = listSegments(home).filter((segment) => !leftovers.has(segment.path));
  const scan = scanAll(segments, start);
  problems.push(...scan.badRecords);
  const parsed = home === dir ? parseCheckpoint(dir, logSize(segments)) : { unusable: 'none' as const };
  // Does a durable record prove the log went on past where it ends (log-coverage.ts)? Then the
  // end is a loss, not a torn write. Only for the log in place (a restore's new log has no claims).
  const checkpointRows = 'unusable' in parsed ? parsed.rows : parsed.meta.rows;
  const last = segments.at(-1);
  const end = scan.problem ?? {
    file: last?.path ?? dir,
    offset: last === undefined ? 0 : statSync(last.path).size,
  };
  const lost =
    home === dir ? lostEvents(claimsOf(dir, start, checkpointRows), scan.lastSequence, end) : undefined;
  if (scan.problem !== undefined && !(lost !== undefined && scan.problem.kind === 'torn-tail')) {
    const { file, offset, kind, detail } = scan.problem;
    problems.push({ file, offset, kind, detail });
  }
  if (lost !== undefined) {
    const error = lostEventsError(lost);
    problems.push({ file: error.file, offset: error.offset, kind: 'lost-events', detail: error.detail });
  }
  let checkpoint: VerifyReport['checkpoint'] = null;
  if (!('unusable' in parsed)) {
    checkpoint = { sequence: parsed.meta.rows, valid: true };
  } else if (parsed.unusable !== 'none') {
    checkpoint = { sequence: parsed.rows ?? 0, valid: false };
    problems.push({
      file: join(dir, 'checkpoint.bin'),
      offset: 0,
      kind: 'bad-checkpoint',
      detail: `the checkpoint is unusable (${parsed.unusable}); opening rebuilds the indexes from the log`,
    });
  }
  return {
    dir,
    ok: problems.every((p) => p.kind === 'torn-tail' || p.kind === 'bad-checkpoint'),
    segments: segments.length,
    frames: scan.frames,
    events: scan.events,
    lastSequence: scan.lastSequence,
    checkpoint,
    problems,
  };
}

/**
 * Cuts the log back to the last intact frame before any damage, removes later segments, discards a
 * stale or damaged checkpoint and rebuilds it. Reports exactly what it dropped. Make a copy of the
 * directory first if the dropped events matter: repair cannot bring them back.
 */
export async function repairStore(dir: string): Promise<RepairReport> {
  requireStore(dir);
  const lock = acquireLock(dir);
  const report: RepairReport = {
    dir,
    truncated: [],
    removedFiles: [],
    checkpointDiscarded: false,
    eventsKept: 0,
    lastSequence: 0,
    lostEvents: null,
  };
  try {
    // As open does first: finish (or forget) a restore's log swap a crash interrupted.
    finishLogSwap(dir);
    const start = readLogStart(dir);
    dropLeftoverSegments(dir, start.firstSequence);
    const segments = listSegments(dir);
    let removed = 0;
    const scan = scanLog(segments, 0, start.firstSequence, (frame) => {
      forEachRecord(frame.bytes, frame.count, (record, _offset, i) => {
        if (isRemoved(record, frame.firstSequence + i, start)) removed++;
      });
    });
    report.eventsKept = scan.events - removed;
    report.lastSequence = scan.lastSequence;
    const problem = scan.problem;
    if (problem !== undefined) {
      let lastSeen = scan.lastSequence;
      let bytesDropped = 0;
      segments.slice(problem.segmentIndex).forEach((segment, i) => {
        const bytes = readFileSync(segment.path);
        const damaged = i === 0 ? bytes.subarray(problem.offset) : bytes;
        bytesDropped += damaged.length;
        for (const frame of intactFramesIn(damaged))
          lastSeen = Math.max(lastSeen, frame.firstSequence + frame.count - 1);
      });
      const eventsDropped = lastSeen - scan.lastSequence;
      truncateSync(problem.file, problem.offset);
      for (const segment of segments.slice(problem.segmentIndex + 1)) {
        unlinkSync(segment.path);
        report.removedFiles.push(segment.path);
      }
      report.truncated.push({
        file: problem.file,
        offset: problem.offset,
        bytesDropped,
        eventsDropped,
        firstSequenceDropped: eventsDropped > 0 ? scan.lastSequence + 1 : null,
      });
    }
    const parsed = parseCheckpoint(dir, logSize(listSegments(dir)));
    if (problem !== undefined || ('unusable' in parsed && parsed.unusable !== 'none')) {
      report.checkpointDiscarded = discardCheckpoint(dir);
    }
  } finally {
    lock.release();
  }
  // Opening replays the log into fresh indexes (closing writes them as the new checkpoint). Events
  // a durable record proves were written but the log no longer holds are accepted as lost: their
  // sequences stay unused, and the open says which they were.
  const reopened = await openOnDisk(resolveOptions({ dir, recover: 'truncate' }), dir);
  report.lostEvents = reopened.stats().storage?.recovery.lost ?? null;
  await reopened.close();
  return report;
}
