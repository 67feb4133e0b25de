/** Opening with bad options, and closing: what a closed store refuses and what close() waits for. */
import { describe, expect, test } from 'vitest';
import {
  ManualClock,
  openEventStore,
  StoreClosedError,
  TammaError,
  ValidationError,
  type EventStore,
  type OpenOptions,
} from '../../src/index.js';
import { appendSample, HOUR, T0 } from '../support/contract-sample.js';
import { expectError, rejection, sequences } from '../support/helpers.js';
import { eachFreshStore, type ContractContext, type StoreFactory } from './factory.js';
import { requires } from './requires.js';

export function lifecycleSuite(factory: StoreFactory): void {
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

  describe('close', () => {
    let ctx: ContractContext;
    let store: EventStore;
    eachFreshStore(factory, (opened) => {
      ctx = opened;
      store = opened.store;
    });

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

    requires(factory, 'durable').test(
      'an append in flight when close() is called either completes or is rejected, never lost half-way',
      async () => {
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
      },
    );
  });
}
