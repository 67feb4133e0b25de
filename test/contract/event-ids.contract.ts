/** Event ids are unique in the store: an exact retry returns the stored event, other content is refused. */
import { describe, expect, test } from 'vitest';
import { DuplicateEventIdError, type EventStore, type NewEvent } from '../../src/index.js';
import { T0 } from '../support/contract-sample.js';
import { expectError, observe, rejection } from '../support/helpers.js';
import { eachFreshStore, type ContractContext, type StoreFactory } from './factory.js';
import { requires } from './requires.js';

export function eventIdsSuite(factory: StoreFactory): void {
  describe('event ids are unique in the store', () => {
    let ctx: ContractContext;
    let store: EventStore;
    eachFreshStore(factory, (opened) => {
      ctx = opened;
      store = opened.store;
    });

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
      const mixed = await store.append([placed('e0', 0), placed('e1', 1), placed('e3', 3), placed('e2', 2)]);
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

    requires(factory, 'erasure').test(
      "a deleted stream's ids are free; a retry into it is refused as the stream is",
      async () => {
        await store.append([placed('e1', 1), { id: 'k1', aggregateId: 'keep', type: 'K' }]);
        await store.deleteAggregate('order-1');
        await expect(store.append(placed('e1', 1))).rejects.toMatchObject({ code: 'AGGREGATE_DELETED' });
        const [reused] = await store.append({ id: 'e1', aggregateId: 'other', type: 'T' });
        expect(reused).toMatchObject({ id: 'e1', sequence: 3 });
        expect(await store.append({ id: 'e1', aggregateId: 'other', type: 'T' })).toEqual([reused]);
      },
    );
  });
}
