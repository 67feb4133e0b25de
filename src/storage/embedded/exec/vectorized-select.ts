import type { SortedRows } from '../table/sorted-rows.js';
import type { EventTable } from '../table/event-table.js';
import { ColumnScan, tableChunks } from './column-scan.js';
import type { ExecutionCounts } from './executor.js';
import type { ParallelScanPool } from './parallel-scan.js';
import { CHECK_EVERY, type QueryGuard } from './query-guard.js';
import type { QueryPlan } from './query-optimizer.js';
import type { RowPredicate } from './compile-filter.js';
import type { VectorizedFilter } from './vectorize.js';

/**
 * Rows a serial vectorized pass takes at a time. The first window is small so that a query with a
 * limit stops after little work; windows then double up to the largest, a few milliseconds of
 * scanning, between which the query guard is checked.
 */
const FIRST_WINDOW = 4096;
const LAST_WINDOW = 1 << 18;

/** A parallel scan's ranges: about this many per worker, so a slow worker delays the others little... */
const RANGES_PER_WORKER = 4;
/** ...and none larger than this, so a limit reached early wastes little of the workers' time. */
const MAX_RANGE = 1 << 20;

/** [from, to) windows over n positions, growing, from the start or (descending) from the end. */
function* windows(n: number, descending: boolean): Generator<[number, number]> {
  let size = FIRST_WINDOW;
  for (let done = 0; done < n; done += size, size = Math.min(size * 2, LAST_WINDOW)) {
    const length = Math.min(size, n - done);
    yield descending ? [n - done - length, n - done] : [done, done + length];
  }
}

/** The rows of `rows` the table still holds: a cleanup may have removed some since they were scanned. */
function stillHeld(rows: Uint32Array, table: EventTable): Uint32Array {
  return rows.filter((row) => !table.isRemoved(row));
}

/**
 * Takes the column scan's rows window by window in the plan's direction, checks the other terms
 * on them, and stops at `limit`. Keeps each window's rows as they came (typed arrays) and makes
 * the row list once at the end: pushing hundreds of thousands of rows one by one onto a growing
 * array costs more than scanning them.
 */
class Collector {
  private readonly pieces: Uint32Array[] = [];
  private total = 0;
  private checked = 0;

  constructor(
    private readonly plan: QueryPlan,
    private readonly filter: VectorizedFilter,
    private readonly guard: QueryGuard,
    private readonly counts: ExecutionCounts,
    private readonly limit: number,
  ) {}

  /**
   * Takes one window's matching rows (ascending; the array is the collector's to keep and
   * overwrite) out of `examined` scanned; returns true once `limit` rows are in.
   */
  take(rows: Uint32Array, examined: number): boolean {
    this.counts.examined += examined;
    const wanted = this.limit - this.total;
    const kept = this.filter.rest === undefined ? this.first(rows, wanted) : this.check(rows, wanted);
    this.pieces.push(kept);
    this.total += kept.length;
    this.counts.matched += kept.length;
    return this.total >= this.limit;
  }

  /** Leaves out the rows taken so far that the table no longer holds (see collectParallel). */
  keepHeld(table: EventTable): void {
    this.total = 0;
    for (let i = 0; i < this.pieces.length; i++) {
      const held = stillHeld(this.pieces[i] as Uint32Array, table);
      this.pieces[i] = held;
      this.total += held.length;
    }
  }

  /** The first `wanted` rows in the plan's direction. */
  private first(rows: Uint32Array, wanted: number): Uint32Array {
    if (rows.length <= wanted) return rows;
    return this.plan.descending ? rows.subarray(rows.length - wanted) : rows.subarray(0, wanted);
  }

  /** The rows that pass the other terms, checked in the plan's direction until `wanted` passed. */
  private check(rows: Uint32Array, wanted: number): Uint32Array {
    const rest = this.filter.rest as RowPredicate;
    let kept = 0;
    // Kept rows are compacted in place, towards the end the rows are read from.
    for (let i = 0; i < rows.length && kept < wanted; i++) {
      const at = this.plan.descending ? rows.length - 1 - i : i;
      const row = rows[at] as number;
      // The other terms may read records, a few microseconds a row: check the guard between.
      if (++this.checked % CHECK_EVERY === 0) this.guard.check();
      if (rest(row)) rows[this.plan.descending ? rows.length - 1 - kept++ : kept++] = row;
    }
    return this.plan.descending ? rows.subarray(rows.length - kept) : rows.subarray(0, kept);
  }

