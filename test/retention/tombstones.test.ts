import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ManualClock,
  ValidationError,
  openEventStore,
  type EventStore,
  type StoredEvent,
} from '../../src/index.js';
import { expectError, rejection, removeDir, tempDir } from '../support/helpers.js';

const T0 = Date.UTC(2026, 0, 1);
const seqs = (rows: readonly unknown[]) => (rows as StoredEvent[]).map((event) => event.sequence);

/** 60 events over streams s0..s5 (10 each, interleaved), types A and B, tag k. */
async function fill(store: EventStore): Promise<void> {
  await store.append(
    Array.from({ length: 60 }, (_, i) => ({
      aggregateId: `s${i % 6}`,
      type: i % 2 ? 'A' : 'B',
      timestamp: T0 + i * 1000,
      tags: { k: `v${i % 3}` },
      payload: { n: i },
    })),
  );
}

const live = (deleted: Set<string>) =>
  Array.from({ length: 60 }, (_, i) => i)
    .filter((i) => !deleted.has(`s${i % 6}`))
    .map((i) => i + 1);

let dir: string;

beforeEach(async () => {
  dir = await tempDir('tombstones');
});

afterEach(async () => {
  await removeDir(dir);
});

describe('deleteAggregate (tombstones)', () => {
  for (const where of ['in memory', 'on disk'] as const) {
    it(`hides a deleted stream from every read at once (${where})`, async () => {
      const store = await openEventStore({
        clock: new ManualClock(T0),
        ...(where === 'on disk' ? { dir: join(dir, 'store') } : {}),
      });
      await fill(store);
      expect(await store.deleteAggregate('s2')).toBe(true);
      expect(await store.deleteAggregate('s2')).toBe(false);
      const expected = live(new Set(['s2']));
      expect(await store.getEvents('s2')).toEqual([]);
      expect(seqs(await store.getEvents('s3'))).toHaveLength(10);
      expect(seqs(await store.read())).toEqual(expected);
      expect(seqs(await store.read({ fromSequence: 1, limit: 5 }))).toEqual(expected.slice(0, 5));
      expect(seqs(await store.getEventsByType('B'))).toEqual(expected.filter((s) => (s - 1) % 2 === 0));
      expect(seqs(await store.getEventsInRange(T0, T0 + 60_000))).toEqual(expected);
      expect(seqs(await store.queryEvents({ tags: { k: 'v2' } }))).toEqual(
        expected.filter((s) => (s - 1) % 3 === 2),
      );
      const query = store.query().where('aggregateId', 'in', ['s1', 's2']);
      for (const index of ['aggregate', 'scan']) {
        expect(seqs(await query.hint({ forceIndex: [index] }).execute())).toEqual(
          expected.filter((s) => (s - 1) % 6 === 1),
        );
      }
      const streamed: StoredEvent[] = [];
      for await (const event of store.query().hint({ batchSize: 7 }).executeStream())
        streamed.push(event as StoredEvent);
      expect(seqs(streamed)).toEqual(expected);
      expect(seqs(await store.query().orderBy('payload.n', 'desc').limit(3).execute())).toEqual(
        expected.slice(-3).reverse(),
      );
      const analyzed = await store.explain(store.query().where('type', 'eq', 'A'), { analyze: true });
      expect(analyzed.plan.actualRows).toBe(expected.filter((s) => (s - 1) % 2 === 1).length);
      expect(store.stats()).toMatchObject({
        events: 50,
        aggregates: 5,
        deletedAggregates: 1,
        lastSequence: 60,
      });
      await store.close();
    });
  }

  it('refuses appends to a deleted stream and writes nothing', async () => {
    const store = await openEventStore({ clock: new ManualClock(T0) });
    await fill(store);
    await store.deleteAggregate('s1');
    const batch = [
      { aggregateId: 's0', type: 'A' },
      { aggregateId: 's1', type: 'A' },
    ];
    expectError(
      await rejection(() => store.append(batch)),
      ValidationError,
      'AGGREGATE_DELETED',
      'events[1].aggregateId',
    );
    expectError(
      await rejection(() => store.appendToStream('s1', [{ type: 'A', id: 'x' }])),
      ValidationError,
      'AGGREGATE_DELETED',
      'aggregateId',
    );
    expect(store.stats()).toMatchObject({ events: 50, lastSequence: 60 });
    // A stream never seen can be deleted too, and then never started.
    expect(await store.deleteAggregate('never')).toBe(true);
    expectError(
      await rejection(() => store.append({ aggregateId: 'never', type: 'A' })),
      ValidationError,
      'AGGREGATE_DELETED',
      'events[0].aggregateId',
    );
    expect(store.stats()).toMatchObject({ events: 50, aggregates: 5, deletedAggregates: 2 });
    expectError(
      await rejection(() => store.deleteAggregate('')),
      ValidationError,
      'VALIDATION_FAILED',
      'aggregateId',
    );
    await store.close();
  });

  it('survives restart, and a torn last line (a deletion never acknowledged) is ignored', async () => {
    const path = join(dir, 'store');
    let store = await openEventStore({ dir: path, clock: new ManualClock(T0) });
    await fill(store);
    await store.deleteAggregate('s4');
    await store.close();
    writeFileSync(
      join(path, 'tombstones.log'),
      `${readFileSync(join(path, 'tombstones.log'), 'utf8')}{"aggreg`,
    );
    store = await openEventStore({ dir: path, clock: new ManualClock(T0) });
    expect(await store.getEvents('s4')).toEqual([]);
    expect(seqs(await store.read())).toEqual(live(new Set(['s4'])));
    expect(store.stats()).toMatchObject({ events: 50, deletedAggregates: 1 });
    await store.close();
  });
});
