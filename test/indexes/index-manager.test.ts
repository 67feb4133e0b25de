/**
 * store.indexes: creating, listing, dropping, analysing and rebuilding user-defined indexes; the
 * errors of each; unique indexes; online builds; and how the planner uses btree, hash and partial
 * indexes. Every behaviour runs in memory and on disk (the disk store also closes and reopens where
 * that matters; test/indexes/index-persistence.test.ts covers persistence itself).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  f,
  IndexNotFoundError,
  ManualClock,
  openEventStore,
  StoreClosedError,
  TammaError,
  UniqueViolationError,
  ValidationError,
  type AdvancedQueryBuilder,
  type EventStore,
  type ExplainNode,
  type IndexDefinition,
  type NewEvent,
  type StoredEvent,
} from '../../src/index.js';
import { expectError, observe, rejection, removeDir, sequences, tempDir } from '../support/helpers.js';

const T0 = Date.UTC(2025, 0, 1);
const BUILT_INS = ['sequence', 'aggregate', 'type', 'aggregate+type', 'timestamp'];
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

/** An order: tenant t<n % 3>, amount n % 100, status by n % 4, and an email unique per n. */
function order(n: number, extra: Partial<NewEvent> = {}): NewEvent {
  return {
    aggregateId: `order-${n % 7}`,
    type: n % 5 === 0 ? 'OrderCancelled' : 'OrderPlaced',
    tags: { tenant: `t${n % 3}` },
    payload: { amount: n % 100, status: ['new', 'paid', 'shipped', 'void'][n % 4], email: `u${n}@x` },
    ...extra,
  };
}

const orders = (from: number, count: number) => Array.from({ length: count }, (_, i) => order(from + i));

/** Every query's rows by a forced scan: the reference for what an index must return. */
async function byScan(query: AdvancedQueryBuilder): Promise<number[]> {
  return sequences((await query.hint({ forceIndex: ['scan'] }).execute()) as StoredEvent[]);
}

async function byIndex(query: AdvancedQueryBuilder, index: string): Promise<number[]> {
  return sequences((await query.hint({ forceIndex: [index] }).execute()) as StoredEvent[]);
}

async function considered(store: EventStore, query: AdvancedQueryBuilder): Promise<string[]> {
  return (await store.explain(query)).considered.map((path) => path.index);
}

/** Names in indexes.json of a disk store: what is durable. */
function catalogNames(dir: string): string[] {
  const path = join(dir, 'indexes.json');
  if (!existsSync(path)) return [];
  return (JSON.parse(readFileSync(path, 'utf8')) as { indexes: { name: string }[] }).indexes.map(
    (i) => i.name,
  );
}

