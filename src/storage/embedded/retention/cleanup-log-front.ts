import { failpoint } from '../../../support/failpoint.js';
import type { CleanupReport } from '../../../retention/cleanup-report.js';
import { readLogStart, writeLogStart } from '../log/log-start.js';
import type { EventTable } from '../table/event-table.js';
import type { CleanupHost } from './cleanup-host.js';
import { firstSequenceAt } from './log-compaction.js';

// The log's front after a cleanup run (cleanup.ts): where it starts now, and the spans before that
// which hold only removed events.

/**
 * Step 7: records the log start (the cut, and the first segment kept), then deletes the sealed
 * spans at the log's front that hold only removed events: those before the first event held.
 * Returns the bases of the spans deleted.
 */
export async function dropLogFront(host: CleanupHost, report: CleanupReport): Promise<number[]> {
  const { log, dir, table } = host;
  const sealed = log.sealedSpans();
  const held = firstHeldRow(table);
  const heldAt = held === undefined ? Infinity : table.recordOffset.get(held);
  const empty = sealed.filter((span) => span.end <= heldAt);
  const firstKept = sealed[empty.length] ?? log.activeSpan;
  const start = {
    firstSequence:
      'end' in firstKept || !log.activeSpan.empty ? firstSequenceAt(log, firstKept.base) : table.rows + 1,
    removedBefore: table.firstRow + 1,
  };
  if (dir !== undefined) {
    const recorded = readLogStart(dir);
    if (recorded.firstSequence !== start.firstSequence || recorded.removedBefore !== start.removedBefore)
      await writeLogStart(dir, start);
  }
  failpoint('cleanup:log-start-written');
  if (empty.length === 0) return [];
  for (const span of empty) report.bytesFreed += span.end - span.base;
  report.spansDropped += empty.length;
  const bases = empty.map((span) => span.base);
  await log.dropSpans(bases);
  return bases;
}

/**
 * The base of the span at the log's front when it still holds events a cut removed (a cut drops
 * a segment only once all of it is removed): the one that holds the first event held, or the
 * active span when none is. Undefined when it holds none.
 */
export function frontSpanWithCutEvents(host: CleanupHost): number | undefined {
  const { table, log } = host;
  const held = firstHeldRow(table);
  const heldAt = held === undefined ? Infinity : table.recordOffset.get(held);
  const span =
    log.sealedSpans().find((s) => s.end > heldAt) ?? (log.activeSpan.empty ? undefined : log.activeSpan);
  if (span === undefined) return undefined;
  return firstSequenceAt(log, span.base) <= table.firstRow ? span.base : undefined;
}

/** The first row holding an event, or undefined when none does. */
function firstHeldRow(table: EventTable): number | undefined {
  for (let row = table.firstRow; row < table.rows; row++) if (!table.isRemoved(row)) return row;
  return undefined;
}
