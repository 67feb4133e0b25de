type TypedArray = Float64Array | Uint32Array | Int32Array;
type TypedArrayConstructor<T extends TypedArray> = {
  new (length: number): T;
  readonly BYTES_PER_ELEMENT: number;
};

/** Rows per chunk: a power of two so a row splits into chunk and slot with a shift and a mask. */
export const CHUNK_SHIFT = 16;
export const CHUNK_ROWS = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_ROWS - 1;

/**
 * A fixed-width column over millions of rows, stored as fixed-size typed-array chunks.
 *
 * Why chunks rather than one doubling array: growing never copies, never overshoots by 2x, and a
 * 10M-row column never needs one huge contiguous allocation. Chunks are allocated on first write,
 * so a column that only a few rows use (a link array of a rare tag) stays small.
 */
export class ChunkedColumn<T extends TypedArray> {
  private readonly chunks: (T | undefined)[] = [];

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
      chunk = new this.Type(CHUNK_ROWS);
      if (this.fill !== 0) chunk.fill(this.fill);
      while (this.chunks.length < index) this.chunks.push(undefined);
      this.chunks[index] = chunk;
    }
    chunk[row & CHUNK_MASK] = value;
  }

  /** The chunk holding `row`, for tight loops that scan a column chunk by chunk. */
  chunk(index: number): T | undefined {
    return this.chunks[index];
  }

  get bytes(): number {
    let total = 0;
    for (const chunk of this.chunks) if (chunk !== undefined) total += chunk.byteLength;
    return total;
  }

  /** The first `rows` values as byte views (no copy), for checkpoints. */
  toBuffers(rows: number): Buffer[] {
    const out: Buffer[] = [];
    const size = this.Type.BYTES_PER_ELEMENT;
    for (let start = 0; start < rows; start += CHUNK_ROWS) {
      const count = Math.min(CHUNK_ROWS, rows - start);
      const chunk = this.chunks[start >>> CHUNK_SHIFT];
      out.push(
        chunk === undefined
          ? Buffer.alloc(count * size)
          : Buffer.from(chunk.buffer, chunk.byteOffset, count * size),
      );
    }
    return out;
  }

  /** Loads `rows` values from little-endian bytes written by `toBuffers`. */
  load(bytes: Buffer, rows: number): void {
    const size = this.Type.BYTES_PER_ELEMENT;
    if (bytes.length !== rows * size)
      throw new Error(`column expects ${rows * size} bytes, got ${bytes.length}`);
    this.chunks.length = 0;
    for (let start = 0; start < rows; start += CHUNK_ROWS) {
      const count = Math.min(CHUNK_ROWS, rows - start);
      const chunk = new this.Type(CHUNK_ROWS);
      const view = new Uint8Array(chunk.buffer, 0, count * size);
      view.set(bytes.subarray(start * size, (start + count) * size));
      this.chunks.push(chunk);
    }
  }

  /** Forgets rows from `rows` on: used when an append is rolled back or the log is truncated. */
  truncate(rows: number): void {
    this.chunks.length = Math.min(this.chunks.length, (rows + CHUNK_MASK) >>> CHUNK_SHIFT);
  }
}

export const float64Column = (): ChunkedColumn<Float64Array> => new ChunkedColumn(Float64Array);
export const uint32Column = (): ChunkedColumn<Uint32Array> => new ChunkedColumn(Uint32Array);
export const int32Column = (fill = 0): ChunkedColumn<Int32Array> => new ChunkedColumn(Int32Array, fill);
