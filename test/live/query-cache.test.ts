import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  agg,
  f,
  ManualClock,
  openEventStore,
  ValidationError,
  type EventStore,
  type OpenOptions,
  type ReadCall,
  type StorePlugin,
} from '../../src/index.js';
import { expectError, rejection, removeDir, tempDir } from '../support/helpers.js';

const START = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;

/** A plugin inside the cache (the cache's own plugin runs first): it sees only the reads the engine answers. */
function engineReads(): StorePlugin & { count: number; calls: ReadCall[] } {
  const plugin = {
    name: 'engine-reads',
    count: 0,
    calls: [] as ReadCall[],
    aroundRead<R>(call: ReadCall, next: () => Promise<R>): Promise<R> {
      plugin.count++;
      plugin.calls.push(call);
      return next();
    },
  };
  return plugin;
}

describe('the result cache', () => {
  const stores: EventStore[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const dir of dirs.splice(0)) await removeDir(dir);
  });

  async function open(options: OpenOptions = {}): Promise<{ store: EventStore; clock: ManualClock }> {
    const clock = (options.clock as ManualClock | undefined) ?? new ManualClock(START);
    const store = await openEventStore({ cache: true, ...options, clock });
    stores.push(store);
    return { store, clock };
  }

  const orders = (store: EventStore) => store.query().where('type', 'eq', 'ORDER.PLACED');

  it('is off by default: nothing is cached and the stats say so', async () => {
    const reads = engineReads();
    const store = await openEventStore({ plugins: [reads] });
    stores.push(store);
    await store.append({ aggregateId: 'o1', type: 'ORDER.PLACED' });
    await orders(store).execute();
    await orders(store).cache().execute();
    expect(reads.count).toBe(2);
    const stats = await store.cache.getCacheStats();
    expect(stats).toMatchObject({ enabled: false, hits: 0, misses: 0, entries: 0 });
    expect(store.cache.enabled).toBe(false);
    expect(await store.cache.get(orders(store))).toBeNull();
  });

  it('answers a repeated query from the cache and counts hits, misses, entries and bytes', async () => {
    const reads = engineReads();
    const { store } = await open({ plugins: [reads] });
    await store.append([
      { aggregateId: 'o1', type: 'ORDER.PLACED', payload: { total: 5 } },
      { aggregateId: 'o2', type: 'ORDER.PLACED', payload: { total: 7 } },
    ]);
    const first = await orders(store).execute();
    const second = await orders(store).execute();
    expect(second).toBe(first);
    expect(reads.count).toBe(1);
    // Criteria make the same query as the builder: the same entry.
    expect(await store.queryEvents({ type: 'ORDER.PLACED' })).toBe(first);
    expect(await store.getEventsByType('ORDER.PLACED', { limit: 1 })).toEqual(first.slice(0, 1));
    expect(await store.getEventsByType('ORDER.PLACED', { limit: 1 })).toEqual(first.slice(0, 1));
    const stats = await store.cache.getCacheStats();
    expect(stats).toMatchObject({ enabled: true, hits: 3, misses: 2, hitRate: 0.6, entries: 2 });
    expect(stats.bytes).toBeGreaterThan(0);
  });

  it('keys by the whole query, constants included', async () => {
    const { store } = await open();
    await store.append([
      { aggregateId: 'o1', type: 'ORDER.PLACED', tags: { region: 'eu' } },
      { aggregateId: 'o2', type: 'ORDER.PLACED', tags: { region: 'us' } },
    ]);
    const eu = await orders(store).where('tags.region', 'eq', 'eu').execute();
    const us = await orders(store).where('tags.region', 'eq', 'us').execute();
    expect(eu.map((event) => event.aggregateId)).toEqual(['o1']);
    expect(us.map((event) => event.aggregateId)).toEqual(['o2']);
    expect(store.cache.keyOf(orders(store).where('tags.region', 'eq', 'eu'))).not.toBe(
      store.cache.keyOf(orders(store).where('tags.region', 'eq', 'us')),
    );
    // Hints that change how a query runs, not what it answers, share the entry.
    expect(store.cache.keyOf(orders(store).hint({ timeout: 500 }))).toBe(store.cache.keyOf(orders(store)));
  });

  it('drops only the entries a commit could change', async () => {
    const { store } = await open();
    await store.append([
      { aggregateId: 'o1', type: 'ORDER.PLACED', tags: { region: 'eu' } },
      { aggregateId: 'p1', type: 'PAYMENT.RECEIVED' },
    ]);
    const ordersEu = orders(store).where('tags.region', 'eq', 'eu');
    await ordersEu.execute();
    await store.query().where('type', 'eq', 'PAYMENT.RECEIVED').execute();
    await store.query().groupBy('type').count().execute();
    await store.append({ aggregateId: 'o2', type: 'ORDER.PLACED', tags: { region: 'us' } });
    // The payments and the eu orders still hold; the count by type takes the new order in.
    const stats = await store.cache.getCacheStats();
    expect(stats.entries).toBe(3);
    expect(stats.refreshed).toBe(1);
    expect(stats.invalidations.commit).toBe(0);
    expect(await store.query().groupBy('type').count().execute()).toEqual([
      { type: 'ORDER.PLACED', count: 2 },
      { type: 'PAYMENT.RECEIVED', count: 1 },
    ]);
    await store.append({ aggregateId: 'o3', type: 'ORDER.PLACED', tags: { region: 'eu' } });
    expect((await ordersEu.execute()).map((event) => event.aggregateId)).toEqual(['o1', 'o3']);
  });

  it('caches analytics queries: group-by with buckets, pipelines and funnels', async () => {
    const reads = engineReads();
    const { store, clock } = await open({ plugins: [reads] });
    await store.append([
      { aggregateId: 'u1', type: 'VIEW', payload: { ms: 10 }, timestamp: clock.now() },
      { aggregateId: 'u1', type: 'BUY', payload: { ms: 30 }, timestamp: clock.now() + MINUTE },
      { aggregateId: 'u2', type: 'VIEW', payload: { ms: 20 }, timestamp: clock.now() + 2 * MINUTE },
    ]);
    const perBucket = () =>
      store
        .query()
        .timeBucket('1h')
        .groupBy('type')
        .aggregate({
          n: agg.count(),
          total: agg.sum('payload.ms'),
          low: agg.min('payload.ms'),
          mean: agg.avg('payload.ms'),
        })
        .execute();
    const funnel = () =>
      store.analytics.funnel({
        partitionBy: 'aggregateId',
        steps: [f.eq('type', 'VIEW'), f.eq('type', 'BUY')],
        within: '1h',
      });
    const pipeline = () =>
      store.analytics.pipeline([
        { match: f.eq('type', 'VIEW') },
        { group: { by: ['aggregateId'], aggregates: { n: agg.count() } } },
      ]);
    const first = [await perBucket(), await funnel(), await pipeline()];
    const engineCalls = reads.count;
    expect([await perBucket(), await funnel(), await pipeline()]).toEqual(first);
    expect(reads.count).toBe(engineCalls);
    await store.append({
      aggregateId: 'u2',
      type: 'BUY',
      payload: { ms: 5 },
      timestamp: clock.now() + 3 * MINUTE,
    });
    const funnelAfter = (await funnel()) as { steps: { count: number }[] };
    expect(funnelAfter.steps.map((step) => step.count)).toEqual([2, 2]);
    const buckets = (await perBucket()) as { type: string; n: number }[];
    expect(buckets.find((row) => row.type === 'BUY')?.n).toBe(2);
  });

  it('reads past the cache with hints.cache: false', async () => {
    const reads = engineReads();
    const { store } = await open({ plugins: [reads] });
    await store.append({ aggregateId: 'o1', type: 'ORDER.PLACED' });
    await orders(store).hint({ cache: false }).execute();
    await orders(store).hint({ cache: false }).execute();
    expect(reads.count).toBe(2);
    const stats = await store.cache.getCacheStats();
    expect(stats).toMatchObject({ bypassed: 2, hits: 0, misses: 0, entries: 0 });
  });

  it('runs concurrent identical misses once (single flight)', async () => {
    const reads = engineReads();
    const { store } = await open({ plugins: [reads] });
    await store.append(
      Array.from({ length: 50 }, (_, i) => ({ aggregateId: `o${i}`, type: 'ORDER.PLACED' })),
    );
    const answers = await Promise.all(Array.from({ length: 8 }, () => orders(store).execute()));
    expect(reads.count).toBe(1);
    for (const answer of answers) expect(answer).toBe(answers[0]);
    expect((await store.cache.getCacheStats()).coalesced).toBe(7);
  });

  it('hands out frozen rows: no caller can change an answer under another', async () => {
    const { store } = await open();
    await store.append({
      aggregateId: 'o1',
      type: 'ORDER.PLACED',
      payload: { items: [{ sku: 'a' }] },
      tags: { region: 'eu' },
    });
    const [event] = await orders(store).execute();
    expect(() => {
      (event as { type: string }).type = 'CHANGED';
    }).toThrow(TypeError);
    expect(() => (event!.payload as { items: { sku: string }[] }).items.push({ sku: 'b' })).toThrow(
      TypeError,
    );
    expect(() => event!.timestamp.setTime(0)).toThrow(TypeError);
    expect(event!.timestamp).toBeInstanceOf(Date);
    const [again] = await orders(store).execute();
    expect(again!.type).toBe('ORDER.PLACED');
    expect(again!.payload).toEqual({ items: [{ sku: 'a' }] });
    expect(again!.timestamp.getTime()).toBe(START);
  });

  it('bounds the cached bytes by maxBytes, evicting the least recently used', async () => {
    const { store } = await open({ cache: { maxBytes: 16 * 1024 } });
    await store.append(
      Array.from({ length: 40 }, (_, i) => ({
        aggregateId: `o${i}`,
        type: `T${i % 20}`,
        payload: { text: 'x'.repeat(200) },
      })),
    );
    for (let i = 0; i < 20; i++) await store.query().where('type', 'eq', `T${i}`).execute();
    const stats = await store.cache.getCacheStats();
    expect(stats.bytes).toBeLessThanOrEqual(16 * 1024);
    expect(stats.evictions).toBeGreaterThan(0);
    expect(stats.entries).toBeLessThan(20);
    // The newest is held; the oldest went first.
    expect(await store.cache.get(store.query().where('type', 'eq', 'T19'))).not.toBeNull();
    expect(await store.cache.get(store.query().where('type', 'eq', 'T0'))).toBeNull();
  });

  it('expires entries after ttl by the store clock, per store and per query', async () => {
    const reads = engineReads();
    const { store, clock } = await open({ cache: { ttl: '1m' }, plugins: [reads] });
    await store.append({ aggregateId: 'o1', type: 'ORDER.PLACED' });
    await orders(store).execute();
    clock.advance(59_000);
    await orders(store).execute();
    expect(reads.count).toBe(1);
    clock.advance(1_000);
    await orders(store).execute();
    expect(reads.count).toBe(2);
    await orders(store).cache('10s').execute();
    clock.advance(10_000);
    await orders(store).cache('10s').execute();
    expect(reads.count).toBe(3);
    expect((await store.cache.getCacheStats()).invalidations.ttl).toBe(2);
  });

  it('never serves an answer past the moment retention hides one of its events', async () => {
    const reads = engineReads();
    const { store, clock } = await open({ retention: { maxAge: '1h', schedule: false }, plugins: [reads] });
    await store.append([
      { aggregateId: 'o1', type: 'ORDER.PLACED', timestamp: START - 50 * MINUTE },
      { aggregateId: 'o2', type: 'ORDER.PLACED', timestamp: START - 10 * MINUTE },
    ]);
    const count = () => store.query().where('type', 'eq', 'ORDER.PLACED').count().execute();
    const list = () => orders(store).execute();
    expect(await count()).toEqual([{ count: 2 }]);
    expect((await list()).length).toBe(2);
    clock.advance(10 * MINUTE); // o1 is exactly 1h old: still visible
    expect(await count()).toEqual([{ count: 2 }]);
    expect((await list()).length).toBe(2);
    const before = reads.count;
    clock.advance(1);
    expect(await count()).toEqual([{ count: 1 }]);
    expect((await list()).map((event) => event.aggregateId)).toEqual(['o2']);
    expect(reads.count).toBeGreaterThan(before);
    expect((await store.cache.getCacheStats()).invalidations.expiry).toBe(2);
  });

  it('does not keep a read that a commit raced (started before it, ended after it)', async () => {
    const { store } = await open();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let holding = false;
    const slow: StorePlugin = {
      name: 'slow',
      async aroundRead<R>(_call: ReadCall, next: () => Promise<R>): Promise<R> {
        const answer = await next();
        if (holding) await gate;
        return answer;
      },
    };
    await store.close();
    stores.pop();
    const { store: raced } = await open({ plugins: [slow] });
    await raced.append({ aggregateId: 'o1', type: 'ORDER.PLACED' });
    holding = true;
    const reading = orders(raced).execute();
    await raced.append({ aggregateId: 'o2', type: 'ORDER.PLACED' });
    holding = false;
    release();
    expect((await reading).length).toBe(1); // right at the moment it read
    expect((await orders(raced).execute()).length).toBe(2);
    expect((await raced.cache.getCacheStats()).discarded).toBe(1);
  });

  it('never folds an append into an answer that already saw it (a read between its write and its notice)', async () => {
    const dir = await tempDir('tamma-cache-');
    dirs.push(dir);
    // fsync 'always': the batch is readable while the append waits for its fsync, before its notice.
    const { store } = await open({ dir: join(dir, 'store'), fsync: 'always' });
    await store.append({ aggregateId: 'o1', type: 'ORDER.PLACED' });
    const count = () => store.query().where('type', 'eq', 'ORDER.PLACED').count().execute();
    const list = () => orders(store).execute();
    const appending = store.append({ aggregateId: 'o2', type: 'ORDER.PLACED' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(await count()).toEqual([{ count: 2 }]);
    expect((await list()).length).toBe(2);
    await appending;
    expect(await count()).toEqual([{ count: 2 }]);
    expect((await list()).length).toBe(2);
    await store.append({ aggregateId: 'o3', type: 'ORDER.PLACED' });
    expect(await count()).toEqual([{ count: 3 }]);
    expect((await list()).length).toBe(3);
  });

  it('drops what deleteAggregate, restore, retention and index changes could alter', async () => {
    const dir = await tempDir('tamma-cache-');
    dirs.push(dir);
    const archive = join(dir, 'archive');
    const { store, clock } = await open({
      retention: { maxAge: '1h', archive: { dir: archive }, schedule: false },
    });
    await store.append([
      { aggregateId: 'o1', type: 'ORDER.PLACED', tags: { region: 'eu' }, timestamp: START - 30 * MINUTE },
      { aggregateId: 'o2', type: 'ORDER.PLACED', tags: { region: 'us' } },
    ]);
    const one = store.query().where('aggregateId', 'eq', 'o1');
    const two = store.query().where('aggregateId', 'eq', 'o2');
    await one.execute();
    await two.execute();
    await store.deleteAggregate('o2');
    expect((await two.execute()).length).toBe(0);
    expect((await store.cache.getCacheStats()).invalidations.deleteAggregate).toBe(1);
    expect(await store.cache.get(one)).not.toBeNull();

    await store.indexes.createIndex({ name: 'by_region', fields: ['tags.region'] });
    const hinted = orders(store)
      .where('tags.region', 'eq', 'eu')
      .hint({ forceIndex: ['by_region'] });
    expect((await hinted.execute()).length).toBe(1);
    await store.indexes.dropIndex('by_region');
    expectError(await rejection(() => hinted.execute()), ValidationError, 'INDEX_NOT_USABLE');
    expect((await store.cache.getCacheStats()).invalidations.index).toBe(1);
    expect(await store.cache.get(one)).not.toBeNull();

    // o1 expires, cleanup archives it; a policy keeping everything, then a restore, bring it back.
    clock.advance(31 * MINUTE);
    expect((await one.execute()).length).toBe(0);
    await store.cleanup();
    store.setRetention({ archive: { dir: archive }, schedule: false });
    expect((await one.execute()).length).toBe(0);
    await store.restoreArchive(archive);
    expect((await one.execute()).length).toBe(1);
    const { invalidations } = await store.cache.getCacheStats();
    // The setRetention dropped both entries left (o1's, and the deleted o2's).
    expect(invalidations).toMatchObject({ expiry: 1, retention: 2, restore: 1 });
  });

  it("lets a user's afterCommit read its own write", async () => {
    const seen: number[] = [];
    const opened: { store?: EventStore } = {};
    const watcher: StorePlugin = {
      name: 'watcher',
      afterCommit: () => {
        void opened.store
          ?.query()
          .where('type', 'eq', 'ORDER.PLACED')
          .execute()
          .then((rows) => seen.push(rows.length));
      },
    };
    const { store } = await open({ plugins: [watcher] });
    opened.store = store;
    await orders(store).execute();
    await store.append({ aggregateId: 'o1', type: 'ORDER.PLACED' });
    await store.append({ aggregateId: 'o2', type: 'ORDER.PLACED' });
    await orders(store).execute();
    expect(seen).toEqual([1, 2]);
  });

  it('get, set, delete, clear, invalidateByPattern, invalidateByTable, optimize and warmup', async () => {
    const { store, clock } = await open({ cache: { ttl: '1h' } });
    await store.append([
      { aggregateId: 'o1', type: 'ORDER.PLACED' },
      { aggregateId: 'p1', type: 'PAYMENT.RECEIVED' },
    ]);
    const payments = store.query().where('type', 'eq', 'PAYMENT.RECEIVED');
    expect(await store.cache.warmup([orders(store), payments.toQuery()])).toBe(2);
    expect((await store.cache.get(store.cache.keyOf(orders(store))))?.length).toBe(1);
    expect(await store.cache.delete(orders(store))).toBe(true);
    expect(await store.cache.delete(orders(store))).toBe(false);
    expect(await store.cache.invalidateByPattern('*PAYMENT.RECEIVED*')).toBe(1);
    await store.cache.set(orders(store), [], '1m');
    expect(await orders(store).execute()).toEqual([]); // the caller vouched for it
    clock.advance(MINUTE);
    expect(await store.cache.optimize()).toMatchObject({ removed: 1, entries: 0 });
    await store.cache.warmup([orders(store), payments]);
    expect(await store.cache.invalidateByTable('archive')).toBe(0);
    expect(await store.cache.invalidateByTable('events')).toBe(2);
    await store.cache.warmup([orders(store)]);
    await store.cache.clear();
    const stats = await store.cache.getCacheStats();
    expect(stats.entries).toBe(0);
    expect(stats.invalidations.manual).toBe(5);
    expect(stats.invalidations.ttl).toBe(1);
  });

  it('refuses bad options and arguments with coded errors that name the value', async () => {
    expectError(
      await rejection(() => openEventStore({ cache: 'yes' as never })),
      ValidationError,
      'INVALID_OPTION',
      'cache',
      '"yes"',
    );
    expectError(
      await rejection(() => openEventStore({ cache: { maxBytes: -1 } })),
      ValidationError,
      'INVALID_OPTION',
      'cache.maxBytes',
      '-1',
    );
    expectError(
      await rejection(() => openEventStore({ cache: { ttl: 'soon' } })),
      ValidationError,
      'INVALID_OPTION',
      'cache.ttl',
      'soon',
    );
    expectError(
      await rejection(() => openEventStore({ cache: { size: 1 } as never })),
      ValidationError,
      'INVALID_OPTION',
      'cache.size',
    );
    const { store } = await open();
    expect(() => orders(store).cache('later')).toThrow(/cache\.ttl.*later/);
    expectError(
      await rejection(() =>
        orders(store)
          .hint({ cache: { ttl: 0 } })
          .execute(),
      ),
      ValidationError,
      'INVALID_OPTION',
      'hints.cache.ttl',
    );
    expectError(
      await rejection(() => store.cache.get('nonsense')),
      ValidationError,
      'INVALID_CACHE_KEY',
      'nonsense',
    );
    expectError(
      await rejection(() => store.cache.invalidateByTable('orders' as never)),
      ValidationError,
      'VALIDATION_FAILED',
      'orders',
    );
    expectError(
      await rejection(() => store.cache.invalidateByPattern(5 as never)),
      ValidationError,
      'VALIDATION_FAILED',
      '5',
    );
    expectError(
      await rejection(() => store.cache.set(orders(store), 'rows' as never)),
      ValidationError,
      'VALIDATION_FAILED',
      'rows',
    );
    const custom = store.query().aggregate({
      odd: agg.custom({
        init: () => 0,
        add: (n: number) => n + 1,
        merge: (a: number, b: number) => a + b,
        result: (n: number) => n,
      }),
    });
    expectError(
      await rejection(() => store.cache.get(custom)),
      ValidationError,
      'INVALID_CACHE_KEY',
      'function',
    );
    const plain = await openEventStore({});
    stores.push(plain);
    expectError(
      await rejection(() => plain.cache.set(orders(plain), [])),
      ValidationError,
      'CACHE_DISABLED',
      'cache: true',
    );
    expectError(
      await rejection(() => plain.cache.warmup([orders(plain)])),
      ValidationError,
      'CACHE_DISABLED',
    );
  });
});
