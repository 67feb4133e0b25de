import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accumulatorFor, aggregateEvents, inputReader } from '../../src/analytics/accumulator-for.js';
import type { AggregateSpec, HistogramBucket } from '../../src/query/aggregate-spec.js';
import { agg } from '../../src/analytics/aggregates.js';
import { ValidationError } from '../../src/errors.js';
import type { StoredEvent } from '../../src/events/types.js';

// Every aggregate against a plain JavaScript oracle, and merge invariance: any split of the input,
// folded part by part and merged, gives the one-pass result. Tolerances (floating point only):
// sum and avg within 1e-12 of the sum of magnitudes (plain summation's bound is n·ε·Σ|x|);
// variance and stddev² within 1e-10 of the mean square (Welford vs the two-pass oracle); corr
// within 1e-9 (the variance bound has a 1e-300 floor for subnormal inputs). Exact aggregates (counts, min, max, percentiles, first, last, histogram, the sketch)
// must match exactly.

const RUNS = { numRuns: 200 };

/** A field value as events carry it: numbers of every size, duplicates, and things numeric aggregates skip. */
const fieldValue = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 2 },
  { arbitrary: fc.constant(null), weight: 1 },
  { arbitrary: fc.constantFrom(-3, 0, 1, 2, 2.5), weight: 3 },
  { arbitrary: fc.integer({ min: -1_000_000, max: 1_000_000 }), weight: 3 },
  { arbitrary: fc.double({ min: -1e12, max: 1e12, noNaN: true }), weight: 3 },
  { arbitrary: fc.constantFrom(Number.NaN, Infinity, -Infinity), weight: 1 },
  { arbitrary: fc.constantFrom('7', 'a', ''), weight: 1 },
  { arbitrary: fc.boolean(), weight: 1 },
);
const pairValue = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 1 },
  { arbitrary: fc.constant('x'), weight: 1 },
  { arbitrary: fc.integer({ min: -1000, max: 1000 }), weight: 6 },
);

interface Row {
  v: unknown;
  x: unknown;
  y: unknown;
  timestamp: number;
}

/** Events in random (not time) order, timestamps colliding often, sequences unique. */
const eventsArb = fc
  .array(
    fc.record({ v: fieldValue, x: pairValue, y: pairValue, timestamp: fc.integer({ min: 0, max: 20 }) }),
    { maxLength: 60 },
  )
  .chain((rows) =>
    fc.shuffledSubarray(rows.map(toEvent), { minLength: rows.length, maxLength: rows.length }),
  );

function toEvent(row: Row, index: number): StoredEvent {
  const payload: Record<string, unknown> = {};
  for (const key of ['v', 'x', 'y'] as const) if (row[key] !== undefined) payload[key] = row[key];
  return {
    sequence: index + 1,
    id: `e${index}`,
    aggregateId: 'a',
    version: index + 1,
    type: 'T',
    timestamp: new Date(row.timestamp),
    tags: {},
    payload,
    metadata: {},
  };
}

const valueOf = (event: StoredEvent) => (event.payload as Record<string, unknown>).v;
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
/** The finite numbers, −0 read as 0 as the aggregates read it. */
const numbers = (events: StoredEvent[]) =>
  events
    .map(valueOf)
    .filter(isNumber)
    .map((x) => x + 0);
const present = (events: StoredEvent[]) => events.map(valueOf).filter((v) => v !== undefined && v !== null);

/** Folds each part on its own, then merges the parts left to right. */
function splitAndMerge(spec: AggregateSpec, events: StoredEvent[], cuts: number[]): unknown {
  const accumulator = accumulatorFor(spec);
  const read = inputReader(spec);
  const bounds = [0, ...cuts.map((c) => Math.floor(c * events.length)).sort((a, b) => a - b), events.length];
  const states = bounds.slice(1).map((end, i) => {
    let state = accumulator.init();
    for (const event of events.slice(bounds[i], end)) state = accumulator.add(state, read(event), event);
    return state;
  });
  return accumulator.result(states.reduce((a, b) => accumulator.merge(a, b)));
}

const cutsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 5 });

function expectClose(actual: unknown, expected: number | null, tolerance: number): void {
  if (expected === null) return void expect(actual).toBeNull();
  expect(typeof actual).toBe('number');
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(tolerance);
}

