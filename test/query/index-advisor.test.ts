/**
 * The index advisor (src/storage/embedded/indexes/index-advisor.ts), fed by the query monitor: recommendations from
 * an observed workload, unused and redundant indexes, opt-in auto indexing, and index usage counts
 * that survive a restart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  ManualClock,
  openEventStore,
  ValidationError,
  type AdvancedQueryBuilder,
  type EventStore,
  type NewEvent,
} from '../../src/index.js';
import { expectError, removeDir, tempDir } from '../support/helpers.js';
import { seededRandom } from '../support/random.js';
import { T0, SECOND, fill, sameAsScan, usage } from './support.js';

const N = 5000;
/** The stores' clock starts after the last event time: events may not be from the store's future. */
const NOW = T0 + N * SECOND;
const random = seededRandom(7);
const amounts = Array.from({ length: N }, () => Math.floor(random() * 1000));

/** 500 customers of 10 events each; payload amounts at random. */
function event(i: number): NewEvent {
  return {
    aggregateId: `a-${i % 100}`,
    type: `T${i % 10}`,
    timestamp: T0 + i * SECOND,
    tags: { region: ['eu', 'us', 'ap'][i % 3]! },
    payload: { customer: `c${i % 500}`, amount: amounts[i]!, status: i % 2 === 0 ? 'open' : 'closed' },
  };
}

const stores: EventStore[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close().catch(() => undefined);
  for (const dir of dirs.splice(0)) await removeDir(dir);
});

async function makeStore(): Promise<{ store: EventStore; clock: ManualClock }> {
  const clock = new ManualClock(NOW);
  const store = await openEventStore({ clock });
  stores.push(store);
  await fill(store, N, event);
  return { store, clock };
}

async function runTimes(count: number, query: (k: number) => AdvancedQueryBuilder): Promise<void> {
  for (let k = 0; k < count; k++) await query(k).execute();
}

const byCustomer = (store: EventStore) => (k: number) =>
  store.query().where('payload.customer', 'eq', `c${(k * 37) % 500}`);

describe('recommendIndexes', () => {
  it('proposes an index on payload fields a repeated workload filters on, with its evidence', async () => {
    const { store } = await makeStore();
    await runTimes(30, byCustomer(store));
    await runTimes(25, (k) =>
      store
        .query()
        .where('payload.status', 'eq', k % 2 === 0 ? 'open' : 'closed')
        .where('payload.amount', 'gte', 990),
    );
    const recommendations = await store.indexes.recommendIndexes();
    const customer = recommendations.find((r) => r.definition.fields.join() === 'payload.customer');
    expect(customer).toMatchObject({
      definition: { name: 'auto_payload_customer', fields: ['payload.customer'], type: 'btree' },
      calls: 30,
      rowsExamined: 30 * N, // scanned
      rowsReturned: 30 * 10,
      estimatedBytes: N * 16,
    });
    expect(customer!.fingerprints).toHaveLength(1);
    expect(customer!.totalTimeMs).toBeGreaterThan(0);
    expect(customer!.improvement).toBeGreaterThanOrEqual(0.5);
    expect(customer!.improvement).toBeLessThanOrEqual(1);
    expect(customer!.estimatedCost).toBeLessThan(customer!.currentCost);
    expect(customer!.expectedTimeSavedMs).toBeGreaterThan(0);
    expect(customer!.expectedTimeSavedMs).toBeLessThanOrEqual(customer!.totalTimeMs);

    // Equalities lead, then the range.
    const composite = recommendations.find(
      (r) => r.definition.fields.join() === 'payload.status,payload.amount',
    );
    expect(composite).toMatchObject({ calls: 25, rowsExamined: 25 * N });
    expect(composite!.improvement).toBeGreaterThanOrEqual(0.5);
    // Most time saved first.
    const saved = recommendations.map((r) => r.expectedTimeSavedMs);
    expect(saved).toEqual([...saved].sort((a, b) => b - a));

    // The definition is ready for createIndex, and the planner then uses it.
    await store.indexes.createIndex(customer!.definition);
    expect((await store.explain(byCustomer(store)(3))).indexesUsed).toEqual(['auto_payload_customer']);
    await sameAsScan(byCustomer(store)(3));
    const after = await store.indexes.recommendIndexes();
    expect(after.map((r) => r.definition.fields.join())).not.toContain('payload.customer');
  });

  it('proposes nothing for queries the built-in indexes answer', async () => {
    const { store } = await makeStore();
    await runTimes(30, (k) => store.query().where('type', 'eq', `T${k % 10}`));
    await runTimes(30, (k) => store.query().where('type', 'in', [`T${k % 10}`, 'T9']));
    await runTimes(30, (k) => store.query().where('aggregateId', 'eq', `a-${k}`));
    await runTimes(30, (k) => store.query().where('tags.region', 'eq', ['eu', 'us', 'ap'][k % 3]!));
    await runTimes(30, (k) =>
      store.query().where('tags.region', 'in', ['eu', 'us']).where('sequence', 'gt', k),
    );
    await runTimes(30, (k) =>
      store
        .query()
        .where('timestamp', 'gte', T0 + k * 10 * SECOND)
        .where('timestamp', 'lt', T0 + (k * 10 + 50) * SECOND),
    );
    // The built-in aggregate+type postings answer both equalities at once.
    await runTimes(30, (k) =>
      store
        .query()
        .where('aggregateId', 'eq', `a-${k}`)
        .where('type', 'eq', `T${k % 10}`),
    );
    await runTimes(30, (k) =>
      store
        .query()
        .where('type', 'eq', `T${k % 10}`)
        .where('aggregateId', 'eq', `a-${k}`),
    );
    expect(await store.indexes.recommendIndexes()).toEqual([]);
  });

  it('proposes nothing an existing btree already leads with', async () => {
    const { store } = await makeStore();
    await runTimes(30, byCustomer(store));
    const fields = async () =>
      (await store.indexes.recommendIndexes()).map((r) => r.definition.fields.join());
    expect(await fields()).toEqual(['payload.customer']);

    // A hash index needs every field, a partial one the query does not imply is no use: still proposed.
    await store.indexes.createIndex({
      name: 'h',
      fields: ['payload.customer', 'payload.amount'],
      type: 'hash',
    });
    await store.indexes.createIndex({
      name: 'partial',
      fields: ['payload.customer'],
      where: { kind: 'eq', field: 'type', value: 'T1' },
    });
    expect(await fields()).toEqual(['payload.customer']);

    await store.indexes.createIndex({ name: 'wide', fields: ['payload.customer', 'payload.amount'] });
    expect(await fields()).toEqual([]);
  });
});

