import type { EventTable } from '../../table/event-table.js';
import type { RowPredicate } from '../compile-filter.js';
import { CHECK_EVERY, type QueryGuard } from '../query-guard.js';

/**
 * Rows a serial vectorized pass takes at a time. The first window is small so that a query with a
 * limit stops after little work; windows then double up to the largest, a few milliseconds of
 * scanning, between which the query guard is checked.
 */
const FIRST_WINDOW = 4096;
export const LAST_WINDOW = 1 << 18;

/** [from, to) windows over n positions, growing, from the start or (descending) from the end. */
export function* windows(n: number, descending: boolean): Generator<[number, number]> {
  let size = FIRST_WINDOW;
  for (let done = 0; done < n; done += size, size = Math.min(size * 2, LAST_WINDOW)) {
    const length = Math.min(size, n - done);
    yield descending ? [n - done - length, n - done] : [done, done + length];
  }
}

/** The rows of `rows` the table still holds: a cleanup may have removed some since they were scanned. */
export function stillHeld(rows: Uint32Array, table: EventTable): Uint32Array {
  return rows.filter((row) => !table.isRemoved(row));
}

/**
 * What a vectorized filter keeps: takes the column terms' matches window by window in the access
 * node's direction, checks the other terms (`rest`) on them, and stops at `limit`. Keeps each
 * window's rows as they came (typed arrays) and makes the row list once at the end: pushing hundreds
 * of thousands of rows one by one onto a growing array costs more than scanning them.
 */
export class Collector {
  private readonly pieces: Uint32Array[] = [];
  /** Rows taken so far. */
  total = 0;
  /** Candidate rows the column terms were run over. */
  examined = 0;
  private checked = 0;

  constructor(
    readonly descending: boolean,
    private readonly rest: RowPredicate | undefined,
    readonly guard: QueryGuard,
    private readonly limit: number,
  ) {}

  /**
   * Takes one window's matching rows (ascending; the array is the collector's to keep and
   * overwrite) out of `examined` scanned; returns true once `limit` rows are in.
   */
  take(rows: Uint32Array, examined: number): boolean {
    this.examined += examined;
    const wanted = this.limit - this.total;
    const kept = this.rest === undefined ? this.first(rows, wanted) : this.check(rows, wanted, this.rest);
    this.pieces.push(kept);
    this.total += kept.length;
    return this.total >= this.limit;
  }

  /** Leaves out the rows taken so far that the table no longer holds (see the parallel scan). */
  keepHeld(table: EventTable): void {
    this.total = 0;
    for (let i = 0; i < this.pieces.length; i++) {
      const held = stillHeld(this.pieces[i] as Uint32Array, table);
      this.pieces[i] = held;
      this.total += held.length;
    }
  }

  /** The first `wanted` rows in the collector's direction. */
  private first(rows: Uint32Array, wanted: number): Uint32Array {
    if (rows.length <= wanted) return rows;
    return this.descending ? rows.subarray(rows.length - wanted) : rows.subarray(0, wanted);
  }

  /** The rows that pass the other terms, checked in the collector's direction until `wanted` passed. */
  private check(rows: Uint32Array, wanted: number, rest: RowPredicate): Uint32Array {
    const descending = this.descending;
    let kept = 0;
    // Kept rows are compacted in place, towards the end the rows are read from.
    for (let i = 0; i < rows.length && kept < wanted; i++) {
      const at = descending ? rows.length - 1 - i : i;
      const row = rows[at] as number;
      // The other terms may read records, a few microseconds a row: check the guard between.
      if (++this.checked % CHECK_EVERY === 0) this.guard.check();
      if (rest(row)) rows[descending ? rows.length - 1 - kept++ : kept++] = row;
    }
    return descending ? rows.subarray(rows.length - kept) : rows.subarray(0, kept);
  }

  /** The rows taken, in the collector's direction. */
  result(): number[] {
    const out = new Array<number>(this.total);
    let at = 0;
    for (const piece of this.pieces) {
      if (this.descending) for (let i = piece.length - 1; i >= 0; i--) out[at++] = piece[i] as number;
      else for (let i = 0; i < piece.length; i++) out[at++] = piece[i] as number;
    }
    return out;
  }
}
