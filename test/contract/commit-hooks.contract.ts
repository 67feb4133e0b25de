/**
 * Commit hooks (openEventStore's `hooks`), over any engine: beforeCommit sees each batch as it will
 * be stored and can veto it — nothing written, no sequence used, its error to the caller as thrown
 * — whether it throws or its promise rejects, also among concurrent appends; afterCommit follows
 * each written batch before the append resolves, and its errors never look like a failed write.
 * The engine side of this is AppendBatch.beforeCommit (src/storage/storage-engine.ts).
 */
import { expect, test } from 'vitest';
import {
  ConcurrencyError,
  TammaError,
  type CommitHooks,
  type EventStore,
  type OpenOptions,
  type StoredEvent,
} from '../../src/index.js';
import { expectError, observe, rejection, sequences } from '../support/helpers.js';
import { randomInt, seededRandom } from '../support/random.js';
import { recorder } from '../support/recorder-plugin.js';
import type { ContractContext, StoreFactory } from './factory.js';
import { requires } from './requires.js';

/** A promise the test settles by hand: an async hook held open while the test looks around. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Counts the times a hook was entered, and lets a test wait for the n-th: hooks may run after I/O
 * (an fsync under 'always'), so the test waits for the event itself, not for some turns or time.
 */
function arrivals(): { arrive(): void; reached(n: number): Promise<void> } {
  let count = 0;
  let waiters: { n: number; resolve: () => void }[] = [];
  return {
    arrive() {
      count++;
      for (const waiter of waiters) if (waiter.n <= count) waiter.resolve();
      waiters = waiters.filter((waiter) => waiter.n > count);
    },
    reached(n) {
      return count >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }));
    },
  };
}

class Vetoed extends Error {}

