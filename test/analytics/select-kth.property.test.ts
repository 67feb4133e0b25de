/**
 * selectKth (exact percentiles per group, funnel medians) against a sort: for random values with
 * many ties, the k-th smallest is the sorted array's k-th, everything before it is no larger and
 * everything after it no smaller, and minFrom past k gives the (k + 1)-th.
 */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { minFrom, selectKth } from '../../src/analytics/select-kth.js';

test('selectKth equals the sorted array at k, and partitions around it', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double({ noNaN: true })), {
        minLength: 1,
        maxLength: 300,
      }),
      fc.nat(),
      (values, pick) => {
        const k = pick % values.length;
        const sorted = Float64Array.from(values).sort();
        const work = Float64Array.from(values);
        const kth = selectKth(work, k);
        // -0 and 0 are the same number here (a sort orders them, a selection need not).
        expect(kth + 0).toBe((sorted[k] as number) + 0);
        for (let i = 0; i < k; i++) expect(work[i]).toBeLessThanOrEqual(kth);
        for (let i = k + 1; i < work.length; i++) expect(work[i]).toBeGreaterThanOrEqual(kth);
        if (k + 1 < work.length) expect(minFrom(work, k + 1) + 0).toBe((sorted[k + 1] as number) + 0);
        expect(Array.from(work.sort(), (v) => v + 0)).toEqual(Array.from(sorted, (v) => v + 0));
      },
    ),
    { numRuns: 500 },
  );
});
