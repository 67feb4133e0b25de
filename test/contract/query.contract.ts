/**
 * Queries over the sample: getEventsByType, getEventsInRange and queryEvents with every criterion,
 * over out-of-order timestamps and typed tag values.
 */
import { describe, expect, test } from 'vitest';
import type { EventStore, StoredEvent } from '../../src/index.js';
import { appendSample, HOUR, T0 } from '../support/contract-sample.js';
import { eachFreshStore, type StoreFactory } from './factory.js';

export function querySuite(factory: StoreFactory): void {
  describe('queries over the sample', () => {
    let store: EventStore;
    let all: StoredEvent[];
    const pick = (...seqs: number[]): StoredEvent[] => seqs.map((s) => all[s - 1]!);
    eachFreshStore(factory, async (opened) => {
      store = opened.store;
      all = await appendSample(store);
    });

    test('getEventsByType: sequence order, afterSequence (exclusive) and limit', async () => {
      expect(await store.getEventsByType('ORDER.SHIPPED')).toEqual(pick(4, 5, 7));
      expect(await store.getEventsByType('ORDER.PLACED')).toEqual(pick(1, 2));
      expect(await store.getEventsByType('ORDER.SHIPPED', { afterSequence: 4 })).toEqual(pick(5, 7));
      expect(await store.getEventsByType('ORDER.SHIPPED', { afterSequence: 3 })).toEqual(pick(4, 5, 7));
      expect(await store.getEventsByType('ORDER.SHIPPED', { afterSequence: 0 })).toEqual(pick(4, 5, 7));
      expect(await store.getEventsByType('ORDER.SHIPPED', { limit: 2 })).toEqual(pick(4, 5));
      expect(await store.getEventsByType('ORDER.SHIPPED', { afterSequence: 4, limit: 1 })).toEqual(pick(5));
      expect(await store.getEventsByType('ORDER.SHIPPED', { afterSequence: 7 })).toEqual([]);
      expect(await store.getEventsByType('ORDER.SHIPPED', { afterSequence: 100 })).toEqual([]);
      expect(await store.getEventsByType('NOPE')).toEqual([]);
      expect(await store.getEventsByType('ORDER')).toEqual([]);
    });

    test('getEventsInRange: [start, end) over out-of-order timestamps, in sequence order, with limit', async () => {
      expect(await store.getEventsInRange(T0 + HOUR, T0 + 3 * HOUR)).toEqual(pick(2, 6, 7));
      expect(await store.getEventsInRange(T0 + 3 * HOUR, T0 + 5 * HOUR)).toEqual(pick(3, 8));
      expect(await store.getEventsInRange(T0 + 3 * HOUR, T0 + 5 * HOUR + 1)).toEqual(pick(1, 3, 8));
      expect(await store.getEventsInRange(T0, T0 + HOUR)).toEqual(pick(4));
      expect(await store.getEventsInRange(T0 - 1, T0 + 1)).toEqual(pick(4));
      expect(await store.getEventsInRange(T0 + HOUR, T0 + 3 * HOUR, { limit: 2 })).toEqual(pick(2, 6));
      expect(await store.getEventsInRange(T0, T0 + 8 * HOUR)).toEqual(all);
      expect(await store.getEventsInRange(T0, T0 + 8 * HOUR, { limit: 3 })).toEqual(pick(1, 2, 3));
      expect(await store.getEventsInRange(T0 + 10 * HOUR, T0 + 11 * HOUR)).toEqual([]);
      expect(await store.getEventsInRange(T0 - 10 * HOUR, T0)).toEqual([]);
      expect(await store.getEventsInRange(T0 + 2 * HOUR, T0 + 2 * HOUR)).toEqual([]);
      expect(await store.getEventsInRange(T0 + 7 * HOUR + 1, T0 + 100 * HOUR)).toEqual([]);
      // Date, ISO string and epoch-ms inputs are the same range.
      expect(await store.getEventsInRange(new Date(T0 + HOUR), new Date(T0 + 3 * HOUR))).toEqual(
        pick(2, 6, 7),
      );
      expect(
        await store.getEventsInRange(
          new Date(T0 + HOUR).toISOString(),
          new Date(T0 + 3 * HOUR).toISOString(),
        ),
      ).toEqual(pick(2, 6, 7));
    });

    test('queryEvents: aggregateId and type, as a value or an array', async () => {
      expect(await store.queryEvents()).toEqual(all);
      expect(await store.queryEvents({})).toEqual(all);
      expect(await store.queryEvents({ aggregateId: 'a2' })).toEqual(pick(2, 6, 7));
      expect(await store.queryEvents({ aggregateId: ['a2', 'a3'] })).toEqual(pick(2, 4, 6, 7));
      expect(await store.queryEvents({ aggregateId: ['a3', 'missing'] })).toEqual(pick(4));
      expect(await store.queryEvents({ aggregateId: 'missing' })).toEqual([]);
      expect(await store.queryEvents({ type: 'ORDER.PAID' })).toEqual(pick(3, 6));
      expect(await store.queryEvents({ type: ['ORDER.PAID', 'ORDER.CLOSED'] })).toEqual(pick(3, 6, 8));
      expect(await store.queryEvents({ aggregateId: 'a1', type: ['ORDER.PAID', 'ORDER.SHIPPED'] })).toEqual(
        pick(3, 5),
      );
      expect(await store.queryEvents({ aggregateId: 'a3', type: 'ORDER.PAID' })).toEqual([]);
    });

    test('queryEvents: from (inclusive) and to (exclusive)', async () => {
      expect(await store.queryEvents({ from: T0 + 2 * HOUR })).toEqual(pick(1, 3, 5, 6, 8));
      expect(await store.queryEvents({ to: T0 + 2 * HOUR })).toEqual(pick(2, 4, 7));
      expect(await store.queryEvents({ from: T0 + HOUR, to: T0 + 4 * HOUR })).toEqual(pick(2, 3, 6, 7));
      expect(await store.queryEvents({ from: new Date(T0 + 7 * HOUR) })).toEqual(pick(5));
      expect(await store.queryEvents({ to: new Date(T0).toISOString() })).toEqual([]);
      expect(await store.queryEvents({ aggregateId: 'a2', from: T0 + HOUR, to: T0 + HOUR + 1 })).toEqual(
        pick(2, 7),
      );
    });

    test('queryEvents: tags by value or array of values; values are typed; several keys all match', async () => {
      expect(await store.queryEvents({ tags: { region: 'eu' } })).toEqual(pick(1, 3, 5, 8));
      expect(await store.queryEvents({ tags: { region: ['us', 'apac'] } })).toEqual(pick(2, 6, 7));
      expect(await store.queryEvents({ tags: { tier: 1 } })).toEqual(pick(1, 6, 8));
      expect(await store.queryEvents({ tags: { tier: '1' } })).toEqual(pick(3));
      expect(await store.queryEvents({ tags: { tier: [1, 2] } })).toEqual(pick(1, 2, 6, 8));
      expect(await store.queryEvents({ tags: { tier: [2, '1'] } })).toEqual(pick(2, 3));
      expect(await store.queryEvents({ tags: { vip: true } })).toEqual(pick(1));
      expect(await store.queryEvents({ tags: { vip: false } })).toEqual(pick(5));
      expect(await store.queryEvents({ tags: { vip: 'true' } })).toEqual([]);
      expect(await store.queryEvents({ tags: { region: 'eu', tier: 1 } })).toEqual(pick(1, 8));
      expect(await store.queryEvents({ tags: { region: ['eu', 'us'], tier: 1 } })).toEqual(pick(1, 6, 8));
      expect(await store.queryEvents({ tags: { region: 'eu', vip: [true, false] } })).toEqual(pick(1, 5));
      expect(await store.queryEvents({ tags: { nope: 'x' } })).toEqual([]);
      expect(await store.queryEvents({ tags: { region: 'mars' } })).toEqual([]);
      expect(await store.queryEvents({ tags: {} })).toEqual(all);
    });

    test('queryEvents: afterSequence, limit and order desc (limit applies after ordering)', async () => {
      expect(await store.queryEvents({ afterSequence: 5 })).toEqual(pick(6, 7, 8));
      expect(await store.queryEvents({ afterSequence: 8 })).toEqual([]);
      expect(await store.queryEvents({ limit: 3 })).toEqual(pick(1, 2, 3));
      expect(await store.queryEvents({ afterSequence: 2, limit: 2 })).toEqual(pick(3, 4));
      expect(await store.queryEvents({ order: 'asc' })).toEqual(all);
      expect(await store.queryEvents({ order: 'desc' })).toEqual([...all].reverse());
      expect(await store.queryEvents({ order: 'desc', limit: 2 })).toEqual(pick(8, 7));
      expect(await store.queryEvents({ order: 'desc', afterSequence: 5 })).toEqual(pick(4, 3, 2, 1));
      expect(await store.queryEvents({ order: 'desc', afterSequence: 5, limit: 2 })).toEqual(pick(4, 3));
      expect(await store.queryEvents({ aggregateId: 'a1', order: 'desc', limit: 2 })).toEqual(pick(8, 5));
      expect(await store.queryEvents({ type: 'ORDER.SHIPPED', afterSequence: 4, limit: 1 })).toEqual(pick(5));
      expect(await store.queryEvents({ tags: { region: 'us' }, order: 'desc' })).toEqual(pick(6, 2));
    });

    test('queryEvents: every field at once', async () => {
      const criteria = {
        aggregateId: ['a1', 'a2'],
        type: ['ORDER.PLACED', 'ORDER.PAID', 'ORDER.SHIPPED'],
        from: T0 + HOUR,
        to: T0 + 6 * HOUR,
        tags: { region: ['eu', 'us'] },
        order: 'desc' as const,
        limit: 3,
      };
      expect(await store.queryEvents(criteria)).toEqual(pick(6, 3, 2));
      expect(await store.queryEvents({ ...criteria, afterSequence: 6 })).toEqual(pick(3, 2, 1));
      expect(await store.queryEvents({ ...criteria, order: 'asc' })).toEqual(pick(1, 2, 3));
      expect(await store.queryEvents({ ...criteria, order: 'asc', afterSequence: 2 })).toEqual(pick(3, 6));
    });
  });
}
