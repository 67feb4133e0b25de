import { describe, expect, test } from 'vitest';
import { EventTooLargeError, ManualClock, openEventStore, type EventStore } from '../src/index.js';
import { embeddedInMemory } from './contract/embedded-factories.js';
import { embeddedSpecifics } from './contract/embedded-specifics.js';
import { eventStoreContract } from './contract/event-store.contract.js';
import { CONTRACT_CLOCK_START } from './contract/factory.js';
import { expectError, rejection } from './support/helpers.js';

eventStoreContract(embeddedInMemory);
embeddedSpecifics(embeddedInMemory);

describe('embedded, in memory: specifics', () => {
  const withStore = async (
    options: Parameters<typeof openEventStore>[0],
    fn: (store: EventStore) => Promise<void>,
  ) => {
    const store = await openEventStore({ clock: new ManualClock(CONTRACT_CLOCK_START), ...options });
    try {
      await fn(store);
    } finally {
      await store.close().catch(() => undefined);
    }
  };

  test('maxEventSize is enforced per encoded event', async () => {
    await withStore({ maxEventSize: 1024 }, async (store) => {
      const [small] = await store.append({ aggregateId: 'a', type: 'T', payload: 'x'.repeat(500) });
      expect(small!.sequence).toBe(1);
      const error = await rejection(() =>
        store.append([
          { aggregateId: 'a', type: 'T', payload: 'ok' },
          { aggregateId: 'a', type: 'T', payload: 'x'.repeat(2000) },
        ]),
      );
      expectError(error, EventTooLargeError, 'EVENT_TOO_LARGE', 'events[1]', '1024');
      expect((error as EventTooLargeError).limit).toBe(1024);
      expect((error as EventTooLargeError).size).toBeGreaterThan(1024);
      expect(store.stats().events).toBe(1);
      // Large tags or metadata count too.
      const tagError = await rejection(() =>
        store.append({ aggregateId: 'a', type: 'T', metadata: { blob: 'y'.repeat(2000) } }),
      );
      expectError(tagError, EventTooLargeError, 'EVENT_TOO_LARGE', 'events[0]');
      expect(store.stats().events).toBe(1);
    });
  });

  test('an in-memory store reports no storage section', async () => {
    await withStore({}, async (store) => {
      await store.append({ aggregateId: 'a', type: 'T' });
      expect(store.stats().storage).toBeUndefined();
      expect(store.stats().memory.records).toBeGreaterThan(0);
    });
  });

  test('flush() and checkpoint() are harmless without a directory', async () => {
    await withStore({ fsync: 'always' }, async (store) => {
      await store.append({ aggregateId: 'a', type: 'T' });
      await store.flush();
      await store.checkpoint();
      expect(await store.read()).toHaveLength(1);
    });
  });

  test('two in-memory stores are independent', async () => {
    const one = await openEventStore({});
    const two = await openEventStore({});
    try {
      await one.append({ aggregateId: 'a', type: 'T' });
      await one.append({ aggregateId: 'a', type: 'T' });
      const [first] = await two.append({ aggregateId: 'a', type: 'T' });
      expect(first).toMatchObject({ sequence: 1, version: 1 });
      expect(one.stats().events).toBe(2);
      expect(two.stats().events).toBe(1);
    } finally {
      await one.close();
      await two.close();
    }
  });

  test('many events across many aggregates: counts, versions and reads stay exact', async () => {
    await withStore({}, async (store) => {
      const batches = 100;
      for (let b = 0; b < batches; b++) {
        await store.append(
          Array.from({ length: 50 }, (_, i) => ({
            aggregateId: `agg-${(b * 50 + i) % 997}`,
            type: `T${i % 7}`,
            tags: { mod: (b * 50 + i) % 13 },
            payload: { b, i },
          })),
        );
      }
      expect(store.stats()).toMatchObject({ events: 5000, aggregates: 997, types: 7, lastSequence: 5000 });
      const agg = await store.getEvents('agg-5');
      expect(agg.map((e) => e.version)).toEqual(agg.map((_, i) => i + 1));
      expect(agg.every((e) => (e.sequence - 1) % 997 === 5)).toBe(true);
      const page = await store.read({ fromSequence: 4990, limit: 20 });
      expect(page.map((e) => e.sequence)).toEqual(Array.from({ length: 11 }, (_, i) => 4990 + i));
      const tagged = await store.queryEvents({ tags: { mod: 3 }, type: 'T2', limit: 5, order: 'desc' });
      expect(tagged.length).toBe(5);
      for (const e of tagged) expect(e).toMatchObject({ type: 'T2', tags: { mod: 3 } });
      expect(tagged.map((e) => e.sequence)).toEqual([...tagged.map((e) => e.sequence)].sort((x, y) => y - x));
    });
  });
});
