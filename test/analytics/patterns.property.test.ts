import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchPattern, type PatternStep } from '../../src/analytics/pattern-match.js';
import { ValidationError } from '../../src/errors.js';
import { sequencedEvents, type Ev } from '../support/analytics-events.js';

// matchPattern against a literal simulation of issue 16's text: linear scans, no binary search.

const TYPES = ['A', 'B', 'C'];
const RUNS = { numRuns: 300 };

/** Small partitions, few types, timestamps colliding often (sequence breaks ties), some as Dates. */
const eventsArb = sequencedEvents({
  maxTime: 30,
  partitions: ['x', 'y'],
  types: TYPES,
  maxLength: 14,
  stride: 3,
});

const stepsArb = fc
  .record({
    types: fc.array(fc.constantFrom(...TYPES), { minLength: 1, maxLength: 3 }),
    absent: fc.boolean(),
  })
  .map(({ types, absent }) =>
    types.map((type, i): PatternStep<Ev> => ({
      name: `s${i}`,
      test: (e) => e.type === type,
      ...(absent && i > 0 && i === types.length - 1 ? { absent: true as const } : {}),
    })),
  );

const ms = (e: Ev) => (e.timestamp instanceof Date ? e.timestamp.getTime() : e.timestamp);

/** The text, step by step. */
function oracle(events: Ev[], steps: PatternStep<Ev>[], within: number, strict: boolean, now: number) {
  const rows: Record<string, unknown>[] = [];
  for (const p of [...new Set(events.map((e) => e.p))]) {
    const list = events.filter((e) => e.p === p).sort((a, b) => ms(a) - ms(b) || a.sequence - b.sequence);
    let i = 0;
    while (i < list.length) {
      // a match starts at the earliest unused event matching step 1
      let s = i;
      while (s < list.length && !steps[0]!.test(list[s]!)) s++;
      if (s === list.length) break;
      const start = ms(list[s]!);
      const found: (Ev | null)[] = [list[s]!];
      let last = s;
      let ok = true;
      for (let k = 1; k < steps.length && ok; k++) {
        const step = steps[k]!;
        if (step.absent) {
          // no matching event follows within `within` of the first step, and the window has closed
          let follows = false;
          for (let j = last + 1; j < list.length; j++) {
            if (ms(list[j]!) - start <= within && step.test(list[j]!)) follows = true;
          }
          ok = !follows && now > start + within;
          found.push(null);
          continue;
        }
        let hit = -1;
        for (let j = last + 1; j < list.length; j++) {
          if (strict && j !== last + 1) break;
          if (step.test(list[j]!) && ms(list[j]!) - start <= within) {
            hit = j;
            break;
          }
        }
        if (hit < 0) ok = false;
        else {
          found.push(list[hit]!);
          last = hit;
        }
      }
      if (ok) {
        const row: Record<string, unknown> = { partition: p };
        steps.forEach((step, k) => (row[step.name] = found[k]));
        Object.assign(row, { start, end: ms(list[last]!), durationMs: ms(list[last]!) - start });
        rows.push(row);
        i = last + 1;
      } else i = s + 1;
    }
  }
  const first = (row: Record<string, unknown>) => (row[steps[0]!.name] as Ev).sequence;
  return rows.sort((a, b) => (a.start as number) - (b.start as number) || first(a) - first(b));
}

const specArb = fc.record({
  steps: stepsArb,
  within: fc.integer({ min: 0, max: 20 }),
  strict: fc.boolean(),
  now: fc.integer({ min: 0, max: 60 }),
});

