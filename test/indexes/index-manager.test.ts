/**
 * store.indexes, what is the embedded engine's own: builds that take several slices of SLICE_ROWS
 * (appends, drops, rebuilds and closes while they yield), the index catalog in indexes.json, and
 * the planner's exact row estimates. Every behaviour runs in memory and on disk. What any engine
 * with user indexes does is in the contract suites (test/contract/*index*.contract.ts);
 * test/indexes/index-persistence.test.ts covers persistence itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  IndexNotFoundError,
  ManualClock,
  openEventStore,
  StoreClosedError,
  TammaError,
  type AdvancedQueryBuilder,
  type EventStore,
  type IndexDefinition,
  type NewEvent,
} from '../../src/index.js';
import { expectError, rejection, removeDir, tempDir } from '../support/helpers.js';
import {
  accessNode,
  byIndex,
  byScan,
  considered,
  INDEX_T0 as T0,
  order,
  orders,
  indexCalls,
} from '../support/index-sample.js';

/** Rows an online build indexes per slice (SLICE_ROWS in index-manager.ts): more makes it yield. */
const SLICE_ROWS = 8192;

interface Context {
  store: EventStore;
  clock: ManualClock;
  /** On disk: closes the store (if open) and opens the directory again. */
  reopen?: () => Promise<EventStore>;
  dir?: string;
}

interface Backend {
  name: string;
  open(): Promise<Context & { cleanup(): Promise<void> }>;
}

const memory: Backend = {
  name: 'in memory',
  async open() {
    const clock = new ManualClock(T0);
    const store = await openEventStore({ clock });
    return { store, clock, cleanup: () => store.close().catch(() => undefined) };
  },
};

const disk: Backend = {
  name: 'on disk',
  async open() {
    const dir = await tempDir('tamma-indexes-');
    const clock = new ManualClock(T0);
    const options = { dir, clock, fsync: 'never' as const };
    const context: Context & { cleanup(): Promise<void> } = {
      store: await openEventStore(options),
      clock,
      dir,
      reopen: async () => {
        await context.store.close();
        context.store = await openEventStore(options);
        return context.store;
      },
      cleanup: async () => {
        await context.store.close().catch(() => undefined);
        await removeDir(dir);
      },
    };
    return context;
  },
};

const BACKENDS = [memory, disk];

/** Names in indexes.json of a disk store: what is durable. */
function catalogNames(dir: string): string[] {
  const path = join(dir, 'indexes.json');
  if (!existsSync(path)) return [];
  return (JSON.parse(readFileSync(path, 'utf8')) as { indexes: { name: string }[] }).indexes.map(
    (i) => i.name,
  );
}