describe('optimizeIndexes', () => {
  it('reports unused indexes, same-shape duplicates and btree prefixes', async () => {
    const { store, clock } = await makeStore();
    const create = async (name: string, fields: string[]) => {
      clock.advance(SECOND);
      await store.indexes.createIndex({ name, fields });
    };
    await create('by_amount', ['payload.amount']);
    await create('by_amount_again', ['payload.amount']);
    await create('by_customer', ['payload.customer']);
    await create('by_customer_amount', ['payload.customer', 'payload.amount']);
    await create('by_status', ['payload.status']);

    let result = await store.indexes.optimizeIndexes();
    expect(result.unused.map((u) => u.name).sort()).toEqual([
      'by_amount',
      'by_amount_again',
      'by_customer',
      'by_customer_amount',
      'by_status',
    ]);
    expect(result.unused.find((u) => u.name === 'by_amount')!.createdAt).toEqual(new Date(NOW + SECOND));

    // Queries that use two of them.
    const q1 = store.query().where('payload.customer', 'eq', 'c1').where('payload.amount', 'lt', 500);
    expect((await store.explain(q1)).indexesUsed).toEqual(['by_customer_amount']);
    await q1.execute();
    const q2 = store.query().where('payload.amount', 'eq', amounts[0]!);
    const [used] = (await store.explain(q2)).indexesUsed;
    await q2.execute();

    result = await store.indexes.optimizeIndexes();
    expect(result.unused.map((u) => u.name).sort()).toEqual(
      ['by_amount', 'by_amount_again', 'by_customer', 'by_status'].filter((name) => name !== used),
    );
    expect(result.duplicates.map(({ name, duplicateOf }) => ({ name, duplicateOf }))).toEqual(
      expect.arrayContaining([
        { name: 'by_amount_again', duplicateOf: 'by_amount' },
        { name: 'by_customer', duplicateOf: 'by_customer_amount' },
      ]),
    );
    expect(result.duplicates).toHaveLength(2);
    const same = result.duplicates.find((d) => d.name === 'by_amount_again')!;
    expect(same.reason).toBe('same fields, type and where');
    const prefix = result.duplicates.find((d) => d.name === 'by_customer')!;
    expect(prefix.reason).toContain('by_customer_amount leads with the same fields');

    const sizes = Object.fromEntries((await store.indexes.listIndexes()).map((i) => [i.name, i.bytes]));
    const named = new Set([...result.unused.map((u) => u.name), ...result.duplicates.map((d) => d.name)]);
    expect(result.reclaimableBytes).toBe([...named].reduce((sum, name) => sum + sizes[name]!, 0));
    for (const entry of [...result.unused, ...result.duplicates]) expect(entry.bytes).toBe(sizes[entry.name]);
  });

  it('calls a hash index on the fields of a btree redundant, but not a unique or partial one', async () => {
    const { store } = await makeStore();
    await store.indexes.createIndex({ name: 'wide', fields: ['payload.customer', 'payload.amount'] });
    await store.indexes.createIndex({
      name: 'partial',
      fields: ['payload.customer'],
      where: { kind: 'eq', field: 'type', value: 'T1' },
    });
    await store.indexes.createIndex({ name: 'unique_id', fields: ['id'], unique: true });
    await store.indexes.createIndex({ name: 'by_id', fields: ['id', 'payload.customer'] });
    await store.indexes.createIndex({
      name: 'hashed',
      fields: ['payload.customer', 'payload.amount'],
      type: 'hash',
    });
    const { duplicates } = await store.indexes.optimizeIndexes();
    expect(duplicates.map(({ name, duplicateOf }) => ({ name, duplicateOf }))).toEqual([
      { name: 'hashed', duplicateOf: 'wide' },
    ]);
    expect(duplicates[0]!.reason).toContain('wide leads with the same fields');
  });
});

