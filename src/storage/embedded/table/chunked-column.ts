import type { ArrayCursor } from './snapshot.js';

type TypedArray = Float64Array | Uint32Array | Int32Array;
type TypedArrayConstructor<T extends TypedArray> = {
  new (buffer: SharedArrayBuffer): T;
  readonly BYTES_PER_ELEMENT: number;
};

/** Rows per chunk: a power of two so a row splits into chunk and slot with a shift and a mask. */
export const CHUNK_SHIFT = 16;
export const CHUNK_ROWS = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_ROWS - 1;
/** Spare chunks a column keeps at least (see `spare`), and at most as a share of the chunks it holds. */
const MIN_SPARE = 2;
const SPARE_SHARE = 1 / 4;

/**
 * A fixed-width column over millions of rows, stored as fixed-size typed-array chunks.
 *
 * Why chunks rather than one doubling array: growing never copies, never overshoots by 2x, and a
 * 10M-row column never needs one huge contiguous allocation. Chunks are allocated on first write,
 * so a column that only a few rows use (a link array of a rare tag) stays small.
 *
 * Chunks live in SharedArrayBuffers so that worker threads can scan them in place (parallel scans):
 * posting a chunk to a worker shares its memory instead of copying it, and rows below a snapshot's
 * row count never change, so a worker may read them while this thread appends after them.
 */
export class ChunkedColumn<T extends TypedArray> {
  private readonly chunks: (T | undefined)[] = [];
  /**
   * Chunks a cut let go, kept for the rows to come. Under a rolling window a cut frees about as many
   * chunks as the appends until the next one need: allocating those anew each time left the
   * allocator's heap growing in steps (freed 256-512 KiB blocks reused only in part), so RSS climbed
   * while the live data did not. Kept up to a quarter of the chunks held, so a cut that shrinks the
   * table for good still gives most of its memory back. A chunk that is a view into a larger buffer
   * (a checkpoint's bytes, restore) is not kept: it would keep all of that buffer alive.
   *
   * Reuse is safe for a scan that took a chunk before the cut and still reads it (a worker's range):
   * what it reads there belongs to rows below the cut, which the query drops (a scan's rows are
   * checked against the table's generation, query-engine.ts `present`).
   */
  private readonly spare: T[] = [];

  constructor(
    private readonly Type: TypedArrayConstructor<T>,
    /** Value read from a row that was never written. */
    private readonly fill = 0,
  ) {}

  get(row: number): number {
    const chunk = this.chunks[row >>> CHUNK_SHIFT];
    return chunk === undefined ? this.fill : (chunk[row & CHUNK_MASK] as number);
  }

  set(row: number, value: number): void {
    const index = row >>> CHUNK_SHIFT;
    let chunk = this.chunks[index];
    if (chunk === undefined) {
      chunk = this.newChunk();
      while (this.chunks.length < index) this.chunks.push(undefined);
      this.chunks[index] = chunk;
    }
    chunk[row & CHUNK_MASK] = value;
  }

  /** The typed array holding rows [index << CHUNK_SHIFT, (index + 1) << CHUNK_SHIFT), if any was written. */
  chunk(index: number): T | undefined {
    return this.chunks[index];
  }

  /**
   * Lets go of the chunks wholly below `row` (cleanup removed those rows); reading them gives the
   * fill value again. A worker still scanning one keeps its memory until it is done.
   */
  dropBelow(row: number): void {
    const below = Math.min(this.chunks.length, row >>> CHUNK_SHIFT);
    for (let index = 0; index < below; index++) {
      const chunk = this.chunks[index];
      if (chunk === undefined) continue;
      if (chunk.byteLength === chunk.buffer.byteLength) this.spare.push(chunk);
      this.chunks[index] = undefined;
    }
    const held = this.chunks.reduce((n, chunk) => (chunk === undefined ? n : n + 1), 0);
    const keep = Math.max(MIN_SPARE, Math.ceil(held * SPARE_SHARE));
    if (this.spare.length > keep) this.spare.length = keep;
  }

  /** Bytes held: the chunks of rows, and the spare ones. */
  get bytes(): number {
    let total = 0;
    for (const chunk of this.chunks) if (chunk !== undefined) total += chunk.byteLength;
    for (const chunk of this.spare) total += chunk.byteLength;
    return total;
  }

  /**
   * Adds to `out` the chunks wholly below `row`: appends never write them again, so a checkpoint
   * written in the background may read them in place (until a cut, which it keeps from running).
   */
  fullChunksBelow(row: number, out: Set<TypedArray>): void {
    const below = Math.min(this.chunks.length, row >>> CHUNK_SHIFT);
    for (let index = 0; index < below; index++) {
      const chunk = this.chunks[index];
      if (chunk !== undefined) out.add(chunk);
    }
  }

  /** Pushes the allocated chunks onto `out` (no copy); returns which chunk indices they are. */
  snapshot(out: TypedArray[]): number[] {
    const present: number[] = [];
    this.chunks.forEach((chunk, index) => {
      if (chunk !== undefined) {
        present.push(index);
        out.push(chunk);
      }
    });
    return present;
  }

  restore(present: readonly number[], arrays: ArrayCursor): void {
    this.chunks.length = 0;
    for (const index of present) {
      while (this.chunks.length < index) this.chunks.push(undefined);
      const chunk = arrays.next(this.Type as unknown as { new (length: number): T });
      if (chunk.length !== CHUNK_ROWS) throw new Error(`checkpoint column chunk has ${chunk.length} rows`);
      this.chunks.push(chunk);
    }
  }

  /** A spare chunk reset to the fill value, or a new one. */
  private newChunk(): T {
    const reused = this.spare.pop();
    if (reused !== undefined) {
      reused.fill(this.fill);
      return reused;
    }
    const chunk = new this.Type(new SharedArrayBuffer(CHUNK_ROWS * this.Type.BYTES_PER_ELEMENT));
    if (this.fill !== 0) chunk.fill(this.fill);
    return chunk;
  }
}

export const float64Column = (): ChunkedColumn<Float64Array> => new ChunkedColumn(Float64Array);
export const uint32Column = (): ChunkedColumn<Uint32Array> => new ChunkedColumn(Uint32Array);
export const int32Column = (fill = 0): ChunkedColumn<Int32Array> => new ChunkedColumn(Int32Array, fill);
