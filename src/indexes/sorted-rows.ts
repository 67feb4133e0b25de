import type { ArrayCursor, RawArray } from '../storage/embedded/snapshot.js';

/**
 * An ascending list of row numbers: what every index lookup yields. Intersections, unions and
 * "rows after sequence N" are merges and binary searches over it.
 */
export interface SortedRows {
  readonly length: number;
  at(index: number): number;
}

/** First index whose row is >= `row` (length when none). */
export function lowerBound(rows: SortedRows, row: number, from = 0): number {
  let lo = from;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rows.at(mid) < row) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Wraps a typed array as SortedRows. */
export class ArrayRows implements SortedRows {
  constructor(private readonly rows: Uint32Array) {}

  get length(): number {
    return this.rows.length;
  }

  at(index: number): number {
    return this.rows[index] as number;
  }
}

export const NO_ROWS: SortedRows = new ArrayRows(new Uint32Array(0));

const BLOCK_SHIFT = 13;
const BLOCK = 1 << BLOCK_SHIFT;
const BLOCK_MASK = BLOCK - 1;

/**
 * A growable ascending row list for keys with many rows. The first block doubles up to 8192
 * entries, later blocks are fixed at 8192: small lists waste at most half, big ones at most one block,
 * and nothing is ever copied twice.
 */
export class RowList implements SortedRows {
  private blocks: Uint32Array[] = [new Uint32Array(16)];
  length = 0;

  /** Pushes the blocks onto `out` (no copy); returns the metadata `restore` needs. */
  snapshot(out: RawArray[]): { length: number; blocks: number } {
    out.push(...this.blocks);
    return { length: this.length, blocks: this.blocks.length };
  }

  static restore(meta: { length: number; blocks: number }, arrays: ArrayCursor): RowList {
    const list = new RowList();
    list.blocks = Array.from({ length: meta.blocks }, () => arrays.next(Uint32Array));
    list.length = meta.length;
    return list;
  }

  push(row: number): void {
    const n = this.length;
    if (n < BLOCK) {
      let first = this.blocks[0] as Uint32Array;
      if (n === first.length) {
        const grown = new Uint32Array(Math.min(BLOCK, first.length * 2));
        grown.set(first);
        this.blocks[0] = first = grown;
      }
      first[n] = row;
    } else {
      const index = n >>> BLOCK_SHIFT;
      if (index === this.blocks.length) this.blocks.push(new Uint32Array(BLOCK));
      (this.blocks[index] as Uint32Array)[n & BLOCK_MASK] = row;
    }
    this.length = n + 1;
  }

  at(index: number): number {
    return (this.blocks[index >>> BLOCK_SHIFT] as Uint32Array)[index & BLOCK_MASK] as number;
  }

  get bytes(): number {
    let total = 0;
    for (const block of this.blocks) total += block.byteLength;
    return total;
  }
}
