/**
 * store.indexes, managing user-defined indexes: createIndex, listIndexes, dropIndex, analyzeIndex,
 * rebuildIndex, getIndexUsage and getIndexSize; appends and builds that overlap; every call once the
 * store is closed. (Builds big enough to take several slices, and indexes.json, are the embedded
 * engine's: test/indexes/index-manager.test.ts.)
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { f, StoreClosedError, TammaError, ValidationError } from '../../src/index.js';
import { expectError, rejection } from '../support/helpers.js';
import {
  at,
  BUILT_INS,
  byIndex,
  byScan,
  considered,
  INDEX_T0 as T0,
  orders,
  indexCalls,
} from '../support/index-sample.js';
import type { StoreFactory } from './factory.js';
import { openIndexContext, type IndexContext } from './index-context.js';

export function indexManagementSuite(factory: StoreFactory): void {
  describe('managing indexes', () => {
    let ctx: IndexContext;
    beforeEach(async () => {
      ctx = await openIndexContext(factory);
    });
    afterEach(async () => {
      await ctx.cleanup();
    });

    describe('create, list, drop, analyze, rebuild, usage, size', () => {
      test('createIndex builds over existing events and returns the ready index', async () => {
        const appended = await ctx.store.append(orders(0, 30));
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
        expect(await byIndex(q, 'by_tenant_amount')).toEqual(at(appended, 7, 10, 13, 16, 19));
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
        const appended = await ctx.store.append(orders(0, 20));
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
        expect(await byIndex(ctx.store.query().where('payload.status', 'eq', 'paid'), 'by_amount')).toEqual(
          at(appended, 1, 5, 9, 13, 17),
        );
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
        const appended = await ctx.store.append(orders(0, 8));
        const streamed = await ctx.store.appendToStream('s-1', [
          { type: 'OrderPlaced', payload: { status: 'paid' } },
        ]);
        const q = ctx.store.query().where('payload.status', 'eq', 'paid');
        expect(await byIndex(q, 'by_status')).toEqual([...at(appended, 1, 5), ...at(streamed, 0)]);
        expect((await ctx.store.indexes.listIndexes()).find((i) => i.name === 'by_status')?.entries).toBe(9);
      });
    });

    describe('online builds', () => {
      test('an append issued before the createIndex promise settles is indexed', async () => {
        await ctx.store.append(orders(0, 10));
        // A small build finishes in one slice, but its promise settles a microtask later: an append
        // made meanwhile must reach the index, which would otherwise fall behind for good.
        const building = ctx.store.indexes.createIndex({ name: 'by_amount', fields: ['payload.amount'] });
        const during = await ctx.store.append({
          aggregateId: 'late',
          type: 'Late',
          payload: { amount: 500 },
        });
        await building;
        const after = await ctx.store.append({ aggregateId: 'late', type: 'Late', payload: { amount: 501 } });
        const late = ctx.store.query().where('payload.amount', 'gte', 500);
        const lateSequences = [...at(during, 0), ...at(after, 0)];
        expect(await byScan(late)).toEqual(lateSequences);
        expect(await byIndex(late, 'by_amount')).toEqual(lateSequences);
        expect((await ctx.store.indexes.analyzeIndex('by_amount')).entries).toBe(12);
        if (ctx.reopen) {
          const store = await ctx.reopen();
          const reopened = await store.append({
            aggregateId: 'late',
            type: 'Late',
            payload: { amount: 502 },
          });
          expect(await byIndex(store.query().where('payload.amount', 'gte', 500), 'by_amount')).toEqual([
            ...lateSequences,
            ...at(reopened, 0),
          ]);
        }
      });

      test('an append issued before the rebuildIndex promise settles is in the rebuilt index', async () => {
        await ctx.store.append(orders(0, 10));
        await ctx.store.indexes.createIndex({ name: 'by_amount', fields: ['payload.amount'] });
        const rebuilding = ctx.store.indexes.rebuildIndex('by_amount');
        const during = await ctx.store.append({
          aggregateId: 'late',
          type: 'Late',
          payload: { amount: 500 },
        });
        await rebuilding;
        const late = ctx.store.query().where('payload.amount', 'eq', 500);
        expect(await byIndex(late, 'by_amount')).toEqual(at(during, 0));
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
    });

    describe('after close', () => {
      test('every store.indexes call rejects with STORE_CLOSED and nothing is written', async () => {
        await ctx.store.append(orders(0, 5));
        await ctx.store.indexes.createIndex({ name: 'by_amount', fields: ['payload.amount'] });
        await ctx.store.close();
        const calls = indexCalls(ctx.store);
        for (const call of calls) expectError(await rejection(call), StoreClosedError, 'STORE_CLOSED');
        // (That the embedded engine's index catalog stays as it was is in test/indexes/index-manager.test.ts.)
        if (ctx.reopen) {
          const store = await ctx.reopen();
          expect(
            (await store.indexes.listIndexes()).filter((index) => !index.builtIn).map((i) => i.name),
          ).toEqual(['by_amount']);
        }
      });
    });
  });
}