/** The access operator at the bottom of a plan. */
function accessNode(plan: ExplainNode): ExplainNode {
  let node = plan;
  while (node.children[0] !== undefined) node = node.children[0];
  return node;
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

    describe('create, list, drop, analyze, rebuild, usage, size', () => {
      test('createIndex builds over existing events and returns the ready index', async () => {
        await ctx.store.append(orders(0, 30));
        ctx.clock.set(T0 + 1000);
        const info = await ctx.store.indexes.createIndex({
          name: 'by_tenant_amount',
          fields: ['tags.tenant', 'payload.amount'],
        });
        expect(info).toMatchObject({
          name: 'by_tenant_amount',
          fields: ['tags.tenant', 'payload.amount'],
          type: 'btree',
          unique: false,
          builtIn: false,
          state: 'ready',
          entries: 30,
          distinctKeys: 30,
          createdAt: new Date(T0 + 1000),
        });
        expect(info.where).toBeUndefined();
        expect(info.bytes).toBeGreaterThan(0);

        const q = ctx.store
          .query()
          .where('tags.tenant', 'eq', 't1')
          .where('payload.amount', 'between', [5, 20]);
        expect(await byIndex(q, 'by_tenant_amount')).toEqual([7, 10, 13, 16, 19].map((n) => n + 1));
        expect(await byIndex(q, 'by_tenant_amount')).toEqual(await byScan(q));
      });

      test('listIndexes shows the built-in indexes and the user-defined ones with their definitions', async () => {
        await ctx.store.append(orders(0, 10));
        const where = f.eq('type', 'OrderPlaced');
        await ctx.store.indexes.createIndex({ name: 'placed_by_amount', fields: ['payload.amount'], where });
        await ctx.store.indexes.createIndex({
          name: 'by_email',
          fields: ['payload.email'],
          type: 'hash',
          unique: true,
        });
        const list = await ctx.store.indexes.listIndexes();
        const names = list.map((index) => index.name);
        for (const name of BUILT_INS) expect(names).toContain(name);
        expect(names).toContain('tags.tenant');
        expect(list.filter((index) => index.builtIn).map((index) => index.name)).not.toContain('by_email');
        const placed = list.find((index) => index.name === 'placed_by_amount');
        expect(placed).toMatchObject({ type: 'btree', where, builtIn: false, state: 'ready', entries: 8 });
        const byEmail = list.find((index) => index.name === 'by_email');
        expect(byEmail).toMatchObject({ type: 'hash', unique: true, entries: 10, distinctKeys: 10 });
        expect(list.find((index) => index.name === 'sequence')).toMatchObject({
          builtIn: true,
          unique: true,
        });
      });

      test('dropIndex removes the index: it is no longer listed, used, or usable by hints', async () => {
        await ctx.store.append(orders(0, 20));
        await ctx.store.indexes.createIndex({ name: 'by_amount', fields: ['payload.amount'] });
        const q = ctx.store.query().where('payload.amount', 'eq', 3);
        expect(await considered(ctx.store, q)).toContain('by_amount');
        await ctx.store.indexes.dropIndex('by_amount');
        expect((await ctx.store.indexes.listIndexes()).map((index) => index.name)).not.toContain('by_amount');
        expect(await considered(ctx.store, q)).not.toContain('by_amount');
        const error = await rejection(() => q.hint({ forceIndex: ['by_amount'] }).execute());
        expectError(error, ValidationError, 'INDEX_NOT_USABLE', 'by_amount');
        // The name is free again.
        await ctx.store.indexes.createIndex({ name: 'by_amount', fields: ['payload.status'] });
        expect(await byIndex(ctx.store.query().where('payload.status', 'eq', 'paid'), 'by_amount')).toEqual([
          2, 6, 10, 14, 18,
        ]);
      });

      test('analyzeIndex reports rows, coverage, selectivity, top keys and a btree histogram', async () => {
        // 12 events: tenant t0/t1/t2 four each; one event has no amount (not in the index).
        await ctx.store.append(orders(0, 11));
        await ctx.store.append({ aggregateId: 'x', type: 'OrderPlaced', tags: { tenant: 't2' } });
        await ctx.store.indexes.createIndex({
          name: 'by_tenant_amount',
          fields: ['tags.tenant', 'payload.amount'],
        });
        await ctx.store.indexes.createIndex({ name: 'by_tenant', fields: ['tags.tenant'], type: 'hash' });

        const btree = await ctx.store.indexes.analyzeIndex('by_tenant_amount');
        expect(btree).toMatchObject({ name: 'by_tenant_amount', rows: 12, entries: 11, distinctKeys: 11 });
        expect(btree.coverage).toBeCloseTo(11 / 12);
        expect(btree.selectivity).toBeCloseTo(1 / 12);
        expect(btree.bytes).toBeGreaterThan(0);
        const histogram = btree.histogram!;
        expect(histogram.reduce((sum, bucket) => sum + bucket.rows, 0)).toBe(11);
        expect(histogram.reduce((sum, bucket) => sum + bucket.keys, 0)).toBe(11);
        expect(histogram[0]!.from).toEqual(['t0', 0]);
        expect(histogram[histogram.length - 1]!.to).toEqual(['t2', 8]);

        const hash = await ctx.store.indexes.analyzeIndex('by_tenant');
        expect(hash).toMatchObject({ rows: 12, entries: 12, distinctKeys: 3, coverage: 1 });
        expect(hash.selectivity).toBeCloseTo(1 / 3);
        expect(hash.histogram).toBeUndefined();
        expect(hash.topKeys).toHaveLength(3);
        expect(hash.topKeys.map((top) => top.rows)).toEqual([4, 4, 4]);
        expect(hash.topKeys.map((top) => top.key).sort()).toEqual([['t0'], ['t1'], ['t2']]);
      });

      test('rebuildIndex gives the same contents and keeps the usage counts', async () => {
        await ctx.store.append(orders(0, 40));
        await ctx.store.indexes.createIndex({ name: 'by_amount', fields: ['payload.amount'] });
        const q = ctx.store.query().where('payload.amount', 'lt', 5);
        const before = await byIndex(q, 'by_amount');
        const usage = (await ctx.store.indexes.getIndexUsage()).find((u) => u.name === 'by_amount');
        expect(usage?.uses).toBe(1);

        const info = await ctx.store.indexes.rebuildIndex('by_amount');
        expect(info).toMatchObject({ name: 'by_amount', state: 'ready', entries: 40, distinctKeys: 40 });
        expect(await byIndex(q, 'by_amount')).toEqual(before);
        expect((await ctx.store.indexes.getIndexUsage()).find((u) => u.name === 'by_amount')?.uses).toBe(2);
        const analysis = await ctx.store.indexes.analyzeIndex('by_amount');
        expect(analysis.entries).toBe(40);
      });

      test('getIndexUsage counts queries that ran with each index, with the time of the last', async () => {
        await ctx.store.append(orders(0, 50));
        await ctx.store.indexes.createIndex({ name: 'by_amount', fields: ['payload.amount'] });
        const usageOf = async (name: string) =>
          (await ctx.store.indexes.getIndexUsage()).find((usage) => usage.name === name);
        expect(await usageOf('by_amount')).toEqual({
          name: 'by_amount',
          builtIn: false,
          uses: 0,
          lastUsed: null,
        });

        const q = ctx.store.query().where('payload.amount', 'eq', 7);
        ctx.clock.set(T0 + 5000);
        expect(await q.execute()).toHaveLength(1);
        ctx.clock.set(T0 + 9000);
        expect(await q.hint({ forceIndex: ['by_amount'] }).execute()).toHaveLength(1);
        // EXPLAIN alone runs nothing; EXPLAIN ANALYZE runs the plan.
        await ctx.store.explain(q);
        expect(await usageOf('by_amount')).toEqual({
          name: 'by_amount',
          builtIn: false,
          uses: 2,
          lastUsed: new Date(T0 + 9000),
        });
        await ctx.store.explain(q, { analyze: true });
        expect((await usageOf('by_amount'))?.uses).toBe(3);

        // A scan is not an index use; a built-in index is.
        await q.hint({ forceIndex: ['scan'] }).execute();
        expect((await usageOf('by_amount'))?.uses).toBe(3);
        await ctx.store
          .query()
          .where('type', 'eq', 'OrderCancelled')
          .hint({ forceIndex: ['type'] })
          .execute();
        expect(await usageOf('type')).toMatchObject({
          builtIn: true,
          uses: 1,
          lastUsed: new Date(T0 + 9000),
        });
      });

      test('getIndexSize lists every index with its entries and bytes, and their total', async () => {
        await ctx.store.append(orders(0, 25));
        await ctx.store.indexes.createIndex({ name: 'by_amount', fields: ['payload.amount'] });
        const size = await ctx.store.indexes.getIndexSize();
        const byAmount = size.indexes.find((index) => index.name === 'by_amount');
        expect(byAmount?.entries).toBe(25);
        expect(byAmount?.bytes).toBeGreaterThan(0);
        expect(size.totalBytes).toBe(size.indexes.reduce((sum, index) => sum + index.bytes, 0));
        const names = size.indexes.map((index) => index.name);
        for (const name of BUILT_INS) expect(names).toContain(name);

        await ctx.store.append(orders(25, 100));
        const grown = await ctx.store.indexes.getIndexSize();
        expect(grown.indexes.find((index) => index.name === 'by_amount')?.entries).toBe(125);
        expect(grown.totalBytes).toBeGreaterThan(size.totalBytes);
      });

      test('an index is maintained by appends and appendToStream once built', async () => {
        await ctx.store.indexes.createIndex({ name: 'by_status', fields: ['payload.status'], type: 'hash' });
        await ctx.store.append(orders(0, 8));
        await ctx.store.appendToStream('s-1', [{ type: 'OrderPlaced', payload: { status: 'paid' } }]);
        const q = ctx.store.query().where('payload.status', 'eq', 'paid');
        expect(await byIndex(q, 'by_status')).toEqual([2, 6, 9]);
        expect((await ctx.store.indexes.listIndexes()).find((i) => i.name === 'by_status')?.entries).toBe(9);
      });
    });

    describe('unique indexes', () => {
      const EMAIL: IndexDefinition = { name: 'by_email', fields: ['payload.email'], unique: true };
      const user = (email: string | undefined, type = 'UserRegistered'): NewEvent => ({
        aggregateId: `user-${email ?? 'none'}`,
        type,
        ...(email === undefined ? {} : { payload: { email } }),
      });

      test('an append whose key the index holds is rejected and writes nothing', async () => {
        await ctx.store.append([user('a@x'), user('b@x')]);
        await ctx.store.indexes.createIndex(EMAIL);
        const before = await observe(ctx.store);

        const error = await rejection(() => ctx.store.append([user('c@x'), user('a@x')]));
        expectError(
          error,
          UniqueViolationError,
          'UNIQUE_VIOLATION',
          'by_email',
          'payload.email = "a@x"',
          'events[1]',
        );
        expect((error as UniqueViolationError).eventIndex).toBe(1);
        expect((error as UniqueViolationError).key).toEqual(['a@x']);
        expect(await observe(ctx.store)).toEqual(before);
        // c@x was not written, so it is still free.
        await ctx.store.append(user('c@x'));
        expect(ctx.store.stats().events).toBe(3);
      });

      test('two events of one batch with the same key are rejected and write nothing', async () => {
        await ctx.store.indexes.createIndex(EMAIL);
        await ctx.store.append(user('a@x'));
        const before = await observe(ctx.store);
        const error = await rejection(() => ctx.store.append([user('b@x'), user('c@x'), user('b@x')]));
        expectError(error, UniqueViolationError, 'UNIQUE_VIOLATION', 'events[2]', 'events[0]', '"b@x"');
        expect(await observe(ctx.store)).toEqual(before);
      });

      test('appendToStream is checked the same way, against stored events and within the batch', async () => {
        await ctx.store.indexes.createIndex(EMAIL);
        await ctx.store.appendToStream('u', [{ type: 'UserRegistered', payload: { email: 'a@x' } }]);
        const before = await observe(ctx.store);
        const stored = await rejection(() =>
          ctx.store.appendToStream('u', [{ type: 'UserRenamed', payload: { email: 'a@x' } }], {
            expectedVersion: 1,
          }),
        );
        expectError(stored, UniqueViolationError, 'UNIQUE_VIOLATION', '"a@x"');
        const batch = await rejection(() =>
          ctx.store.appendToStream('v', [
            { type: 'UserRegistered', payload: { email: 'z@x' } },
            { type: 'UserRegistered', payload: { email: 'z@x' } },
          ]),
        );
        expectError(batch, UniqueViolationError, 'UNIQUE_VIOLATION', '"z@x"');
        expect(await observe(ctx.store)).toEqual(before);
        // The stream's version did not move: the next expected version still fits.
        await ctx.store.appendToStream('u', [{ type: 'UserRenamed', payload: { email: 'b@x' } }], {
          expectedVersion: 1,
        });
      });

      test('events without a key (missing field) or outside a partial index never conflict', async () => {
        await ctx.store.indexes.createIndex({
          name: 'registered_email',
          fields: ['payload.email'],
          unique: true,
          where: f.eq('type', 'UserRegistered'),
        });
        await ctx.store.append([user(undefined), user(undefined), user('a@x'), user('a@x', 'UserInvited')]);
        await ctx.store.append(user('a@x', 'UserInvited'));
        const error = await rejection(() => ctx.store.append(user('a@x')));
        expectError(error, UniqueViolationError, 'UNIQUE_VIOLATION', 'registered_email');
        expect(ctx.store.stats().events).toBe(5);
      });

      test('keys of different types do not collide: "1", 1 and true are three keys', async () => {
        await ctx.store.indexes.createIndex({ name: 'by_code', fields: ['tags.code'], unique: true });
        await ctx.store.append([
          { aggregateId: 'a', type: 'T', tags: { code: '1' } },
          { aggregateId: 'a', type: 'T', tags: { code: 1 } },
          { aggregateId: 'a', type: 'T', tags: { code: true } },
        ]);
        const error = await rejection(() =>
          ctx.store.append({ aggregateId: 'b', type: 'T', tags: { code: 1 } }),
        );
        expectError(error, UniqueViolationError, 'UNIQUE_VIOLATION', 'tags.code = 1');
      });

      test('building a unique index over duplicates fails and leaves no index', async () => {
        await ctx.store.append([user('a@x'), user('b@x'), user('a@x')]);
        const error = await rejection(() => ctx.store.indexes.createIndex(EMAIL));
        expectError(error, TammaError, 'UNIQUE_VIOLATION', 'by_email', 'sequences 1 and 3', '"a@x"');
        expect((await ctx.store.indexes.listIndexes()).map((index) => index.name)).not.toContain('by_email');
        if (ctx.dir) expect(catalogNames(ctx.dir)).toEqual([]);
        expect(
          await considered(ctx.store, ctx.store.query().where('payload.email', 'eq', 'a@x')),
        ).not.toContain('by_email');
        // Appends are not checked against the failed index, and the name is free.
        await ctx.store.append(user('b@x'));
        await ctx.store.indexes.createIndex({ ...EMAIL, unique: false });
        if (ctx.reopen) {
          const store = await ctx.reopen();
          expect((await store.indexes.listIndexes()).find((i) => i.name === 'by_email')?.unique).toBe(false);
        }
      });

      if (backend === disk) {
        test('after a rejected append and a reopen, the event is not there and the index still enforces', async () => {
          await ctx.store.append([user('a@x'), user('b@x')]);
          await ctx.store.indexes.createIndex(EMAIL);
          await expect(ctx.store.append([user('c@x'), user('b@x')])).rejects.toThrow(UniqueViolationError);
          const before = await observe(ctx.store);
          const store = await ctx.reopen!();
          expect(await observe(store)).toEqual(before);
          expect(
            (
              await store
                .query()
                .where('payload.email', 'eq', 'c@x')
                .hint({ forceIndex: ['scan'] })
                .execute()
            ).length,
          ).toBe(0);
          const error = await rejection(() => store.append(user('a@x')));
          expectError(error, UniqueViolationError, 'UNIQUE_VIOLATION', '"a@x"');
          expect(store.stats().events).toBe(2);
          await store.append(user('c@x'));
          expect(store.stats().events).toBe(3);
        });
      }
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

      test('an append issued before the createIndex promise settles is indexed', async () => {
        await ctx.store.append(orders(0, 10));
        // A small build finishes in one slice, but its promise settles a microtask later: an append
        // made meanwhile must reach the index, which would otherwise fall behind for good.
        const building = ctx.store.indexes.createIndex({ name: 'by_amount', fields: ['payload.amount'] });
        await ctx.store.append({ aggregateId: 'late', type: 'Late', payload: { amount: 500 } });
        await building;
        await ctx.store.append({ aggregateId: 'late', type: 'Late', payload: { amount: 501 } });
        const late = ctx.store.query().where('payload.amount', 'gte', 500);
        expect(await byScan(late)).toEqual([11, 12]);
        expect(await byIndex(late, 'by_amount')).toEqual([11, 12]);
        expect((await ctx.store.indexes.analyzeIndex('by_amount')).entries).toBe(12);
        if (ctx.reopen) {
          const store = await ctx.reopen();
          await store.append({ aggregateId: 'late', type: 'Late', payload: { amount: 502 } });
          expect(await byIndex(store.query().where('payload.amount', 'gte', 500), 'by_amount')).toEqual([
            11, 12, 13,
          ]);
        }
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

      test('an append issued before the rebuildIndex promise settles is in the rebuilt index', async () => {
        await ctx.store.append(orders(0, 10));
        await ctx.store.indexes.createIndex({ name: 'by_amount', fields: ['payload.amount'] });
        const rebuilding = ctx.store.indexes.rebuildIndex('by_amount');
        await ctx.store.append({ aggregateId: 'late', type: 'Late', payload: { amount: 500 } });
        await rebuilding;
        const late = ctx.store.query().where('payload.amount', 'eq', 500);
        expect(await byIndex(late, 'by_amount')).toEqual([11]);
      });

      test('two concurrent createIndex calls with one name: the second fails with INDEX_EXISTS', async () => {
        await ctx.store.append(orders(0, 10));
        const [first, second] = await Promise.allSettled([
          ctx.store.indexes.createIndex({ name: 'dup', fields: ['payload.amount'] }),
          ctx.store.indexes.createIndex({ name: 'dup', fields: ['payload.status'] }),
        ]);
        expect(first.status).toBe('fulfilled');
        expect(second.status).toBe('rejected');
        expectError((second as PromiseRejectedResult).reason, TammaError, 'INDEX_EXISTS', '"dup"');
        const list = (await ctx.store.indexes.listIndexes()).filter((index) => index.name === 'dup');
        expect(list.map((index) => index.fields)).toEqual([['payload.amount']]);
      });

      test('a build over an empty store reports 0 of 0 and is ready at once', async () => {
        const progress: { indexed: number; total: number }[] = [];
        const info = await ctx.store.indexes.createIndex(
          { name: 'by_amount', fields: ['payload.amount'] },
          { onProgress: (p) => progress.push(p) },
        );
        expect(info).toMatchObject({ state: 'ready', entries: 0 });
        expect(progress).toEqual([{ indexed: 0, total: 0 }]);
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
      test('every store.indexes call rejects with STORE_CLOSED and nothing is written', async () => {
        await ctx.store.append(orders(0, 5));
        await ctx.store.indexes.createIndex({ name: 'by_amount', fields: ['payload.amount'] });
        await ctx.store.close();
        const calls: (() => Promise<unknown>)[] = [
          () => ctx.store.indexes.createIndex({ name: 'by_type', fields: ['type'] }),
          () => ctx.store.indexes.dropIndex('by_amount'),
          () => ctx.store.indexes.rebuildIndex('by_amount'),
          () => ctx.store.indexes.listIndexes(),
          () => ctx.store.indexes.analyzeIndex('by_amount'),
          () => ctx.store.indexes.getIndexUsage(),
          () => ctx.store.indexes.getIndexSize(),
        ];
        for (const call of calls) expectError(await rejection(call), StoreClosedError, 'STORE_CLOSED');
        if (ctx.dir) {
          // The directory's lock is released: a closed store must not write its index catalog.
          expect(catalogNames(ctx.dir)).toEqual(['by_amount']);
          const store = await ctx.reopen!();
          expect(
            (await store.indexes.listIndexes()).filter((index) => !index.builtIn).map((i) => i.name),
          ).toEqual(['by_amount']);
        }
      });

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

      test('a partial index is used only when the query has its where among its AND terms', async () => {
        const where = f.eq('type', 'OrderCancelled');
        await ctx.store.indexes.createIndex({ name: 'cancelled_amount', fields: ['payload.amount'], where });
        const implied = ctx.store
          .query()
          .where('type', 'eq', 'OrderCancelled')
          .where('payload.amount', 'lt', 20);
        expect(await considered(ctx.store, implied)).toContain('cancelled_amount');
        expect(await byIndex(implied, 'cancelled_amount')).toEqual(await byScan(implied));
        expect((await byScan(implied)).length).toBe(12);

        const notImplied = [
          ctx.store.query().where('payload.amount', 'lt', 20),
          ctx.store.query().where('type', 'in', ['OrderCancelled']).where('payload.amount', 'lt', 20),
          ctx.store
            .query()
            .where(f.or(where, f.eq('type', 'X')))
            .where('payload.amount', 'lt', 20),
          ctx.store.query().where('type', 'eq', 'OrderPlaced').where('payload.amount', 'lt', 20),
        ];
        for (const q of notImplied) {
          expect(await considered(ctx.store, q)).not.toContain('cancelled_amount');
          const error = await rejection(() => q.hint({ forceIndex: ['cancelled_amount'] }).execute());
          expectError(error, ValidationError, 'INDEX_NOT_USABLE', 'cancelled_amount');
        }

        // A where of several terms: the query must have each of them (in any order, among others).
        await ctx.store.indexes.createIndex({
          name: 't1_cancelled',
          fields: ['payload.amount'],
          where: f.and(f.eq('tags.tenant', 't1'), where),
        });
        const both = ctx.store
          .query()
          .where('payload.amount', 'gte', 50)
          .where(where)
          .where('aggregateId', 'ne', 'zzz')
          .where('tags.tenant', 'eq', 't1');
        expect(await considered(ctx.store, both)).toContain('t1_cancelled');
        expect(await byIndex(both, 't1_cancelled')).toEqual(await byScan(both));
        expect(await considered(ctx.store, implied)).not.toContain('t1_cancelled');
      });

      test("the definition is the index's own: changing the caller's objects later changes nothing", async () => {
        const where = { kind: 'eq', field: 'type', value: 'OrderCancelled' };
        const fields = ['payload.amount'];
        await ctx.store.indexes.createIndex({ name: 'cancelled_amount', fields, where } as IndexDefinition);
        where.value = 'OrderPlaced';
        fields[0] = 'payload.status';
        const placed = ctx.store.query().where('type', 'eq', 'OrderPlaced').where('payload.amount', 'lt', 20);
        expect(await considered(ctx.store, placed)).not.toContain('cancelled_amount');
        expect(sequences((await placed.execute()) as StoredEvent[])).toEqual(await byScan(placed));
        const info = (await ctx.store.indexes.listIndexes()).find(
          (index) => index.name === 'cancelled_amount',
        );
        expect(info).toMatchObject({ fields: ['payload.amount'], where: f.eq('type', 'OrderCancelled') });
        // Nor through what listIndexes returns.
        try {
          (info!.where as { value: unknown }).value = 'OrderPlaced';
        } catch {
          // frozen
        }
        expect(await considered(ctx.store, placed)).not.toContain('cancelled_amount');
        if (ctx.reopen) {
          await ctx.store.indexes.createIndex({ name: 'other', fields: ['payload.status'] });
          const store = await ctx.reopen();
          const reopened = store.query().where('type', 'eq', 'OrderPlaced').where('payload.amount', 'lt', 20);
          expect(await considered(store, reopened)).not.toContain('cancelled_amount');
          const cancelled = store
            .query()
            .where('type', 'eq', 'OrderCancelled')
            .where('payload.amount', 'lt', 20);
          expect(await byIndex(cancelled, 'cancelled_amount')).toEqual(await byScan(cancelled));
        }
      });

      test('a hash index serves equality (eq or in) on all its fields, nothing else', async () => {
        await ctx.store.indexes.createIndex({
          name: 'h',
          fields: ['tags.tenant', 'payload.amount'],
          type: 'hash',
        });
        const usable = [
          ctx.store.query().where('tags.tenant', 'eq', 't1').where('payload.amount', 'eq', 7),
          ctx.store
            .query()
            .where('tags.tenant', 'in', ['t1', 't2'])
            .where('payload.amount', 'in', [7, 8, 9, 'x']),
          ctx.store
            .query()
            .where('payload.amount', 'eq', 10)
            .where('tags.tenant', 'eq', 't1')
            .where('type', 'ne', 'x'),
        ];
        for (const q of usable) {
          expect(await considered(ctx.store, q)).toContain('h');
          expect(await byIndex(q, 'h')).toEqual(await byScan(q));
        }
        const unusable = [
          ctx.store.query().where('tags.tenant', 'eq', 't1'),
          ctx.store.query().where('payload.amount', 'eq', 7),
          ctx.store.query().where('tags.tenant', 'eq', 't1').where('payload.amount', 'lt', 7),
          ctx.store.query().where('tags.tenant', 'eq', 't1').where('payload.amount', 'between', [1, 3]),
          ctx.store.query().where(f.or(f.eq('tags.tenant', 't1'), f.eq('payload.amount', 7))),
        ];
        for (const q of unusable) expect(await considered(ctx.store, q)).not.toContain('h');
      });

      test('a btree serves equality on a leading prefix plus a range on the next field', async () => {
        await ctx.store.indexes.createIndex({
          name: 'b',
          fields: ['tags.tenant', 'payload.amount', 'payload.status'],
        });
        const usable: [AdvancedQueryBuilder, string][] = [
          [ctx.store.query().where('tags.tenant', 'eq', 't1'), 'tags.tenant = "t1"'],
          [ctx.store.query().where('tags.tenant', 'gte', 't1'), 'tags.tenant >= "t1"'],
          [ctx.store.query().where('tags.tenant', 'between', ['t0', 't1']), 'tags.tenant in ["t0", "t1"]'],
          [
            ctx.store.query().where('tags.tenant', 'eq', 't2').where('payload.amount', 'between', [10, 20]),
            'tags.tenant = "t2" and payload.amount in [10, 20]',
          ],
          [
            ctx.store.query().where('tags.tenant', 'in', ['t0', 't2']).where('payload.amount', 'gt', 90),
            'tags.tenant in ("t0", "t2") and payload.amount > 90',
          ],
          [
            ctx.store
              .query()
              .where('tags.tenant', 'eq', 't1')
              .where('payload.amount', 'gt', 10)
              .where('payload.amount', 'lte', 40),
            'payload.amount in (10, 40]',
          ],
          [
            ctx.store
              .query()
              .where('tags.tenant', 'eq', 't1')
              .where('payload.amount', 'eq', 4)
              .where('payload.status', 'eq', 'new'),
            'payload.status = "new"',
          ],
          [
            ctx.store
              .query()
              .where('tags.tenant', 'eq', 't1')
              .where('payload.amount', 'eq', 4)
              .where('payload.status', 'lt', 'p'),
            'payload.status < "p"',
          ],
          // A range on the first field with a range on the second: only the first bounds the seek.
          [
            ctx.store.query().where('tags.tenant', 'gt', 't0').where('payload.amount', 'lt', 3),
            'tags.tenant > "t0"',
          ],
        ];
        for (const [q, condition] of usable) {
          const explanation = await q.hint({ forceIndex: ['b'] }).explain();
          expect(explanation.indexesUsed).toEqual(['b']);
          expect(explanation.considered[0]!.condition).toContain(condition);
          expect(await byIndex(q, 'b')).toEqual(await byScan(q));
        }
        const unusable = [
          ctx.store.query().where('payload.amount', 'eq', 4),
          ctx.store.query().where('payload.amount', 'lt', 4).where('payload.status', 'eq', 'new'),
          ctx.store.query().where('tags.tenant', 'exists'),
          ctx.store.query().where('tags.tenant', 'prefix', 't'),
          ctx.store.query().where('tags.tenant', 'ne', 't1'),
        ];
        for (const q of unusable) expect(await considered(ctx.store, q)).not.toContain('b');
      });

      test('a composite btree serves a prefix only while no event it covers lacks a later field', async () => {
        await ctx.store.indexes.createIndex({
          name: 'b',
          fields: ['tags.tenant', 'payload.amount', 'payload.status'],
        });
        const t1 = ctx.store.query().where('tags.tenant', 'eq', 't1');
        expect(await considered(ctx.store, t1)).toContain('b');

        // Events the index leaves out (a later field has no scalar value) that a prefix query matches.
        await ctx.store.append([
          { aggregateId: 'gap', type: 'Gap', tags: { tenant: 't1' }, payload: { status: 'new' } },
          { aggregateId: 'gap', type: 'Gap', tags: { tenant: 't1' }, payload: { amount: 5, status: null } },
          {
            aggregateId: 'gap',
            type: 'Gap',
            tags: { tenant: 't1' },
            payload: { amount: 5, status: { s: 1 } },
          },
          {
            aggregateId: 'gap',
            type: 'Gap',
            tags: { tenant: 't1' },
            payload: { amount: '5', status: 'new' },
          },
        ]);
        const check = async (store: EventStore) => {
          const q = (...terms: [string, Parameters<AdvancedQueryBuilder['where']>[1], unknown][]) =>
            terms.reduce((b, [field, op, value]) => b.where(field, op, value), store.query());
          const unservable = [
            q(['tags.tenant', 'eq', 't1']),
            q(['tags.tenant', 'in', ['t1', 't2']]),
            q(['tags.tenant', 'gte', 't1']),
            q(['tags.tenant', 'eq', 't1'], ['payload.amount', 'eq', 5]),
            q(['tags.tenant', 'eq', 't1'], ['payload.amount', 'lt', 10]),
            q(
              ['tags.tenant', 'eq', 't1'],
              ['payload.amount', 'lt', 10],
              ['payload.status', 'exists', undefined],
            ),
            q(['tags.tenant', 'eq', 't1'], ['payload.amount', 'lt', 10], ['payload.status', 'ne', 'x']),
          ];
          for (const query of unservable) {
            const expected = await byScan(query);
            expect(expected.some((sequence) => sequence > 300)).toBe(true);
            expect(sequences((await query.execute()) as StoredEvent[])).toEqual(expected);
            expect(await considered(store, query)).not.toContain('b');
          }
          // A term that needs a scalar in each later field excludes those events: the index serves it.
          const servable = [
            q(['tags.tenant', 'eq', 't1'], ['payload.amount', 'gte', 0], ['payload.status', 'gte', '']),
            q(['tags.tenant', 'eq', 't1'], ['payload.amount', 'eq', 5], ['payload.status', 'eq', 'new']),
            q(
              ['tags.tenant', 'eq', 't1'],
              ['payload.status', 'prefix', 'n'],
              ['payload.amount', 'in', [5, 6]],
            ),
          ];
          for (const query of servable) {
            expect(await considered(store, query)).toContain('b');
            expect(await byIndex(query, 'b')).toEqual(await byScan(query));
          }
        };
        await check(ctx.store);
        if (ctx.reopen) await check(await ctx.reopen());
      });

      test('EXPLAIN shows the user index for a selective predicate and a scan for an unselective one', async () => {
        await ctx.store.indexes.createIndex({ name: 'by_amount', fields: ['payload.amount'] });
        const selective = await ctx.store.explain(ctx.store.query().where('payload.amount', 'eq', 17));
        expect(selective.indexesUsed).toEqual(['by_amount']);
        expect(selective.text).toContain('by_amount');
        expect(selective.text).toContain('payload.amount = 17');
        expect(selective.estimatedRows).toBe(3);

        const unselective = await ctx.store.explain(ctx.store.query().where('payload.amount', 'gte', 0));
        expect(unselective.indexesUsed).toEqual([]);
        expect(accessNode(unselective.plan).operator).toBe('Scan');
        expect(unselective.considered.map((path) => path.index)).toContain('by_amount');
        expect(unselective.text).toContain('Scan');

        // useIndex prefers the index even then; forceIndex insists.
        const preferred = await ctx.store.explain(
          ctx.store
            .query()
            .where('payload.amount', 'gte', 0)
            .hint({ useIndex: ['by_amount'] }),
        );
        expect(preferred.indexesUsed).toEqual(['by_amount']);
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

      test('in with a null matches null values, which no index holds: no index serves it', async () => {
        await ctx.store.append([
          { aggregateId: 'n', type: 'Null', payload: { amount: null, status: 'paid' } },
          { aggregateId: 'n', type: 'Null', payload: { amount: 7, status: null } },
        ]);
        await ctx.store.indexes.createIndex({ name: 'amount', fields: ['payload.amount'] });
        await ctx.store.indexes.createIndex({
          name: 'status_amount',
          fields: ['payload.status', 'payload.amount'],
          type: 'hash',
        });
        const queries = [
          ctx.store.query().where('payload.amount', 'in', [null, 7]),
          ctx.store.query().where('payload.amount', 'in', [null]),
          ctx.store
            .query()
            .where('payload.status', 'in', ['paid', null])
            .where('payload.amount', 'in', [7, null]),
        ];
        for (const q of queries) {
          const expected = await byScan(q);
          expect(expected).toContain(301);
          expect(sequences((await q.execute()) as StoredEvent[])).toEqual(expected);
          const paths = await considered(ctx.store, q);
          expect(paths).not.toContain('amount');
          expect(paths).not.toContain('status_amount');
        }
        // Without the null, the indexes serve the same query.
        const plain = ctx.store.query().where('payload.amount', 'in', [7, 8]);
        expect(await considered(ctx.store, plain)).toContain('amount');
        expect(await byIndex(plain, 'amount')).toEqual(await byScan(plain));
      });

      test('values of the wrong type, nulls and missing fields are left out and never match', async () => {
        await ctx.store.append([
          { aggregateId: 'm', type: 'Mixed', payload: { amount: '7' } },
          { aggregateId: 'm', type: 'Mixed', payload: { amount: null } },
          { aggregateId: 'm', type: 'Mixed', payload: { amount: { nested: 7 } } },
          { aggregateId: 'm', type: 'Mixed', payload: { amount: [7] } },
          { aggregateId: 'm', type: 'Mixed', payload: { amount: true } },
          { aggregateId: 'm', type: 'Mixed' },
        ]);
        await ctx.store.indexes.createIndex({ name: 'amount', fields: ['payload.amount'] });
        expect((await ctx.store.indexes.analyzeIndex('amount')).entries).toBe(302);
        const queries = [
          ctx.store.query().where('payload.amount', 'eq', 7),
          ctx.store.query().where('payload.amount', 'eq', '7'),
          ctx.store.query().where('payload.amount', 'eq', true),
          ctx.store.query().where('payload.amount', 'in', [7, '7', false]),
          ctx.store.query().where('payload.amount', 'lt', 8),
          ctx.store.query().where('payload.amount', 'lte', '7'),
          ctx.store.query().where('payload.amount', 'between', ['0', '9']),
        ];
        for (const q of queries) {
          expect(await considered(ctx.store, q)).toContain('amount');
          expect(await byIndex(q, 'amount')).toEqual(await byScan(q));
        }
      });
    });
  });
}

describe('store.indexes: validation', () => {
  let store: EventStore;
  beforeEach(async () => {
    store = await openEventStore({ clock: new ManualClock(T0) });
    await store.append(orders(0, 3));
  });
  afterEach(async () => {
    await store.close();
  });

  const valid = { name: 'ok', fields: ['payload.amount'] };
  const cases: [label: string, definition: unknown, code: string, fragments: string[]][] = [
    ['not an object', 'by_amount', 'INVALID_OPTION', ['definition', '"by_amount"']],
    ['null', null, 'INVALID_OPTION', ['definition', 'null']],
    ['an array', [valid], 'INVALID_OPTION', ['definition', '"ok"']],
    [
      'an unknown option',
      { ...valid, partial: true },
      'INVALID_OPTION',
      ['definition.partial', 'unknown option'],
    ],
    ['a misspelt option', { ...valid, uniq: true }, 'INVALID_OPTION', ['definition.uniq', 'unique']],
    ['missing name', { fields: ['type'] }, 'INVALID_OPTION', ['definition.name', 'undefined']],
    ['empty name', { ...valid, name: '' }, 'INVALID_OPTION', ['definition.name', '""']],
    [
      'name with a space',
      { ...valid, name: 'by amount' },
      'INVALID_OPTION',
      ['definition.name', '"by amount"'],
    ],
    ['name starting with a digit', { ...valid, name: '1st' }, 'INVALID_OPTION', ['"1st"']],
    ['name with a dot', { ...valid, name: 'tags.tenant' }, 'INVALID_OPTION', ['"tags.tenant"']],
    ['name of 65 characters', { ...valid, name: 'x'.repeat(65) }, 'INVALID_OPTION', ['x'.repeat(65)]],
    ['name that is a number', { ...valid, name: 42 }, 'INVALID_OPTION', ['definition.name', '42']],
    ['built-in name scan', { ...valid, name: 'scan' }, 'INVALID_OPTION', ['"scan"', 'built-in']],
    ['built-in name type', { ...valid, name: 'type' }, 'INVALID_OPTION', ['"type"', 'built-in']],
    [
      'built-in name timestamp',
      { ...valid, name: 'timestamp' },
      'INVALID_OPTION',
      ['"timestamp"', 'built-in'],
    ],
    ['built-in name sequence', { ...valid, name: 'sequence' }, 'INVALID_OPTION', ['"sequence"', 'built-in']],
    ['missing fields', { name: 'x' }, 'INVALID_OPTION', ['definition.fields', 'undefined']],
    ['empty fields', { ...valid, fields: [] }, 'INVALID_OPTION', ['definition.fields', '[]']],
    ['fields not an array', { ...valid, fields: 'type' }, 'INVALID_OPTION', ['definition.fields', '"type"']],
    [
      'nine fields',
      { ...valid, fields: Array.from({ length: 9 }, (_, i) => `payload.f${i}`) },
      'INVALID_OPTION',
      ['definition.fields', '1 to 8', 'payload.f0'],
    ],
    [
      'duplicate field',
      { ...valid, fields: ['type', 'payload.a', 'type'] },
      'INVALID_OPTION',
      ['twice', '"type"'],
    ],
    [
      'unknown field',
      { ...valid, fields: ['type', 'colour'] },
      'UNKNOWN_FIELD',
      ['definition.fields[1]', '"colour"'],
    ],
    [
      'empty payload path',
      { ...valid, fields: ['payload.'] },
      'UNKNOWN_FIELD',
      ['definition.fields[0]', '"payload."'],
    ],
    ['empty path segment', { ...valid, fields: ['payload.a..b'] }, 'UNKNOWN_FIELD', ['"payload.a..b"']],
    ['field not a string', { ...valid, fields: [7] }, 'UNKNOWN_FIELD', ['definition.fields[0]', '7']],
    ['bad type', { ...valid, type: 'gist' }, 'INVALID_OPTION', ['definition.type', '"gist"']],
    ['built-in type', { ...valid, type: 'postings' }, 'INVALID_OPTION', ['definition.type', '"postings"']],
    ['unique not a boolean', { ...valid, unique: 'yes' }, 'INVALID_OPTION', ['definition.unique', '"yes"']],
    ['unique as 1', { ...valid, unique: 1 }, 'INVALID_OPTION', ['definition.unique', '1']],
    [
      'where not a filter',
      { ...valid, where: 'type = x' },
      'VALIDATION_FAILED',
      ['definition.where', '"type = x"'],
    ],
    [
      'where with an unknown kind',
      { ...valid, where: { kind: 'like', field: 'type', value: 'x' } },
      'VALIDATION_FAILED',
      ['definition.where.kind', '"like"'],
    ],
    [
      'where on an unknown field',
      { ...valid, where: f.eq('colour', 'red') },
      'UNKNOWN_FIELD',
      ['definition.where.field', '"colour"'],
    ],
    [
      'where with a bad operand',
      { ...valid, where: f.and(f.eq('type', 'x'), f.gt('payload.amount', true)) },
      'INVALID_OPERAND',
      ['definition.where.and[1].value', 'true'],
    ],
    [
      'where with a bad range',
      { ...valid, where: f.between('payload.amount', 9, 1) },
      'INVALID_RANGE',
      ['definition.where', '9', '1'],
    ],
  ];

  test.each(cases)('createIndex rejects %s', async (_label, definition, code, fragments) => {
    const before = await store.indexes.listIndexes();
    const error = await rejection(() => store.indexes.createIndex(definition as IndexDefinition));
    expectError(error, ValidationError, code, ...fragments);
    expect(await store.indexes.listIndexes()).toEqual(before);
  });

  const badOptions: [label: string, options: unknown, fragments: string[]][] = [
    ['null', null, ['options', 'null']],
    ['a function', () => undefined, ['options', 'a function']],
    ['an unknown option', { onprogress: () => undefined }, ['options.onprogress', 'onProgress']],
    ['onProgress not a function', { onProgress: 'log' }, ['options.onProgress', '"log"']],
  ];

  test.each(badOptions)(
    'createIndex and rebuildIndex reject build options: %s',
    async (_label, options, fragments) => {
      await store.indexes.createIndex(valid);
      const before = await store.indexes.listIndexes();
      for (const call of [
        () => store.indexes.createIndex({ ...valid, name: 'other' }, options as never),
        () => store.indexes.rebuildIndex('ok', options as never),
      ]) {
        const error = await rejection(call);
        expectError(error, ValidationError, 'INVALID_OPTION', ...fragments);
      }
      expect(await store.indexes.listIndexes()).toEqual(before);
    },
  );

  test('createIndex rejects a name already in use', async () => {
    await store.indexes.createIndex(valid);
    for (const definition of [valid, { ...valid, fields: ['type'], type: 'hash' as const }]) {
      const error = await rejection(() => store.indexes.createIndex(definition));
      expectError(error, TammaError, 'INDEX_EXISTS', '"ok"');
    }
    expect((await store.indexes.listIndexes()).filter((index) => index.name === 'ok')).toHaveLength(1);
  });

  test('dropIndex, analyzeIndex and rebuildIndex reject a name that is not a string, naming it', async () => {
    for (const name of [42, null, { name: 'ok' }] as unknown[]) {
      for (const call of [
        () => store.indexes.dropIndex(name as string),
        () => store.indexes.analyzeIndex(name as string),
        () => store.indexes.rebuildIndex(name as string),
      ]) {
        const error = await rejection(call);
        expectError(error, ValidationError, 'VALIDATION_FAILED', 'name', JSON.stringify(name));
      }
    }
  });

  test('dropIndex, analyzeIndex and rebuildIndex reject an unknown name, naming it and the known ones', async () => {
    await store.indexes.createIndex(valid);
    for (const call of [
      () => store.indexes.dropIndex('nope'),
      () => store.indexes.analyzeIndex('nope'),
      () => store.indexes.rebuildIndex('nope'),
    ]) {
      const error = await rejection(call);
      expectError(error, IndexNotFoundError, 'INDEX_NOT_FOUND', '"nope"', 'ok');
      expect((error as IndexNotFoundError).index).toBe('nope');
    }
    // Built-in indexes cannot be dropped or analyzed through store.indexes.
    expectError(
      await rejection(() => store.indexes.dropIndex('type')),
      IndexNotFoundError,
      'INDEX_NOT_FOUND',
      '"type"',
    );
    expectError(
      await rejection(() => store.indexes.analyzeIndex('scan')),
      IndexNotFoundError,
      'INDEX_NOT_FOUND',
    );
  });
});
