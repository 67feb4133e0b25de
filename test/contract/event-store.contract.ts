import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  ConcurrencyError,
  DuplicateEventIdError,
  EventTooLargeError,
  ManualClock,
  openEventStore,
  StoreClosedError,
  TammaError,
  ValidationError,
  type EventStore,
  type NewEvent,
  type OpenOptions,
  type StoredEvent,
} from '../../src/index.js';
import { expectError, observe, rejection, sequences } from '../support/helpers.js';

export interface ContractContext {
  store: EventStore;
  /** Opens the same store again (after the test closed `store`). Only durable backends give one. */
  reopen?: () => Promise<EventStore>;
  /** Closes whatever is still open and removes the store's files. */
  cleanup: () => Promise<void>;
  /** The clock the store was opened with, so default timestamps can be checked exactly. */
  clock?: ManualClock;
}

const HOUR = 3_600_000;
/** The start time factories should give their ManualClock (any other start works too). */
export const CONTRACT_CLOCK_START = Date.UTC(2024, 0, 1);
const T0 = Date.UTC(2023, 5, 1);

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * The sample used by the query tests. Timestamps are out of append order on purpose; two events
 * share a timestamp; tag values of different types (1, '1', true) must not be confused.
 *
 *  seq agg type            time    tags                            version
 *   1  a1  ORDER.PLACED    +5h     region eu, tier 1, vip true     1
 *   2  a2  ORDER.PLACED    +1h     region us, tier 2               1
 *   3  a1  ORDER.PAID      +3h     region eu, tier '1'             2
 *   4  a3  ORDER.SHIPPED   +0      (none)                          1
 *   5  a1  ORDER.SHIPPED   +7h     region eu, vip false            3
 *   6  a2  ORDER.PAID      +2h     region us, tier 1               2
 *   7  a2  ORDER.SHIPPED   +1h     region apac                     3
 *   8  a1  ORDER.CLOSED    +4h30m  region eu, tier 1               4
 */
function sampleEvents(): NewEvent[] {
  return [
    {
      aggregateId: 'a1',
      type: 'ORDER.PLACED',
      timestamp: T0 + 5 * HOUR,
      tags: { region: 'eu', tier: 1, vip: true },
      payload: { n: 1 },
    },
    {
      aggregateId: 'a2',
      type: 'ORDER.PLACED',
      timestamp: new Date(T0 + HOUR),
      tags: { region: 'us', tier: 2 },
      payload: { n: 2 },
    },
    {
      aggregateId: 'a1',
      type: 'ORDER.PAID',
      timestamp: new Date(T0 + 3 * HOUR).toISOString(),
      tags: { region: 'eu', tier: '1' },
      payload: { n: 3 },
    },
    { aggregateId: 'a3', type: 'ORDER.SHIPPED', timestamp: T0, payload: { n: 4 } },
    {
      aggregateId: 'a1',
      type: 'ORDER.SHIPPED',
      timestamp: T0 + 7 * HOUR,
      tags: { region: 'eu', vip: false },
      payload: { n: 5 },
    },
    {
      aggregateId: 'a2',
      type: 'ORDER.PAID',
      timestamp: T0 + 2 * HOUR,
      tags: { region: 'us', tier: 1 },
      payload: { n: 6 },
    },
    {
      aggregateId: 'a2',
      type: 'ORDER.SHIPPED',
      timestamp: T0 + HOUR,
      tags: { region: 'apac' },
      payload: { n: 7 },
    },
    {
      aggregateId: 'a1',
      type: 'ORDER.CLOSED',
      timestamp: T0 + 4.5 * HOUR,
      tags: { region: 'eu', tier: 1 },
      payload: { n: 8 },
    },
  ];
}

/** Appends the sample in three batches (3, 1 and 4 events); returns all stored events. */
async function appendSample(store: EventStore): Promise<StoredEvent[]> {
  const events = sampleEvents();
  const stored = [
    ...(await store.append(events.slice(0, 3))),
    ...(await store.append(events[3]!)),
    ...(await store.append(events.slice(4))),
  ];
  return stored;
}

/** Runs every query the sample supports and returns the results, to compare a store before and after something. */
async function sampleQueries(store: EventStore): Promise<unknown[]> {
  return [
    await store.read(),
    await store.getEvents('a1'),
    await store.getEvents('a2', { fromVersion: 2 }),
    await store.getEventsByType('ORDER.SHIPPED'),
    await store.getEventsByType('ORDER.PAID', { afterSequence: 3 }),
    await store.getEventsInRange(T0 + HOUR, T0 + 3 * HOUR),
    await store.queryEvents({ tags: { region: 'eu', tier: 1 } }),
    await store.queryEvents({ tags: { tier: '1' } }),
    await store.queryEvents({ aggregateId: ['a2', 'a3'], order: 'desc' }),
    await store.queryEvents({ type: ['ORDER.PAID', 'ORDER.CLOSED'], from: T0 + 2 * HOUR, to: T0 + 5 * HOUR }),
  ];
}