for (const backend of BACKENDS) {
  describe(`store.indexes, ${backend.name}`, () => {
    let ctx: Context & { cleanup(): Promise<void> };
    beforeEach(async () => {
      ctx = await backend.open();
    });
    afterEach(async () => {
      await ctx.cleanup();
    });

    describe('online builds', () => {
      test('appends issued while a build yields are indexed; progress is monotone and ends at total', async () => {
        for (let i = 0; i < 5; i++) await ctx.store.append(orders(i * 4000, 4000));
        const progress: { indexed: number; total: number }[] = [];
        let settled = false;
        const building = ctx.store.indexes
          .createIndex(
            { name: 'by_amount', fields: ['payload.amount'] },
            { onProgress: (p) => progress.push({ ...p }) },
          )
          .finally(() => {
            settled = true;
          });

        // While it is building, the index is listed as building and the planner does not use it.
        const listed = (await ctx.store.indexes.listIndexes()).find((index) => index.name === 'by_amount');
        expect(listed?.state).toBe('building');
        const q = ctx.store.query().where('payload.amount', 'eq', 1000);
        expect(await considered(ctx.store, q)).not.toContain('by_amount');

        let next = 20_000;
        let appendsDuringBuild = 0;
        while (!settled) {
          await ctx.store.append({ aggregateId: 'late', type: 'Late', payload: { amount: 1000 + next } });
          next++;
          appendsDuringBuild++;
          await new Promise((resolve) => setImmediate(resolve));
        }
        await building;
        expect(appendsDuringBuild).toBeGreaterThan(0);
        await ctx.store.append({ aggregateId: 'late', type: 'Late', payload: { amount: 5 } });

        const rows = ctx.store.stats().events;
        const info = (await ctx.store.indexes.listIndexes()).find((index) => index.name === 'by_amount');
        expect(info).toMatchObject({ state: 'ready', entries: rows });
        const late = ctx.store.query().where('payload.amount', 'gte', 1000);
        expect(await byIndex(late, 'by_amount')).toEqual(await byScan(late));
        expect((await byIndex(late, 'by_amount')).length).toBe(appendsDuringBuild);
        const five = ctx.store.query().where('payload.amount', 'eq', 5);
        expect(await byIndex(five, 'by_amount')).toEqual(await byScan(five));

        expect(progress.length).toBeGreaterThan(2);
        for (let i = 1; i < progress.length; i++) {
          expect(progress[i]!.indexed).toBeGreaterThan(progress[i - 1]!.indexed);
          expect(progress[i]!.total).toBeGreaterThanOrEqual(progress[i - 1]!.total);
        }
        for (const p of progress) expect(p.indexed).toBeLessThanOrEqual(p.total);
        const last = progress[progress.length - 1]!;
        expect(last.indexed).toBe(last.total);
        expect(last.total).toBe(rows - 1);
      });

      test('an append made as a multi-slice build finishes is indexed', async () => {
        await ctx.store.append(orders(0, SLICE_ROWS + 10));
        const store = ctx.store;
        let appended: Promise<unknown> | undefined;
        const building = store.indexes.createIndex(
          { name: 'by_amount', fields: ['payload.amount'] },
          {
            onProgress: ({ indexed, total }) => {
              // Queued as the last slice ends: runs before createIndex's own continuation.
              if (indexed === total && appended === undefined)
                queueMicrotask(() => {
                  appended = store.append({ aggregateId: 'late', type: 'Late', payload: { amount: 500 } });
                });
            },
          },
        );
        await building;
        await appended;
        const late = store.query().where('payload.amount', 'eq', 500);
        expect(await byScan(late)).toEqual([SLICE_ROWS + 11]);
        expect(await byIndex(late, 'by_amount')).toEqual([SLICE_ROWS + 11]);
      });

      test('dropIndex during a build rejects the createIndex with INDEX_DROPPED and leaves no index', async () => {
        await ctx.store.append(orders(0, SLICE_ROWS * 2 + 10));
        const building = ctx.store.indexes.createIndex({ name: 'by_amount', fields: ['payload.amount'] });
        const outcome = rejection(() => building);
        await new Promise((resolve) => setImmediate(resolve));
        await ctx.store.indexes.dropIndex('by_amount');
        expectError(await outcome, TammaError, 'INDEX_DROPPED', 'by_amount');
        if (ctx.dir) expect(catalogNames(ctx.dir)).toEqual([]);
        expect((await ctx.store.indexes.listIndexes()).map((index) => index.name)).not.toContain('by_amount');
        expectError(
          await rejection(() => ctx.store.indexes.analyzeIndex('by_amount')),
          IndexNotFoundError,
          'INDEX_NOT_FOUND',
        );
        // Appends go on, and the name can be used again.
        await ctx.store.append(order(1));
        await ctx.store.indexes.createIndex({ name: 'by_amount', fields: ['payload.amount'] });
        if (ctx.reopen) {
          const store = await ctx.reopen();
          expect(
            (await store.indexes.listIndexes()).filter((index) => index.name === 'by_amount'),
          ).toHaveLength(1);
        }
      });

      test('a rebuild keeps serving queries from the old index until the new one is ready', async () => {
        await ctx.store.append(orders(0, SLICE_ROWS * 2 + 10));
        await ctx.store.indexes.createIndex({ name: 'by_amount', fields: ['payload.amount'] });
        const rebuilding = ctx.store.indexes.rebuildIndex('by_amount');
        await new Promise((resolve) => setImmediate(resolve));
        const states = (await ctx.store.indexes.listIndexes())
          .filter((index) => index.name === 'by_amount')
          .map((index) => index.state);
        expect(states.sort()).toEqual(['building', 'ready']);
        const q = ctx.store.query().where('payload.amount', 'eq', 42);
        await ctx.store.append(order(42));
        expect(await byIndex(q, 'by_amount')).toEqual(await byScan(q));
        await rebuilding;
        await ctx.store.append(order(142));
        expect(await byIndex(q, 'by_amount')).toEqual(await byScan(q));
      });
    });

    describe('after close', () => {
      test('closing the store during a build rejects the createIndex with STORE_CLOSED', async () => {
        await ctx.store.append(orders(0, SLICE_ROWS + 10));
        const building = ctx.store.indexes.createIndex({ name: 'by_amount', fields: ['payload.amount'] });
        const outcome = rejection(() => building);
        await ctx.store.close();
        expectError(await outcome, StoreClosedError, 'STORE_CLOSED', 'by_amount');
        if (ctx.dir) {
          expect(catalogNames(ctx.dir)).toEqual([]);
          const store = await ctx.reopen!();
          expect((await store.indexes.listIndexes()).some((index) => index.name === 'by_amount')).toBe(false);
          expect(store.stats().events).toBe(SLICE_ROWS + 10);
        }
      });
    });

    describe('the planner', () => {
      beforeEach(async () => {
        await ctx.store.append(orders(0, 300));
      });

      test('EXPLAIN estimates the rows of a selective user-index lookup exactly', async () => {
        await ctx.store.indexes.createIndex({ name: 'by_amount', fields: ['payload.amount'] });
        const selective = await ctx.store.explain(ctx.store.query().where('payload.amount', 'eq', 17));
        expect(selective.indexesUsed).toEqual(['by_amount']);
        expect(selective.estimatedRows).toBe(3);
      });

      test('estimated rows equal actual rows for equality and range predicates on indexed fields', async () => {
        await ctx.store.indexes.createIndex({ name: 'b', fields: ['tags.tenant', 'payload.amount'] });
        await ctx.store.indexes.createIndex({ name: 'h', fields: ['payload.status'], type: 'hash' });
        await ctx.store.indexes.createIndex({ name: 'amount', fields: ['payload.amount'] });
        const cases: [AdvancedQueryBuilder, string][] = [
          [ctx.store.query().where('tags.tenant', 'eq', 't0'), 'b'],
          [ctx.store.query().where('tags.tenant', 'in', ['t0', 't2', 'nope']), 'b'],
          [ctx.store.query().where('tags.tenant', 'eq', 't0').where('payload.amount', 'eq', 3), 'b'],
          [
            ctx.store.query().where('tags.tenant', 'eq', 't0').where('payload.amount', 'between', [3, 60]),
            'b',
          ],
          [ctx.store.query().where('tags.tenant', 'eq', 't1').where('payload.amount', 'gt', 40), 'b'],
          [ctx.store.query().where('tags.tenant', 'lt', 't2'), 'b'],
          [ctx.store.query().where('payload.status', 'eq', 'void'), 'h'],
          [ctx.store.query().where('payload.status', 'in', ['new', 'paid']), 'h'],
          [ctx.store.query().where('payload.amount', 'eq', 99), 'amount'],
          [ctx.store.query().where('payload.amount', 'lt', 10), 'amount'],
          [ctx.store.query().where('payload.amount', 'gte', 95), 'amount'],
          [ctx.store.query().where('payload.amount', 'between', [10, 10]), 'amount'],
          [ctx.store.query().where('payload.amount', 'gt', 10).where('payload.amount', 'lt', 13), 'amount'],
          [ctx.store.query().where('payload.amount', 'between', [200, 300]), 'amount'],
        ];
        for (const [q, index] of cases) {
          const forced = q.hint({ forceIndex: [index] });
          const actual = (await byScan(q)).length;
          const explanation = await forced.explain({ analyze: true });
          expect(explanation.indexesUsed).toEqual([index]);
          expect(explanation.estimatedRows, explanation.text).toBe(actual);
          const access = accessNode(explanation.plan);
          expect(access.estimatedRows, explanation.text).toBe(actual);
          expect(access.actualRows, explanation.text).toBe(actual);
          expect(explanation.considered.find((p) => p.index === index)?.estimatedRows).toBe(actual);
          expect((await forced.execute()).length).toBe(actual);
        }
      });
    });
  });
}

