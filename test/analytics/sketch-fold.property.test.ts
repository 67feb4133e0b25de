/**
 * The dense group-by's approxPercentile (sketch-fold.ts) against the general path's sketch (approx-percentile.ts), one
 * per group (the general path's accumulator): for any values (negatives, zeros, subnormal-small and
 * huge magnitudes, non-finite ones it must skip), any groups and any p, the same answer exactly, with
 * the bins held densely and sparsely, and with several percentiles reading one fold's bins.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { approxPercentile, sketchMapping } from '../../src/analytics/approx-percentile.js';
import { SketchFold } from '../../src/storage/embedded/exec/analytics/sketch-fold.js';

const value = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.double({ min: -1000, max: 1000, noNaN: true }),
  fc.constantFrom(0, -0, 1e-310, -1e-310, 5e-324, Number.MAX_VALUE, -Number.MAX_VALUE),
  fc.constantFrom(Number.NaN, Infinity, -Infinity),
);

const input = fc.record({
  groups: fc.integer({ min: 1, max: 6 }),
  rows: fc.array(fc.tuple(fc.nat(), value), { maxLength: 200 }),
  ps: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 3 }),
  dense: fc.boolean(),
});

describe('SketchFold', () => {
  it('answers as the general path’s sketch of each group does', () => {
    fc.assert(
      fc.property(input, ({ groups, rows, ps, dense }) => {
        const groupOf = Int32Array.from(rows, ([g]) => g % groups);
        const values = Float64Array.from(rows, ([, v]) => v);
        const mapping = sketchMapping();
        const cells = dense ? undefined : 0; // 0: every group's bins in a sparse map
        const folds: SketchFold[] = [];
        for (const p of ps) folds.push(new SketchFold(groups, p, mapping, folds[0], cells));
        for (const fold of folds) fold.add(groupOf, values, rows.length);
        const owner = folds[0] as SketchFold;
        owner.allocate();
        owner.place(groupOf, values, rows.length);
        ps.forEach((p, k) => {
          const accumulator = approxPercentile(p);
          for (let g = 0; g < groups; g++) {
            let state = accumulator.init();
            rows.forEach(([group, v]) => {
              if (group % groups === g) state = accumulator.add(state, v);
            });
            expect((folds[k] as SketchFold).result(g)).toBe(accumulator.result(state));
          }
        });
      }),
      { numRuns: 300 },
    );
  });

  it('merges shares folded apart (as the workers fold them) into the one-fold answer', () => {
    fc.assert(
      fc.property(input, fc.nat(), fc.boolean(), ({ groups, rows, ps, dense }, cut, mergedDense) => {
        const mapping = sketchMapping();
        const cells = dense ? undefined : 0;
        // Shares kept densely or in maps, merged into dense cells or maps: every pairing.
        const mergedCells = mergedDense ? undefined : 0;
        const fold = (part: typeof rows): SketchFold[] => {
          const groupOf = Int32Array.from(part, ([g]) => g % groups);
          const values = Float64Array.from(part, ([, v]) => v);
          const folds: SketchFold[] = [];
          for (const p of ps) folds.push(new SketchFold(groups, p, mapping, folds[0], cells));
          for (const f of folds) f.add(groupOf, values, part.length);
          (folds[0] as SketchFold).allocate();
          (folds[0] as SketchFold).place(groupOf, values, part.length);
          return folds;
        };
        const at = rows.length === 0 ? 0 : cut % (rows.length + 1);
        const shares = [rows.slice(0, at), rows.slice(at)].map((part) => (fold(part)[0] as SketchFold).state);
        const merged: SketchFold[] = [];
        for (const p of ps) merged.push(new SketchFold(groups, p, mapping, merged[0], mergedCells));
        (merged[0] as SketchFold).mergeShares(shares);
        const whole = fold(rows);
        for (let k = 0; k < ps.length; k++)
          for (let g = 0; g < groups; g++)
            expect((merged[k] as SketchFold).result(g)).toBe((whole[k] as SketchFold).result(g));
      }),
      { numRuns: 300 },
    );
  });
});