export function eventStoreContract(name: string, factory: () => Promise<ContractContext>): void {
  describe(`EventStore contract: ${name}`, () => {
    let ctx: ContractContext;
    let store: EventStore;

    beforeEach(async () => {
      ctx = await factory();
      store = ctx.store;
    });

    afterEach(async () => {
      await ctx.cleanup();
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

    // ---------------------------------------------------------------------------------------------
    describe('append', () => {
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

      test('a batch gets gap-free sequences and per-aggregate versions, continuing across batches', async () => {
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
      });

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

    // ---------------------------------------------------------------------------------------------
    describe('event ids are unique in the store', () => {
      const placed = (id: string, n: number): NewEvent => ({
        id,
        aggregateId: 'order-1',
        type: 'ORDER.PLACED',
        timestamp: T0 + n,
        tags: { region: 'eu', n },
        payload: { n, items: [{ sku: 'a', qty: 1 }] },
        metadata: { user: 'u1' },
      });

      test('an id appended again with the same content returns the stored event and writes nothing', async () => {
        const [first] = await store.append(placed('e1', 1));
        await store.append({ aggregateId: 'noise', type: 'N' });
        const before = await observe(store);
        // Same content, keys in another order, the timestamp as another type: the same event.
        const again = await store.append({
          metadata: { user: 'u1' },
          payload: { items: [{ qty: 1, sku: 'a' }], n: 1 },
          tags: { n: 1, region: 'eu' },
          timestamp: new Date(T0 + 1).toISOString(),
          type: 'ORDER.PLACED',
          aggregateId: 'order-1',
          id: 'e1',
        });
        expect(again).toEqual([first]);
        expect(again[0]).toMatchObject({ sequence: 1, version: 1 });
        expect(await observe(store)).toEqual(before);
      });

      test('a retry without a timestamp matches the time the store gave the first append', async () => {
        const [first] = await store.append({ id: 'e1', aggregateId: 'a', type: 'T' });
        ctx.clock?.advance(60_000);
        expect(await store.append({ id: 'e1', aggregateId: 'a', type: 'T' })).toEqual([first]);
        // Given, it must be the stored one.
        const error = await rejection(() =>
          store.append({ id: 'e1', aggregateId: 'a', type: 'T', timestamp: first!.timestamp.getTime() + 1 }),
        );
        expectError(error, DuplicateEventIdError, 'DUPLICATE_EVENT_ID', '"e1"', 'sequence 1', 'timestamp');
        expect(store.stats().lastSequence).toBe(1);
      });

      for (const [what, change] of [
        ['aggregateId', { aggregateId: 'order-2' }],
        ['type', { type: 'ORDER.PAID' }],
        ['payload', { payload: { n: 1, items: [] } }],
        ['tags', { tags: { region: 'us', n: 1 } }],
        ['metadata', { metadata: { user: 'u2' } }],
        ['timestamp', { timestamp: T0 + 2 }],
      ] as const) {
        test(`the same id with another ${what} is DUPLICATE_EVENT_ID naming the id and its sequence`, async () => {
          await store.append([{ aggregateId: 'noise', type: 'N' }, placed('e1', 1)]);
          const before = await observe(store);
          const error = await rejection(() =>
            store.append([placed('new', 5), { ...placed('e1', 1), ...change }]),
          );
          expectError(error, DuplicateEventIdError, 'DUPLICATE_EVENT_ID', '"e1"', 'sequence 2', what);
          expect(error).toMatchObject({ id: 'e1', sequence: 2, eventIndex: 1, path: 'events[1].id' });
          // The whole batch is refused: its new event was not written either.
          expect(await observe(store)).toEqual(before);
        });
      }

      test('a batch of retries and new events appends the new ones and returns the stored ones in place', async () => {
        const first = await store.append([placed('e1', 1), placed('e2', 2)]);
        const mixed = await store.append([
          placed('e0', 0),
          placed('e1', 1),
          placed('e3', 3),
          placed('e2', 2),
        ]);
        expect(mixed.map((e) => [e.id, e.sequence, e.version])).toEqual([
          ['e0', 3, 3],
          ['e1', 1, 1],
          ['e3', 4, 4],
          ['e2', 2, 2],
        ]);
        expect(mixed[1]).toEqual(first[0]);
        expect(store.stats().lastSequence).toBe(4);
        expect((await store.read()).map((e) => e.id)).toEqual(['e1', 'e2', 'e0', 'e3']);
      });

      test('ids are unique across streams, and appendToStream obeys the same rule', async () => {
        await store.append(placed('e1', 1));
        const error = await rejection(() => store.appendToStream('order-9', [{ id: 'e1', type: 'X' }]));
        expectError(error, DuplicateEventIdError, 'DUPLICATE_EVENT_ID', '"e1"', 'sequence 1', 'aggregateId');
        // An exact retry through appendToStream, with any expectation the stream still meets.
        const { aggregateId: _aggregate, ...rest } = placed('e1', 1);
        expect(await store.appendToStream('order-1', rest, { expectedVersion: 'any' })).toMatchObject([
          { sequence: 1, version: 1 },
        ]);
        // Mixed: the stream at its expected version takes the new event after the retried one.
        const mixed = await store.appendToStream('order-1', [rest, { id: 'e2', type: 'ORDER.PAID' }], {
          expectedVersion: 1,
        });
        expect(mixed.map((e) => [e.id, e.sequence, e.version])).toEqual([
          ['e1', 1, 1],
          ['e2', 2, 2],
        ]);
        expect(store.stats().lastSequence).toBe(2);
      });

      test('an exact retry of the last appendToStream succeeds; one with other content is refused', async () => {
        const batch = [
          { id: 'c1', type: 'A', payload: { v: 1 } },
          { id: 'c2', type: 'B', payload: { v: 2 } },
        ];
        const first = await store.appendToStream('s', batch, { expectedVersion: 'no_stream' });
        for (const expectedVersion of ['no_stream', 0, 'any'] as const) {
          expect(await store.appendToStream('s', batch, { expectedVersion })).toEqual(first);
        }
        const before = await observe(store);
        const error = await rejection(() =>
          store.appendToStream('s', [batch[0]!, { ...batch[1]!, payload: { v: 3 } }], { expectedVersion: 0 }),
        );
        expectError(error, DuplicateEventIdError, 'DUPLICATE_EVENT_ID', '"c2"', 'sequence 2', 'payload');
        expect(await observe(store)).toEqual(before);
      });

      test("a deleted stream's ids are free; a retry into it is refused as the stream is", async () => {
        await store.append([placed('e1', 1), { id: 'k1', aggregateId: 'keep', type: 'K' }]);
        await store.deleteAggregate('order-1');
        await expect(store.append(placed('e1', 1))).rejects.toMatchObject({ code: 'AGGREGATE_DELETED' });
        const [reused] = await store.append({ id: 'e1', aggregateId: 'other', type: 'T' });
        expect(reused).toMatchObject({ id: 'e1', sequence: 3 });
        expect(await store.append({ id: 'e1', aggregateId: 'other', type: 'T' })).toEqual([reused]);
      });
    });

    // ---------------------------------------------------------------------------------------------
    describe('appendToStream', () => {
      const concurrencyError = async (
        fn: () => Promise<unknown>,
        aggregateId: string,
        expected: unknown,
        actual: number,
      ) => {
        const error = await rejection(fn);
        expectError(error, ConcurrencyError, 'CONCURRENCY_CONFLICT', JSON.stringify(aggregateId));
        expect(error).toBeInstanceOf(TammaError);
        expect(error).toMatchObject({ aggregateId, expected, actual });
      };

      test("'no_stream' succeeds on a new stream and conflicts on an existing one", async () => {
        const first = await store.appendToStream('s', [{ type: 'A' }, { type: 'B' }], {
          expectedVersion: 'no_stream',
        });
        expect(first.map((e) => [e.aggregateId, e.version, e.sequence])).toEqual([
          ['s', 1, 1],
          ['s', 2, 2],
        ]);
        await concurrencyError(
          () => store.appendToStream('s', [{ type: 'C' }], { expectedVersion: 'no_stream' }),
          's',
          'no_stream',
          2,
        );
      });

      test("'stream_exists' conflicts on a new stream and succeeds on an existing one", async () => {
        await concurrencyError(
          () => store.appendToStream('s', { type: 'A' }, { expectedVersion: 'stream_exists' }),
          's',
          'stream_exists',
          0,
        );
        await store.append({ aggregateId: 's', type: 'A' });
        const [event] = await store.appendToStream('s', { type: 'B' }, { expectedVersion: 'stream_exists' });
        expect(event!.version).toBe(2);
      });

      test('a numeric expectedVersion must equal the current version', async () => {
        const [a] = await store.appendToStream('s', { type: 'A' }, { expectedVersion: 0 });
        expect(a!.version).toBe(1);
        await store.append({ aggregateId: 'other', type: 'X' });
        const [b] = await store.appendToStream('s', { type: 'B' }, { expectedVersion: 1 });
        expect(b).toMatchObject({ version: 2, sequence: 3 });
        await concurrencyError(
          () => store.appendToStream('s', { type: 'C' }, { expectedVersion: 1 }),
          's',
          1,
          2,
        );
        await concurrencyError(
          () => store.appendToStream('s', { type: 'C' }, { expectedVersion: 5 }),
          's',
          5,
          2,
        );
        await concurrencyError(
          () => store.appendToStream('new', { type: 'C' }, { expectedVersion: 3 }),
          'new',
          3,
          0,
        );
        await concurrencyError(
          () => store.appendToStream('other', { type: 'C' }, { expectedVersion: 0 }),
          'other',
          0,
          1,
        );
      });

      test("'any' and no options always append", async () => {
        await store.appendToStream('s', { type: 'A' });
        await store.appendToStream('s', [{ type: 'B' }], { expectedVersion: 'any' });
        await store.appendToStream('s', [{ type: 'C' }, { type: 'D' }], {});
        expect((await store.getEvents('s')).map((e) => [e.type, e.version])).toEqual([
          ['A', 1],
          ['B', 2],
          ['C', 3],
          ['D', 4],
        ]);
      });

      test('events get the stream’s aggregateId and all the usual fields', async () => {
        ctx.clock?.set(CONTRACT_CLOCK_START + 777);
        const [event] = await store.appendToStream('s', {
          type: 'A',
          payload: { x: 1 },
          tags: { t: 1 },
          metadata: { m: 'x' },
        });
        expect(event).toMatchObject({
          sequence: 1,
          version: 1,
          aggregateId: 's',
          type: 'A',
          payload: { x: 1 },
          tags: { t: 1 },
          metadata: { m: 'x' },
        });
        expect(event!.id).toMatch(UUID_V7);
        if (ctx.clock) expect(event!.timestamp.getTime()).toBe(CONTRACT_CLOCK_START + 777);
      });

      test('a conflict writes nothing and consumes no sequence number', async () => {
        await store.appendToStream('s', [{ type: 'A' }, { type: 'B' }]);
        const before = await observe(store);
        await concurrencyError(
          () => store.appendToStream('s', [{ type: 'C' }, { type: 'D' }], { expectedVersion: 1 }),
          's',
          1,
          2,
        );
        expect(await observe(store)).toEqual(before);
        const [next] = await store.appendToStream('s', { type: 'C' }, { expectedVersion: 2 });
        expect(next).toMatchObject({ sequence: 3, version: 3 });
      });

      test('a retry with the same event ids at the same positions succeeds without writing twice', async () => {
        await store.append({ aggregateId: 'noise', type: 'N' });
        const batch = [
          { id: 'cmd-1-e1', type: 'A', payload: { v: 1 } },
          { id: 'cmd-1-e2', type: 'B', payload: { v: 2 } },
        ];
        const first = await store.appendToStream('s', batch, { expectedVersion: 0 });
        expect(first.map((e) => [e.sequence, e.version])).toEqual([
          [2, 1],
          [3, 2],
        ]);
        await store.append({ aggregateId: 'noise', type: 'N' });
        const before = await observe(store);

        const retry = await store.appendToStream('s', batch, { expectedVersion: 0 });
        expect(retry).toEqual(first);
        expect(await observe(store)).toEqual(before);

        // A later command on the same stream, retried, is idempotent too.
        const second = await store.appendToStream('s', [{ id: 'cmd-2-e1', type: 'C' }], {
          expectedVersion: 2,
        });
        expect(second[0]).toMatchObject({ sequence: 5, version: 3 });
        const retry2 = await store.appendToStream('s', [{ id: 'cmd-2-e1', type: 'C' }], {
          expectedVersion: 2,
        });
        expect(retry2).toEqual(second);
        // The first command's acknowledgement was lost and the stream moved on since: still idempotent.
        expect(await store.appendToStream('s', batch, { expectedVersion: 0 })).toEqual(first);
        expect(store.stats().events).toBe(5);
        expect((await store.getEvents('s')).map((e) => e.id)).toEqual(['cmd-1-e1', 'cmd-1-e2', 'cmd-2-e1']);
      });

      test('the same event ids at other positions are a conflict', async () => {
        const batch = [
          { id: 'e1', type: 'A' },
          { id: 'e2', type: 'B' },
        ];
        await store.appendToStream('s', batch, { expectedVersion: 0 });
        await store.appendToStream('s', { id: 'e3', type: 'C' }, { expectedVersion: 2 });
        const before = await observe(store);
        // Positions 2..3 hold e2, e3, not e1, e2.
        await concurrencyError(() => store.appendToStream('s', batch, { expectedVersion: 1 }), 's', 1, 3);
        // Position 1 holds e1, but position 2 holds e2, not e3.
        await concurrencyError(
          () =>
            store.appendToStream(
              's',
              [
                { id: 'e1', type: 'A' },
                { id: 'e3', type: 'C' },
              ],
              { expectedVersion: 0 },
            ),
          's',
          0,
          3,
        );
        // Other ids where e1, e2 were expected.
        await concurrencyError(
          () => store.appendToStream('s', [{ id: 'x1', type: 'A' }], { expectedVersion: 0 }),
          's',
          0,
          3,
        );
        expect(await observe(store)).toEqual(before);
      });

      test('an invalid expectedVersion is a ValidationError naming it', async () => {
        for (const expectedVersion of [-1, 1.5, 'latest', Number.NaN]) {
          const error = await rejection(() =>
            store.appendToStream('s', { type: 'A' }, { expectedVersion: expectedVersion as never }),
          );
          expectError(error, ValidationError, (error as TammaError).code, 'expectedVersion');
          expect(error).toBeInstanceOf(TammaError);
        }
        expect(store.stats().events).toBe(0);
      });
    });

    // ---------------------------------------------------------------------------------------------
    describe('queries over the sample', () => {
      let all: StoredEvent[];
      const pick = (...seqs: number[]): StoredEvent[] => seqs.map((s) => all[s - 1]!);

      beforeEach(async () => {
        all = await appendSample(store);
      });

      test('the sample was stored with the expected sequences and versions', async () => {
        expect(sequences(all)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
        expect(all.map((e) => `${e.aggregateId}@${e.version}`)).toEqual([
          'a1@1',
          'a2@1',
          'a1@2',
          'a3@1',
          'a1@3',
          'a2@2',
          'a2@3',
          'a1@4',
        ]);
        expect(all[2]!.timestamp).toEqual(new Date(T0 + 3 * HOUR));
        expect(all[2]!.tags).toEqual({ region: 'eu', tier: '1' });
        expect(all[3]!.tags).toEqual({});
        expect(await store.read()).toEqual(all);
      });

      test('getEvents: one aggregate in version order, with fromVersion / toVersion (inclusive) and limit', async () => {
        expect(await store.getEvents('a1')).toEqual(pick(1, 3, 5, 8));
        expect((await store.getEvents('a1')).map((e) => e.version)).toEqual([1, 2, 3, 4]);
        expect(await store.getEvents('a2')).toEqual(pick(2, 6, 7));
        expect(await store.getEvents('a1', { fromVersion: 2 })).toEqual(pick(3, 5, 8));
        expect(await store.getEvents('a1', { toVersion: 3 })).toEqual(pick(1, 3, 5));
        expect(await store.getEvents('a1', { fromVersion: 2, toVersion: 3 })).toEqual(pick(3, 5));
        expect(await store.getEvents('a1', { fromVersion: 3, toVersion: 3 })).toEqual(pick(5));
        expect(await store.getEvents('a1', { limit: 2 })).toEqual(pick(1, 3));
        expect(await store.getEvents('a1', { fromVersion: 2, limit: 1 })).toEqual(pick(3));
        expect(await store.getEvents('a1', { fromVersion: 2, toVersion: 4, limit: 2 })).toEqual(pick(3, 5));
        expect(await store.getEvents('a1', { limit: 100 })).toEqual(pick(1, 3, 5, 8));
        expect(await store.getEvents('a1', { fromVersion: 5 })).toEqual([]);
        expect(await store.getEvents('a1', { fromVersion: 1, toVersion: 99 })).toEqual(pick(1, 3, 5, 8));
        expect(await store.getEvents('missing')).toEqual([]);
        expect(await store.getEvents('a')).toEqual([]);
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
        expect(await store.queryEvents({ type: 'ORDER.SHIPPED', afterSequence: 4, limit: 1 })).toEqual(
          pick(5),
        );
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

      test('read: global order from a sequence, with limit', async () => {
        expect(await store.read()).toEqual(all);
        expect(await store.read({})).toEqual(all);
        expect(await store.read({ fromSequence: 1 })).toEqual(all);
        expect(await store.read({ fromSequence: 3 })).toEqual(pick(3, 4, 5, 6, 7, 8));
        expect(await store.read({ limit: 2 })).toEqual(pick(1, 2));
        expect(await store.read({ fromSequence: 7, limit: 5 })).toEqual(pick(7, 8));
        expect(await store.read({ fromSequence: 4, limit: 1 })).toEqual(pick(4));
        expect(await store.read({ fromSequence: 8 })).toEqual(pick(8));
        expect(await store.read({ fromSequence: 9 })).toEqual([]);
        expect(await store.read({ fromSequence: 1000, limit: 10 })).toEqual([]);
      });

      test('results are independent copies: mutating one does not change the next read', async () => {
        const first = await store.getEvents('a1');
        try {
          (first[0]!.payload as { n: number }).n = 999;
          (first[0]!.tags as Record<string, unknown>).region = 'mars';
        } catch {
          // frozen results are fine too
        }
        expect(await store.getEvents('a1')).toEqual(pick(1, 3, 5, 8));
        expect((await store.getEvents('a1'))[0]!.payload).toEqual({ n: 1 });
      });
    });

    // ---------------------------------------------------------------------------------------------
    describe('stats', () => {
      const expectIndexStats = (indexes: Record<string, unknown>) => {
        expect(Object.keys(indexes).length).toBeGreaterThan(0);
        for (const [indexName, value] of Object.entries(indexes)) {
          const s = value as Record<string, number>;
          for (const field of ['keys', 'entries', 'bytes', 'lookups', 'hits', 'hitRate']) {
            expect(typeof s[field], `${indexName}.${field}`).toBe('number');
            expect(s[field]!, `${indexName}.${field}`).toBeGreaterThanOrEqual(0);
          }
          expect(s.hits!, indexName).toBeLessThanOrEqual(s.lookups!);
          expect(s.hitRate!, indexName).toBeCloseTo(s.lookups === 0 ? 0 : s.hits! / s.lookups!, 9);
        }
      };

      test('an empty store counts zero', () => {
        const stats = store.stats();
        expect(stats).toMatchObject({ events: 0, aggregates: 0, types: 0, lastSequence: 0 });
        expectIndexStats(stats.indexes);
        for (const value of Object.values(stats.indexes)) expect(value.entries).toBe(0);
      });

      test('counts events, aggregates and types; reports indexes and memory', async () => {
        await appendSample(store);
        const stats = store.stats();
        expect(stats).toMatchObject({ events: 8, aggregates: 3, types: 4, lastSequence: 8 });
        expectIndexStats(stats.indexes);
        const maxEntries = Math.max(...Object.values(stats.indexes).map((s) => s.entries));
        expect(maxEntries).toBeGreaterThanOrEqual(8);
        expect(Object.values(stats.indexes).some((s) => s.keys > 0 && s.bytes > 0)).toBe(true);
        const memory = stats.memory;
        for (const field of ['rss', 'heapUsed', 'columns', 'indexes', 'dictionaries', 'records'] as const) {
          expect(typeof memory[field], field).toBe('number');
          expect(Number.isFinite(memory[field]), field).toBe(true);
          expect(memory[field], field).toBeGreaterThanOrEqual(0);
        }
        expect(memory.rss).toBeGreaterThan(0);
        expect(memory.heapUsed).toBeGreaterThan(0);
        expect(memory.columns).toBeGreaterThan(0);
        expect(memory.indexes).toBeGreaterThan(0);
      });

      test('indexed lookups are counted as lookups and hits', async () => {
        await appendSample(store);
        const total = (field: 'lookups' | 'hits') =>
          Object.values(store.stats().indexes).reduce((sum, s) => sum + s[field], 0);
        const lookups0 = total('lookups');
        const hits0 = total('hits');
        await store.getEvents('a1');
        await store.getEventsByType('ORDER.PAID');
        await store.queryEvents({ tags: { region: 'eu' } });
        expect(total('lookups')).toBeGreaterThan(lookups0);
        expect(total('hits')).toBeGreaterThan(hits0);
        const lookups1 = total('lookups');
        const hits1 = total('hits');
        await store.getEvents('missing');
        expect(total('lookups')).toBeGreaterThan(lookups1);
        expect(total('hits')).toBe(hits1);
        expectIndexStats(store.stats().indexes);
      });

      test('counts follow appends and failed appends change nothing', async () => {
        await store.append([
          { aggregateId: 'a', type: 'X' },
          { aggregateId: 'b', type: 'X' },
        ]);
        expect(store.stats()).toMatchObject({ events: 2, aggregates: 2, types: 1, lastSequence: 2 });
        await rejection(() =>
          store.append([
            { aggregateId: 'c', type: 'Y' },
            { aggregateId: 'd', type: '' },
          ]),
        );
        await rejection(() => store.appendToStream('a', { type: 'Z' }, { expectedVersion: 7 }));
        expect(store.stats()).toMatchObject({ events: 2, aggregates: 2, types: 1, lastSequence: 2 });
        await store.appendToStream('a', { type: 'Z' });
        expect(store.stats()).toMatchObject({ events: 3, aggregates: 2, types: 2, lastSequence: 3 });
      });
    });

    // ---------------------------------------------------------------------------------------------
    describe('bad input is rejected, names the problem, and changes nothing', () => {
      const cycle: Record<string, unknown> = { a: 1 };
      cycle.self = cycle;
      const ok = (i: number): NewEvent => ({ aggregateId: 'a1', type: 'OK', payload: { i } });
      const huge = 'x'.repeat(2 * 1024 * 1024 + 10);

      const cases: {
        title: string;
        run: (store: EventStore) => Promise<unknown>;
        type: abstract new (...args: never[]) => Error;
        code: string;
        fragments: string[];
      }[] = [
        {
          title: 'missing aggregateId',
          run: (s) => s.append([ok(0), { type: 'T' } as NewEvent]),
          type: ValidationError,
          code: 'VALIDATION_FAILED',
          fragments: ['events[1].aggregateId'],
        },
        {
          title: 'empty aggregateId',
          run: (s) => s.append([ok(0), ok(1), { aggregateId: '', type: 'T' }]),
          type: ValidationError,
          code: 'VALIDATION_FAILED',
          fragments: ['events[2].aggregateId', '""'],
        },
        {
          title: 'non-string aggregateId',
          run: (s) => s.append({ aggregateId: 42 as unknown as string, type: 'T' }),
          type: ValidationError,
          code: 'VALIDATION_FAILED',
          fragments: ['events[0].aggregateId', '42'],
        },
        {
          title: 'an aggregateId with a lone surrogate (no UTF-8 form)',
          run: (s) => s.append([ok(0), { aggregateId: 'order-\ud800', type: 'T' }]),
          type: ValidationError,
          code: 'VALIDATION_FAILED',
          fragments: ['events[1].aggregateId', 'lone surrogate'],
        },
        {
          title: 'a tag value with a lone surrogate',
          run: (s) => s.append({ aggregateId: 'a', type: 'T', tags: { k: '\udc00x' } }),
          type: ValidationError,
          code: 'VALIDATION_FAILED',
          fragments: ['events[0].tags.k', 'lone surrogate'],
        },
        {
          title: 'an aggregateId over 65,535 bytes',
          run: (s) => s.append([ok(0), { aggregateId: 'é'.repeat(40_000), type: 'T' }]),
          type: ValidationError,
          code: 'VALIDATION_FAILED',
          fragments: ['events[1].aggregateId', '65535'],
        },
        {
          title: 'missing type',
          run: (s) => s.append({ aggregateId: 'a' } as NewEvent),
          type: ValidationError,
          code: 'VALIDATION_FAILED',
          fragments: ['events[0].type'],
        },
        {
          title: 'empty type',
          run: (s) => s.append([ok(0), { aggregateId: 'a', type: '' }]),
          type: ValidationError,
          code: 'VALIDATION_FAILED',
          fragments: ['events[1].type'],
        },
        {
          title: 'an event that is not an object',
          run: (s) => s.append([ok(0), null as unknown as NewEvent]),
          type: ValidationError,
          code: 'VALIDATION_FAILED',
          fragments: ['events[1]'],
        },
        {
          title: 'a function payload',
          run: (s) => s.append([ok(0), { aggregateId: 'a', type: 'T', payload: () => 1 }]),
          type: ValidationError,
          code: 'VALIDATION_FAILED',
          fragments: ['events[1].payload', 'function'],
        },
        {
          title: 'a BigInt in the payload',
          run: (s) => s.append([ok(0), { aggregateId: 'a', type: 'T', payload: { n: 10n } }]),
          type: ValidationError,
          code: 'VALIDATION_FAILED',
          fragments: ['events[1].payload.n', 'BigInt'],
        },
        {
          title: 'a cyclic payload',
          run: (s) => s.append({ aggregateId: 'a', type: 'T', payload: cycle }),
          type: ValidationError,
          code: 'VALIDATION_FAILED',
          fragments: ['events[0].payload', 'cycle'],
        },
        {
          title: 'NaN in the payload',
          run: (s) => s.append({ aggregateId: 'a', type: 'T', payload: { x: Number.NaN } }),
          type: ValidationError,
          code: 'VALIDATION_FAILED',
          fragments: ['events[0].payload.x', 'NaN'],
        },
        {
          title: 'Infinity deep in the payload',
          run: (s) => s.append([ok(0), { aggregateId: 'a', type: 'T', payload: { list: [1, Infinity] } }]),
          type: ValidationError,
          code: 'VALIDATION_FAILED',
          fragments: ['events[1].payload.list[1]', 'Infinity'],
        },
        {
          title: "timestamp 'not a date'",
          run: (s) => s.append([ok(0), { aggregateId: 'a', type: 'T', timestamp: 'not a date' }]),
          type: ValidationError,
          code: 'VALIDATION_FAILED',
          fragments: ['events[1].timestamp', '"not a date"'],
        },
        {
          title: 'timestamp NaN',
          run: (s) => s.append({ aggregateId: 'a', type: 'T', timestamp: Number.NaN }),
          type: ValidationError,
          code: 'VALIDATION_FAILED',
          fragments: ['events[0].timestamp', 'NaN'],
        },
        {
          title: "timestamp new Date('x')",
          run: (s) => s.append({ aggregateId: 'a', type: 'T', timestamp: new Date('x') }),
          type: ValidationError,
          code: 'VALIDATION_FAILED',
          fragments: ['events[0].timestamp', 'Invalid Date'],
        },
        {
          title: 'an event over maxEventSize',
          run: (s) => s.append([ok(0), { aggregateId: 'a', type: 'T', payload: huge }, ok(2)]),
          type: EventTooLargeError,
          code: 'EVENT_TOO_LARGE',
          fragments: ['events[1]', 'maxEventSize'],
        },
        {
          title: 'duplicate ids in one batch',
          run: (s) =>
            s.append([
              { ...ok(0), id: 'same' },
              { ...ok(1), id: 'other' },
              { ...ok(2), id: 'same' },
            ]),
          type: ValidationError,
          code: 'DUPLICATE_EVENT_ID',
          fragments: ['events[2].id', '"same"'],
        },
        {
          title: 'an unknown event field',
          run: (s) => s.append([ok(0), { aggregateId: 'a', type: 'T', colour: 'red' } as NewEvent]),
          type: ValidationError,
          code: 'VALIDATION_FAILED',
          fragments: ['events[1].colour'],
        },
        {
          title: 'a tag value that is an object',
          run: (s) => s.append({ aggregateId: 'a', type: 'T', tags: { bad: { x: 1 } as unknown as string } }),
          type: ValidationError,
          code: 'VALIDATION_FAILED',
          fragments: ['events[0].tags.bad'],
        },
        {
          title: 'metadata that is not an object',
          run: (s) =>
            s.append({ aggregateId: 'a', type: 'T', metadata: 'meta' as unknown as Record<string, unknown> }),
          type: ValidationError,
          code: 'VALIDATION_FAILED',
          fragments: ['events[0].metadata'],
        },
        {
          title: 'appendToStream: a bad event in the batch',
          run: (s) => s.appendToStream('a1', [{ type: 'T' }, { type: '' }], { expectedVersion: 'any' }),
          type: ValidationError,
          code: 'VALIDATION_FAILED',
          fragments: ['events[1].type'],
        },
        {
          title: 'appendToStream: a bad event at the right expectedVersion',
          run: (s) =>
            s.appendToStream('a1', [{ type: 'T' }, { type: 'T', payload: () => 1 }], { expectedVersion: 2 }),
          type: ValidationError,
          code: 'VALIDATION_FAILED',
          fragments: ['events[1].payload'],
        },
        {
          title: 'appendToStream: an empty aggregateId',
          run: (s) => s.appendToStream('', [{ type: 'T' }]),
          type: ValidationError,
          code: 'VALIDATION_FAILED',
          fragments: ['aggregateId'],
        },
        {
          title: 'appendToStream: an oversize event',
          run: (s) => s.appendToStream('a1', [{ type: 'T', payload: huge }]),
          type: EventTooLargeError,
          code: 'EVENT_TOO_LARGE',
          fragments: ['events[0]'],
        },
      ];

      for (const c of cases) {
        test(c.title, async () => {
          await store.append([ok(1), ok(2), { aggregateId: 'b', type: 'OTHER' }]);
          const before = await observe(store);
          const error = await rejection(() => c.run(store));
          expect(error).toBeInstanceOf(TammaError);
          expectError(error, c.type, c.code, ...c.fragments);
          expect(await observe(store)).toEqual(before);
          expect(await store.getEvents('a1')).toEqual(before.all.slice(0, 2));
          // No sequence number or version was consumed.
          const [next] = await store.append(ok(3));
          expect(next).toMatchObject({ sequence: 4, version: 3 });
        });
      }

      test('EventTooLargeError carries size and limit', async () => {
        const error = await rejection(() => store.append({ aggregateId: 'a', type: 'T', payload: huge }));
        expectError(error, EventTooLargeError, 'EVENT_TOO_LARGE');
        const e = error as EventTooLargeError;
        expect(e.size).toBeGreaterThan(e.limit);
        expect(e.size).toBeGreaterThanOrEqual(huge.length);
        expect(e.message).toContain(String(e.limit));
      });
    });

    // ---------------------------------------------------------------------------------------------
    describe('bad query arguments are ValidationErrors', () => {
      test('limits, sequences and times are checked at the door', async () => {
        await appendSample(store);
        const calls: [string, () => Promise<unknown>][] = [
          ['limit', () => store.getEvents('a1', { limit: -1 })],
          ['limit', () => store.read({ limit: 1.5 })],
          ['fromVersion', () => store.getEvents('a1', { fromVersion: -2 })],
          ['afterSequence', () => store.getEventsByType('ORDER.PAID', { afterSequence: Number.NaN })],
          ['start', () => store.getEventsInRange('not a date', T0)],
          ['end', () => store.getEventsInRange(T0, new Date('x'))],
          ['order', () => store.queryEvents({ order: 'sideways' as 'asc' })],
          ['from', () => store.queryEvents({ from: 'yesterday-ish' })],
        ];
        for (const [fragment, call] of calls) {
          const error = await rejection(call);
          expect(error, fragment).toBeInstanceOf(ValidationError);
          expect((error as Error).message, fragment).toContain(fragment);
        }
      });
    });

    // ---------------------------------------------------------------------------------------------
    describe('options', () => {
      const invalid: [OpenOptions, string][] = [
        [{ fsync: 'sometimes' as 'always' }, 'fsync'],
        [{ segmentSize: -1 }, 'segmentSize'],
        [{ segmentSize: 1.5 }, 'segmentSize'],
        [{ maxEventSize: 'big' as unknown as number }, 'maxEventSize'],
        [{ checkpointEvery: -5 }, 'checkpointEvery'],
        [{ fsyncIntervalMs: 0 }, 'fsyncIntervalMs'],
        [{ checkpointEvery: 2.5 }, 'checkpointEvery'],
        [{ clock: {} as ManualClock }, 'clock'],
        [{ dir: '' }, 'dir'],
        [{ verifyOnOpen: 'yes' as unknown as boolean }, 'verifyOnOpen'],
        [{ futureTolerance: 'soon' }, 'futureTolerance'],
        [{ onFutureEvent: 'drop' as 'clamp' }, 'onFutureEvent'],
        [{ foo: 1 } as unknown as OpenOptions, 'foo'],
      ];
      for (const [options, option] of invalid) {
        test(`openEventStore(${JSON.stringify(options)}) names ${option}`, async () => {
          const error = await rejection(() => openEventStore(options));
          expectError(error, ValidationError, 'INVALID_OPTION', option);
          expect((error as ValidationError).path).toBe(option);
        });
      }
    });

    // ---------------------------------------------------------------------------------------------
    describe('close', () => {
      test('every operation after close() rejects with StoreClosedError', async () => {
        await appendSample(store);
        await store.close();
        const calls: [string, () => Promise<unknown>][] = [
          ['append', () => store.append({ aggregateId: 'a', type: 'T' })],
          ['appendToStream', () => store.appendToStream('a', { type: 'T' })],
          ['getEvents', () => store.getEvents('a1')],
          ['getEventsByType', () => store.getEventsByType('ORDER.PAID')],
          ['getEventsInRange', () => store.getEventsInRange(T0, T0 + HOUR)],
          ['queryEvents', () => store.queryEvents({ type: 'ORDER.PAID' })],
          ['read', () => store.read()],
          ['flush', () => store.flush()],
          ['checkpoint', () => store.checkpoint()],
        ];
        for (const [method, call] of calls) {
          const error = await rejection(call);
          expect(error, method).toBeInstanceOf(StoreClosedError);
          expect((error as TammaError).code, method).toBe('STORE_CLOSED');
        }
      });

      test('close() twice is harmless', async () => {
        await store.append({ aggregateId: 'a', type: 'T' });
        await store.close();
        await store.close();
      });

      test('an append in flight when close() is called either completes or is rejected, never lost half-way', async ({
        skip,
      }) => {
        if (!ctx.reopen) skip();
        const appends = Array.from({ length: 20 }, (_, i) =>
          store.append([
            { aggregateId: `c${i}`, type: 'T', payload: { i, part: 0 } },
            { aggregateId: `c${i}`, type: 'T', payload: { i, part: 1 } },
          ]),
        );
        const closing = store.close();
        const outcomes = await Promise.allSettled(appends);
        await closing;
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(StoreClosedError);
        }
        const acknowledged = outcomes.flatMap((o) => (o.status === 'fulfilled' ? o.value : []));
        store = await ctx.reopen!();
        const after = await store.read();
        expect(sequences(after)).toEqual(after.map((_, i) => i + 1));
        for (const event of acknowledged) expect(after[event.sequence - 1]).toEqual(event);
        expect(after).toHaveLength(acknowledged.length);
      });
    });

    // ---------------------------------------------------------------------------------------------
    describe('persistence (close + reopen)', () => {
      test('data, versions and indexes survive; appends continue the sequence', async ({ skip }) => {
        if (!ctx.reopen) skip();
        const all = await appendSample(store);
        await store.appendToStream('s', [{ id: 'cmd-e1', type: 'A' }], { expectedVersion: 0 });
        const before = await sampleQueries(store);
        const statsBefore = store.stats();
        await store.close();

        store = await ctx.reopen!();
        expect(store.stats()).toMatchObject({
          events: statsBefore.events,
          aggregates: statsBefore.aggregates,
          types: statsBefore.types,
          lastSequence: 9,
        });
        expect(await sampleQueries(store)).toEqual(before);
        expect((await store.read()).slice(0, 8)).toEqual(all);

        // Versions survive: optimistic concurrency and idempotent retry see the old stream.
        await expect(store.appendToStream('a1', { type: 'X' }, { expectedVersion: 3 })).rejects.toMatchObject(
          {
            code: 'CONCURRENCY_CONFLICT',
            actual: 4,
          },
        );
        const retry = await store.appendToStream('s', [{ id: 'cmd-e1', type: 'A' }], { expectedVersion: 0 });
        expect(retry[0]).toMatchObject({ sequence: 9, version: 1 });
        const [next] = await store.appendToStream(
          'a1',
          { type: 'ORDER.REOPENED', tags: { region: 'eu' } },
          { expectedVersion: 4 },
        );
        expect(next).toMatchObject({ sequence: 10, version: 5 });
        const [other] = await store.append({ aggregateId: 'new', type: 'ORDER.PLACED' });
        expect(other).toMatchObject({ sequence: 11, version: 1 });
        expect(sequences(await store.queryEvents({ tags: { region: 'eu' } }))).toEqual([1, 3, 5, 8, 10]);
        expect(sequences(await store.getEventsByType('ORDER.PLACED'))).toEqual([1, 2, 11]);

        // And once more, including what was appended after the first reopen.
        const final = await store.read();
        await store.close();
        store = await ctx.reopen!();
        expect(await store.read()).toEqual(final);
        expect(store.stats()).toMatchObject({ events: 11, lastSequence: 11 });
        const [last] = await store.append({ aggregateId: 'a1', type: 'T' });
        expect(last).toMatchObject({ sequence: 12, version: 6 });
      });

      test('an empty store reopens empty and starts at sequence 1', async ({ skip }) => {
        if (!ctx.reopen) skip();
        await store.close();
        store = await ctx.reopen!();
        expect(store.stats()).toMatchObject({ events: 0, lastSequence: 0 });
        expect(await store.read()).toEqual([]);
        const [first] = await store.append({ aggregateId: 'a', type: 'T' });
        expect(first!.sequence).toBe(1);
      });

      test('rejected appends leave no trace after reopen', async ({ skip }) => {
        if (!ctx.reopen) skip();
        await store.append({ aggregateId: 'a', type: 'T', payload: 1 });
        await rejection(() =>
          store.append([
            { aggregateId: 'a', type: 'T' },
            { aggregateId: 'a', type: 'T', payload: 'x'.repeat(3_000_000) },
          ]),
        );
        await rejection(() => store.appendToStream('a', { type: 'T' }, { expectedVersion: 0 }));
        await store.append({ aggregateId: 'a', type: 'T', payload: 2 });
        const before = await store.read();
        await store.close();
        store = await ctx.reopen!();
        expect(await store.read()).toEqual(before);
        expect(before.map((e) => [e.sequence, e.version, e.payload])).toEqual([
          [1, 1, 1],
          [2, 2, 2],
        ]);
      });
    });
  });
}
