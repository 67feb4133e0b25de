import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { joinRows } from '../../../src/analytics/stages/join-rows.js';
import { projectRows, validateExpression } from '../../../src/analytics/stages/project-rows.js';
import { compareValues, limitRows, sortRows } from '../../../src/analytics/stages/sort-rows.js';
import { ValidationError } from '../../../src/errors.js';
import { storedEvents } from './rows.js';

describe('joinRows', () => {
  it('matches a nested loop: pairs in left order then right (timestamp, sequence) order, null keys never match', () => {
    fc.assert(
      fc.property(
        storedEvents({ maxLength: 15, maxTime: 100 }),
        storedEvents({ maxLength: 15, maxTime: 100 }),
        fc.constantFrom('inner' as const, 'left' as const),
        fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }),
        fc.constantFrom('tags.origin', 'aggregateId'),
        (left, right, type, within, on) => {
          const out = joinRows(left, right, {
            on,
            as: 'r',
            type,
            ...(within === undefined ? {} : { within }),
          });
          const key = (e: (typeof left)[number]) => (on === 'aggregateId' ? e.aggregateId : e.tags.origin);
          const sortedRight = [...right].sort(
            (a, b) => a.timestamp.getTime() - b.timestamp.getTime() || a.sequence - b.sequence,
          );
          const expected = left.flatMap((l): Record<string, unknown>[] => {
            const matches = sortedRight.filter((r) => {
              const d = r.timestamp.getTime() - l.timestamp.getTime();
              return (
                key(l) !== undefined && key(l) === key(r) && (within === undefined || (d >= 0 && d <= within))
              );
            });
            if (matches.length === 0) return type === 'left' ? [{ ...l, r: null }] : [];
            return matches.map((r) => ({ ...l, r }));
          });
          expect(out).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('joins on [leftField, rightField] and refuses a bad `as`', () => {
    const out = joinRows([{ a: 1 }, { a: null }], [{ b: 1, sequence: 1 }], {
      on: ['a', 'b'],
      as: 'other',
      type: 'left',
    });
    expect(out).toEqual([
      { a: 1, other: { b: 1, sequence: 1 } },
      { a: null, other: null },
    ]);
    expect(() => joinRows([], [], { on: 'a', as: '' })).toThrow(/join\.as/);
  });
});

const mixed = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom('a', 'B', 'b', ''),
  fc.constant(null),
  fc.constant(undefined),
  fc.boolean(),
);

describe('sortRows', () => {
  it('is a stable sort: numbers, then strings, booleans, nulls last ascending (first descending)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ k: mixed, j: mixed }), { maxLength: 30 }),
        fc.constantFrom('asc' as const, 'desc' as const),
        (raw, direction) => {
          const rows = raw.map((r, i) => ({ ...r, i }));
          const out = sortRows(rows, [
            { field: 'k', direction },
            { field: 'j', direction: 'asc' },
          ]);
          const rank = (v: unknown) =>
            typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : typeof v === 'boolean' ? 2 : 5;
          const cmp = (a: unknown, b: unknown) =>
            rank(a) - rank(b) ||
            (rank(a) === 0
              ? (a as number) - (b as number)
              : rank(a) === 5
                ? 0
                : a! < b!
                  ? -1
                  : a! > b!
                    ? 1
                    : 0);
          const expected = [...rows].sort(
            (a, b) => (direction === 'asc' ? 1 : -1) * cmp(a.k, b.k) || cmp(a.j, b.j) || a.i - b.i,
          );
          expect(out.map((r) => r.i)).toEqual(expected.map((r) => r.i));
        },
      ),
    );
  });

  it('compares strings by code units and limits', () => {
    expect(compareValues('B', 'a')).toBeLessThan(0);
    expect(compareValues(2, '1')).toBeLessThan(0);
    expect(compareValues(null, 1)).toBeGreaterThan(0);
    expect(limitRows([{ a: 1 }, { a: 2 }], 1)).toEqual([{ a: 1 }]);
    expect(() => limitRows([], -1)).toThrow(ValidationError);
  });
});

describe('projectRows', () => {
  it('evaluates references, literals and arithmetic; null for non-numbers and division by zero', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ a: mixed, b: mixed }), { maxLength: 20 }), (rows) => {
        const out = projectRows(rows, {
          s: { add: ['a', 'b'] },
          q: { div: ['a', 'b'] },
          k: { literal: 'x' },
          two: 2,
          a: 'a',
        });
        const num = (v: unknown): v is number => typeof v === 'number';
        expect(out).toEqual(
          rows.map((r) => ({
            s: num(r.a) && num(r.b) ? r.a + r.b : null,
            q: num(r.a) && num(r.b) && r.b !== 0 ? r.a / r.b : null,
            k: 'x',
            two: 2,
            a: r.a ?? null,
          })),
        );
      }),
    );
  });

  it('reads dotted paths and Dates as ms, and validates expressions with their path', () => {
    const row = { start: { timestamp: new Date(1000) }, end: { timestamp: new Date(4000) } };
    expect(projectRows([row], { ms: { sub: ['end.timestamp', 'start.timestamp'] } })).toEqual([{ ms: 3000 }]);
    expect(() => validateExpression({ add: ['a'] }, 'stages[1].project.x')).toThrow(
      /stages\[1\]\.project\.x\.add/,
    );
    expect(() => validateExpression({ pow: [1, 2] }, 'p')).toThrow(ValidationError);
  });
});

describe('joinRows on a join too large to hold', () => {
  it('refuses it with RESULT_TOO_LARGE before building a row', () => {
    // 5,800 × 5,800 pairs on one key: past MAX_JOIN_ROWS (2^25).
    const side = Array.from({ length: 5_800 }, (_, i) => ({ sequence: i + 1, timestamp: i, k: 'same' }));
    expect(() => joinRows(side, side, { on: 'k', as: 'r' })).toThrow(
      expect.objectContaining({ code: 'RESULT_TOO_LARGE' }),
    );
    expect(joinRows(side.slice(0, 3), side.slice(0, 2), { on: 'k', as: 'r' })).toHaveLength(6);
  });
});