/** One pass and every split agree with the oracle, within `tolerance(events)`. */
function checkNumeric(
  spec: AggregateSpec,
  oracle: (events: StoredEvent[]) => number | null,
  tolerance: (events: StoredEvent[]) => number = () => 0,
): void {
  fc.assert(
    fc.property(eventsArb, cutsArb, (events, cuts) => {
      const expected = oracle(events);
      expectClose(aggregateEvents(spec, events), expected, tolerance(events));
      expectClose(splitAndMerge(spec, events, cuts), expected, tolerance(events));
    }),
    RUNS,
  );
}

/** One pass and every split give exactly the oracle's value. */
function checkExact(spec: AggregateSpec, oracle: (events: StoredEvent[]) => unknown): void {
  fc.assert(
    fc.property(eventsArb, cutsArb, (events, cuts) => {
      const expected = oracle(events);
      expect(aggregateEvents(spec, events)).toEqual(expected);
      expect(splitAndMerge(spec, events, cuts)).toEqual(expected);
    }),
    RUNS,
  );
}

const magnitude = (events: StoredEvent[]) => numbers(events).reduce((s, x) => s + Math.abs(x), 0);
const meanSquare = (events: StoredEvent[]) => {
  const xs = numbers(events);
  // The floor keeps the bound from underflowing to 0 for values near the smallest doubles.
  return xs.reduce((s, x) => s + x * x, 0) / Math.max(1, xs.length) + 1e-290;
};
const sumOracle = (events: StoredEvent[]) => {
  const xs = numbers(events);
  return xs.length === 0 ? null : xs.reduce((a, b) => a + b);
};
const varianceOracle = (events: StoredEvent[]) => {
  const xs = numbers(events);
  if (xs.length < 2) return null;
  const mean = xs.reduce((a, b) => a + b) / xs.length;
  return xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1);
};
/** percentile_cont as PostgreSQL documents it: rank p·(n−1), interpolated between its neighbours. */
const percentileOracle = (p: number) => (events: StoredEvent[]) => {
  const xs = numbers(events).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const rank = p * (xs.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return low === high ? xs[low]! : xs[low]! + (rank - low) * (xs[high]! - xs[low]!);
};
const byTime = (a: StoredEvent, b: StoredEvent) =>
  a.timestamp.getTime() - b.timestamp.getTime() || a.sequence - b.sequence;
const positionalOracle = (pick: 'first' | 'last') => (events: StoredEvent[]) => {
  const withValue = events.filter((e) => valueOf(e) !== undefined && valueOf(e) !== null).sort(byTime);
  if (withValue.length === 0) return null;
  return valueOf(pick === 'first' ? withValue[0]! : withValue[withValue.length - 1]!);
};

describe('aggregates against a plain JavaScript oracle, one pass and split-and-merged', () => {
  it('count() counts every event, 0 for none', () => checkExact(agg.count(), (events) => events.length));

  it('count(field) counts present, non-null values; null for none', () =>
    checkExact(agg.count('payload.v'), (events) => present(events).length || null));

  it('countDistinct counts distinct present values exactly, 1 and "1" apart', () =>
    checkExact(agg.countDistinct('payload.v'), (events) => {
      const keys = new Set(present(events).map((v) => `${typeof v}:${String(v)}`));
      return keys.size || null;
    }));

  it('sum skips missing and non-finite values', () =>
    checkNumeric(agg.sum('payload.v'), sumOracle, (events) => 1e-12 * magnitude(events)));

  it('avg is the sum over the finite values', () =>
    checkNumeric(
      agg.avg('payload.v'),
      (events) => {
        const sum = sumOracle(events);
        return sum === null ? null : sum / numbers(events).length;
      },
      (events) => (1e-12 * magnitude(events)) / Math.max(1, numbers(events).length),
    ));

  it('min and max take numbers only', () => {
    checkExact(agg.min('payload.v'), (events) =>
      numbers(events).length ? Math.min(...numbers(events)) : null,
    );
    checkExact(agg.max('payload.v'), (events) =>
      numbers(events).length ? Math.max(...numbers(events)) : null,
    );
  });

  it('variance is the sample variance (var_samp), null under 2 values', () =>
    checkNumeric(agg.variance('payload.v'), varianceOracle, (events) => 1e-10 * meanSquare(events)));

  it('stddev is the square root of the sample variance (stddev_samp)', () =>
    fc.assert(
      fc.property(eventsArb, cutsArb, (events, cuts) => {
        const expected = varianceOracle(events);
        const spec = agg.stddev('payload.v');
        for (const actual of [aggregateEvents(spec, events), splitAndMerge(spec, events, cuts)]) {
          if (expected === null) expect(actual).toBeNull();
          else expectClose((actual as number) ** 2, expected, 1e-10 * meanSquare(events));
        }
      }),
      RUNS,
    ));

  it('median and percentile interpolate like percentile_cont', () => {
    checkExact(agg.median('payload.v'), percentileOracle(0.5));
    for (const p of [0, 0.01, 0.25, 0.95, 1]) checkExact(agg.percentile('payload.v', p), percentileOracle(p));
    fc.assert(
      fc.property(eventsArb, fc.double({ min: 0, max: 1, noNaN: true }), cutsArb, (events, p, cuts) => {
        const spec = agg.percentile('payload.v', p);
        expect(aggregateEvents(spec, events)).toEqual(percentileOracle(p)(events));
        expect(splitAndMerge(spec, events, cuts)).toEqual(percentileOracle(p)(events));
      }),
      RUNS,
    );
  });

  it('first and last take the present value at the earliest and latest (timestamp, sequence)', () => {
    checkExact(agg.first('payload.v'), positionalOracle('first'));
    checkExact(agg.last('payload.v'), positionalOracle('last'));
  });

  it('corr is Pearson over events where both sides are numbers; null under 2 pairs or a constant side', () =>
    checkNumeric(
      agg.corr('payload.x', 'payload.y'),
      (events) => {
        const pairs = events
          .map((e) => e.payload as Record<string, unknown>)
          .filter((p) => isNumber(p.x) && isNumber(p.y))
          .map((p) => [p.x as number, p.y as number] as const);
        if (pairs.length < 2) return null;
        const mx = pairs.reduce((s, [x]) => s + x, 0) / pairs.length;
        const my = pairs.reduce((s, [, y]) => s + y, 0) / pairs.length;
        const sxx = pairs.reduce((s, [x]) => s + (x - mx) ** 2, 0);
        const syy = pairs.reduce((s, [, y]) => s + (y - my) ** 2, 0);
        const sxy = pairs.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
        return sxx === 0 || syy === 0 ? null : sxy / Math.sqrt(sxx * syy);
      },
      () => 1e-9,
    ));

  it('histogram splits [min, max] into equal-width buckets holding every value once', () =>
    fc.assert(
      fc.property(eventsArb, fc.integer({ min: 1, max: 8 }), cutsArb, (events, buckets, cuts) => {
        const spec = agg.histogram('payload.v', { buckets });
        const result = aggregateEvents(spec, events) as HistogramBucket[] | null;
        expect(splitAndMerge(spec, events, cuts)).toEqual(result);
        const xs = numbers(events);
        if (xs.length === 0) return void expect(result).toBeNull();
        const [low, high] = [Math.min(...xs), Math.max(...xs)];
        expect(result!.length).toBe(low === high ? 1 : buckets);
        expect(result![0]!.low).toBe(low);
        expect(result![result!.length - 1]!.high).toBe(high);
        expect(result!.reduce((s, b) => s + b.count, 0)).toBe(xs.length);
        result!.forEach((bucket, i) => {
          const last = i === result!.length - 1;
          const inside = xs.filter((x) => x >= bucket.low && (x < bucket.high || (last && x === high)));
          expect(bucket.count).toBe(inside.length);
        });
      }),
      RUNS,
    ));

  it('custom aggregates fold and merge with the functions they are given', () =>
    checkExact(
      agg.custom({
        field: 'payload.v',
        init: () => 0,
        add: (n: number, value) => (typeof value === 'string' ? n + 1 : n),
        merge: (a, b) => a + b,
        result: (n) => n,
      }),
      (events) => events.filter((e) => typeof valueOf(e) === 'string').length,
    ));
});

describe('approxPercentile', () => {
  const positive = fc.array(fc.double({ min: 1e-9, max: 1e12, noNaN: true }), {
    minLength: 1,
    maxLength: 300,
  });

  it('stays within 1% of the exact percentile over positive values, and merges exactly', () =>
    fc.assert(
      fc.property(positive, fc.double({ min: 0, max: 1, noNaN: true }), cutsArb, (values, p, cuts) => {
        const events = values.map((v, i) => toEvent({ v, x: undefined, y: undefined, timestamp: i }, i));
        const exact = percentileOracle(p)(events)!;
        const spec = agg.approxPercentile('payload.v', p);
        const approx = aggregateEvents(spec, events) as number;
        expect(Math.abs(approx - exact)).toBeLessThanOrEqual(0.01 * exact);
        expect(splitAndMerge(spec, events, cuts)).toBe(approx);
      }),
      RUNS,
    ));

  // Magnitudes from 1e-300 to 1e300 in one sketch (the library's own bin store overflowed the stack
  // on such a span), of one sign: within 1% of the exact percentile, and merged exactly.
  const oneSign = fc
    .tuple(
      fc.boolean(),
      fc.array(fc.tuple(fc.double({ min: 1, max: 10, noNaN: true }), fc.integer({ min: -300, max: 300 })), {
        minLength: 1,
        maxLength: 100,
      }),
    )
    .map(([negative, parts]) => parts.map(([m, e]) => (negative ? -1 : 1) * m * 10 ** e));

  // At a rank that is a value (p = k / (n − 1)): between two values, interpolating numbers 1e75
  // apart cancels digits in the exact answer as much as in the sketch's.
  it('stays within 1% over values of one sign spanning 600 orders of magnitude', () =>
    fc.assert(
      fc.property(oneSign, fc.nat(), cutsArb, (values, k, cuts) => {
        const p = values.length === 1 ? 0.5 : (k % values.length) / (values.length - 1);
        const events = values.map((v, i) => toEvent({ v, x: undefined, y: undefined, timestamp: i }, i));
        const exact = percentileOracle(p)(events)!;
        const spec = agg.approxPercentile('payload.v', p);
        const approx = aggregateEvents(spec, events) as number;
        expect(Math.abs(approx - exact)).toBeLessThanOrEqual(0.01 * Math.abs(exact));
        expect(splitAndMerge(spec, events, cuts)).toBe(approx);
      }),
      RUNS,
    ));

  it('merges exactly whatever the values: negatives, zeros and positives in every part', () =>
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 200 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        cutsArb,
        (values, p, cuts) => {
          const events = values.map((v, i) => toEvent({ v, x: undefined, y: undefined, timestamp: i }, i));
          const spec = agg.approxPercentile('payload.v', p);
          expect(splitAndMerge(spec, events, cuts)).toBe(aggregateEvents(spec, events));
        },
      ),
      RUNS,
    ));

  it('skips what is not a finite number, reads zero and negatives, and is null when empty', () => {
    const events = [undefined, 'x', 0, -100, Infinity].map((v, i) =>
      toEvent({ v, x: undefined, y: undefined, timestamp: i }, i),
    );
    expect(aggregateEvents(agg.approxPercentile('payload.v', 1), events)).toBe(0);
    expect(
      Math.abs((aggregateEvents(agg.approxPercentile('payload.v', 0), events) as number) + 100),
    ).toBeLessThan(1);
    expect(aggregateEvents(agg.approxPercentile('payload.v', 0.5), [])).toBeNull();
  });
});

