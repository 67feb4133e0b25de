import { failpoint } from '../../../support/failpoint.js';
import type { RecordLog } from '../log/record-log.js';
import type { CleanupHost } from './cleanup-host.js';
import type { CleanupRun } from './cleanup-run.js';
import { firstSequenceAt, rewriteSpan } from './log-compaction.js';
import { TableCompaction } from './table-compaction.js';

/**
 * Steps 5-6 of a cleanup run (cleanup.ts): compact the table, then rewrite the log spans that held
 * what it removed. Kept across runs, since a run that stopped or failed owes the next its rewrites.
 */
export class CleanupCompaction {
  /**
   * Spans that held removed rows and were not rewritten yet: a run that failed or stopped after
   * compacting leaves them to the next, which must rewrite them even if it removes nothing there.
   */
  private readonly unrewritten = new Set<number>();

  /** Whether some span holds compacted rows and is not rewritten yet (see Cleanup.owesRewrites). */
  get owesRewrites(): boolean {
    return this.unrewritten.size > 0;
  }

  /** Spans the log's front dropped whole (step 7) owe no rewrite any more. */
  forget(bases: readonly number[]): void {
    for (const base of bases) this.unrewritten.delete(base);
  }

  /**
   * Compacts `rows` out of the table, then rewrites the spans that held them, the span at `front`
   * (when given) and those an earlier run left unrewritten; false when closing.
   */
  async compact(run: CleanupRun, rows: ArrayLike<number>, front: number | undefined): Promise<boolean> {
    const { host } = run;
    const { table, log } = host;
    const touched = spansHolding(
      log,
      Float64Array.from(rows, (row) => table.recordOffset.get(row)),
    );
    if (front !== undefined) touched.add(front);
    for (const base of this.unrewritten) touched.add(base);
    if (rows.length > 0 && !(await compactTable(run, rows))) return false;
    for (const base of touched) this.unrewritten.add(base);
    failpoint('cleanup:table-compacted');
    // The rows are gone from every read now; what follows gives back their disk or memory space.
    if (touched.has(log.activeSpan.base)) log.seal();
    // The store writes no checkpoint while cleanup runs (one between two renames would hold
    // offsets the next rename makes wrong); cleanup writes its own at the end.
    if (host.dir !== undefined) host.discardCheckpoint();
    failpoint('cleanup:checkpoint-discarded');
    return this.rewriteSpans(run, touched);
  }

  /** Step 6: rewrites the sealed spans that held removed rows; false when the store is closing. */
  private async rewriteSpans(run: CleanupRun, touched: Set<number>): Promise<boolean> {
    const { host, meter, report } = run;
    const { table, log } = host;
    const sealed = log.sealedSpans();
    // A span an earlier run left unrewritten may be gone since (dropped whole at the log's front).
    const bases = new Set(sealed.map((span) => span.base));
    for (const base of this.unrewritten) if (!bases.has(base)) this.unrewritten.delete(base);
    const spans = sealed.filter((span) => touched.has(span.base));
    for (const [i, span] of spans.entries()) {
      const rewrite = await rewriteSpan(
        table,
        log,
        span,
        sequenceAfter(host, span.end),
        (work) => meter.slice(work),
        () => run.yieldSlice(),
      );
      if (rewrite === undefined) return false;
      this.unrewritten.delete(span.base);
      report.bytesFreed += rewrite.before - rewrite.after;
      report.spansRewritten++;
      failpoint('cleanup:span-rewritten');
      run.progress({ phase: 'rewriting', done: i + 1, total: spans.length });
      if (!(await run.yieldSlice())) return false;
    }
    return true;
  }
}

/** Step 5: compacts `rows` out of the table and swaps the copy in; false when closing. */
async function compactTable(run: CleanupRun, rows: ArrayLike<number>): Promise<boolean> {
  const { host, slice, meter, report } = run;
  const { table } = host;
  let next = 0;
  const compaction = new TableCompaction(table, (row) => {
    while (next < rows.length && (rows[next] as number) < row) next++;
    return rows[next] === row;
  });
  const total = table.rows - table.firstRow;
  for (let done = 0; ;) {
    const finished = meter.slice(() => compaction.step(slice));
    done = Math.min(total, done + slice);
    run.progress({ phase: 'compacting', done: finished ? total : done, total });
    if (finished) break;
    if (!(await run.yieldSlice())) {
      compaction.abort();
      return false;
    }
  }
  meter.slice(() => {
    compaction.finish();
    host.afterCompaction();
  });
  report.removed += compaction.removed;
  return true;
}

/** Bases of the spans holding these offsets (sorted in place). */
function spansHolding(log: RecordLog, offsets: Float64Array): Set<number> {
  const spans = [...log.sealedSpans(), { base: log.activeSpan.base, end: Infinity }];
  const bases = new Set<number>();
  let s = 0;
  for (const offset of offsets.sort()) {
    while (s + 1 < spans.length && (spans[s + 1] as { base: number }).base <= offset) s++;
    bases.add((spans[s] as { base: number }).base);
  }
  return bases;
}

/** The first sequence after the span ending at `end`: the next span's first, or the table's next. */
function sequenceAfter(host: CleanupHost, end: number): number {
  const { log, table } = host;
  const next = log.sealedSpans().find((span) => span.base >= end);
  if (next !== undefined) return firstSequenceAt(log, next.base);
  return log.activeSpan.empty ? table.rows + 1 : firstSequenceAt(log, log.activeSpan.base);
}
