/** Bad input and bad query arguments: a coded error that names the problem, and nothing changed. */
import { describe, expect, test } from 'vitest';
import {
  EventTooLargeError,
  TammaError,
  ValidationError,
  type EventStore,
  type NewEvent,
} from '../../src/index.js';
import { appendSample, T0 } from '../support/contract-sample.js';
import { expectError, observe, rejection } from '../support/helpers.js';
import { eachFreshStore, type StoreFactory } from './factory.js';

export function validationSuite(factory: StoreFactory): void {
  describe('bad input is rejected, names the problem, and changes nothing', () => {
    let store: EventStore;
    eachFreshStore(factory, (opened) => (store = opened.store));

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

  describe('bad query arguments are ValidationErrors', () => {
    let store: EventStore;
    eachFreshStore(factory, (opened) => (store = opened.store));

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
}
