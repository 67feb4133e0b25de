import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptionError, TammaError } from '../../../errors.js';
import { openOnDisk, standaloneContext } from '../open-embedded.js';
import { resolveOptions } from '../embedded-options.js';
import { discardCheckpoint, parseCheckpoint } from '../checkpoint.js';
import { forEachRecord } from '../../../codec/frame.js';
import { acquireLock } from '../log/lock.js';
import { finishLogSwap, logHome } from '../log/log-swap.js';
import { firstFrameSequence, leftoverSegments, readLogStart, type LogStart } from '../log/log-start.js';
import { repairLog } from './log-repair.js';
import { scanLog, type ScanResult } from '../log/log-scan.js';
import { durableClaims, lostEvents, lostEventsError, type CoverageClaim } from './log-coverage.js';
import { verifyStoreFiles } from './verify-files.js';
import { recordLengthsConsistent } from '../../../codec/record-codec.js';
import { STORE_FILE, listSegments, type SegmentFile } from '../log/segment-files.js';
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

/** The sequence the first segment's first frame starts at, as the log's start (1 when it has none). */
function firstFrameStart(segments: readonly SegmentFile[]): LogStart {
  const first = segments[0];
  const firstSequence = first === undefined ? undefined : firstFrameSequence(first.path);
  return firstSequence !== undefined && Number.isSafeInteger(firstSequence) && firstSequence >= 1
    ? { firstSequence, removedBefore: firstSequence }
    : { firstSequence: 1, removedBefore: 1 };
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
  // Every other file the store relies on (verify-files.ts); the log start is checked with the log.
  verifyStoreFiles(dir, problems);
  // Segments a crash left while cleanup dropped the log's front are garbage that opening deletes.
  // A log start record that is damaged or disagrees with the segments makes open refuse (and
  // repair rebuild it): reported, and the log is read from its first frame instead.
  let startProblem: CorruptionError | undefined;
  let recorded: LogStart | undefined;
  let leftovers = new Set<string>();
  try {
    const start = readLogStart(home);
    leftovers = new Set(leftoverSegments(home, start.firstSequence).map((segment) => segment.path));
    recorded = start;
  } catch (error) {
    if (!(error instanceof CorruptionError)) throw error;
    startProblem = error;
  }
  const segments = listSegments(home).filter((segment) => !leftovers.has(segment.path));
  const start = recorded ?? firstFrameStart(segments);
  const scan = scanAll(segments, start);
  problems.push(...scan.badRecords);
  if (startProblem !== undefined) {
    const { file, offset, detail } = startProblem;
    problems.push({ file, offset, kind: 'bad-log-start', detail });
  }
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
 * Repairs a damaged store, keeping every intact frame: damaged bytes are moved to files under
 * `<dir>/quarantine/` and their sequences left as a hole (never reused), a missing or wrong
 * `log/start.json` is rebuilt from the segments, and a stale or damaged checkpoint is discarded and
 * rebuilt. Reports exactly what it dropped: each range's file, offset, bytes, sequences and
 * quarantine file (see log-repair.ts).
 */
export async function repairStore(dir: string): Promise<RepairReport> {
  requireStore(dir);
  const lock = acquireLock(dir);
  let report: RepairReport;
  try {
    // As open does first: finish (or forget) a restore's log swap a crash interrupted.
    finishLogSwap(dir);
    const log = await repairLog(dir);
    const parsed = parseCheckpoint(dir, logSize(listSegments(dir)));
    const checkpointDiscarded =
      (log.changed || ('unusable' in parsed && parsed.unusable !== 'none')) && discardCheckpoint(dir);
    const scan = scanAll(listSegments(dir), readLogStart(dir));
    if (scan.problem !== undefined) {
      throw new CorruptionError(
        scan.problem.file,
        scan.problem.offset,
        `repair left damage it should have moved aside (${scan.problem.detail})`,
      );
    }
    report = {
      dir,
      dropped: log.dropped,
      removedFiles: log.removedFiles,
      logStart: log.logStart,
      checkpointDiscarded,
      eventsKept: scan.events,
      lastSequence: scan.lastSequence,
      lostEvents: null,
    };
  } finally {
    lock.release();
  }
  // Opening replays the log into fresh indexes (closing writes them as the new checkpoint). Events
  // a durable record proves were written but the log no longer holds are accepted as lost: their
  // sequences stay unused, and the open says which they were.
  const options = resolveOptions({ dir, recover: 'truncate' });
  const reopened = await openOnDisk(options, standaloneContext(options), dir);
  report.lostEvents = reopened.stats().storage?.recovery.lost ?? null;
  await reopened.close();
  return report;
}
