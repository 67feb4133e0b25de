/**
 * How queries use user indexes: a partial index only when the query has its where among its AND
 * terms; a hash index for equality on all its fields; a btree for equality on a leading prefix plus
 * a range; never for what the index leaves out (missing fields, nulls, values of another type).
 * Every query through an index returns the rows a forced scan returns (the oracle), and EXPLAIN
 * names the index it uses. (Exact row estimates are the embedded planner's:
 * test/indexes/index-manager.test.ts.)
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  f,
  ValidationError,
  type AdvancedQueryBuilder,
  type EventStore,
  type IndexDefinition,
  type StoredEvent,
} from '../../src/index.js';
import { expectError, rejection, sequences } from '../support/helpers.js';
import { accessNode, byIndex, byScan, considered, orders } from '../support/index-sample.js';
import type { StoreFactory } from './factory.js';
import { openIndexContext, type IndexContext } from './index-context.js';

export function indexPlannerSuite(factory: StoreFactory): void {
  describe('the planner', () => {
    let ctx: IndexContext;
    /** The last of the 300 orders every test starts with: events appended later come after it. */
    let lastOrder: number;
    beforeEach(async () => {
      ctx = await openIndexContext(factory);
      lastOrder = (await ctx.store.append(orders(0, 300))).at(-1)!.sequence;
    });
    afterEach(async () => {
      await ctx.cleanup();
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
      const info = (await ctx.store.indexes.listIndexes()).find((index) => index.name === 'cancelled_amount');
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
          expect(expected.some((sequence) => sequence > lastOrder)).toBe(true);
          expect(sequences((await query.execute()) as StoredEvent[])).toEqual(expected);
          expect(await considered(store, query)).not.toContain('b');
        }
        // A term that needs a scalar in each later field excludes those events: the index serves it.
        const servable = [
          q(['tags.tenant', 'eq', 't1'], ['payload.amount', 'gte', 0], ['payload.status', 'gte', '']),
          q(['tags.tenant', 'eq', 't1'], ['payload.amount', 'eq', 5], ['payload.status', 'eq', 'new']),
          q(['tags.tenant', 'eq', 't1'], ['payload.status', 'prefix', 'n'], ['payload.amount', 'in', [5, 6]]),
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

    test('in with a null matches null values, which no index holds: no index serves it', async () => {
      const [withNull] = await ctx.store.append([
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
        expect(expected).toContain(withNull!.sequence);
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
}