describe('auto indexing', () => {
  it('builds the best recommendation within the budget once it has enough calls', async () => {
    const { store } = await makeStore();
    store.indexes.setAutoIndex({ minCalls: 5, checkEvery: 10, memoryBudget: 10 * 1024 * 1024 });
    // A shape seen only 4 times is not enough, whatever else ran.
    await runTimes(4, (k) => store.query().where('payload.amount', 'eq', k));
    await runTimes(6, byCustomer(store));
    await store.indexes.whenIdle();
    expect(store.indexes.autoActions).toHaveLength(1);
    const [action] = store.indexes.autoActions;
    expect(action).toMatchObject({
      action: 'created',
      recommendation: {
        definition: { name: 'auto_payload_customer', fields: ['payload.customer'] },
        calls: 6,
      },
    });
    expect(action!.at).toBeInstanceOf(Date);
    const names = (await store.indexes.listIndexes()).filter((i) => !i.builtIn).map((i) => i.name);
    expect(names).toEqual(['auto_payload_customer']);
    expect((await store.explain(byCustomer(store)(1))).indexesUsed).toEqual(['auto_payload_customer']);
    await sameAsScan(byCustomer(store)(1));

    // The next check proposes the other shape once it has the calls; the built one is not proposed again.
    await runTimes(10, (k) => store.query().where('payload.amount', 'eq', k));
    await store.indexes.whenIdle();
    expect(store.indexes.autoActions.map((a) => [a.action, a.recommendation.definition.name])).toEqual([
      ['created', 'auto_payload_customer'],
      ['created', 'auto_payload_amount'],
    ]);
  });

  it('skips a recommendation over the memory budget, saying why', async () => {
    const { store } = await makeStore();
    store.indexes.setAutoIndex({ minCalls: 5, checkEvery: 10, memoryBudget: 1000 });
    await runTimes(10, byCustomer(store));
    await store.indexes.whenIdle();
    expect(store.indexes.autoActions).toHaveLength(1);
    const [action] = store.indexes.autoActions;
    expect(action).toMatchObject({ action: 'skipped', recommendation: { estimatedBytes: N * 16 } });
    expect(action!.reason).toContain('memory budget of 1000 bytes');
    expect(action!.reason).toContain(`~${N * 16}`);
    expect((await store.indexes.listIndexes()).filter((i) => !i.builtIn)).toEqual([]);
  });

  it('does nothing when off, by default or turned off', async () => {
    const { store } = await makeStore();
    await runTimes(120, byCustomer(store));
    await store.indexes.whenIdle();
    expect(store.indexes.autoActions).toEqual([]);

    store.indexes.setAutoIndex({ minCalls: 1, checkEvery: 1 });
    store.indexes.setAutoIndex(false);
    await runTimes(20, byCustomer(store));
    await store.indexes.whenIdle();
    expect(store.indexes.autoActions).toEqual([]);
    expect((await store.indexes.listIndexes()).filter((i) => !i.builtIn)).toEqual([]);
    // The recommendation is there all the same.
    expect((await store.indexes.recommendIndexes()).map((r) => r.definition.name)).toEqual([
      'auto_payload_customer',
    ]);
  });

  it('rejects bad settings with INVALID_OPTION naming the key', async () => {
    const store = await openEventStore();
    stores.push(store);
    const bad: [unknown, string][] = [
      [{ memoryBudget: -1 }, 'autoIndex.memoryBudget'],
      [{ memoryBudget: 0 }, 'autoIndex.memoryBudget'],
      [{ minCalls: 1.5 }, 'autoIndex.minCalls'],
      [{ checkEvery: '10' }, 'autoIndex.checkEvery'],
      [{ checkEvery: Number.NaN }, 'autoIndex.checkEvery'],
      [{ minCalls: 2 ** 60 }, 'autoIndex.minCalls'],
      [{ budget: 1 }, 'autoIndex.budget'],
      [true, 'autoIndex'],
      [null, 'autoIndex'],
      [[], 'autoIndex'],
    ];
    for (const [settings, key] of bad) {
      let error: unknown;
      try {
        store.indexes.setAutoIndex(settings as never);
      } catch (caught) {
        error = caught;
      }
      expectError(error, ValidationError, 'INVALID_OPTION', `${key}:`);
      expect((error as ValidationError).path).toBe(key);
    }
    expect(store.indexes.autoActions).toEqual([]);
  });
});