describe('store.indexes, on disk: the index catalog (indexes.json)', () => {
  let ctx: Context & { cleanup(): Promise<void> };
  beforeEach(async () => {
    ctx = await disk.open();
  });
  afterEach(async () => {
    await ctx.cleanup();
  });

  const EMAIL: IndexDefinition = { name: 'by_email', fields: ['payload.email'], unique: true };
  const user = (email: string): NewEvent => ({
    aggregateId: `user-${email}`,
    type: 'UserRegistered',
    payload: { email },
  });

  test('a unique build over duplicates that fails leaves indexes.json without it', async () => {
    await ctx.store.append([user('a@x'), user('b@x'), user('a@x')]);
    expectError(await rejection(() => ctx.store.indexes.createIndex(EMAIL)), TammaError, 'UNIQUE_VIOLATION');
    expect(catalogNames(ctx.dir!)).toEqual([]);
    await ctx.store.indexes.createIndex({ ...EMAIL, unique: false });
    expect(catalogNames(ctx.dir!)).toEqual(['by_email']);
  });

  test('a closed store leaves indexes.json as it was: its calls write nothing', async () => {
    await ctx.store.append(orders(0, 5));
    await ctx.store.indexes.createIndex({ name: 'by_amount', fields: ['payload.amount'] });
    await ctx.store.close();
    const calls = indexCalls(ctx.store);
    for (const call of calls) expectError(await rejection(call), StoreClosedError, 'STORE_CLOSED');
    // The directory's lock is released: a closed store must not write its index catalog.
    expect(catalogNames(ctx.dir!)).toEqual(['by_amount']);
  });
});
