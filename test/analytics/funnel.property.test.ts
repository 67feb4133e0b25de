import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { funnel, type FunnelExclusion, type FunnelMode } from '../../src/analytics/funnel.js';
import { ValidationError } from '../../src/errors.js';
import { sequencedEvents, type Ev } from '../support/analytics-events.js';

// funnel against an exhaustive oracle: every chain of every small partition is enumerated and the
// definitions of docs/analytics.md ("Funnels") are applied to them directly.

type Test = (e: Ev) => boolean;

const TYPES = ['A', 'B', 'C', 'D'];
const RUNS = { numRuns: 300 };

const eventsArb = sequencedEvents({
  maxTime: 20,
  partitions: ['x', 'y', 'z'],
  types: TYPES,
  maxLength: 12,
  stride: 2,
});

/** Steps match sets of types, so one event may fit several steps (which 'any' must share out). */
const typeSet = fc.subarray(TYPES, { minLength: 1, maxLength: 2 });
const specArb = fc
  .record({
    steps: fc.array(typeSet, { minLength: 1, maxLength: 4 }),
    within: fc.integer({ min: 0, max: 15 }),
    mode: fc.constantFrom<FunnelMode>('sequential', 'strict', 'any'),
    exclusions: fc.array(fc.record({ types: typeSet, a: fc.nat(3), b: fc.nat(3) }), { maxLength: 2 }),
  })
  .map(({ steps, within, mode, exclusions }) => ({
    steps: steps.map(
      (types): Test =>
        (e) =>
          types.includes(e.type),
    ),
    within,
    mode,
    exclusions:
      mode === 'any'
        ? []
        : exclusions
            .map(({ types, a, b }) => ({
              test: (e: Ev) => types.includes(e.type),
              i: a % steps.length,
              j: b % steps.length,
            }))
            .filter(({ i, j }) => i < j)
            .map(({ test, i, j }): FunnelExclusion<Ev> => ({ test, between: [i, j] })),
  }));

const ms = (e: Ev) => (e.timestamp instanceof Date ? e.timestamp.getTime() : e.timestamp);

/** Every chain (positions) of the list, by the definitions of 'sequential' and 'strict'. */
function allChains(list: Ev[], steps: Test[], within: number, strict: boolean): number[][] {
  const chains: number[][] = [];
  const extend = (chain: number[]) => {
    chains.push(chain);
    if (chain.length === steps.length) return;
    const last = chain[chain.length - 1]!;
    for (let p = last + 1; p < list.length; p++) {
      if (strict && p !== last + 1) break;
      if (steps[chain.length]!(list[p]!) && ms(list[p]!) - ms(list[chain[0]!]!) <= within)
        extend([...chain, p]);
    }
  };
  list.forEach((e, p) => steps[0]!(e) && extend([p]));
  return chains;
}

const lexLess = (a: number[], b: number[]) => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
};

/** Whether steps 0..k−1 can go to distinct events among `pool`: plain backtracking. */
function assignable(pool: Ev[], steps: Test[], k: number, used = new Set<number>(), step = 0): boolean {
  if (step === k) return true;
  return pool.some(
    (e, i) => !used.has(i) && steps[step]!(e) && assignable(pool, steps, k, new Set([...used, i]), step + 1),
  );
}

/** Per partition: the times to each step reached by its best chain, or null when it is dropped. */
function progress(
  list: Ev[],
  steps: Test[],
  within: number,
  mode: FunnelMode,
  exclusions: FunnelExclusion<Ev>[],
) {
  if (mode === 'any') {
    let best: number[] = [];
    list.forEach((first, s) => {
      if (!steps.some((test) => test(first))) return;
      const times: number[] = [];
      for (let k = 1; k <= steps.length; k++) {
        for (let e = s; e < list.length && ms(list[e]!) - ms(first) <= within; e++) {
          if (assignable(list.slice(s, e + 1), steps, k)) {
            times.push(ms(list[e]!) - ms(first));
            break;
          }
        }
        if (times.length < k) break;
      }
      if (times.length > best.length) best = times;
    });
    return best;
  }
  const chains = allChains(list, steps, within, mode === 'strict');
  const depth = Math.max(0, ...chains.map((c) => c.length));
  const best = chains
    .filter((c) => c.length === depth)
    .reduce<number[] | null>((a, c) => (a && !lexLess(c, a) ? a : c), null);
  if (best === null) return [];
  for (const {
    test,
    between: [i, j],
  } of exclusions) {
    if (j < best.length && list.slice(best[i]! + 1, best[j]!).some(test)) return null;
  }
  return best.map((p) => ms(list[p]!) - ms(list[best[0]!]!));
}

