import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { agg } from '../../../src/analytics/aggregates.js';
import { fillBuckets } from '../../../src/analytics/stages/fill-buckets.js';
import { applyRunning } from '../../../src/analytics/stages/running-aggregates.js';
import { bucketGrid, MAX_RANGE_BUCKETS } from '../../../src/analytics/time-bucket.js';
import { ValidationError } from '../../../src/errors.js';

/** Grouped rows as groupRows gives them: a series key `g`, a bucket, a count `n` (sometimes missing). */
const groupedRows = fc
  .uniqueArray(
    fc.record({
      g: fc.constantFrom('x', 'y', null),
      b: fc.integer({ min: 0, max: 20 }),
      n: fc.option(fc.integer({ min: 0, max: 100 }), { nil: null }),
    }),
    { selector: (r) => `${r.g}/${r.b}`, maxLength: 30 },
  )
  .map((rs) => rs.map((r) => ({ bucket: r.b * 10, g: r.g, n: r.n })));

const running = {
  ma: agg.moving({ kind: 'avg', field: 'n' }, { buckets: 3 }),
  total: agg.cumulative({ kind: 'sum', field: 'n' }),
  d: agg.delta('n'),
  dd: agg.delta('d'),
};

describe('applyRunning', () => {
  it('matches a plain loop per series in bucket order, whatever the input order', () => {
    fc.assert(
      fc.property(groupedRows, (rows) => {
        const out = applyRunning(rows, running, { order: 'bucket', partitionBy: ['g'] });
        expect(out.map((r) => ({ bucket: r.bucket, g: r.g, n: r.n }))).toEqual(rows);
        for (const row of out) {
          const series = rows
            .filter((r) => r.g === row.g && r.bucket <= (row.bucket as number))
            .sort((a, b) => a.bucket - b.bucket);
          const nums = (rs: typeof series) => rs.map((r) => r.n).filter((n): n is number => n !== null);
          const last3 = nums(series.slice(-3));
          expect(row.ma).toBe(last3.length ? last3.reduce((a, b) => a + b, 0) / last3.length : null);
          const all = nums(series);
          expect(row.total).toBe(all.length ? all.reduce((a, b) => a + b, 0) : null);
          const [prev, cur] = [series.at(-2)?.n, series.at(-1)?.n];
          expect(row.d).toBe(series.length > 1 && prev != null && cur != null ? cur - prev : null);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('runs over the input order without an order column, one series without partitionBy', () => {
    const out = applyRunning([{ n: 1 }, { n: 5 }, { n: 2 }], {
      c: agg.cumulative({ kind: 'max', field: 'n' }),
    });
    expect(out.map((r) => r.c)).toEqual([1, 5, 5]);
    expect(applyRunning([], running)).toEqual([]);
  });

  it('refuses a bad buckets count and an empty column', () => {
    expect(() => agg.moving({ kind: 'avg', field: 'n' }, { buckets: 0 })).toThrow(ValidationError);
    expect(() => agg.delta('')).toThrow(/agg\.delta\(field\)/);
    expect(() => agg.moving({ kind: 'moving' } as never, { buckets: 2 })).toThrow(ValidationError);
  });
});

describe('fillBuckets', () => {
  const grid = bucketGrid('10ms');
  const aggregates = { n: agg.count(), v: agg.first('payload.v') };

  it('emits every missing bucket of [from, to) per series, filled with 0, null or the previous values', () => {
    fc.assert(
      fc.property(
        groupedRows,
        fc.constantFrom(0 as const, null, 'previous' as const),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 250 }),
        (rows, fill, from, span) => {
          const withV = rows.map((r) => ({ ...r, v: `v${r.bucket}` }));
          const out = fillBuckets(withV, { grid, from, to: from + span, fill, by: ['g'], aggregates });
          const series = [...new Set(rows.map((r) => r.g))];
          const starts: number[] = [];
          if (span > 0) for (let s = Math.floor(from / 10) * 10; s < from + span; s += 10) starts.push(s);
          const expected = series.flatMap((g) => {
            const own = withV.filter((r) => r.g === g);
            const buckets = [...new Set([...own.map((r) => r.bucket), ...starts])].sort((a, b) => a - b);
            let previous: Record<string, unknown> | undefined;
            return buckets.map((bucket) => {
              const row: Record<string, unknown> =
                own.find((r) => r.bucket === bucket) ??
                (fill === 'previous'
                  ? { bucket, g, n: previous?.n ?? null, v: previous?.v ?? null }
                  : { bucket, g, n: fill, v: null });
              previous = row;
              return row;
            });
          });
          expect(out).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('fills the whole range for empty input without keys, nothing with keys', () => {
    expect(fillBuckets([], { grid, from: 0, to: 30, fill: 0, aggregates })).toEqual([
      { bucket: 0, n: 0, v: null },
      { bucket: 10, n: 0, v: null },
      { bucket: 20, n: 0, v: null },
    ]);
    expect(fillBuckets([], { grid, from: 0, to: 30, fill: 0, by: ['g'], aggregates })).toEqual([]);
  });

  it(`refuses more than ${MAX_RANGE_BUCKETS} buckets`, () => {
    expect(() =>
      fillBuckets([], { grid: bucketGrid('1ms'), from: 0, to: MAX_RANGE_BUCKETS + 1, fill: 0, aggregates }),
    ).toThrow(/more than 1000000 buckets/);
  });
});
