import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { systemClock, ValidationError, type NewEvent, type OrderTerm } from '../../src/index.js';
import type { StoreFactory } from '../contract/factory.js';

/**
 * Keyset pagination: walking any query page by page with the returned cursors yields exactly the
 * rows of the unpaged query, in order, whatever the sort (missing values, ties, descending).
 * `paginationProperties(factory)` runs this against one engine (runner: pagination.property.test.ts).
 */
const eventArb = fc.record({
  aggregateId: fc.constantFrom('a', 'b', 'c'),
  type: fc.constantFrom('X', 'Y'),
  tags: fc.record({ tier: fc.constantFrom('gold', 'silver', 'bronze') }, { requiredKeys: [] }),
  payload: fc.record(
    { total: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constant(null), fc.string({ maxLength: 2 })) },
    { requiredKeys: [] },
  ),
});

const orderArb: fc.Arbitrary<OrderTerm[]> = fc.oneof(
  fc.constant<OrderTerm[]>([]),
  fc.constantFrom<OrderTerm[]>([{ field: 'sequence', direction: 'desc' }]),
  fc.array(
    fc.record({
      field: fc.constantFrom('payload.total', 'tags.tier', 'type', 'aggregateId', 'version'),
      direction: fc.constantFrom<'asc' | 'desc'>('asc', 'desc'),
    }),
    { minLength: 1, maxLength: 2 },
  ),
);

export function paginationProperties(factory: StoreFactory): void {
  describe(`keyset pagination: ${factory.name}`, () => {
    it('pages joined equal the whole result, for any order and page size', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(eventArb, { minLength: 0, maxLength: 60 }),
          orderArb,
          fc.integer({ min: 1, max: 7 }),
          fc.boolean(),
          async (events, order, size, filtered) => {
            const { store, cleanup } = await factory.open({ clock: systemClock });
            try {
              await store.append(events as NewEvent[]);
              let query = store.query();
              if (filtered) query = query.where('type', 'eq', 'X');
              for (const term of order) query = query.orderBy(term.field, term.direction);
              const whole = await query.execute();
              const paged = [];
              let page = await query.limit(size).executePage();
              for (let guard = 0; guard < 100; guard++) {
                paged.push(...page.rows);
                if (page.cursor === undefined) break;
                expect(page.rows).toHaveLength(size);
                page = await query.limit(size).after(page.cursor).executePage();
              }
              expect(paged).toEqual(whole);
            } finally {
              await store.close();
              await cleanup();
            }
          },
        ),
        { numRuns: 60 },
      );
    });

    it('rejects a cursor made for another order, or not a cursor at all, naming it', async () => {
      const { store, cleanup } = await factory.open({ clock: systemClock });
      try {
        await store.append([1, 2, 3].map((total) => ({ aggregateId: 'a', type: 'X', payload: { total } })));
        const byTotal = store.query().orderBy('payload.total', 'desc').limit(1);
        const { cursor } = await byTotal.executePage();
        expect(cursor).toBeTypeOf('string');
        expect(() =>
          store
            .query()
            .limit(1)
            .after(cursor as string),
        ).toThrow(ValidationError);
        expect(() => byTotal.after('not-a-cursor')).toThrow(/after: is not a cursor/);
        expect(() => byTotal.after(42 as unknown as string)).toThrow(/after: must be a cursor string/);
        expect(() => store.query().after({ sequence: -1 })).toThrow(/after: must be a cursor string/);
        const next = await byTotal.after(cursor as string).executePage();
        expect(next.rows.map((row) => (row as { payload: { total: number } }).payload.total)).toEqual([2]);
        await store.close();
      } finally {
        await cleanup();
      }
    });

    it('in sequence order, a cursor is a seek: the sequence bound shows in the plan', async () => {
      const { store, cleanup } = await factory.open({ clock: systemClock });
      try {
        await store.append(
          Array.from({ length: 50 }, (_, i) => ({ aggregateId: 'a', type: i % 2 ? 'X' : 'Y' })),
        );
        const query = store.query().where('type', 'eq', 'X').limit(5);
        const first = await query.executePage();
        const explanation = await store.explain(query.after(first.cursor as string));
        expect(explanation.text).toContain('rows [10, 50)');
        const second = await query.after(first.cursor as string).executePage();
        expect(second.rows.map((row) => (row as { sequence: number }).sequence)).toEqual([
          12, 14, 16, 18, 20,
        ]);
        await store.close();
      } finally {
        await cleanup();
      }
    });
  });
}
