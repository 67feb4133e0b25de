import { partitionPoint } from '../../../support/binary-search.js';
import type { ArrayCursor, RawArray } from './snapshot.js';
import { lowerBound, RowList, type RowListSnapshot } from './sorted-rows.js';

export interface TimeSnapshot {
  /** null stands for -Infinity (an empty index), which JSON cannot hold. */
  maxTs: number | null;
  lateCount: number;
  lookups: number;
  hits: number;
  inOrder: RowListSnapshot;
  runs: number;
  bufferTs: number[];
  bufferRows: number[];
  hours: [hour: number, count: number][];
}

const HOUR_MS = 3_600_000;
/** Late rows gather unsorted up to this many before they are sorted into a run. */
const BUFFER_LIMIT = 1024;

interface Run {
  ts: Float64Array;
  rows: Uint32Array;
}

/**
 * Answers "rows with timestamp in [from, to)" in O(log² n + k), whatever order timestamps arrive in.
 *
 * Why not hour buckets alone (the seed's sketch): at 10K events/s an hour holds 36M events, so a
 * one-minute window would scan a whole bucket. Instead:
 * - rows whose timestamp is >= every earlier one (the common, in-order case) go to `inOrder`, which
 *   is then sorted by time and by row at once: a binary search finds a range;
 * - late rows (clock skew, backfills) gather in a small buffer, then become sorted runs merged like
 *   an LSM tree (runs of similar size merge), so there are O(log n) runs, each binary-searched.
 * The hour buckets survive as a histogram (`hours`): counts per hour, for statistics and estimates.
 */
export class TimeIndex {
  private inOrder = new RowList();
  private maxTs = -Infinity;
  private runs: Run[] = [];
  private bufferTs: number[] = [];
  private bufferRows: number[] = [];
  private lateCount = 0;
  /** Hour bucket (epoch ms / 1h) → events in it. */
  readonly hours = new Map<number, number>();
  lookups = 0;
  hits = 0;

  constructor(private readonly timestampOf: (row: number) => number) {}

  get entries(): number {
    return this.inOrder.length + this.lateCount;
  }

  /** The histogram's bucket for a timestamp. */
  static hourOf(ts: number): number {
    return Math.floor(ts / HOUR_MS);
  }

  add(row: number, ts: number): void {
    const hour = TimeIndex.hourOf(ts);
    this.hours.set(hour, (this.hours.get(hour) ?? 0) + 1);
    if (ts >= this.maxTs) {
      this.maxTs = ts;
      this.inOrder.push(row);
      return;
    }
    this.lateCount++;
    this.bufferTs.push(ts);
    this.bufferRows.push(row);
    if (this.bufferTs.length >= BUFFER_LIMIT) this.flushBuffer();
  }

  /** Rows with timestamp in [from, to), ascending by row. */
  range(from: number, to: number): Uint32Array {
    this.lookups++;
    const parts: Uint32Array[] = [];
    const [lo, hi] = this.inOrderBounds(from, to);
    const ordered = new Uint32Array(hi - lo);
    for (let i = lo; i < hi; i++) ordered[i - lo] = this.inOrder.at(i);
    let total = ordered.length;
    for (const run of this.runs) {
      const start = searchTs(run.ts, from);
      const end = searchTs(run.ts, to);
      if (end > start) {
        parts.push(run.rows.subarray(start, end));
        total += end - start;
      }
    }
    const late: number[] = [];
    for (let i = 0; i < this.bufferTs.length; i++) {
      const ts = this.bufferTs[i] as number;
      if (ts >= from && ts < to) late.push(this.bufferRows[i] as number);
    }
    total += late.length;
    if (total > 0) this.hits++;
    if (total === ordered.length) return ordered;
    const out = new Uint32Array(total);
    out.set(ordered);
    let at = ordered.length;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    out.set(late, at);
    return out.sort();
  }

  /**
   * Forgets the rows below `floor` (cleanup removed them, oldest first). `removedHours` counts the
   * removed rows per hour bucket (hourOf), for the histogram: the caller counts them, since only the
   * table knows which rows below the floor still held an event.
   */
  dropBelow(floor: number, removedHours: ReadonlyMap<number, number>): void {
    for (const [hour, removed] of removedHours) {
      const left = (this.hours.get(hour) ?? removed) - removed;
      if (left > 0) this.hours.set(hour, left);
      else this.hours.delete(hour);
    }
    // In-order rows ascend by row as well as by time: the removed ones are a prefix.
    this.inOrder = this.inOrder.withoutFront(lowerBound(this.inOrder, floor));
    // Late rows are few (clock skew, backfills): filtering them is cheap.
    const before = this.bufferRows.length;
    const keptAt = this.bufferRows.flatMap((row, i) => (row >= floor ? [i] : []));
    this.bufferTs = keptAt.map((i) => this.bufferTs[i] as number);
    this.bufferRows = keptAt.map((i) => this.bufferRows[i] as number);
    let late = this.lateCount - (before - keptAt.length);
    this.runs = this.runs.flatMap((run) => {
      const keep = run.rows.reduce((n, row) => n + (row >= floor ? 1 : 0), 0);
      if (keep === run.rows.length) return [run];
      late -= run.rows.length - keep;
      if (keep === 0) return [];
      const kept: Run = { ts: new Float64Array(keep), rows: new Uint32Array(keep) };
      let at = 0;
      run.rows.forEach((row, i) => {
        if (row < floor) return;
        kept.ts[at] = run.ts[i] as number;
        kept.rows[at++] = row;
      });
      return [kept];
    });
    this.lateCount = late;
  }

