import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptionError } from '../../../errors.js';
import { parseTombstones } from '../retention/tombstone-records.js';
import { TOMBSTONE_FILE } from '../retention/tombstones.js';
import { CHECKPOINT_FILE, LOG_DIR } from '../log/segment-files.js';
import type { LogStart } from '../log/log-start.js';

/**
 * "Durable records prove the log reached X": files other than the log that are written only after
 * the log was durable up to some sequence. When the log now ends before that sequence, acknowledged
 * events are lost (a truncated or missing segment, a damaged last frame), not torn by a crash: a
 * torn write is never covered by anything durable. Open refuses such a log (or, with
 * `recover: 'truncate'`, keeps the lost sequences unused); verify reports it.
 *
 * The claims:
 * - the checkpoint: its row count (the log is fsync'ed up to it before it is written);
 * - `log/start.json`: cleanup removed events up to `removedBefore - 1` and the log starts at
 *   `firstSequence`, so both existed;
 * - `tombstones.log`: each deletion records the log's last sequence, made durable before it.
 * The archive is no proof: an archive directory may be shared, or restored from elsewhere.
 */
export interface CoverageClaim {
  /** The file that makes the claim. */
  file: string;
  /** The sequence it proves the log reached. */
  sequence: number;
  /** How, in words. */
  what: string;
}

/** Events the log no longer holds though a durable record proves they were written. */
export interface LostEvents {
  firstSequence: number;
  lastSequence: number;
  /** The claim that proves it. */
  provenBy: CoverageClaim;
  /** Where the log now ends: the segment file, and the byte offset in it. */
  file: string;
  offset: number;
}

/** The claims of the checkpoint (its row count, when its checksum holds), start.json and the tombstones. */
export function durableClaims(
  dir: string,
  start: LogStart,
  checkpointRows: number | undefined,
  { skipTombstones = false } = {},
): CoverageClaim[] {
  const claims: CoverageClaim[] = [];
  if (checkpointRows !== undefined) {
    claims.push({
      file: join(dir, CHECKPOINT_FILE),
      sequence: checkpointRows,
      what: `the checkpoint covers the log up to sequence ${checkpointRows}`,
    });
  }
  const startFile = join(dir, LOG_DIR, 'start.json');
  claims.push({
    file: startFile,
    sequence: Math.max(start.firstSequence, start.removedBefore) - 1,
    what: `cleanup recorded that the log reached sequence ${Math.max(start.firstSequence, start.removedBefore) - 1}`,
  });
  const tombstones = join(dir, TOMBSTONE_FILE);
  if (!skipTombstones && existsSync(tombstones)) {
    let through = 0;
    for (const record of parseTombstones(tombstones, readFileSync(tombstones)).records)
      through = Math.max(through, record.through ?? 0);
    claims.push({
      file: tombstones,
      sequence: through,
      what: `a deletion was recorded when the log had reached sequence ${through}`,
    });
  }
  return claims;
}

/**
 * The events lost when the log's intact part ends at `lastSequence` (at `file`/`offset`), or
 * undefined when no claim goes past it.
 */
export function lostEvents(
  claims: readonly CoverageClaim[],
  lastSequence: number,
  end: { file: string; offset: number },
): LostEvents | undefined {
  let strongest: CoverageClaim | undefined;
  for (const claim of claims) if (claim.sequence > (strongest?.sequence ?? lastSequence)) strongest = claim;
  if (strongest === undefined) return undefined;
  return {
    firstSequence: lastSequence + 1,
    lastSequence: strongest.sequence,
    provenBy: strongest,
    file: end.file,
    offset: end.offset,
  };
}

export function lostEventsError(lost: LostEvents): CorruptionError {
  return new CorruptionError(
    lost.file,
    lost.offset,
    `the log ends here, at sequence ${lost.firstSequence - 1}, but ${lost.provenBy.file} proves it reached ` +
      `${lost.lastSequence} (${lost.provenBy.what}): acknowledged events ${lost.firstSequence}..${lost.lastSequence} are lost`,
    'Restore the directory from a backup, or (after copying it) open it with `recover: "truncate"` ' +
      '(CLI: `tamma-events repair`) to accept the loss; the lost sequences are never reused.',
  );
}