describe('aggregate edge cases', () => {
  const event = (v: unknown, timestamp = 0, i = 0) =>
    toEvent({ v, x: undefined, y: undefined, timestamp }, i);

  it('an empty group: count() is 0, every other aggregate null', () => {
    const specs: AggregateSpec[] = [
      agg.count('payload.v'),
      agg.countDistinct('payload.v'),
      ...(['sum', 'avg', 'min', 'max', 'stddev', 'variance', 'median', 'first', 'last'] as const).map((k) =>
        agg[k]('payload.v'),
      ),
      agg.percentile('payload.v', 0.9),
      agg.corr('payload.x', 'payload.y'),
      agg.histogram('payload.v', { buckets: 3 }),
    ];
    expect(aggregateEvents(agg.count(), [])).toBe(0);
    for (const spec of specs) expect(aggregateEvents(spec, []), spec.kind).toBeNull();
  });

  it('one value: variance, stddev and corr are null, the rest that value', () => {
    const one = [toEvent({ v: 4, x: 1, y: 2, timestamp: 0 }, 0)];
    expect(aggregateEvents(agg.variance('payload.v'), one)).toBeNull();
    expect(aggregateEvents(agg.stddev('payload.v'), one)).toBeNull();
    expect(aggregateEvents(agg.corr('payload.x', 'payload.y'), one)).toBeNull();
    expect(aggregateEvents(agg.median('payload.v'), one)).toBe(4);
    expect(aggregateEvents(agg.histogram('payload.v', { buckets: 4 }), one)).toEqual([
      { low: 4, high: 4, count: 1 },
    ]);
  });

  it('histogram buckets by a worked example: [low, high), the last one closed', () => {
    const events = [0, 1, 2.5, 5, 7.5, 10].map((v, i) => event(v, 0, i));
    expect(aggregateEvents(agg.histogram('payload.v', { buckets: 4 }), events)).toEqual([
      { low: 0, high: 2.5, count: 2 },
      { low: 2.5, high: 5, count: 1 },
      { low: 5, high: 7.5, count: 1 },
      { low: 7.5, high: 10, count: 2 },
    ]);
  });

  it('histogram bounds stay finite when max − min overflows', () => {
    const events = [-1e308, 0, 1e308].map((v, i) => event(v, 0, i));
    expect(aggregateEvents(agg.histogram('payload.v', { buckets: 2 }), events)).toEqual([
      { low: -1e308, high: 0, count: 1 },
      { low: 0, high: 1e308, count: 2 },
    ]);
  });

  it('countDistinct compares objects by content, whatever their key order', () => {
    const events = [{ a: 1, b: 2 }, { b: 2, a: 1 }, [1, 2], 'x'].map((v, i) => event(v, 0, i));
    expect(aggregateEvents(agg.countDistinct('payload.v'), events)).toBe(3);
  });

  it('min and max skip strings; first and last keep them', () => {
    const events = [event('z', 1, 0), event(3, 2, 1), event('a', 3, 2)];
    expect(aggregateEvents(agg.min('payload.v'), events)).toBe(3);
    expect(aggregateEvents(agg.max('payload.v'), events)).toBe(3);
    expect(aggregateEvents(agg.first('payload.v'), events)).toBe('z');
    expect(aggregateEvents(agg.last('payload.v'), events)).toBe('a');
  });

  it('timestamp aggregates as epoch ms; tags are read as fields', () => {
    const events = [event(1, 1000, 0), event(2, 3000, 1)].map((e, i) => ({
      ...e,
      tags: { region: `r${i}` },
    }));
    expect(aggregateEvents(agg.max('timestamp'), events)).toBe(3000);
    expect(aggregateEvents(agg.countDistinct('tags.region'), events)).toBe(2);
  });

  it('specs are frozen plain JSON: a parsed copy computes the same', () => {
    const spec = agg.percentile('payload.v', 0.9);
    expect(Object.isFrozen(spec)).toBe(true);
    const copy = JSON.parse(JSON.stringify(spec)) as AggregateSpec;
    expect(copy).toEqual({ kind: 'percentile', field: 'payload.v', p: 0.9 });
    const events = [1, 2, 3, 4].map((v, i) => event(v, 0, i));
    expect(aggregateEvents(copy, events)).toBe(aggregateEvents(spec, events));
  });

  it('first and last without the event to order by throw', () => {
    const accumulator = accumulatorFor(agg.first('payload.v'));
    expect(() => accumulator.add(accumulator.init(), 1)).toThrow(ValidationError);
  });
});

