import { describe, expect, it } from 'vitest';
import { openEventStore } from '../../src/index.js';

/**
 * The planner stops counting an index's rows once it cannot beat the best path found so far; but a
 * path named in a hint must still be counted exactly, so its estimate stays a true bound.
 */
describe('bounded counting of user-index paths', () => {
  it('stops counting a losing index, yet counts a forced one exactly', async () => {
    const store = await openEventStore();
    await store.append(
      Array.from({ length: 400 }, (_, i) => ({
        aggregateId: `a${i % 10}`,
        type: 'T',
        tags: { tenant: `t${i % 4}` },
        payload: { amount: i },
      })),
    );
    await store.indexes.createIndex({ name: 'by_amount', fields: ['payload.amount'] });
    await store.indexes.createIndex({ name: 'by_tenant_amount', fields: ['tags.tenant', 'payload.amount'] });
    const query = store.query().where('tags.tenant', 'eq', 't1').where('payload.amount', 'between', [0, 299]);
    const plain = await store.explain(query);
    expect(plain.indexesUsed).toEqual(['by_tenant_amount']);
    const wide = plain.considered.find((path) => path.index === 'by_amount');
    expect(wide?.condition).toMatch(/not counted further/);
    const forced = await store.explain(query.hint({ forceIndex: ['by_amount'] }), { analyze: true });
    let access = forced.plan;
    while (access.children[0] !== undefined) access = access.children[0];
    expect(access.index).toBe('by_amount');
    expect(access.estimatedRows).toBe(300);
    expect(access.actualRows).toBe(300);
    await store.close();
  });
});
