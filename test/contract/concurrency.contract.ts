/** Many writers at once: optimistic concurrency picks one winner, batches stay whole, retries write once. */
import { afterEach, describe, expect, test } from 'vitest';
import { ConcurrencyError, systemClock, type EventStore, type StoredEvent } from '../../src/index.js';
import { sequences } from '../support/helpers.js';
import { randomInt, seededRandom } from '../support/random.js';
import type { ContractContext, StoreFactory } from './factory.js';
import { requires } from './requires.js';

const WRITERS = 60;

const currentVersion = async (store: EventStore, aggregateId: string): Promise<number> =>
  (await store.getEvents(aggregateId)).at(-1)?.version ?? 0;

export function concurrencySuite(factory: StoreFactory): void {
  describe(`concurrency: ${factory.name}`, () => {
    let ctx: ContractContext | undefined;

    // The system clock: fsync deadlines (fsync 'batch') pass as they would in production.
    const open = async (): Promise<EventStore> => {
      ctx = await factory.open({ clock: systemClock });
      return ctx.store;
    };

    /** On a durable engine, also checks that what the store returned is what a reopened store reads. */
    const checkDurable = async (store: EventStore): Promise<void> => {
      if (!factory.capabilities.durable) return;
      const before = await store.read();
      await store.close();
      const reopened = await ctx!.reopen!();
      expect(await reopened.read()).toEqual(before);
    };

    afterEach(async () => {
      await ctx?.cleanup();
      ctx = undefined;
    });

    test(`${WRITERS} writers expecting the same version: exactly one wins each round`, async () => {
      const store = await open();
      const pending = new Set(Array.from({ length: WRITERS }, (_, i) => i));
      const winners: number[] = [];
      while (pending.size > 0) {
        const version = await currentVersion(store, 'hot');
        expect(version).toBe(winners.length);
        const writers = [...pending];
        const outcomes = await Promise.allSettled(
          writers.map((writer) =>
            store.appendToStream('hot', { type: 'WRITE', payload: { writer } }, { expectedVersion: version }),
          ),
        );
        const won = outcomes.flatMap((o, i) =>
          o.status === 'fulfilled' ? [{ writer: writers[i]!, events: o.value }] : [],
        );
        expect(won).toHaveLength(1);
        expect(won[0]!.events[0]).toMatchObject({
          version: version + 1,
          payload: { writer: won[0]!.writer },
        });
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') {
            expect(outcome.reason).toBeInstanceOf(ConcurrencyError);
            expect(outcome.reason).toMatchObject({
              aggregateId: 'hot',
              expected: version,
              actual: version + 1,
            });
          }
        }
        winners.push(won[0]!.writer);
        pending.delete(won[0]!.writer);
      }
      const events = await store.getEvents('hot');
      expect(events.map((e) => e.version)).toEqual(Array.from({ length: WRITERS }, (_, i) => i + 1));
      expect(sequences(events)).toEqual(Array.from({ length: WRITERS }, (_, i) => i + 1));
      expect(events.map((e) => (e.payload as { writer: number }).writer)).toEqual(winners);
      expect(new Set(winners).size).toBe(WRITERS);
      expect(store.stats()).toMatchObject({ events: WRITERS, lastSequence: WRITERS });
      await checkDurable(store);
    });

    test(`${WRITERS} free-running writers retry on conflict until all succeed: versions 1..N, each writer once`, async () => {
      const store = await open();
      const random = seededRandom(42);
      const sizes = Array.from({ length: WRITERS }, () => randomInt(random, 1, 3));
      let conflicts = 0;
      const writer = async (w: number): Promise<StoredEvent[]> => {
        let expectedVersion = 0; // every writer starts from the empty stream it read
        for (let attempt = 0; attempt < 10 * WRITERS; attempt++) {
          try {
            return await store.appendToStream(
              'hot',
              Array.from({ length: sizes[w]! }, (_, part) => ({
                type: 'WRITE',
                payload: { writer: w, part },
              })),
              { expectedVersion },
            );
          } catch (error) {
            expect(error).toBeInstanceOf(ConcurrencyError);
            expect((error as ConcurrencyError).expected).toBe(expectedVersion);
            expect((error as ConcurrencyError).actual).toBeGreaterThan(expectedVersion);
            conflicts++;
            expectedVersion = await currentVersion(store, 'hot');
          }
        }
        throw new Error(`writer ${w} never succeeded`);
      };
      // Some noise on other streams at the same time, which must not disturb 'hot'.
      const noise = Array.from({ length: 20 }, (_, i) =>
        store.append({ aggregateId: `noise-${i % 3}`, type: 'N' }),
      );
      const results = await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
      await Promise.all(noise);
      expect(conflicts).toBeGreaterThan(0);

      const total = sizes.reduce((a, b) => a + b, 0);
      const events = await store.getEvents('hot');
      expect(events.map((e) => e.version)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      // Each writer's batch appears exactly once, whole and contiguous, as it was acknowledged.
      const byWriter = new Map<number, StoredEvent[]>();
      for (const e of events) {
        const { writer: w } = e.payload as { writer: number };
        byWriter.set(w, [...(byWriter.get(w) ?? []), e]);
      }
      expect(byWriter.size).toBe(WRITERS);
      for (let w = 0; w < WRITERS; w++) {
        const mine = byWriter.get(w)!;
        expect(mine).toEqual(results[w]);
        expect(mine.map((e) => (e.payload as { part: number }).part)).toEqual(
          Array.from({ length: sizes[w]! }, (_, i) => i),
        );
        expect(mine.at(-1)!.version - mine[0]!.version).toBe(sizes[w]! - 1);
        expect(mine.at(-1)!.sequence - mine[0]!.sequence).toBe(sizes[w]! - 1);
      }
      const all = await store.read();
      expect(sequences(all)).toEqual(Array.from({ length: total + 20 }, (_, i) => i + 1));
      await checkDurable(store);
    });

    requires(factory, 'gapFreeSequences').test(
      'concurrent append() across aggregates keeps sequences gap-free and batches contiguous',
      async () => {
        const store = await open();
        const random = seededRandom(7);
        const batches = Array.from({ length: 150 }, (_, b) =>
          Array.from({ length: randomInt(random, 1, 12) }, (_, i) => ({
            aggregateId: `agg-${randomInt(random, 0, 9)}`,
            type: `T${randomInt(random, 0, 3)}`,
            payload: { b, i },
          })),
        );
        const results = await Promise.all(batches.map((batch) => store.append(batch)));
        const total = batches.reduce((n, b) => n + b.length, 0);

        for (const [b, result] of results.entries()) {
          expect(result).toHaveLength(batches[b]!.length);
          expect(result.map((e) => e.payload)).toEqual(batches[b]!.map((e) => e.payload));
          // Atomic batch: consecutive sequences.
          for (let i = 1; i < result.length; i++) expect(result[i]!.sequence).toBe(result[0]!.sequence + i);
        }
        const returned = results.flat().sort((x, y) => x.sequence - y.sequence);
        expect(sequences(returned)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
        const all = await store.read();
        expect(all).toEqual(returned);
        for (let a = 0; a < 10; a++) {
          const events = await store.getEvents(`agg-${a}`);
          expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
          expect(sequences(events)).toEqual(
            all.filter((e) => e.aggregateId === `agg-${a}`).map((e) => e.sequence),
          );
        }
        expect(store.stats()).toMatchObject({ events: total, lastSequence: total, aggregates: 10 });
        await checkDurable(store);
      },
    );

    test('concurrent retries of one command (same ids, same expectedVersion) write it once and all succeed', async () => {
      const store = await open();
      await store.append({ aggregateId: 'cmd', type: 'OPENED' });
      const command = [
        { id: 'command-7-a', type: 'DONE', payload: { part: 0 } },
        { id: 'command-7-b', type: 'DONE', payload: { part: 1 } },
      ];
      const results = await Promise.all(
        Array.from({ length: 20 }, () => store.appendToStream('cmd', command, { expectedVersion: 1 })),
      );
      for (const result of results) expect(result).toEqual(results[0]);
      expect(results[0]!.map((e) => [e.id, e.version, e.sequence])).toEqual([
        ['command-7-a', 2, 2],
        ['command-7-b', 3, 3],
      ]);
      expect(store.stats().events).toBe(3);
      await checkDurable(store);
    });

    test('concurrent new streams with no_stream all succeed; a second no_stream on each fails', async () => {
      const store = await open();
      const created = await Promise.all(
        Array.from({ length: 80 }, (_, i) =>
          store.appendToStream(`stream-${i}`, [{ type: 'CREATED' }, { type: 'NAMED' }], {
            expectedVersion: 'no_stream',
          }),
        ),
      );
      for (const [i, events] of created.entries()) {
        expect(events.map((e) => [e.aggregateId, e.version])).toEqual([
          [`stream-${i}`, 1],
          [`stream-${i}`, 2],
        ]);
      }
      const again = await Promise.allSettled(
        Array.from({ length: 80 }, (_, i) =>
          store.appendToStream(`stream-${i}`, { type: 'CREATED' }, { expectedVersion: 'no_stream' }),
        ),
      );
      for (const outcome of again) {
        expect(outcome.status).toBe('rejected');
        if (outcome.status === 'rejected')
          expect(outcome.reason).toMatchObject({ code: 'CONCURRENCY_CONFLICT', actual: 2 });
      }
      expect(sequences(await store.read())).toEqual(Array.from({ length: 160 }, (_, i) => i + 1));
      await checkDurable(store);
    });
  });
}
