import type { ArrayCursor, RawArray } from './snapshot.js';
import { int32Column } from './chunked-column.js';
import {
  ArrayRows,
  lowerBound,
  NO_ROWS,
  RowList,
  type RowListSnapshot,
  type SortedRows,
} from './sorted-rows.js';

export interface PostingSnapshot {
  keyCount: number;
  entryCount: number;
  lookups: number;
  hits: number;
  previous: number[];
  dense: [key: number, list: RowListSnapshot][];
  /** Whether the per-key first rows follow the counts (absent before in-place cleanup). */
  firstRows?: boolean;
}

/** A key's rows move from the per-row chain to a dense list once it has more rows than this. */
export const PROMOTE_AT = 64;

/**
 * Maps integer keys to the ascending rows that have them, compactly.
 *
 * Most keys in an event store are small (an aggregate has ~10 events), a few are huge (a type has
 * millions). Small keys cost 4 bytes a row: each row links to the previous row with the same key,
 * and the key remembers its last row. A lookup walks at most PROMOTE_AT links. Once a key grows past
 * that, its rows move to a dense RowList, so big keys get O(1) positional access and O(log n) seeks.
 * Rows arrive in ascending order, so every list is sorted for free.
 *
 * Cleanup removes the oldest rows in place (`dropBelow`): each key remembers its first row, so only
 * keys that held a removed row are touched, and a dense list is cut at its head without a copy.
 */
export class PostingIndex {
  /** Per row: the previous row with the same key, or -1. Only written for keys still on the chain. */
  private readonly previous = int32Column(-1);
  /** Per key: its last row, or -1. */
  private lastRow = new Int32Array(16).fill(-1);
  /** Per key: how many rows it has. */
  private counts = new Uint32Array(16);
  /** Per key: its first row, or -1. */
  private firstRows = new Int32Array(16).fill(-1);
  /** Per key: 1 once its rows moved to a dense list. A list cut short by cleanup stays dense. */
  private denseFlags = new Uint8Array(16);
  private readonly dense = new Map<number, RowList>();
  private keyCount = 0;
  private entryCount = 0;
  lookups = 0;
  hits = 0;

  /** Called once when a key's list becomes dense, with the key and its rows so far. */
  onPromote: ((key: number, rows: RowList) => void) | undefined;

  get keys(): number {
    return this.keyCount;
  }

  get entries(): number {
    return this.entryCount;
  }

  add(key: number, row: number): void {
    if (key >= this.counts.length) this.grow(key);
    const count = this.counts[key] as number;
    if (count === 0) {
      this.keyCount++;
      this.firstRows[key] = row;
    }
    this.entryCount++;
    // Only dense keys touch the Map: the common small key never does.
    if (this.denseFlags[key] === 1) {
      (this.dense.get(key) as RowList).push(row);
    } else if (count + 1 > PROMOTE_AT) {
      const rows = this.walk(key);
      const promoted = new RowList();
      for (let i = 0; i < rows.length; i++) promoted.push(rows[i] as number);
      promoted.push(row);
      this.dense.set(key, promoted);
      this.denseFlags[key] = 1;
      this.onPromote?.(key, promoted);
    } else {
      this.previous.set(row, this.lastRow[key] as number);
    }
    this.counts[key] = count + 1;
    this.lastRow[key] = row;
  }

  count(key: number): number {
    return key < this.counts.length ? (this.counts[key] as number) : 0;
  }

  /** The key's last (highest) row, or -1 when it has none. */
  last(key: number): number {
    return key >= 0 && key < this.lastRow.length ? (this.lastRow[key] as number) : -1;
  }

  /** Whether the key's rows are in a dense list (it once had more than PROMOTE_AT). */
  isDense(key: number): boolean {
    return key < this.denseFlags.length && this.denseFlags[key] === 1;
  }

  /** The key's rows, ascending. Counts as a lookup in the index statistics. */
  lookup(key: number): SortedRows {
    this.lookups++;
    const rows = this.rows(key);
    if (rows.length > 0) this.hits++;
    return rows;
  }

  /** The key's rows without touching statistics (internal use). */
  rows(key: number): SortedRows {
    const count = key < 0 ? 0 : this.count(key);
    if (count === 0) return NO_ROWS;
    return this.denseFlags[key] === 1 ? (this.dense.get(key) as RowList) : new ArrayRows(this.walk(key));
  }

  /**
   * Forgets every row below `floor` (cleanup removed them, oldest first). Costs O(keys) plus the
   * rows of the keys that held one. Returns the keys left with no rows: their ids may be reused.
   */
  dropBelow(floor: number): number[] {
    const emptied: number[] = [];
    this.dropKeysBelow(floor, 0, this.keySpace, emptied);
    this.forgetLinksBelow(floor);
    return emptied;
  }

  /** One past the highest key ever added: where dropKeysBelow ends. */
  get keySpace(): number {
    return this.counts.length;
  }

