/**
 * Row numbers collected into one growing Uint32Array. Its memory is an ArrayBuffer, outside the JS
 * heap: a number[] of a hundred thousand rows is a large object in V8's old generation, and so is
 * each copy it leaves behind as it grows, all garbage that only a major GC takes back. A cleanup
 * that collected its rows so put about 1 MiB into the old generation per 100K rows removed, and
 * V8, seeing that burst, let the heap grow further before its next major GC.
 */
export class RowBuffer {
  private rows: Uint32Array<ArrayBuffer>;
  length = 0;

  constructor(capacity = 16) {
    this.rows = new Uint32Array(Math.max(16, capacity));
  }

  push(row: number): void {
    const rows = this.length < this.rows.length ? this.rows : this.reserve(1);
    rows[this.length++] = row;
  }

  /** Appends base + slot for the first `count` slots. */
  append(slots: Uint16Array, count: number, base: number): void {
    const rows = this.reserve(count);
    let at = this.length;
    for (let k = 0; k < count; k++) rows[at++] = base + (slots[k] as number);
    this.length = at;
  }

  /** The rows so far: a view, valid until the next push or append. */
  result(): Uint32Array<ArrayBuffer> {
    return this.rows.subarray(0, this.length);
  }

  /** The array, grown (doubling) to hold `count` more rows. */
  private reserve(count: number): Uint32Array<ArrayBuffer> {
    if (this.length + count > this.rows.length) {
      const grown = new Uint32Array(Math.max(this.rows.length * 2, this.length + count));
      grown.set(this.rows.subarray(0, this.length));
      this.rows = grown;
    }
    return this.rows;
  }
}