function oracle(
  events: Ev[],
  spec: { steps: Test[]; within: number; mode: FunnelMode; exclusions: FunnelExclusion<Ev>[] },
) {
  const reached: number[][] = spec.steps.map(() => []);
  for (const p of new Set(events.map((e) => e.p))) {
    const list = events.filter((e) => e.p === p).sort((a, b) => ms(a) - ms(b) || a.sequence - b.sequence);
    const times = progress(list, spec.steps, spec.within, spec.mode, spec.exclusions);
    times?.forEach((t, k) => reached[k]!.push(t));
  }
  const median = (xs: number[]) => {
    if (xs.length === 0) return null;
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  return {
    steps: reached.map((r, k) => ({
      step: k,
      count: r.length,
      conversion: reached[0]!.length ? r.length / reached[0]!.length : null,
      fromPrevious: (k ? reached[k - 1]! : r).length ? r.length / (k ? reached[k - 1]! : r).length : null,
      medianTimeToConvertMs: median(r),
    })),
  };
}

const run = (
  events: Ev[],
  spec: { steps: Test[]; within: number; mode: FunnelMode; exclusions: FunnelExclusion<Ev>[] },
) =>
  funnel(events, {
    partitionBy: (e) => e.p,
    steps: spec.steps,
    withinMs: spec.within,
    mode: spec.mode,
    exclusions: spec.exclusions,
  });

describe('funnel', () => {
  it('matches the exhaustive chain oracle in every mode, with exclusions', () => {
    fc.assert(
      fc.property(eventsArb, specArb, (events, spec) => {
        expect(run(events, spec)).toEqual(oracle(events, spec));
      }),
      RUNS,
    );
  });

  it('matches the oracle on one partition', () => {
    fc.assert(
      fc.property(eventsArb, specArb, (events, spec) => {
        const one = events.map((e) => ({ ...e, p: 'x' }));
        expect(run(one, spec)).toEqual(oracle(one, spec));
      }),
      RUNS,
    );
  });

  it('does not depend on input order', () => {
    fc.assert(
      fc.property(eventsArb, specArb, (events, spec) => {
        expect(run([...events].reverse(), spec)).toEqual(run(events, spec));
      }),
      RUNS,
    );
  });

  const ev = (timestamp: number, sequence: number, p: string, type: string): Ev => ({
    timestamp,
    sequence,
    p,
    type,
  });
  const is = (type: string) => (e: Ev) => e.type === type;
  const counts = (events: Ev[], spec: Partial<Parameters<typeof funnel<Ev>>[1]>) =>
    funnel(events, {
      partitionBy: (e) => e.p,
      steps: [is('VIEW'), is('CART')],
      withinMs: 10,
      ...spec,
    }).steps.map((s) => s.count);

  it('distinguishes the modes and applies exclusions on concrete cases', () => {
    const between = [ev(0, 1, 'u', 'VIEW'), ev(1, 2, 'u', 'REFUND'), ev(2, 3, 'u', 'CART')];
    expect(counts(between, {})).toEqual([1, 1]);
    expect(counts(between, { mode: 'strict' })).toEqual([1, 0]);
    expect(counts(between, { exclusions: [{ test: is('REFUND'), between: [0, 1] }] })).toEqual([0, 0]);
    const reversed = [ev(0, 1, 'u', 'CART'), ev(3, 2, 'u', 'VIEW')];
    expect(counts(reversed, {})).toEqual([1, 0]);
    expect(counts(reversed, { mode: 'any' })).toEqual([1, 1]);
    expect(counts(reversed, { mode: 'any', withinMs: 2 })).toEqual([1, 0]);
    // Equal timestamps: sequence orders them, whatever order they are passed in.
    expect(counts([ev(5, 2, 'u', 'VIEW'), ev(5, 1, 'u', 'CART')], {})).toEqual([1, 0]);
  });

  it('gives zero counts and null ratios for no partitions', () => {
    const result = funnel([] as Ev[], {
      partitionBy: (e) => e.p,
      steps: [() => true, () => true],
      withinMs: 5,
    });
    expect(result.steps).toEqual([
      { step: 0, count: 0, conversion: null, fromPrevious: null, medianTimeToConvertMs: null },
      { step: 1, count: 0, conversion: null, fromPrevious: null, medianTimeToConvertMs: null },
    ]);
  });

  it('refuses bad specs with a code and the bad value', () => {
    const base = { partitionBy: (e: Ev) => e.p, steps: [() => true, () => true], withinMs: 5 };
    const bad: [object, string][] = [
      [{ ...base, withinMs: Infinity }, 'withinMs'],
      [{ ...base, mode: 'loose' }, 'mode'],
      [{ ...base, steps: [] }, 'steps'],
      [{ ...base, steps: [() => true, 'B'] }, 'steps[1]'],
      [{ ...base, exclusions: [{ test: () => true, between: [1, 0] }] }, 'exclusions[0].between'],
      [{ ...base, exclusions: [{ test: () => true, between: [0, 2] }] }, 'exclusions[0].between'],
      [{ ...base, exclusions: [{ between: [0, 1] }] }, 'exclusions[0].test'],
      [{ ...base, mode: 'any', exclusions: [{ test: () => true, between: [0, 1] }] }, 'exclusions'],
    ];
    for (const [spec, path] of bad) {
      let error: unknown;
      try {
        funnel([], spec as never);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).path).toBe(path);
      expect((error as ValidationError).code).toBe('INVALID_OPTION');
    }
  });
});