describe('matchPattern', () => {
  it('matches the literal simulation of the issue text', () => {
    fc.assert(
      fc.property(eventsArb, specArb, (events, { steps, within, strict, now }) => {
        const actual = matchPattern(events, {
          partitionBy: (e) => e.p,
          steps,
          withinMs: within,
          contiguity: strict ? 'strict' : 'relaxed',
          now,
        });
        expect(actual).toEqual(oracle(events, steps, within, strict, now));
      }),
      RUNS,
    );
  });

  it('does not depend on input order', () => {
    fc.assert(
      fc.property(eventsArb, specArb, fc.integer(), (events, { steps, within, strict, now }, seed) => {
        const run = (input: Ev[]) =>
          matchPattern(input, {
            partitionBy: (e) => e.p,
            steps,
            withinMs: within,
            contiguity: strict ? 'strict' : 'relaxed',
            now,
          });
        const shuffled = [...events].sort(
          (a, b) => ((a.sequence * 7919 + seed) % 13) - ((b.sequence * 7919 + seed) % 13),
        );
        expect(run(shuffled)).toEqual(run(events));
        expect(run([...events].reverse())).toEqual(run(events));
      }),
      RUNS,
    );
  });

  const A = (e: Ev) => e.type === 'A';
  const B = (e: Ev) => e.type === 'B';
  const ev = (timestamp: number, sequence: number, type: string, p = 'x'): Ev => ({
    timestamp,
    sequence,
    type,
    p,
  });

  it('finds A followed by B by timestamp, not append order, and resumes after the match', () => {
    const events = [ev(5, 1, 'B'), ev(0, 2, 'A'), ev(1, 3, 'A'), ev(7, 4, 'B')];
    const rows = matchPattern(events, {
      partitionBy: (e) => e.p,
      steps: [
        { name: 'a', test: A },
        { name: 'b', test: B },
      ],
      withinMs: 10,
    });
    // A@1 lies inside the first match, so the search resumes at B@7 and finds no second A.
    expect(rows).toEqual([{ partition: 'x', a: events[1], b: events[0], start: 0, end: 5, durationMs: 5 }]);
  });

  it('emits A-not-followed-by-B only once the window has closed', () => {
    const events = [ev(0, 1, 'A'), ev(50, 2, 'B')];
    const spec = (now: number) => ({
      partitionBy: (e: Ev) => e.p,
      steps: [
        { name: 'a', test: A },
        { name: 'noB', test: B, absent: true as const },
      ],
      withinMs: 10,
      now,
    });
    expect(matchPattern(events, spec(10))).toEqual([]);
    expect(matchPattern(events, spec(11))).toEqual([
      { partition: 'x', a: events[0], noB: null, start: 0, end: 0, durationMs: 0 },
    ]);
    expect(matchPattern([...events, ev(10, 3, 'B')], spec(100))).toEqual([]);
  });

  it('with strict contiguity needs the very next event, and a failed attempt resumes after its first event', () => {
    const events = [ev(0, 1, 'A'), ev(1, 2, 'C'), ev(2, 3, 'A'), ev(3, 4, 'B')];
    const steps = [
      { name: 'a', test: A },
      { name: 'b', test: B },
    ];
    const strict = matchPattern(events, {
      partitionBy: (e) => e.p,
      steps,
      withinMs: 10,
      contiguity: 'strict',
    });
    expect(strict.map((row) => [row.a, row.b])).toEqual([[events[2], events[3]]]);
    const relaxed = matchPattern(events, { partitionBy: (e) => e.p, steps, withinMs: 10 });
    expect(relaxed.map((row) => [row.a, row.b])).toEqual([[events[0], events[3]]]);
  });

  it('returns [] for empty input', () => {
    expect(matchPattern([], { partitionBy: () => 1, steps: [{ name: 'a', test: A }], withinMs: 1 })).toEqual(
      [],
    );
  });

  it('refuses bad specs with a code and the bad value', () => {
    const base = { partitionBy: (e: Ev) => e.p, steps: [{ name: 'a', test: A }], withinMs: 1 };
    const bad: [object, string][] = [
      [{ ...base, withinMs: -1 }, 'withinMs'],
      [{ ...base, contiguity: 'loose' }, 'contiguity'],
      [{ ...base, steps: [] }, 'steps'],
      [{ ...base, steps: [{ name: 'a', test: A, absent: true }] }, 'steps[0].absent'],
      [
        {
          ...base,
          steps: [
            { name: 'a', test: A, absent: true },
            { name: 'b', test: B },
          ],
        },
        'steps[0].absent',
      ],
      [
        {
          ...base,
          steps: [
            { name: 'a', test: A },
            { name: 'a', test: B },
          ],
        },
        'steps[1].name',
      ],
      [{ ...base, steps: [{ name: 'start', test: A }] }, 'steps[0].name'],
      [{ ...base, steps: [{ name: 'a', test: 'A' }] }, 'steps[0].test'],
    ];
    for (const [spec, path] of bad) {
      let error: unknown;
      try {
        matchPattern([], spec as never);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).path).toBe(path);
      expect((error as ValidationError).code).toBe('INVALID_OPTION');
    }
    expect(() => matchPattern([{ timestamp: NaN, sequence: 1 }], base as never)).toThrow(
      'events[0].timestamp',
    );
  });
});
