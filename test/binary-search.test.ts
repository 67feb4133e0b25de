import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { indexByBase } from '../src/storage/embedded/log/by-base.js';
import { partitionPoint } from '../src/support/binary-search.js';

const sorted = fc
  .array(fc.integer({ min: -50, max: 50 }), { maxLength: 60 })
  .map((list) => list.sort((a, b) => a - b));

describe('partitionPoint', () => {
  test('is the first position at or after `from` whose value is not below the one sought (a linear scan agrees)', () => {
    fc.assert(
      fc.property(sorted, fc.integer({ min: -60, max: 60 }), fc.nat(70), (list, value, start) => {
        const from = Math.min(start, list.length);
        const linear = list.findIndex((item, i) => i >= from && item >= value);
        expect(partitionPoint(list.length, (i) => (list[i] as number) < value, from)).toBe(
          linear === -1 ? list.length : linear,
        );
      }),
    );
  });

  test('with `<=` it is the first position above the value', () => {
    fc.assert(
      fc.property(sorted, fc.integer({ min: -60, max: 60 }), (list, value) => {
        const linear = list.findIndex((item) => item > value);
        expect(partitionPoint(list.length, (i) => (list[i] as number) <= value)).toBe(
          linear === -1 ? list.length : linear,
        );
      }),
    );
  });

  test('indexByBase finds the last item starting at or before the offset, else the first', () => {
    fc.assert(
      fc.property(
        sorted.filter((list) => list.length > 0),
        fc.integer({ min: -60, max: 60 }),
        (bases, offset) => {
          const items = bases.map((base) => ({ base }));
          let last = 0;
          bases.forEach((base, i) => {
            if (base <= offset) last = i;
          });
          expect(indexByBase(items, offset)).toBe(last);
        },
      ),
    );
  });
});
