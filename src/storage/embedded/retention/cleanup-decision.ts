import { RowBuffer } from '../table/row-buffer.js';
import { Pacer } from './cleanup-slices.js';
import type { CleanupRun } from './cleanup-run.js';

// Step 1 of a cleanup run (cleanup.ts): which rows go, and how. Nothing is written; a crash here
// changes nothing.

export interface RemovalDecision {
  /** The rows reads leave out, ascending. */
  readonly hiddenRows: Uint32Array;
  /** The first row that stays: the hidden rows below it are cut; the ones past it, compacted. */
  readonly floor: number;
  /** How many of `hiddenRows` lie below `floor`. */
  readonly cut: number;
  /** The hidden rows past `floor`. */
  readonly past: Uint32Array;
  /** Whether `past` is compacted this run (else it waits for a later one: report.deferred). */
  readonly compact: boolean;
}

/**
 * Examines the rows present when it starts, slice by slice, against `hidden` (the rows reads leave
 * out as of now). Undefined when the store is closing and it stopped.
 */
export async function decideRemoval(
  run: CleanupRun,
  hidden: ((row: number) => boolean) | undefined,
  threshold: number,
): Promise<RemovalDecision | undefined> {
  const { host, report, meter } = run;
  const { table } = host;
  const doomed = new RowBuffer();
  // The first row that stays: the rows that go below it are cut; the ones past it, compacted.
  let floor = -1;
  let tombstonedPast = 0;
  let examinedTo = table.firstRow;
  if (hidden !== undefined) {
    // Rows appended while this runs are left to the next run: examining them too, a run under a
    // steady stream of appends could never finish deciding.
    const end = table.rows;
    const pace = new Pacer(run.slice);
    for (let from = table.firstRow, to = from; from < end; from = to) {
      to = Math.min(end, from + pace.size);
      pace.timed(
        to - from,
        () => {
          for (let row = from; row < to; row++) {
            if (table.isRemoved(row)) continue;
            report.examined++;
            if (!hidden(row)) {
              if (floor < 0) floor = row;
              continue;
            }
            doomed.push(row);
            if (!host.tombstoned(row)) continue;
            // A deleted stream's event is never cut: the cut leaves the log as it is (a segment
            // goes only once all of it is removed), and erasure must take its bytes off the disk
            // now. From the first one on, the removal is a compaction, which rewrites the spans.
            if (floor < 0) floor = row;
            report.tombstoned++;
            tombstonedPast++;
          }
          examinedTo = to;
        },
        meter,
      );
      run.progress({ phase: 'deciding', done: to - table.firstRow, total: end - table.firstRow });
      if (!(await run.yieldSlice())) return undefined;
    }
  }
  if (floor < 0) floor = examinedTo;
  const hiddenRows = doomed.result();
  let cut = 0;
  while (cut < hiddenRows.length && (hiddenRows[cut] as number) < floor) cut++;
  const past = hiddenRows.subarray(cut);
  // The threshold holds back compaction only: it costs time in the events that stay. The cut costs
  // time in the events it removes, so it never waits; waiting, the table would swing between the
  // window and the window plus a threshold's worth of expired events, and memory with it.
  const compact = past.length > 0 && (tombstonedPast > 0 || past.length >= threshold * report.examined);
  report.deferred = past.length > 0 && !compact;
  return { hiddenRows, floor, cut, past, compact };
}
