/** stats(): counts of events, aggregates and types, index lookups and memory. */
import { describe, expect, test } from 'vitest';
import type { EventStore } from '../../src/index.js';
import { appendSample } from '../support/contract-sample.js';
import { rejection } from '../support/helpers.js';
import { eachFreshStore, type StoreFactory } from './factory.js';

export function statsSuite(factory: StoreFactory): void {
  describe('stats', () => {
    let store: EventStore;
    eachFreshStore(factory, (opened) => (store = opened.store));

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
      // What the columns and indexes take is the embedded engine's (test/contract/embedded-specifics.ts).
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
}
