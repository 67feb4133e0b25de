/**
 * Reads over the sample: a stream by version (getEvents) and the whole log in global order (read),
 * each result a copy of its own.
 */
import { describe, expect, test } from 'vitest';
import type { EventStore, StoredEvent } from '../../src/index.js';
import { appendSample, HOUR, T0 } from '../support/contract-sample.js';
import { sequences } from '../support/helpers.js';
import { eachFreshStore, type StoreFactory } from './factory.js';

export function readSuite(factory: StoreFactory): void {
  describe('reads over the sample', () => {
    let store: EventStore;
    let all: StoredEvent[];
    const pick = (...seqs: number[]): StoredEvent[] => seqs.map((s) => all[s - 1]!);
    eachFreshStore(factory, async (opened) => {
      store = opened.store;
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
}
