/**
 * Retention: a policy (maxAge, per-type ages, maxEvents) hides what it expires from every read at
 * once, by the store's clock; setRetention changes it at run time; an event already past it on
 * arrival is refused (EVENT_EXPIRED); cleanup() removes what reads already leave out. (How cleanup
 * rewrites the embedded engine's log and survives a crash is in test/retention/.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  ManualClock,
  ValidationError,
  type EventStore,
  type OpenOptions,
  type StoredEvent,
} from '../../src/index.js';
import { expectError, observe, rejection } from '../support/helpers.js';
import type { ContractContext, StoreFactory } from './factory.js';

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const seqs = (rows: readonly unknown[]) => (rows as StoredEvent[]).map((event) => event.sequence);

export function retentionSuite(factory: StoreFactory): void {
  describe('retention', () => {
    let opened: ContractContext[] = [];
    afterEach(async () => {
      for (const ctx of opened) await ctx.cleanup();
      opened = [];
    });

    /** A store opened by the factory with `options` (and a ManualClock at T0 unless they name one). */
    async function openStore(options: Partial<OpenOptions> = {}): Promise<EventStore> {
      const ctx = await factory.open({ clock: new ManualClock(T0), ...options });
      opened.push(ctx);
      return ctx.store;
    }

    async function storeAt(
      options: Partial<OpenOptions> = {},
    ): Promise<{ store: EventStore; clock: ManualClock }> {
      const clock = new ManualClock(T0);
      return { store: await openStore({ clock, ...options }), clock };
    }

    describe('expired events disappear at once', () => {
      it('hides events past maxAge, per-type overrides first, as the clock moves', async () => {
        const clock = new ManualClock(T0);
        const store = await openStore({
          clock,
          retention: { maxAge: '30d', types: { 'DEBUG.*': '1d', 'AUDIT.*': 'forever' } },
        });
        // One event of each type per day, 40 days back to now, each day's appended on that day: an
        // event already past retention when it arrives is refused.
        const types = ['ORDER.PLACED', 'DEBUG.TRACE', 'AUDIT.LOGIN'];
        for (let day = 0; day < 40; day++) {
          clock.set(T0 - (40 - day) * DAY);
          await store.append(
            Array.from({ length: 3 }, (_, k) => ({
              aggregateId: `s${(day * 3 + k) % 4}`,
              type: types[k] as string,
              timestamp: T0 - (40 - day) * DAY,
            })),
          );
        }
        const visible = (now: number) =>
          Array.from({ length: 120 }, (_, i) => i).filter((i) => {
            const age = now - (T0 - (40 - Math.floor(i / 3)) * DAY);
            const type = types[i % 3] as string;
            return type === 'AUDIT.LOGIN' || age <= (type === 'DEBUG.TRACE' ? DAY : 30 * DAY);
          });
        for (const now of [T0, T0 + 5 * DAY, T0 + 45 * DAY]) {
          clock.set(now);
          const expected = visible(now).map((i) => i + 1);
          expect(seqs(await store.read())).toEqual(expected);
          expect(seqs(await store.queryEvents({}))).toEqual(expected);
          expect(seqs(await store.getEventsByType('DEBUG.TRACE'))).toEqual(
            expected.filter((s) => (s - 1) % 3 === 1),
          );
          expect(seqs(await store.getEvents('s1'))).toEqual(expected.filter((s) => (s - 1) % 4 === 1));
          expect(seqs(await store.query().orderBy('timestamp', 'desc').limit(5).execute())).toEqual(
            // Newest day first; events of one day tie on time and keep sequence order.
            [...expected]
              .sort((a, b) => Math.floor((b - 1) / 3) - Math.floor((a - 1) / 3) || a - b)
              .slice(0, 5),
          );
          expect(store.stats().events).toBe(expected.length);
        }
        expect(store.stats().retention).toEqual({
          maxAge: '30d',
          types: { 'DEBUG.*': '1d', 'AUDIT.*': 'forever' },
          maxEvents: null,
          archive: null,
          schedule: '0 * * * *',
          cleanupThreshold: 0.2,
          onExpired: 'reject',
        });
        await store.close();
      });

      it('changes policy at run time; a bad policy names the value and keeps the old one', async () => {
        const clock = new ManualClock(T0);
        const store = await openStore({ clock });
        await store.append(
          Array.from({ length: 10 }, (_, i) => ({ aggregateId: 'a', type: 'T', timestamp: T0 - i * DAY })),
        );
        expect(store.stats().events).toBe(10);
        store.setRetention({ maxAge: '3d' });
        expect(seqs(await store.getEvents('a'))).toEqual([1, 2, 3, 4]);
        expect(() => store.setRetention({ maxAge: 'soon' })).toThrow(
          /^retention\.maxAge: must be a duration/,
        );
        expect(store.stats().events).toBe(4);
        store.setRetention({ maxEvents: 2 });
        expect(seqs(await store.read())).toEqual([9, 10]);
        store.setRetention(undefined);
        expect(store.stats().events).toBe(10);
        await store.close();
      });

      it('rejects a bad retention option at open, naming it', async () => {
        expectError(
          await rejection(() => factory.open({ retention: { types: { 'X.*': '7 days' } } })),
          ValidationError,
          'INVALID_OPTION',
          'retention.types["X.*"]',
        );
      });
    });

    describe('events already past retention on arrival', () => {
      const retention = { maxAge: '30d', types: { 'DEBUG.*': '1h', 'AUDIT.*': 'forever' } };

      it('refuses an event older than its type allows, by the rule reads hide it by', async () => {
        const { store } = await storeAt({ retention });
        const accepted = await store.append([
          { aggregateId: 'a', type: 'DEBUG.TRACE', timestamp: T0 - HOUR },
          { aggregateId: 'a', type: 'ORDER.PLACED', timestamp: T0 - 2 * HOUR },
          { aggregateId: 'a', type: 'AUDIT.LOGIN', timestamp: T0 - 10 * 365 * DAY },
          { aggregateId: 'a', type: 'ORDER.PLACED', timestamp: T0 - 30 * DAY },
        ]);
        // Accepted at the boundary, so visible: expiry needs the time to be strictly before the cutoff.
        expect(await store.read()).toEqual(accepted);
        const error = await rejection(() =>
          store.append({ aggregateId: 'a', type: 'DEBUG.TRACE', timestamp: T0 - HOUR - 1 }),
        );
        expectError(
          error,
          ValidationError,
          'EVENT_EXPIRED',
          'events[0].timestamp',
          iso(T0 - HOUR - 1),
          'type "DEBUG.TRACE"',
          'maxAge 1h',
          `the store's clock is ${iso(T0)}`,
          `events before ${iso(T0 - HOUR)} have expired`,
          'nothing of the batch was written',
        );
        expectError(
          await rejection(() =>
            store.append({ aggregateId: 'a', type: 'ORDER.PLACED', timestamp: T0 - 30 * DAY - 1 }),
          ),
          ValidationError,
          'EVENT_EXPIRED',
          'maxAge 30d',
        );
      });

      it('refuses the whole batch, in append and appendToStream, and counts the other expired events', async () => {
        const { store } = await storeAt({ retention });
        await store.appendToStream('s', { type: 'DEBUG.X' });
        const before = await observe(store);
        const old = { type: 'DEBUG.X', timestamp: T0 - 2 * HOUR };
        expectError(
          await rejection(() =>
            store.append([
              { aggregateId: 's', type: 'ORDER.PLACED' },
              { aggregateId: 's', ...old },
              { aggregateId: 't', ...old },
            ]),
          ),
          ValidationError,
          'EVENT_EXPIRED',
          'events[1].timestamp',
          '1 more event of the batch expired too',
        );
        expectError(
          await rejection(() =>
            store.appendToStream('s', [{ type: 'ORDER.PLACED' }, old], { expectedVersion: 1 }),
          ),
          ValidationError,
          'EVENT_EXPIRED',
          'events[1].timestamp',
        );
        expect(await observe(store)).toEqual(before);
        expect(store.stats().lastSequence).toBe(1);
      });

      it('follows the policy in force, and setRetention changes it', async () => {
        const { store } = await storeAt();
        await store.append({ aggregateId: 'a', type: 'DEBUG.X', timestamp: T0 - 400 * DAY });
        store.setRetention(retention);
        expectError(
          await rejection(() =>
            store.append({ aggregateId: 'a', type: 'DEBUG.X', timestamp: T0 - 2 * HOUR }),
          ),
          ValidationError,
          'EVENT_EXPIRED',
        );
        store.setRetention(undefined);
        await store.append({ aggregateId: 'a', type: 'DEBUG.X', timestamp: T0 - 2 * HOUR });
        expect(store.stats().lastSequence).toBe(2);
      });

      it('ignores maxEvents: a new event is always the newest', async () => {
        const { store } = await storeAt({ retention: { maxEvents: 1 } });
        const stored = await store.append([
          { aggregateId: 'a', type: 'T', timestamp: T0 - 1000 * DAY },
          { aggregateId: 'a', type: 'T', timestamp: T0 - 1000 * DAY },
        ]);
        expect(await store.read()).toEqual(stored.slice(1));
      });
    });

    describe('cleanup', () => {
      it('removes what reads already leave out: reads and counts are the same before and after', async () => {
        const { store, clock } = await storeAt({
          retention: { maxAge: '1h', types: { 'DEBUG.*': '10m' }, schedule: false },
        });
        // 30 events a minute apart, every third a DEBUG one. After 70 minutes the first 10 have
        // expired, and every DEBUG one.
        const appended: StoredEvent[] = [];
        for (let i = 0; i < 30; i++) {
          clock.set(T0 + i * 60_000);
          const type = i % 3 === 0 ? 'DEBUG.X' : 'T';
          appended.push(...(await store.append({ aggregateId: `s${i % 3}`, type, timestamp: clock.now() })));
        }
        clock.set(T0 + 70 * 60_000);
        const visible = appended.filter((_, i) => i >= 10 && i % 3 !== 0);
        expect(await store.read()).toEqual(visible);
        const before = store.stats();
        expect(before).toMatchObject({
          events: visible.length,
          cleanup: { runs: 0, totals: { removed: 0 } },
        });

        const report = await store.cleanup();
        expect(report).toMatchObject({
          removed: appended.length - visible.length,
          archived: 0,
          tombstoned: 0,
        });
        expect(report.examined).toBeGreaterThanOrEqual(report.removed);
        expect(store.stats()).toMatchObject({
          events: before.events,
          lastSequence: before.lastSequence,
          cleanup: { runs: 1, totals: { removed: report.removed } },
        });
        expect(await store.read()).toEqual(visible);
        expect(await store.getEventsByType('DEBUG.X')).toEqual([]);
        expect(await store.getEvents('s1')).toEqual(visible.filter((e) => e.aggregateId === 's1'));
        // Removed, not only hidden: without a policy they do not come back, and nothing is left to remove.
        store.setRetention(undefined);
        expect(await store.read()).toEqual(visible);
        expect(store.stats().events).toBe(visible.length);
        expect((await store.cleanup()).removed).toBe(0);
      });

      it('refuses bad options, naming them, and removes nothing', async () => {
        const { store, clock } = await storeAt({ retention: { maxAge: '1h', schedule: false } });
        await store.append({ aggregateId: 'a', type: 'T' });
        clock.advance(2 * HOUR);
        const before = store.stats().cleanup;
        const cases: [options: unknown, path: string, value: string][] = [
          [null, 'options', 'null'],
          ['fast', 'options', '"fast"'],
          [{ sliceRows: 0 }, 'options.sliceRows', '0'],
          [{ sliceRows: 1.5 }, 'options.sliceRows', '1.5'],
          [{ sliceRows: '10' }, 'options.sliceRows', '"10"'],
          [{ threshold: 2 }, 'options.threshold', '2'],
          [{ threshold: -0.1 }, 'options.threshold', '-0.1'],
          [{ threshold: '20%' }, 'options.threshold', '"20%"'],
          [{ onProgress: 'log' }, 'options.onProgress', '"log"'],
        ];
        for (const [options, path, value] of cases) {
          const error = await rejection(() => store.cleanup(options as never));
          expectError(error, ValidationError, 'VALIDATION_FAILED', path, value);
          expect((error as ValidationError).path, path).toBe(path);
        }
        expect(store.stats().cleanup).toEqual(before);
        expect(store.stats().events).toBe(0);
        expect((await store.cleanup({ sliceRows: 1, threshold: 0 })).removed).toBe(1);
      });
    });
  });
}
