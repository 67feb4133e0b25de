import { partitionPoint } from '../../../support/binary-search.js';
import type { ArrayCursor, RawArray } from './snapshot.js';

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
  return partitionPoint(rows.length, (i) => rows.at(i) < row, from);
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
 *
 * Cleanup cuts the oldest rows off in place (`withoutFront`): positions are counted from `offset`,
 * and whole blocks before it are let go (`dropped` of them), so a cut costs O(blocks), not O(rows).
 */
export class RowList implements SortedRows {
  private blocks: Uint32Array[] = [new Uint32Array(16)];
  /** Raw position of entry 0: entries cut off the front, counting the blocks let go. */
  private offset = 0;
  /** Blocks let go from the front: raw block b is blocks[b - dropped]. */
  private dropped = 0;
  length = 0;

  /**
   * Adds to `out` the blocks before the one being filled: full, so no push writes them again (a cut
   * makes a new list that shares them, and changes none).
   */
  fullBlocks(out: Set<RawArray>): void {
    const filling = (this.offset + this.length) >>> BLOCK_SHIFT;
    for (let raw = this.dropped; raw < filling; raw++)
      out.add(this.blocks[raw - this.dropped] as Uint32Array);
  }

  /** Pushes the blocks onto `out` (no copy); returns the metadata `restore` needs. */
  snapshot(out: RawArray[]): RowListSnapshot {
    out.push(...this.blocks);
    return { length: this.length, blocks: this.blocks.length, offset: this.offset, dropped: this.dropped };
  }

  static restore(meta: RowListSnapshot, arrays: ArrayCursor): RowList {
    const list = new RowList();
    list.blocks = Array.from({ length: meta.blocks }, () => arrays.next(Uint32Array));
    list.length = meta.length;
    list.offset = meta.offset ?? 0;
    list.dropped = meta.dropped ?? 0;
    return list;
  }

  push(row: number): void {
    const n = this.offset + this.length;
    if (n < BLOCK) {
      let first = this.blocks[0] as Uint32Array;
      if (n === first.length) {
        const grown = new Uint32Array(Math.min(BLOCK, first.length * 2));
        grown.set(first);
        this.blocks[0] = first = grown;
      }
      first[n] = row;
    } else {
      const index = (n >>> BLOCK_SHIFT) - this.dropped;
      if (index === this.blocks.length) this.blocks.push(new Uint32Array(BLOCK));
      (this.blocks[index] as Uint32Array)[n & BLOCK_MASK] = row;
    }
    this.length++;
  }

  at(index: number): number {
    const raw = index + this.offset;
    return (this.blocks[(raw >>> BLOCK_SHIFT) - this.dropped] as Uint32Array)[raw & BLOCK_MASK] as number;
  }

  /**
   * The list without its first `count` entries, as a new list sharing the blocks that stay. This
   * one is left as it was: a query may be walking it by position.
   */
  withoutFront(count: number): RowList {
    const list = new RowList();
    list.offset = this.offset + Math.min(count, this.length);
    list.length = this.length - (list.offset - this.offset);
    list.dropped = list.offset >>> BLOCK_SHIFT;
    list.blocks = this.blocks.slice(list.dropped - this.dropped);
    if (list.blocks.length === 0) list.blocks.push(new Uint32Array(BLOCK));
    return list;
  }

  get bytes(): number {
    let total = 0;
    for (const block of this.blocks) total += block.byteLength;
    return total;
  }
}

export interface RowListSnapshot {
  length: number;
  blocks: number;
  /** Absent in checkpoints written before in-place cleanup: 0. */
  offset?: number;
  dropped?: number;
}
