/**
 * ChunkedColumn's spare chunks: what a cut lets go serves the rows that come next, reads as the
 * fill value until written, and is kept only within bounds.
 */
import { describe, expect, it } from 'vitest';
import { ArrayCursor } from '../../src/storage/embedded/table/snapshot.js';
import { CHUNK_ROWS, int32Column, uint32Column } from '../../src/storage/embedded/table/chunked-column.js';

const CHUNK_BYTES = CHUNK_ROWS * 4;

describe('ChunkedColumn spare chunks', () => {
  it('serve the next rows after a cut, reset to the fill value', () => {
    const column = int32Column(-1);
    for (let row = 0; row < 3 * CHUNK_ROWS; row += 7) column.set(row, row);
    const freed = [column.chunk(0)?.buffer, column.chunk(1)?.buffer];
    column.dropBelow(2 * CHUNK_ROWS);
    expect([column.chunk(0), column.chunk(1)]).toEqual([undefined, undefined]);
    expect(column.get(7)).toBe(-1);
    // Two freed, one held: both kept (the minimum), and counted in the column's bytes.
    expect(column.bytes).toBe(3 * CHUNK_BYTES);
    column.set(3 * CHUNK_ROWS + 5, 42);
    const reused = column.chunk(3);
    expect(freed).toContain(reused?.buffer);
    // It holds none of the rows it held before: every slot but the one written reads -1.
    expect(column.get(3 * CHUNK_ROWS + 5)).toBe(42);
    expect(column.get(3 * CHUNK_ROWS + 7)).toBe(-1);
    expect(reused?.filter((value) => value !== -1)).toEqual(new Int32Array([42]));
    expect(column.bytes).toBe(3 * CHUNK_BYTES);
  });

  it('are reused rather than allocated, up to a quarter of the chunks held', () => {
    const column = uint32Column();
    const rows = 20 * CHUNK_ROWS;
    for (let row = 0; row < rows; row += CHUNK_ROWS / 2) column.set(row, 1);
    const freed = new Set(Array.from({ length: 12 }, (_, index) => column.chunk(index)?.buffer));
    column.dropBelow(12 * CHUNK_ROWS);
    // 8 chunks held: 2 spares kept (the minimum), the other 10 freed chunks let go.
    expect(column.bytes).toBe((8 + 2) * CHUNK_BYTES);
    column.set(rows, 7);
    column.set(rows + CHUNK_ROWS, 7);
    column.set(rows + 2 * CHUNK_ROWS, 7);
    const next = [20, 21, 22].map((index) => column.chunk(index)?.buffer);
    expect(freed.has(next[0])).toBe(true);
    expect(freed.has(next[1])).toBe(true);
    expect(freed.has(next[2])).toBe(false);
    expect(column.bytes).toBe(11 * CHUNK_BYTES);
    for (const index of [20, 21, 22])
      expect(column.chunk(index)?.filter((value) => value !== 0)).toEqual(new Uint32Array([7]));
  });

  it('never keeps a view into a larger buffer (a checkpoint loaded in place)', () => {
    const file = new SharedArrayBuffer(2 * CHUNK_BYTES);
    const column = uint32Column();
    column.restore(
      [0, 1],
      new ArrayCursor([new Uint32Array(file, 0, CHUNK_ROWS), new Uint32Array(file, CHUNK_BYTES, CHUNK_ROWS)]),
    );
    column.dropBelow(CHUNK_ROWS);
    expect(column.bytes).toBe(CHUNK_BYTES);
    column.set(2 * CHUNK_ROWS, 1);
    expect(column.chunk(2)?.buffer).not.toBe(file);
  });
});
