import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hoppingWindows, sessionWindows } from '../../../src/analytics/stages/time-windows.js';
import { ValidationError } from '../../../src/errors.js';
import { storedEvents } from './rows.js';

describe('hoppingWindows', () => {
  it('copies each event into exactly the windows [k·every, k·every + size) holding it', () => {
    fc.assert(
      fc.property(
        storedEvents({ maxTime: 500 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 60 }),
        (events, size, every) => {
          const out = hoppingWindows(events, { size, every });
          const expected = events.flatMap((e) => {
            const t = e.timestamp.getTime();
            const windows = [];
            // Brute force over every window start that could hold t.
            for (let start = -Math.ceil(size / every) * every; start <= t; start += every) {
              if (start <= t && t < start + size)
                windows.push({ ...e, windowStart: start, windowEnd: start + size });
            }
            return windows;
          });
          expect(out).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('takes text durations, drops rows without a time, refuses a zero hop and too many windows', () => {
    expect(hoppingWindows([{ timestamp: 90_000 }, { x: 1 }], { size: '1m', every: '1m' })).toEqual([
      { timestamp: 90_000, windowStart: 60_000, windowEnd: 120_000 },
    ]);
    expect(() => hoppingWindows([], { size: 10, every: 0 })).toThrow(ValidationError);
    expect(() => hoppingWindows([], { size: '1d', every: '1s' })).toThrow(/more than 10000 windows/);
  });
});

describe('sessionWindows', () => {
  it('splits each group where the gap to the previous event exceeds gap; windowEnd = last + gap', () => {
    fc.assert(
      fc.property(storedEvents({ maxTime: 2000 }), fc.integer({ min: 1, max: 300 }), (events, gap) => {
        const out = sessionWindows(events, { gap, by: ['aggregateId'] });
        expect(out.length).toBe(events.length);
        for (const id of new Set(events.map((e) => e.aggregateId))) {
          const ts = events
            .filter((e) => e.aggregateId === id)
            .map((e) => e.timestamp.getTime())
            .sort((a, b) => a - b);
          const sessions: number[][] = [];
          for (const t of ts) {
            const last = sessions.at(-1);
            if (last && t - last.at(-1)! <= gap) last.push(t);
            else sessions.push([t]);
          }
          for (const row of out.filter((r) => r.aggregateId === id)) {
            const t = (row.timestamp as Date).getTime();
            const session = sessions.find((s) => s.includes(t) && row.windowStart === s[0])!;
            expect(session).toBeDefined();
            expect(row.windowEnd).toBe(session.at(-1)! + gap);
          }
          const starts = new Set(out.filter((r) => r.aggregateId === id).map((r) => r.windowStart));
          expect(starts.size).toBe(sessions.length);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('joins an event exactly gap after the previous one (Flink), returns [] for no rows', () => {
    const rows = [0, 10, 21].map((timestamp, i) => ({ timestamp, sequence: i }));
    expect(sessionWindows(rows, { gap: 10 }).map((r) => [r.windowStart, r.windowEnd])).toEqual([
      [0, 20],
      [0, 20],
      [21, 31],
    ]);
    expect(sessionWindows([], { gap: '5m' })).toEqual([]);
  });
});
