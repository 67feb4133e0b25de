/** append(): what a stored event holds, its defaults, and how values round-trip. */
import { describe, expect, test } from 'vitest';
import type { EventStore, StoredEvent } from '../../src/index.js';
import { UUID_V7 } from '../support/contract-sample.js';
import { observe, sequences } from '../support/helpers.js';
import { CONTRACT_CLOCK_START, type ContractContext, type StoreFactory, eachFreshStore } from './factory.js';
import { requires } from './requires.js';

export function appendSuite(factory: StoreFactory): void {
  describe('append', () => {
    let ctx: ContractContext;
    let store: EventStore;
    eachFreshStore(factory, (opened) => {
      ctx = opened;
      store = opened.store;
    });

    const expectDefaultTime = (event: StoredEvent, before: number, after: number): void => {
      expect(event.timestamp).toBeInstanceOf(Date);
      if (ctx.clock) {
        expect(event.timestamp.getTime()).toBe(ctx.clock.now());
      } else {
        expect(event.timestamp.getTime()).toBeGreaterThanOrEqual(before);
        expect(event.timestamp.getTime()).toBeLessThanOrEqual(after);
      }
    };

    test('a single event gets sequence 1, version 1 and the documented defaults', async () => {
      const before = Date.now();
      const result = await store.append({ aggregateId: 'order-1', type: 'ORDER.PLACED' });
      const after = Date.now();
      expect(result).toHaveLength(1);
      const [event] = result as [StoredEvent];
      expect(event.sequence).toBe(1);
      expect(event.version).toBe(1);
      expect(event.aggregateId).toBe('order-1');
      expect(event.type).toBe('ORDER.PLACED');
      expect(event.tags).toEqual({});
      expect(event.payload).toBeNull();
      expect(event.metadata).toEqual({});
      expect(event.id).toMatch(UUID_V7);
      expectDefaultTime(event, before, after);
      expect(await store.read()).toEqual(result);
    });

    test('a default id is a UUIDv7 carrying the event time, unique per event', async () => {
      ctx.clock?.set(CONTRACT_CLOCK_START + 123_456);
      const result = await store.append(
        Array.from({ length: 50 }, (_, i) => ({ aggregateId: `a${i % 3}`, type: 'T' })),
      );
      const ids = result.map((e) => e.id);
      expect(new Set(ids).size).toBe(50);
      for (const event of result) {
        expect(event.id).toMatch(UUID_V7);
        const embeddedMs = parseInt(event.id.replace(/-/g, '').slice(0, 12), 16);
        expect(embeddedMs).toBe(event.timestamp.getTime());
      }
    });

    test('the default timestamp follows the injected clock', async ({ skip }) => {
      if (!ctx.clock) skip();
      const clock = ctx.clock!;
      clock.set(Date.UTC(2030, 4, 6, 7, 8, 9, 10));
      const [first] = await store.append({ aggregateId: 'a', type: 'T' });
      clock.advance(1500);
      const [second] = await store.append({ aggregateId: 'a', type: 'T' });
      // An explicit timestamp wins over the clock (one in the clock's past: the future is bounded).
      clock.set(Date.UTC(2031, 0, 1));
      const [third] = await store.append({ aggregateId: 'a', type: 'T', timestamp: Date.UTC(2020, 0, 1) });
      expect(first!.timestamp).toEqual(new Date(Date.UTC(2030, 4, 6, 7, 8, 9, 10)));
      expect(second!.timestamp).toEqual(new Date(Date.UTC(2030, 4, 6, 7, 8, 9, 10) + 1500));
      expect(third!.timestamp).toEqual(new Date(Date.UTC(2020, 0, 1)));
    });

    requires(factory, 'gapFreeSequences').test(
      'a batch gets gap-free sequences and per-aggregate versions, continuing across batches',
      async () => {
        const first = await store.append([
          { aggregateId: 'a', type: 'T1' },
          { aggregateId: 'b', type: 'T1' },
          { aggregateId: 'a', type: 'T2' },
        ]);
        expect(sequences(first)).toEqual([1, 2, 3]);
        expect(first.map((e) => e.version)).toEqual([1, 1, 2]);
        const second = await store.append([
          { aggregateId: 'b', type: 'T1' },
          { aggregateId: 'a', type: 'T1' },
          { aggregateId: 'c', type: 'T1' },
        ]);
        expect(sequences(second)).toEqual([4, 5, 6]);
        expect(second.map((e) => e.version)).toEqual([2, 3, 1]);
        const third = await store.appendToStream('a', { type: 'T3' });
        expect(sequences(third)).toEqual([7]);
        expect(third[0]!.version).toBe(4);
        expect(store.stats().lastSequence).toBe(7);
      },
    );

    test('given fields are stored as given; every time input form becomes a Date', async () => {
      const when = Date.UTC(2022, 1, 2, 3, 4, 5, 6);
      const payload = {
        text: 'héllo ✓ 𝄞',
        int: -42,
        float: 3.25,
        big: Number.MAX_SAFE_INTEGER,
        yes: true,
        nothing: null,
        list: [1, 'two', { three: [3] }, []],
        nested: { deep: { deeper: { deepest: 'x' } }, empty: {} },
      };
      const result = await store.append([
        {
          id: 'my-id-1',
          aggregateId: 'agg/1 with spaces',
          type: 'Type.With.Dots',
          timestamp: new Date(when),
          tags: { s: 'str', n: 7, f: 1.5, b: false },
          payload,
          metadata: { correlationId: 'c-1', user: { name: 'ana' }, list: [1, 2] },
        },
        { id: 'my-id-2', aggregateId: 'x', type: 'T', timestamp: when, payload: 'just a string' },
        { id: 'my-id-3', aggregateId: 'x', type: 'T', timestamp: new Date(when).toISOString(), payload: 0 },
        {
          id: 'my-id-4',
          aggregateId: 'x',
          type: 'T',
          timestamp: '2022-02-02T03:04:05.006+00:00',
          payload: [],
        },
        { id: 'my-id-5', aggregateId: 'x', type: 'T', timestamp: when, payload: false },
      ]);
      const expected: StoredEvent[] = [
        {
          sequence: 1,
          id: 'my-id-1',
          aggregateId: 'agg/1 with spaces',
          version: 1,
          type: 'Type.With.Dots',
          timestamp: new Date(when),
          tags: { s: 'str', n: 7, f: 1.5, b: false },
          payload,
          metadata: { correlationId: 'c-1', user: { name: 'ana' }, list: [1, 2] },
        },
        {
          sequence: 2,
          id: 'my-id-2',
          aggregateId: 'x',
          version: 1,
          type: 'T',
          timestamp: new Date(when),
          tags: {},
          payload: 'just a string',
          metadata: {},
        },
        {
          sequence: 3,
          id: 'my-id-3',
          aggregateId: 'x',
          version: 2,
          type: 'T',
          timestamp: new Date(when),
          tags: {},
          payload: 0,
          metadata: {},
        },
        {
          sequence: 4,
          id: 'my-id-4',
          aggregateId: 'x',
          version: 3,
          type: 'T',
          timestamp: new Date(when),
          tags: {},
          payload: [],
          metadata: {},
        },
        {
          sequence: 5,
          id: 'my-id-5',
          aggregateId: 'x',
          version: 4,
          type: 'T',
          timestamp: new Date(when),
          tags: {},
          payload: false,
          metadata: {},
        },
      ];
      expect(result).toEqual(expected);
      expect(await store.read()).toEqual(expected);
      expect(await store.getEvents('agg/1 with spaces')).toEqual([expected[0]]);
    });

    test('non-ASCII names, extreme timestamps and typed tag values round-trip and are queryable', async ({
      skip,
    }) => {
      // The last representable time is in any real clock's future, which futureTolerance refuses:
      // the store's clock is moved there first.
      if (!ctx.clock) skip();
      ctx.clock!.set(8.64e15);
      const aggregateId = 'ördér-✓-𝄞 1';
      const type = 'Tÿpe.🎉';
      const events = await store.append([
        { aggregateId, type, timestamp: -86_400_000, tags: { ключ: 'значение', n: -1.5 } },
        { aggregateId, type, timestamp: 8.64e15, tags: { ключ: 'значение', n: 0 } },
        { aggregateId: 'plain', type: 'T', timestamp: 0, tags: { n: 1e21, empty: '' } },
      ]);
      expect(events.map((e) => e.timestamp.getTime())).toEqual([-86_400_000, 8.64e15, 0]);
      expect(await store.getEvents(aggregateId)).toEqual(events.slice(0, 2));
      expect(await store.getEventsByType(type)).toEqual(events.slice(0, 2));
      expect(await store.queryEvents({ tags: { ключ: 'значение' } })).toEqual(events.slice(0, 2));
      expect(await store.queryEvents({ tags: { n: [0, 1e21] } })).toEqual(events.slice(1));
      expect(await store.queryEvents({ tags: { empty: '' } })).toEqual(events.slice(2));
      expect(await store.getEventsInRange(-100_000_000, 1)).toEqual([events[0], events[2]]);
      expect(await store.getEventsInRange(1, 8.64e15)).toEqual([]);
      expect(await store.queryEvents({ from: 8.64e15 - 1 })).toEqual([events[1]]);
      expect(await store.read()).toEqual(events);
      if (ctx.reopen) {
        await store.close();
        store = await ctx.reopen();
        expect(await store.read()).toEqual(events);
        expect(await store.queryEvents({ tags: { ключ: 'значение' }, type })).toEqual(events.slice(0, 2));
        expect(await store.getEventsInRange(-100_000_000, 1)).toEqual([events[0], events[2]]);
      }
    });

    test('the payload is stored as its JSON value (undefined properties dropped, Dates as ISO strings)', async () => {
      const [stored] = await store.append({
        aggregateId: 'a',
        type: 'T',
        payload: { keep: 1, drop: undefined, at: new Date(Date.UTC(2020, 0, 2)), list: [1, 2] },
      });
      const expected = { keep: 1, at: '2020-01-02T00:00:00.000Z', list: [1, 2] };
      expect(stored!.payload).toEqual(expected);
      const [read] = await store.read();
      expect(read!.payload).toStrictEqual(expected);
    });

    test('append([]) returns [] and changes nothing', async () => {
      await store.append({ aggregateId: 'a', type: 'T' });
      const before = await observe(store);
      expect(await store.append([])).toEqual([]);
      expect(await observe(store)).toEqual(before);
      const [next] = await store.append({ aggregateId: 'a', type: 'T' });
      expect(next!.sequence).toBe(2);
    });

    test('stored events do not alias the caller’s objects, nor the events returned earlier', async () => {
      const payload = { list: [1, 2], inner: { x: 1 } };
      const tags: Record<string, string> = { k: 'v' };
      const metadata = { m: { n: 1 } };
      const [returned] = await store.append({ aggregateId: 'a', type: 'T', payload, tags, metadata });
      payload.list.push(3);
      payload.inner.x = 99;
      tags.k = 'changed';
      metadata.m.n = 99;
      try {
        (returned!.payload as { inner: { x: number } }).inner.x = 42;
        (returned!.tags as Record<string, string>).k = 'mutated';
      } catch {
        // frozen results are fine too
      }
      const [read] = await store.read();
      expect(read!.payload).toEqual({ list: [1, 2], inner: { x: 1 } });
      expect(read!.tags).toEqual({ k: 'v' });
      expect(read!.metadata).toEqual({ m: { n: 1 } });
      expect(await store.queryEvents({ tags: { k: 'v' } })).toHaveLength(1);
      expect(await store.queryEvents({ tags: { k: 'changed' } })).toHaveLength(0);
    });
  });
}