describe('index usage', () => {
  it('counts uses per index and keeps them across close and reopen, even without appends', async () => {
    const dir = await tempDir('tamma-usage-');
    dirs.push(dir);
    const clock = new ManualClock(NOW);
    const open = async () => {
      const store = await openEventStore({ dir, clock });
      stores.push(store);
      return store;
    };
    let store = await open();
    await fill(store, 2000, event);
    await store.indexes.createIndex({ name: 'by_customer', fields: ['payload.customer'] });
    await store.indexes.createIndex({ name: 'never', fields: ['payload.status', 'payload.amount'] });
    const byType = (type: string) => store.query().where('type', 'eq', type);

    clock.set(NOW + 60_000);
    for (const type of ['T1', 'T2', 'T3']) await byType(type).execute();
    await byCustomer(store)(1).execute();
    await byCustomer(store)(2).execute();
    await store
      .query()
      .where('payload.status', 'eq', 'open')
      .hint({ forceIndex: ['scan'] })
      .execute();
    const first = await usage(store);
    expect(first).toMatchObject({ type: 3, by_customer: 2, never: 0 });
    const lastUsed = async () =>
      Object.fromEntries(
        (await store.indexes.getIndexUsage()).map((u) => [u.name, u.lastUsed?.getTime() ?? null]),
      );
    expect(await lastUsed()).toMatchObject({ type: NOW + 60_000, by_customer: NOW + 60_000, never: null });
    const builtIn = (await store.indexes.getIndexUsage()).filter((u) => u.builtIn).map((u) => u.name);
    expect(builtIn).toContain('type');
    await store.close();

    // Reopened (a checkpoint was written on close: it had new events).
    store = await open();
    expect(await usage(store)).toEqual(first);
    expect(await lastUsed()).toMatchObject({ type: NOW + 60_000, by_customer: NOW + 60_000, never: null });

    // Queries only, no appends: close writes no checkpoint, the counts must still be saved.
    clock.set(NOW + 120_000);
    await byType('T4').execute();
    await byCustomer(store)(3).execute();
    await store.close();

    store = await open();
    expect(await usage(store)).toEqual({ ...first, type: 4, by_customer: 3 });
    expect(await lastUsed()).toMatchObject({ type: NOW + 120_000, by_customer: NOW + 120_000, never: null });
    // And the advisor reads them: the unused index is reported after a restart too.
    expect((await store.indexes.optimizeIndexes()).unused.map((u) => u.name)).toEqual(['never']);

    // A session that used nothing leaves them as they were.
    await store.close();
    store = await open();
    expect(await usage(store)).toEqual({ ...first, type: 4, by_customer: 3 });
  });
});