  /** Exact count of rows in [from, to) without collecting them: for choosing an index. */
  count(from: number, to: number): number {
    const [lo, hi] = this.inOrderBounds(from, to);
    let total = hi - lo;
    for (const run of this.runs) total += Math.max(0, searchTs(run.ts, to) - searchTs(run.ts, from));
    for (const ts of this.bufferTs) if (ts >= from && ts < to) total++;
    return total;
  }

  private inOrderBounds(from: number, to: number): [number, number] {
    return [this.searchInOrder(from), this.searchInOrder(to)];
  }

  /** First position in inOrder whose timestamp is >= ts. */
  private searchInOrder(ts: number): number {
    return partitionPoint(this.inOrder.length, (i) => this.timestampOf(this.inOrder.at(i)) < ts);
  }

  private flushBuffer(): void {
    const order = this.bufferTs
      .map((_, i) => i)
      .sort((a, b) => {
        const d = (this.bufferTs[a] as number) - (this.bufferTs[b] as number);
        return d !== 0 ? d : (this.bufferRows[a] as number) - (this.bufferRows[b] as number);
      });
    let run: Run = {
      ts: Float64Array.from(order, (i) => this.bufferTs[i] as number),
      rows: Uint32Array.from(order, (i) => this.bufferRows[i] as number),
    };
    this.bufferTs = [];
    this.bufferRows = [];
    // Merge while the previous run is not much bigger: keeps O(log n) runs and O(log n) amortised work per row.
    while (this.runs.length > 0 && (this.runs[this.runs.length - 1] as Run).ts.length <= run.ts.length * 2) {
      run = mergeRuns(this.runs.pop() as Run, run);
    }
    this.runs.push(run);
  }

  /**
   * Adds the arrays no append writes again: the in-order list's full blocks, and every run (merges
   * and cuts make new runs; none is changed in place).
   */
  appendStableArrays(out: Set<RawArray>): void {
    this.inOrder.fullBlocks(out);
    for (const run of this.runs) out.add(run.ts).add(run.rows);
  }

  /** Pushes every array onto `out` (no copy); returns the metadata `restore` needs. */
  snapshot(out: RawArray[]): TimeSnapshot {
    const inOrder = this.inOrder.snapshot(out);
    for (const run of this.runs) out.push(run.ts, run.rows);
    return {
      maxTs: this.maxTs === -Infinity ? null : this.maxTs,
      lateCount: this.lateCount,
      lookups: this.lookups,
      hits: this.hits,
      inOrder,
      runs: this.runs.length,
      bufferTs: this.bufferTs,
      bufferRows: this.bufferRows,
      hours: [...this.hours],
    };
  }

  restore(meta: TimeSnapshot, arrays: ArrayCursor): void {
    this.inOrder = RowList.restore(meta.inOrder, arrays);
    this.runs = Array.from({ length: meta.runs }, () => ({
      ts: arrays.next(Float64Array),
      rows: arrays.next(Uint32Array),
    }));
    this.maxTs = meta.maxTs ?? -Infinity;
    this.lateCount = meta.lateCount;
    this.lookups = meta.lookups;
    this.hits = meta.hits;
    this.bufferTs = [...meta.bufferTs];
    this.bufferRows = [...meta.bufferRows];
    this.hours.clear();
    for (const [hour, count] of meta.hours) this.hours.set(hour, count);
  }

  get bytes(): number {
    let total = this.inOrder.bytes + this.bufferTs.length * 16 + this.hours.size * 40;
    for (const run of this.runs) total += run.ts.byteLength + run.rows.byteLength;
    return total;
  }
}

function searchTs(ts: Float64Array, value: number): number {
  return partitionPoint(ts.length, (i) => (ts[i] as number) < value);
}

function mergeRuns(a: Run, b: Run): Run {
  const n = a.ts.length + b.ts.length;
  const ts = new Float64Array(n);
  const rows = new Uint32Array(n);
  let i = 0;
  let j = 0;
  for (let k = 0; k < n; k++) {
    const takeA =
      j >= b.ts.length ||
      (i < a.ts.length &&
        ((a.ts[i] as number) < (b.ts[j] as number) ||
          (a.ts[i] === b.ts[j] && (a.rows[i] as number) < (b.rows[j] as number))));
    if (takeA) {
      ts[k] = a.ts[i] as number;
      rows[k] = a.rows[i++] as number;
    } else {
      ts[k] = b.ts[j] as number;
      rows[k] = b.rows[j++] as number;
    }
  }
  return { ts, rows };
}