  /**
   * dropBelow for the keys in [fromKey, toKey) only, so that cleanup can spread it over slices:
   * each key is either cut or not, and rows may be added meanwhile. Pushes the keys left with no
   * rows onto `emptied`. Once every key is done, forgetLinksBelow lets go of the chain links.
   */
  dropKeysBelow(floor: number, fromKey: number, toKey: number, emptied: number[]): void {
    const { counts, firstRows } = this;
    for (let key = fromKey; key < Math.min(toKey, counts.length); key++) {
      const count = counts[key] as number;
      if (count === 0 || (firstRows[key] as number) >= floor) continue;
      let kept = 0;
      let first = -1;
      if (this.denseFlags[key] === 1) {
        const list = this.dense.get(key) as RowList;
        const cut = lowerBound(list, floor);
        kept = list.length - cut;
        if (kept > 0) {
          this.dense.set(key, list.withoutFront(cut));
          first = list.at(cut);
        } else {
          this.dense.delete(key);
          this.denseFlags[key] = 0;
        }
      } else {
        // The chain runs from the last row back: the rows that stay come first.
        for (let row = this.lastRow[key] as number; kept < count && row >= floor; kept++) {
          first = row;
          row = this.previous.get(row);
        }
      }
      this.entryCount -= count - kept;
      counts[key] = kept;
      firstRows[key] = first;
      if (kept === 0) {
        this.keyCount--;
        this.lastRow[key] = -1;
        emptied.push(key);
      }
    }
  }

  /** After every key was cut below `floor`: the chain links of those rows are never read again. */
  forgetLinksBelow(floor: number): void {
    this.previous.dropBelow(floor);
  }

  private walk(key: number): Uint32Array {
    const count = this.counts[key] as number;
    const out = new Uint32Array(count);
    let row = this.lastRow[key] as number;
    for (let i = count - 1; i >= 0; i--) {
      out[i] = row;
      row = this.previous.get(row);
    }
    return out;
  }

  private grow(key: number): void {
    let size = this.counts.length;
    while (size <= key) size *= 2;
    const lastRow = new Int32Array(size).fill(-1);
    lastRow.set(this.lastRow);
    const counts = new Uint32Array(size);
    counts.set(this.counts);
    const firstRows = new Int32Array(size).fill(-1);
    firstRows.set(this.firstRows);
    const denseFlags = new Uint8Array(size);
    denseFlags.set(this.denseFlags);
    this.lastRow = lastRow;
    this.counts = counts;
    this.firstRows = firstRows;
    this.denseFlags = denseFlags;
  }

  /**
   * Adds the arrays no append writes again: the per-row link chunks wholly below `row`
   * (ChunkedColumn.fullChunksBelow) and the full blocks of the dense keys' lists (RowList.fullBlocks).
   */
  appendStableArrays(row: number, out: Set<RawArray>): void {
    this.previous.fullChunksBelow(row, out);
    for (const list of this.dense.values()) list.fullBlocks(out);
  }

  /** Pushes every array onto `out` (no copy); returns the metadata `restore` needs. */
  snapshot(out: RawArray[]): PostingSnapshot {
    const previous = this.previous.snapshot(out);
    out.push(this.lastRow, this.counts, this.firstRows);
    const dense: PostingSnapshot['dense'] = [];
    for (const [key, list] of this.dense) dense.push([key, list.snapshot(out)]);
    return {
      keyCount: this.keyCount,
      entryCount: this.entryCount,
      lookups: this.lookups,
      hits: this.hits,
      previous,
      dense,
      firstRows: true,
    };
  }

  restore(meta: PostingSnapshot, arrays: ArrayCursor): void {
    this.previous.restore(meta.previous, arrays);
    this.lastRow = arrays.next(Int32Array);
    this.counts = arrays.next(Uint32Array);
    this.firstRows = meta.firstRows === true ? arrays.next(Int32Array) : new Int32Array(this.counts.length);
    this.denseFlags = new Uint8Array(this.counts.length);
    this.dense.clear();
    for (const [key, list] of meta.dense) {
      this.dense.set(key, RowList.restore(list, arrays));
      this.denseFlags[key] = 1;
    }
    if (meta.firstRows !== true) {
      for (let key = 0; key < this.counts.length; key++)
        this.firstRows[key] = this.count(key) === 0 ? -1 : this.rows(key).at(0);
    }
    this.keyCount = meta.keyCount;
    this.entryCount = meta.entryCount;
    this.lookups = meta.lookups;
    this.hits = meta.hits;
  }

  get bytes(): number {
    let total =
      this.previous.bytes +
      this.lastRow.byteLength +
      this.counts.byteLength +
      this.firstRows.byteLength +
      this.denseFlags.byteLength;
    for (const list of this.dense.values()) total += list.bytes + 48;
    return total;
  }
}