  /** The rows taken, in the plan's direction. */
  result(): number[] {
    const out = new Array<number>(this.total);
    let at = 0;
    for (const piece of this.pieces) {
      if (this.plan.descending) for (let i = piece.length - 1; i >= 0; i--) out[at++] = piece[i] as number;
      else for (let i = 0; i < piece.length; i++) out[at++] = piece[i] as number;
    }
    return out;
  }
}

/**
 * The rows of a vectorized plan on this thread: the scan's rows window by window, or an index
 * path's rows a window at a time through the column filter.
 */
export function collectVectorized(
  plan: QueryPlan,
  filter: VectorizedFilter,
  table: EventTable,
  guard: QueryGuard,
  counts: ExecutionCounts,
  limit: number,
): number[] {
  const scan = new ColumnScan(filter.columns, tableChunks(table));
  const collector = new Collector(plan, filter, guard, counts, limit);
  if (plan.access.index === 'scan') {
    // The scan path's estimate is the exact row count from its first row the plan was made at.
    const first = plan.access.firstRow ?? 0;
    for (const [from, to] of windows(plan.access.estimatedRows, plan.descending)) {
      guard.check();
      if (collector.take(scan.range(first + from, first + to), to - from)) break;
    }
    return collector.result();
  }
  const source: SortedRows = plan.access.rows();
  const candidates = new Uint32Array(Math.min(source.length, LAST_WINDOW));
  for (const [from, to] of windows(source.length, plan.descending)) {
    guard.check();
    for (let i = from; i < to; i++) candidates[i - from] = source.at(i);
    if (collector.take(scan.filterRows(candidates.subarray(0, to - from)), to - from)) break;
  }
  return collector.result();
}

/**
 * The rows of a parallel scan: [first row, rows) split into ranges handed to the pool's workers, a few per
 * worker outstanding at any time (a range is handed out as soon as any finishes, so a worker that
 * started late does not hold the others up), their answers taken in range order (so the result is
 * what the serial scan gives). The guard is checked as each range is taken and, while waiting,
 * stops the query the moment it is cancelled or times out; outstanding ranges are then dropped by
 * the workers at their next chunk.
 *
 * A cleanup can cut rows while the workers scan (the serial passes run in one turn, so only this one
 * sees it). Their answers, and the rows taken before, then name rows that hold no event any more:
 * those are left out before they count toward `limit` or reach the other terms, which would read
 * records that are gone. Otherwise a page could come back short, and a short page reads as the last.
 */
export async function collectParallel(
  plan: QueryPlan,
  filter: VectorizedFilter,
  table: EventTable,
  pool: ParallelScanPool,
  guard: QueryGuard,
  counts: ExecutionCounts,
  limit: number,
): Promise<number[]> {
  const first = plan.access.firstRow ?? 0;
  const end = first + plan.access.estimatedRows;
  const size = Math.max(
    1,
    Math.min(MAX_RANGE, Math.ceil(plan.access.estimatedRows / (filter.workers * RANGES_PER_WORKER))),
  );
  const ranges: [number, number][] = [];
  for (let from = first; from < end; from += size) ranges.push([from, Math.min(end, from + size)]);
  if (plan.descending) ranges.reverse();

  const collector = new Collector(plan, filter, guard, counts, limit);
  const { generation } = table;
  let seen = generation;
  const scan = pool.open(filter.columns);
  const { stopped, dispose } = guard.watch();
  const answers: (Promise<Uint32Array> | undefined)[] = [];
  let next = 0;
  let outstanding = 0;
  let over = false;
  const dispatch = (): void => {
    for (; !over && next < ranges.length && outstanding < 2 * filter.workers; next++) {
      const [from, to] = ranges[next] as [number, number];
      const answer = scan.range(from, to);
      outstanding++;
      // Answers no longer wanted are never awaited; their failures are of no interest.
      answer.then(
        () => {
          outstanding--;
          dispatch();
        },
        () => outstanding--,
      );
      answers[next] = answer;
    }
  };
  try {
    dispatch();
    for (let i = 0; i < ranges.length; i++) {
      // Handed out already: each answer hands out the next range before anyone awaits it.
      const matching = await Promise.race([answers[i] as Promise<Uint32Array>, stopped]);
      answers[i] = undefined;
      guard.check();
      const [from, to] = ranges[i] as [number, number];
      if (table.generation !== seen) {
        seen = table.generation;
        collector.keepHeld(table);
      }
      const held = seen === generation ? matching : stillHeld(matching, table);
      if (collector.take(held, to - from)) break;
    }
  } finally {
    over = true;
    dispose();
    scan.close();
  }
  return collector.result();
}
