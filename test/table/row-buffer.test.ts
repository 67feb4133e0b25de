/**
 * RowBuffer: rows pushed one at a time and appended chunk by chunk come back in order, across
 * the array's growth.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RowBuffer } from '../../src/storage/embedded/table/row-buffer.js';

describe('RowBuffer', () => {
  it('returns what was pushed and appended, in order, however it grew', () => {
    type Step = { kind: 'push'; row: number } | { kind: 'append'; slots: number[]; base: number };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), row: fc.nat(0xffffffff) }),
      fc.record({
        kind: fc.constant('append' as const),
        slots: fc.array(fc.nat(0xffff), { maxLength: 40 }),
        base: fc.nat(1 << 20),
      }),
    );
    fc.assert(
      fc.property(fc.nat(40), fc.array(step, { maxLength: 60 }), (capacity, steps) => {
        const buffer = new RowBuffer(capacity);
        const expected: number[] = [];
        for (const s of steps) {
          if (s.kind === 'push') {
            buffer.push(s.row);
            expected.push(s.row);
          } else {
            // Slots past `count` are left out.
            buffer.append(Uint16Array.from([...s.slots, 7, 7]), s.slots.length, s.base);
            expected.push(...s.slots.map((slot) => s.base + slot));
          }
        }
        expect(buffer.length).toBe(expected.length);
        expect([...buffer.result()]).toEqual(expected);
      }),
    );
  });

  it('result() is a view of the rows held, copied only when the array grows', () => {
    const buffer = new RowBuffer(16);
    for (let row = 0; row < 15; row++) buffer.push(row * 3);
    const view = buffer.result();
    expect(view.length).toBe(15);
    buffer.push(45);
    // Room was left: the same array, so no copy.
    expect(buffer.result().buffer).toBe(view.buffer);
    buffer.push(99);
    // Full: grown into a new array; the old view still reads the rows it had.
    expect(buffer.result().buffer).not.toBe(view.buffer);
    expect(view[14]).toBe(42);
    expect([...buffer.result().subarray(14)]).toEqual([42, 45, 99]);
  });
});