describe('bad arguments throw ValidationError naming the value', () => {
  const cases: Array<[string, () => unknown, string, string]> = [
    ['p above 1', () => agg.percentile('payload.v', 1.5), 'INVALID_OPERAND', '1.5'],
    ['p below 0', () => agg.approxPercentile('payload.v', -0.1), 'INVALID_OPERAND', '-0.1'],
    ['p NaN', () => agg.percentile('payload.v', Number.NaN), 'INVALID_OPERAND', 'NaN'],
    ['p a string', () => agg.percentile('payload.v', '0.5' as unknown as number), 'INVALID_OPERAND', '"0.5"'],
    ['buckets 0', () => agg.histogram('payload.v', { buckets: 0 }), 'INVALID_OPTION', '0'],
    ['buckets 2.5', () => agg.histogram('payload.v', { buckets: 2.5 }), 'INVALID_OPTION', '2.5'],
    ['empty field', () => agg.sum(''), 'UNKNOWN_FIELD', '""'],
    ['field of count', () => agg.count('payload.'), 'UNKNOWN_FIELD', '"payload."'],
    ['corr y', () => agg.corr('payload.x', 'tags.'), 'UNKNOWN_FIELD', '"tags."'],
    [
      'custom without merge',
      () => agg.custom({ init: () => 0, add: (s: number) => s, result: (s: number) => s } as never),
      'INVALID_OPTION',
      'undefined',
    ],
  ];
  it.each(cases)('%s', (_name, call, code, shown) => {
    try {
      call();
      expect.unreachable('no error thrown');
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).code).toBe(code);
      expect((error as ValidationError).message).toContain(shown);
    }
  });
});
