import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { agg } from '../../../src/analytics/aggregates.js';
import { groupRows } from '../../../src/analytics/stages/group-rows.js';
import type { StoredEvent } from '../../../src/events/types.js';
import { ValidationError } from '../../../src/errors.js';
import { finite, storedEvents } from './rows.js';

const aggregates = {
  n: agg.count(),
  delays: agg.count('payload.delay'),
  total: agg.sum('payload.delay'),
  avg: agg.avg('payload.delay'),
  lo: agg.min('payload.delay'),
  hi: agg.max('payload.delay'),
  firstAt: agg.min('timestamp'),
  firstType: agg.first('type'),
};

/** The plain JavaScript answer: a loop per group, keys as JSON text. */
function oracle(events: StoredEvent[], by: ('type' | 'tags.origin')[], width: number | null) {
  const groups = new Map<string, { key: Record<string, unknown>; events: StoredEvent[] }>();
  for (const e of events) {
    const key: Record<string, unknown> = {};
    if (width !== null) key.bucket = Math.floor(e.timestamp.getTime() / width) * width;
    for (const field of by) key[field] = field === 'type' ? e.type : (e.tags.origin ?? null);
    const text = JSON.stringify(key);
    if (!groups.has(text)) groups.set(text, { key, events: [] });
    groups.get(text)!.events.push(e);
  }
  if (groups.size === 0 && by.length === 0 && width === null) groups.set('{}', { key: {}, events: [] });
  return [...groups.values()].map(({ key, events: es }) => {
    const delays = es.map((e) => (e.payload as { delay?: unknown }).delay).filter(finite);
    const earliest = [...es].sort(
      (a, b) => a.timestamp.getTime() - b.timestamp.getTime() || a.sequence - b.sequence,
    )[0];
    return {
      ...key,
      n: es.length,
      delays: es.filter((e) => (e.payload as { delay?: unknown }).delay !== undefined).length || null,
      total: delays.length ? delays.reduce((a, b) => a + b, 0) : null,
      avg: delays.length ? delays.reduce((a, b) => a + b, 0) / delays.length : null,
      lo: delays.length ? Math.min(...delays) : null,
      hi: delays.length ? Math.max(...delays) : null,
      firstAt: es.length ? Math.min(...es.map((e) => e.timestamp.getTime())) : null,
      firstType: earliest?.type ?? null,
    };
  });
}

describe('groupRows', () => {
  it('matches a plain loop: keys (null when missing), bucket first, SQL aggregates, first-seen order', () => {
    fc.assert(
      fc.property(
        storedEvents(),
        fc.subarray(['type', 'tags.origin'] as ('type' | 'tags.origin')[]),
        fc.constantFrom(null, 1000, 100_000),
        (events, by, width) => {
          const rows = groupRows(events, {
            by,
            aggregates,
            ...(width === null ? {} : { bucket: { width: `${width}ms` } }),
          });
          const expected = oracle(events, by, width);
          expect(rows.map((r) => Object.keys(r))).toEqual(expected.map((r) => Object.keys(r)));
          expect(rows.length).toBe(expected.length);
          rows.forEach((row, i) => {
            for (const [k, v] of Object.entries(expected[i]!)) {
              if (typeof v === 'number' && k === 'avg') expect(row[k]).toBeCloseTo(v, 9);
              else expect(row[k]).toEqual(v);
            }
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('puts every event in one bucket when the width spans the range, and one group for one partition', () => {
    const events = [0, 5, 9].map((t, i) => ({ timestamp: new Date(t), sequence: i + 1, type: 'A' }));
    expect(
      groupRows(events, { by: ['type'], aggregates: { n: agg.count() }, bucket: { width: '1h' } }),
    ).toEqual([{ bucket: 0, type: 'A', n: 3 }]);
  });

  it('groups on object keys by content and on output columns of earlier stages', () => {
    const rows = [{ k: { a: 1, b: 2 } }, { k: { b: 2, a: 1 } }, { k: 1 }, { k: '1' }, {}];
    expect(groupRows(rows, { by: ['k'], aggregates: { n: agg.count() } })).toEqual([
      { k: { a: 1, b: 2 }, n: 2 },
      { k: 1, n: 1 },
      { k: '1', n: 1 },
      { k: null, n: 1 },
    ]);
  });

  it('gives one row for empty input without keys, none with keys', () => {
    expect(groupRows([], { aggregates: { n: agg.count(), s: agg.sum('payload.x') } })).toEqual([
      { n: 0, s: null },
    ]);
    expect(groupRows([], { by: ['type'], aggregates: { n: agg.count() } })).toEqual([]);
  });

  it('reads corr pairs, custom fields, and first/last by position for records without a time', () => {
    const rows = [
      { x: 1, y: 2, v: 'a' },
      { x: 2, y: 4, v: 'b' },
      { x: 3, y: 6 },
    ];
    const sumOfV = agg.custom({
      init: () => '',
      add: (s: string, value: unknown) => (typeof value === 'string' ? s + value : s),
      merge: (a: string, b: string) => a + b,
      result: (s: string) => s,
    });
    const out = groupRows(rows, {
      aggregates: {
        c: { kind: 'corr', x: 'x', y: 'y' },
        v: { ...sumOfV, field: 'v' },
        last: { kind: 'last', field: 'v' },
      },
    });
    expect(out).toEqual([{ c: 1, v: 'ab', last: 'b' }]);
  });

  it('refuses an alias equal to a group key, with its path', () => {
    expect(() => groupRows([], { by: ['n'], aggregates: { n: agg.count() } })).toThrow(ValidationError);
    expect(() => groupRows([], { aggregates: { p: { kind: 'nope' } as never } })).toThrow(
      /group\.aggregates\.p\.kind/,
    );
  });
});