export function commitHooksSuite(factory: StoreFactory): void {
  requires(factory, 'commitHooks').describe('commit hooks', () => {
    async function withStore(
      options: Partial<OpenOptions>,
      fn: (store: EventStore, ctx: ContractContext) => Promise<void>,
    ): Promise<void> {
      const ctx = await factory.open(options);
      try {
        await fn(ctx.store, ctx);
      } finally {
        await ctx.cleanup();
      }
    }

    test('beforeCommit sees the batch as it will be stored, before it is written', async () => {
      const seen: StoredEvent[][] = [];
      const given: (readonly StoredEvent[])[] = [];
      const lastBefore: number[] = [];
      let store!: EventStore;
      const hooks: CommitHooks = {
        beforeCommit(events) {
          given.push(events);
          seen.push([...events]);
          lastBefore.push(store.stats().lastSequence);
        },
      };
      await withStore({ hooks }, async (opened) => {
        store = opened;
        const first = await store.append([
          { aggregateId: 'a', type: 'Opened', payload: { n: 1 }, tags: { k: 1 } },
          { aggregateId: 'b', type: 'Opened' },
          { aggregateId: 'a', type: 'Noted' },
        ]);
        const second = await store.appendToStream('a', [{ type: 'Closed' }], { expectedVersion: 2 });
        expect(seen).toEqual([first, second]);
        expect(seen[0]?.map((e) => [e.sequence, e.aggregateId, e.version])).toEqual([
          [1, 'a', 1],
          [2, 'b', 1],
          [3, 'a', 2],
        ]);
        expect(seen[1]?.map((e) => [e.sequence, e.version])).toEqual([[4, 3]]);
        expect(seen[0]?.[0]).toMatchObject({
          type: 'Opened',
          payload: { n: 1 },
          tags: { k: 1 },
          metadata: {},
        });
        expect(seen[0]?.[0]?.timestamp).toBeInstanceOf(Date);
        // Called before the write: the store did not hold the batch yet.
        expect(lastBefore).toEqual([0, 3]);
        // The array is the hook's own frozen copy: it cannot change what append returns.
        expect(Object.isFrozen(given[0])).toBe(true);
        expect(given[0]).not.toBe(first);
      });
    });

    test('a beforeCommit that throws vetoes the batch: its error as thrown, nothing written, no sequence used', async () => {
      const veto = new Vetoed('no negative amounts');
      const plugin = recorder();
      const committed: number[][] = [];
      const hooks: CommitHooks = {
        beforeCommit(events) {
          if (events.some((e) => ((e.payload as { amount?: number } | null)?.amount ?? 0) < 0)) throw veto;
        },
        afterCommit: (events) => void committed.push(sequences(events)),
      };
      await withStore({ hooks, plugins: [plugin] }, async (store) => {
        await store.append({ aggregateId: 'acct', type: 'Deposited', payload: { amount: 5 } });
        const before = await observe(store);
        const error = await rejection(() =>
          store.append([
            { aggregateId: 'acct', type: 'Deposited', payload: { amount: 1 } },
            { aggregateId: 'other', type: 'Withdrawn', payload: { amount: -3 } },
          ]),
        );
        expect(error).toBe(veto);
        const streamError = await rejection(() =>
          store.appendToStream('acct', [{ type: 'Withdrawn', payload: { amount: -1 } }], {
            expectedVersion: 1,
          }),
        );
        expect(streamError).toBe(veto);
        expect(await observe(store)).toEqual(before);
        expect(await store.getEvents('other')).toEqual([]);
        // Nothing committed: no plugin notice, no afterCommit.
        expect(plugin.commits).toHaveLength(1);
        expect(committed).toEqual([[1]]);
        // The next batch takes the sequences the vetoed ones would have had, and the stream's
        // version went on from where it was.
        const [next] = await store.appendToStream('acct', [{ type: 'Deposited', payload: { amount: 2 } }], {
          expectedVersion: 1,
        });
        expect(next).toMatchObject({ sequence: 2, version: 2 });
        expect(sequences(await store.read())).toEqual([1, 2]);
        expect(committed).toEqual([[1], [2]]);
      });
    });

    test('an async beforeCommit holds the batch until it settles; a rejection vetoes it like a throw', async () => {
      const gates: ReturnType<typeof deferred>[] = [];
      const entered = arrivals();
      const seen: number[][] = [];
      const hooks: CommitHooks = {
        beforeCommit(events) {
          seen.push(sequences(events));
          const gate = deferred();
          gates.push(gate);
          entered.arrive();
          return gate.promise;
        },
      };
      await withStore({ hooks }, async (store) => {
        const first = store.append({ aggregateId: 'a', type: 'T' });
        await entered.reached(1);
        // Pending: not written yet, and a read meanwhile does not see it.
        expect(await store.read()).toEqual([]);
        gates[0]?.resolve();
        expect(sequences(await first)).toEqual([1]);

        const vetoed = store.append([
          { aggregateId: 'a', type: 'T' },
          { aggregateId: 'a', type: 'T' },
        ]);
        await entered.reached(2);
        const veto = new Vetoed('read model says no');
        gates[1]?.reject(veto);
        expect(await rejection(() => vetoed)).toBe(veto);
        const after = store.append({ aggregateId: 'a', type: 'T' });
        await entered.reached(3);
        gates[2]?.resolve();
        expect((await after)[0]).toMatchObject({ sequence: 2, version: 2 });
        expect(seen).toEqual([[1], [2, 3], [2]]);
        expect(sequences(await store.read())).toEqual([1, 2]);
      });
    });

    test('concurrent appends: a vetoed batch leaves the others committed, with dense sequences', async () => {
      const hooks: CommitHooks = {
        beforeCommit(events) {
          if (events.some((e) => e.type === 'Bad')) throw new Vetoed(`veto ${events[0]?.aggregateId}`);
        },
      };
      await withStore({ hooks }, async (store) => {
        const calls = Array.from({ length: 12 }, (_, i) =>
          store.append([
            { aggregateId: `s-${i % 3}`, type: 'Good' },
            { aggregateId: `s-${i % 3}`, type: i % 4 === 1 ? 'Bad' : 'Good' },
          ]),
        );
        const outcomes = await Promise.allSettled(calls);
        const rejected = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [i] : []));
        expect(rejected).toEqual([1, 5, 9]);
        for (const i of rejected)
          expect((outcomes[i] as PromiseRejectedResult).reason).toBeInstanceOf(Vetoed);
        const written = outcomes.flatMap((o) => (o.status === 'fulfilled' ? o.value : []));
        expect(sequences(written).sort((a, b) => a - b)).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
        const all = await store.read();
        expect(sequences(all)).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
        expect(all.every((e) => e.type === 'Good')).toBe(true);
        for (const stream of ['s-0', 's-1', 's-2']) {
          const events = await store.getEvents(stream);
          expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
        }
      });
    });

    test('concurrent appends behind an async beforeCommit wait their turn, in call order, and skip a veto without a gap', async () => {
      const gates = new Map<string, ReturnType<typeof deferred>>();
      const entered = arrivals();
      const seen: string[] = [];
      const hooks: CommitHooks = {
        beforeCommit(events) {
          const name = events[0]?.type as string;
          seen.push(`${name}@${events[0]?.sequence}`);
          const gate = deferred();
          gates.set(name, gate);
          entered.arrive();
          return gate.promise;
        },
      };
      await withStore({ hooks }, async (store) => {
        const a = store.append({ aggregateId: 'x', type: 'A' });
        // Its rejection is looked at below, once C is through: caught now, so it is not "unhandled" meanwhile.
        const b = store.append({ aggregateId: 'x', type: 'B' }).catch((error: unknown) => error);
        const c = store.appendToStream('x', [{ type: 'C' }], { expectedVersion: 'stream_exists' });
        await entered.reached(1);
        // B and C queue behind A's pending approval: their hooks have not run.
        expect(seen).toEqual(['A@1']);
        gates.get('A')?.resolve();
        await entered.reached(2);
        gates.get('B')?.reject(new Vetoed('B'));
        await entered.reached(3);
        gates.get('C')?.resolve();
        expect((await a)[0]).toMatchObject({ sequence: 1, version: 1 });
        expect(await b).toBeInstanceOf(Vetoed);
        expect((await c)[0]).toMatchObject({ sequence: 2, version: 2, type: 'C' });
        expect(seen).toEqual(['A@1', 'B@2', 'C@2']);
        expect(sequences(await store.read())).toEqual([1, 2]);
      });
    });

    test('a retry of stored ids writes nothing and calls no hook', async () => {
      const calls: string[] = [];
      const hooks: CommitHooks = {
        beforeCommit: (events) => void calls.push(`before ${sequences(events)}`),
        afterCommit: (events) => void calls.push(`after ${sequences(events)}`),
      };
      await withStore({ hooks }, async (store) => {
        await store.append({ aggregateId: 'a', type: 'T', id: 'evt-1' });
        await store.append({ aggregateId: 'a', type: 'T', id: 'evt-1' });
        await store.append([]);
        await store.append([
          { aggregateId: 'a', type: 'T', id: 'evt-1' },
          { aggregateId: 'a', type: 'T', id: 'evt-2' },
        ]);
        expect(calls).toEqual(['before 1', 'after 1', 'before 2', 'after 2']);
      });
    });

    test('a batch the store refuses on its own (wrong expectedVersion) never reaches beforeCommit', async () => {
      const seen: number[] = [];
      await withStore(
        { hooks: { beforeCommit: (events) => void seen.push(events.length) } },
        async (store) => {
          await store.appendToStream('s', [{ type: 'T' }], { expectedVersion: 'no_stream' });
          const error = await rejection(() =>
            store.appendToStream('s', [{ type: 'T' }], { expectedVersion: 0 }),
          );
          expect(error).toBeInstanceOf(ConcurrencyError);
          expect(seen).toEqual([1]);
        },
      );
    });

    test('afterCommit follows each written batch after the plugins, and is awaited before append resolves', async () => {
      const order: string[] = [];
      const gate = deferred();
      const entered = arrivals();
      const hooks: CommitHooks = {
        beforeCommit: (events) => void order.push(`before ${sequences(events)}`),
        async afterCommit(events) {
          order.push(`after ${sequences(events)}`);
          entered.arrive();
          await gate.promise;
          order.push(`after done ${sequences(events)}`);
        },
      };
      const plugin = { name: 'tail', afterCommit: () => void order.push('plugin') };
      await withStore({ hooks, plugins: [plugin] }, async (store) => {
        let resolved = false;
        const appended = store.append({ aggregateId: 'a', type: 'T' }).then((events) => {
          resolved = true;
          return events;
        });
        await entered.reached(1);
        // The write is stored (a read sees it) but the append waits for the hook.
        expect(sequences(await store.read())).toEqual([1]);
        expect(resolved).toBe(false);
        gate.resolve();
        expect(sequences(await appended)).toEqual([1]);
        expect(order).toEqual(['before 1', 'plugin', 'after 1', 'after done 1']);
      });
    });

    test('an afterCommit error does not fail the append (the write is stored): it is counted in stats().plugins', async () => {
      let calls = 0;
      const hooks: CommitHooks = {
        afterCommit() {
          calls++;
          if (calls === 1) throw new Error('projection down');
          if (calls === 2) return Promise.reject(new Error('async projection down'));
        },
      };
      await withStore({ hooks }, async (store) => {
        expect(sequences(await store.append({ aggregateId: 'a', type: 'T' }))).toEqual([1]);
        expect(store.stats().plugins).toEqual([
          { name: 'hooks.afterCommit', errors: 1, lastError: 'projection down' },
        ]);
        expect(sequences(await store.append({ aggregateId: 'a', type: 'T' }))).toEqual([2]);
        expect(sequences(await store.append({ aggregateId: 'a', type: 'T' }))).toEqual([3]);
        expect(store.stats().plugins).toEqual([
          { name: 'hooks.afterCommit', errors: 2, lastError: 'async projection down' },
        ]);
        expect(sequences(await store.read())).toEqual([1, 2, 3]);
      });
    });

    test('afterCommit may append (a follow-up event); beforeCommit may not write to its own store', async () => {
      let store!: EventStore;
      let spawned: Promise<number[]> | undefined;
      const hooks: CommitHooks = {
        async beforeCommit(events) {
          if (events[0]?.type === 'Sneaky') await store.append({ aggregateId: 'b', type: 'Inner' });
          if (events[0]?.type === 'Eraser') await store.deleteAggregate('a');
          if (events[0]?.type === 'Spawner') {
            spawned = new Promise<void>((resolve) => setImmediate(resolve)).then(async () =>
              sequences(await store.append({ aggregateId: 'b', type: 'Spawned' })),
            );
          }
        },
        async afterCommit(events) {
          if (events[0]?.type === 'Ordered') await store.append({ aggregateId: 'b', type: 'Shipped' });
        },
      };
      await withStore({ hooks }, async (opened) => {
        store = opened;
        await store.append({ aggregateId: 'a', type: 'Ordered' });
        expect((await store.read()).map((e) => e.type)).toEqual(['Ordered', 'Shipped']);
        for (const type of ['Sneaky', 'Eraser']) {
          const error = await rejection(() => store.append({ aggregateId: 'a', type }));
          expectError(error, TammaError, 'COMMIT_HOOK_REENTRY', 'beforeCommit');
        }
        expect((await store.read()).map((e) => e.type)).toEqual(['Ordered', 'Shipped']);
        // Outside the hook, writes go on as usual.
        expect((await store.append({ aggregateId: 'a', type: 'Later' }))[0]?.sequence).toBe(3);
        // Work the hook left behind writes once the hook has answered (it inherits the hook's context).
        expect(sequences(await store.append({ aggregateId: 'a', type: 'Spawner' }))).toEqual([4]);
        expect(await spawned).toEqual([5]);
      });
    });

    requires(factory, 'durable').test(
      'a durable store reopens without the vetoed batches and with dense sequences',
      async () => {
        const ctx = await factory.open({
          hooks: {
            beforeCommit(events) {
              if (events.some((e) => e.type === 'Bad')) throw new Vetoed('bad');
            },
          },
        });
        try {
          for (let i = 0; i < 20; i++) {
            const type = i % 3 === 2 ? 'Bad' : 'Good';
            await ctx.store.append([{ aggregateId: `s-${i % 4}`, type }]).catch((error: unknown) => {
              if (!(error instanceof Vetoed)) throw error;
            });
          }
          const before = await ctx.store.read();
          await ctx.store.close();
          const reopened = await ctx.reopen!({ hooks: {} });
          const after = await reopened.read();
          expect(after).toEqual(before);
          expect(sequences(after)).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
          expect(after.every((e) => e.type === 'Good')).toBe(true);
          expect((await reopened.append({ aggregateId: 's-0', type: 'Good' }))[0]?.sequence).toBe(15);
        } finally {
          await ctx.cleanup();
        }
      },
    );

    for (const seed of [7, 1234]) {
      test(`randomized (seed ${seed}): sync and async approvals and vetoes under concurrency, the log is exactly what was approved`, async () => {
        type Mode = 'ok' | 'veto' | 'async-ok' | 'async-veto';
        const random = seededRandom(seed);
        const approved: StoredEvent[][] = [];
        /** Some turns of the event loop: an async hook that takes a while, without time passing. */
        const turns = async (n: number) => {
          for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
        };
        const hooks: CommitHooks = {
          beforeCommit(events) {
            const { mode, turnsTaken } = events[0]?.payload as { mode: Mode; turnsTaken: number };
            if (mode === 'ok') approved.push([...events]);
            if (mode === 'veto') throw new Vetoed('sync');
            if (mode === 'async-ok') return turns(turnsTaken).then(() => void approved.push([...events]));
            if (mode === 'async-veto')
              return turns(turnsTaken).then(() => Promise.reject(new Vetoed('async')));
          },
        };
        await withStore({ hooks }, async (store) => {
          const modes: Mode[] = ['ok', 'veto', 'async-ok', 'async-veto'];
          const calls: { mode: Mode; outcome: Promise<unknown> }[] = [];
          for (let wave = 0; wave < 12; wave++) {
            const wavePromises: Promise<unknown>[] = [];
            for (let k = randomInt(random, 1, 8); k > 0; k--) {
              const mode = modes[randomInt(random, 0, 3)] as Mode;
              const payload = { mode, turnsTaken: randomInt(random, 0, 3) };
              const stream = `s-${randomInt(random, 0, 4)}`;
              const size = randomInt(random, 1, 3);
              const outcome =
                random() < 0.5
                  ? store.append(
                      Array.from({ length: size }, () => ({ aggregateId: stream, type: 'T', payload })),
                    )
                  : store.appendToStream(
                      stream,
                      Array.from({ length: size }, () => ({ type: 'T', payload })),
                    );
              const settled = outcome.then(
                (events) => events,
                (error: unknown) => error,
              );
              calls.push({ mode, outcome: settled });
              wavePromises.push(settled);
            }
            // Some waves overlap the next one, some are awaited.
            if (random() < 0.5) await Promise.all(wavePromises);
          }
          for (const { mode, outcome } of calls) {
            const result = await outcome;
            if (mode === 'ok' || mode === 'async-ok')
              expect(Array.isArray(result), String(result)).toBe(true);
            else expect(result).toBeInstanceOf(Vetoed);
          }
          const log = await store.read();
          expect(log).toEqual(approved.flat());
          expect(sequences(log)).toEqual(log.map((_, i) => i + 1));
          for (let stream = 0; stream < 5; stream++) {
            const events = await store.getEvents(`s-${stream}`);
            expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
          }
        });
      });
    }

    test('inline projection (as in Emmett): beforeCommit keeps a read model and enforces its invariant', async () => {
      // A shopping cart summary kept in step with the log: a batch that would take a cart over its
      // limit is refused, and the summary then never saw it.
      interface Summary {
        items: number;
        total: number;
        confirmed: boolean;
      }
      const summaries = new Map<string, Summary>();
      const MAX_ITEMS = 3;
      const project = (events: readonly StoredEvent[]) => {
        // Work on copies, committed only when the whole batch is accepted: all or nothing, like the log.
        const next = new Map<string, Summary>();
        for (const event of events) {
          const current = next.get(event.aggregateId) ??
            summaries.get(event.aggregateId) ?? { items: 0, total: 0, confirmed: false };
          const updated = { ...current };
          const payload = event.payload as { price?: number };
          if (event.type === 'ProductItemAdded') {
            if (current.confirmed) throw new Vetoed(`cart ${event.aggregateId} is confirmed`);
            updated.items++;
            updated.total += payload.price ?? 0;
            if (updated.items > MAX_ITEMS) throw new Vetoed(`cart ${event.aggregateId} is full`);
          } else if (event.type === 'ShoppingCartConfirmed') {
            updated.confirmed = true;
          }
          next.set(event.aggregateId, updated);
        }
        for (const [id, summary] of next) summaries.set(id, summary);
      };
      await withStore({ hooks: { beforeCommit: project } }, async (store) => {
        const add = (cart: string, price: number) => ({ type: 'ProductItemAdded', payload: { price } });
        await store.appendToStream('cart-1', [add('cart-1', 10), add('cart-1', 5)]);
        await store.appendToStream('cart-2', [add('cart-2', 7)]);
        expect(summaries.get('cart-1')).toEqual({ items: 2, total: 15, confirmed: false });
        // Two more items would make four: the whole batch is refused, summary and log unchanged.
        const full = await rejection(() =>
          store.appendToStream('cart-1', [add('cart-1', 1), add('cart-1', 1)]),
        );
        expect(full).toBeInstanceOf(Vetoed);
        expect((full as Error).message).toBe('cart cart-1 is full');
        expect(summaries.get('cart-1')).toEqual({ items: 2, total: 15, confirmed: false });
        expect(await store.getEvents('cart-1')).toHaveLength(2);
        await store.appendToStream('cart-1', [add('cart-1', 3), { type: 'ShoppingCartConfirmed' }], {
          expectedVersion: 2,
        });
        const late = await rejection(() => store.appendToStream('cart-1', [add('cart-1', 4)]));
        expect((late as Error).message).toBe('cart cart-1 is confirmed');
        expect(summaries.get('cart-1')).toEqual({ items: 3, total: 18, confirmed: true });
        // The read model is exactly the log's fold: rebuilt from what was stored, it comes out equal.
        const kept = new Map(summaries);
        summaries.clear();
        project(await store.read());
        expect(summaries).toEqual(kept);
        expect(sequences(await store.read())).toEqual([1, 2, 3, 4, 5]);
      });
    });
  });
}
