/** appendToStream(): optimistic concurrency on a stream's version, and idempotent retries by event id. */
import { describe, expect, test } from 'vitest';
import { ConcurrencyError, TammaError, ValidationError, type EventStore } from '../../src/index.js';
import { UUID_V7 } from '../support/contract-sample.js';
import { expectError, observe, rejection } from '../support/helpers.js';
import { CONTRACT_CLOCK_START, type ContractContext, type StoreFactory, eachFreshStore } from './factory.js';
import { requires } from './requires.js';

export function appendToStreamSuite(factory: StoreFactory): void {
  describe('appendToStream', () => {
    let ctx: ContractContext;
    let store: EventStore;
    eachFreshStore(factory, (opened) => {
      ctx = opened;
      store = opened.store;
    });

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

    requires(factory, 'gapFreeSequences').test(
      'a conflict writes nothing and consumes no sequence number',
      async () => {
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
      },
    );

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
}
