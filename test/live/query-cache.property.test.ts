import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  agg,
  f,
  ManualClock,
  openEventStore,
  type EventStore,
  type OpenOptions,
  type RetentionOptions,
} from '../../src/index.js';
import { removeDir, tempDir } from '../support/helpers.js';

/**
 * The result cache is never stale: two stores take the same operations at the same moments (one
 * clock), one with the cache and one without; after every operation, every kind of query asked of
 * both must answer the same. The operations are everything that changes what reads return:
 * appends, deleteAggregate, retention changes and a clock that moves (hiding events with no
 * write), cleanup, restore, index changes, and reads racing appends.
 */

const START = Date.UTC(2026, 0, 1);
const TYPES = ['A', 'B', 'C'] as const;
const STREAMS = ['s1', 's2', 's3', 's4'] as const;
const REGIONS = ['eu', 'us'] as const;

type QuerySpec =
  | {
      kind: 'list';
      type: string;
      region?: string;
      order: 'sequence' | 'sequenceDesc' | 'timestampDesc';
      limit?: number;
      hint?: 'use' | 'force';
    }
  | { kind: 'select'; type: string; offset: number; limit: number }
  | { kind: 'page'; stream: string; limit: number }
  | {
      kind: 'queryEvents';
      type?: string;
      stream?: string;
      sinceMin?: number;
      limit?: number;
      archived: boolean;
    }
  | { kind: 'byType'; type: string; limit?: number }
  | { kind: 'inRange'; fromMin: number; toMin: number }
  | { kind: 'groupBy'; type?: string; bucket: boolean }
  | { kind: 'pipeline'; type: string }
  | { kind: 'funnel'; first: string; second: string }
  | { kind: 'pattern'; first: string; second: string; absent: boolean }
  | { kind: 'join' }
  | { kind: 'tagged'; region: string }
  | { kind: 'fromAll'; type: string };

type Op =
  | { op: 'append'; events: { type: string; stream: string; region: string; n: number; ageMin: number }[] }
  | { op: 'query'; query: QuerySpec }
  | { op: 'race'; query: QuerySpec; type: string; stream: string; readFirst: boolean }
  | { op: 'advance'; minutes: number }
  | { op: 'delete'; stream: string }
  | { op: 'retention'; policy: number }
  | { op: 'cleanup' }
  | { op: 'restore' }
  | { op: 'index'; create: boolean };

const type = fc.constantFrom(...TYPES);
const stream = fc.constantFrom(...STREAMS);
const region = fc.constantFrom(...REGIONS);

const querySpec: fc.Arbitrary<QuerySpec> = fc.oneof(
  fc.record({
    kind: fc.constant('list' as const),
    type,
    region: fc.option(region, { nil: undefined }),
    order: fc.constantFrom('sequence' as const, 'sequenceDesc' as const, 'timestampDesc' as const),
    limit: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
    hint: fc.option(fc.constantFrom('use' as const, 'force' as const), { nil: undefined }),
  }),
  fc.record({
    kind: fc.constant('select' as const),
    type,
    offset: fc.integer({ min: 0, max: 2 }),
    limit: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({ kind: fc.constant('page' as const), stream, limit: fc.integer({ min: 1, max: 3 }) }),
  fc.record({
    kind: fc.constant('queryEvents' as const),
    type: fc.option(type, { nil: undefined }),
    stream: fc.option(stream, { nil: undefined }),
    sinceMin: fc.option(fc.integer({ min: 0, max: 120 }), { nil: undefined }),
    limit: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
    archived: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('byType' as const),
    type,
    limit: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  }),
  fc.record({
    kind: fc.constant('inRange' as const),
    fromMin: fc.integer({ min: 0, max: 60 }),
    toMin: fc.integer({ min: 60, max: 200 }),
  }),
  fc.record({
    kind: fc.constant('groupBy' as const),
    type: fc.option(type, { nil: undefined }),
    bucket: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('pipeline' as const), type }),
  fc.record({ kind: fc.constant('funnel' as const), first: type, second: type }),
  fc.record({ kind: fc.constant('pattern' as const), first: type, second: type, absent: fc.boolean() }),
  fc.record({ kind: fc.constant('join' as const) }),
  fc.record({ kind: fc.constant('tagged' as const), region }),
  fc.record({ kind: fc.constant('fromAll' as const), type }),
);

const operation: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('append' as const),
      events: fc.array(
        fc.record({
          type,
          stream,
          region,
          n: fc.integer({ min: -5, max: 50 }),
          ageMin: fc.integer({ min: 0, max: 50 }),
        }),
        { minLength: 1, maxLength: 4 },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('query' as const), query: querySpec }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('race' as const),
      query: querySpec,
      type,
      stream,
      readFirst: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('advance' as const), minutes: fc.integer({ min: 1, max: 40 }) }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), stream }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('retention' as const), policy: fc.integer({ min: 0, max: 4 }) }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('cleanup' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('restore' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('index' as const), create: fc.boolean() }) },
);

/** Queries every dashboard holds besides its random ones: each reads what one kind of change alters. */
const CANARIES: QuerySpec[] = [
  { kind: 'groupBy', bucket: true },
  { kind: 'fromAll', type: 'A' },
  { kind: 'queryEvents', archived: true },
  { kind: 'list', type: 'A', region: 'eu', order: 'sequence', hint: 'force' },
  { kind: 'list', type: 'B', order: 'timestampDesc' },
  { kind: 'list', type: 'C', order: 'sequenceDesc', limit: 3 },
  { kind: 'list', type: 'A', order: 'sequence' },
  { kind: 'tagged', region: 'eu' },
];

function policies(archiveDir: string): (RetentionOptions | undefined)[] {
  const base = { archive: { dir: archiveDir }, schedule: false as const };
  return [
    base,
    { ...base, maxAge: '1h' },
    { ...base, maxAge: '2h', types: { B: 'forever' } },
    { ...base, types: { A: '45m' } },
    { ...base, maxEvents: 12 },
  ];
}

/** Runs one query kind; the answer as JSON (a cached Date is a FrozenDate: JSON compares the time). */
async function ask(store: EventStore, query: QuerySpec, now: number): Promise<string> {
  const run = async (): Promise<unknown> => {
    switch (query.kind) {
      case 'list': {
        let builder = store.query().where('type', 'eq', query.type);
        if (query.region !== undefined) builder = builder.where('tags.region', 'eq', query.region);
        if (query.order === 'timestampDesc') builder = builder.orderBy('timestamp', 'desc');
        if (query.order === 'sequenceDesc') builder = builder.orderBy('sequence', 'desc');
        if (query.limit !== undefined) builder = builder.limit(query.limit);
        if (query.hint === 'use') builder = builder.hint({ useIndex: ['by_region'] });
        if (query.hint === 'force' && query.region !== undefined)
          builder = builder.hint({ forceIndex: ['by_region'] });
        return builder.execute();
      }
      case 'select':
        return store
          .query()
          .where('type', 'eq', query.type)
          .select(['sequence', 'payload.n', 'tags.region'])
          .orderBy('payload.n', 'desc')
          .offset(query.offset)
          .limit(query.limit)
          .execute();
      case 'page':
        return store.query().where('aggregateId', 'eq', query.stream).limit(query.limit).executePage();
      case 'queryEvents':
        return store.queryEvents(
          {
            ...(query.type === undefined ? {} : { type: query.type }),
            ...(query.stream === undefined ? {} : { aggregateId: query.stream }),
            ...(query.sinceMin === undefined ? {} : { from: now - query.sinceMin * 60_000 }),
            ...(query.limit === undefined ? {} : { limit: query.limit }),
          },
          query.archived ? { includeArchived: true } : {},
        );
      case 'byType':
        return store.getEventsByType(query.type, query.limit === undefined ? {} : { limit: query.limit });
      case 'inRange':
        return store.getEventsInRange(START + query.fromMin * 60_000, START + query.toMin * 60_000);
      case 'groupBy': {
        let builder = store.query();
        if (query.type !== undefined) builder = builder.where('type', 'eq', query.type);
        const grouped = query.bucket
          ? builder.timeBucket('30m').groupBy('type')
          : builder.groupBy(['type', 'tags.region']);
        return grouped
          .aggregate({
            n: agg.count(),
            total: agg.sum('payload.n'),
            low: agg.min('payload.n'),
            high: agg.max('payload.n'),
            mean: agg.avg('payload.n'),
          })
          .execute();
      }
      case 'pipeline':
        return store.analytics.pipeline([
          { match: f.eq('type', query.type) },
          { group: { by: ['aggregateId'], aggregates: { n: agg.count(), total: agg.sum('payload.n') } } },
          { sort: [{ field: 'n', direction: 'desc' }] },
        ]);
      case 'funnel':
        return store.analytics.funnel({
          partitionBy: 'aggregateId',
          steps: [f.eq('type', query.first), f.eq('type', query.second)],
          within: '1h',
        });
      case 'pattern':
        return store
          .query()
          .pattern({
            partitionBy: 'aggregateId',
            steps: [
              { name: 'first', where: f.eq('type', query.first) },
              query.absent
                ? { name: 'then', where: f.eq('type', query.second), absent: true as const }
                : { name: 'then', where: f.eq('type', query.second) },
            ],
            within: '30m',
          })
          .execute();
      case 'join':
        return store
          .query()
          .where('type', 'eq', 'A')
          .join(store.query().where('type', 'eq', 'B'), { on: 'aggregateId', as: 'b', within: '1h' })
          .execute();
      case 'tagged':
        return store.query().where('tags.region', 'eq', query.region).groupBy('type').count().execute();
      case 'fromAll':
        return store.query().from('all').where('type', 'eq', query.type).execute();
    }
  };
  try {
    return JSON.stringify(await run());
  } catch (error) {
    return `error ${(error as { code?: string }).code ?? (error as Error).message}`;
  }
}

interface Pair {
  cached: EventStore;
  plain: EventStore;
  clock: ManualClock;
  dirs: string[];
  archives: [string, string];
}

async function openPair(durable: boolean): Promise<Pair> {
  const clock = new ManualClock(START + 120 * 60_000);
  const root = await tempDir('tamma-cache-prop-');
  const archives: [string, string] = [join(root, 'archive-cached'), join(root, 'archive-plain')];
  const open = (name: string, archive: string, cache: OpenOptions['cache']) =>
    openEventStore({
      clock,
      cache,
      retention: policies(archive)[0],
      // fsync 'always': an append's rows are readable while it waits for its fsync.
      ...(durable ? { dir: join(root, name), fsync: 'always' as const } : {}),
    });
  return {
    cached: await open('cached', archives[0], { maxBytes: 256 * 1024 }),
    plain: await open('plain', archives[1], false),
    clock,
    dirs: [root],
    archives,
  };
}

let nextId = 0;

async function apply(pair: Pair, op: Op): Promise<void> {
  const both = async (act: (store: EventStore, archive: string) => Promise<unknown>): Promise<void> => {
    const outcome = async (store: EventStore, archive: string) => {
      try {
        await act(store, archive);
        return 'ok';
      } catch (error) {
        return `error ${(error as { code?: string }).code ?? (error as Error).message}`;
      }
    };
    const [a, b] = [
      await outcome(pair.cached, pair.archives[0]),
      await outcome(pair.plain, pair.archives[1]),
    ];
    expect(a).toBe(b);
  };
  const now = pair.clock.now();
  switch (op.op) {
    case 'append': {
      const events = op.events.map((event) => ({
        id: `00000000-0000-7000-8000-${String(++nextId).padStart(12, '0')}`,
        aggregateId: event.stream,
        type: event.type,
        tags: { region: event.region },
        payload: { n: event.n },
        timestamp: now - event.ageMin * 60_000,
      }));
      await both((store) => store.append(events));
      return;
    }
    case 'query': {
      const cached = await ask(pair.cached, op.query, now);
      expect(cached).toBe(await ask(pair.plain, op.query, now));
      // Asked again: a hit now (unless nothing could be kept), and still the same.
      expect(await ask(pair.cached, op.query, now)).toBe(cached);
      return;
    }
    case 'race': {
      const append = {
        id: `00000000-0000-7000-8000-${String(++nextId).padStart(12, '0')}`,
        aggregateId: op.stream,
        type: op.type,
        tags: { region: 'eu' },
        payload: { n: 1 },
        timestamp: now,
      };
      if (op.readFirst) {
        // A read that starts before an append and ends after it: not kept as the new state.
        const reading = ask(pair.cached, op.query, now);
        await both((store) => store.append(append));
        await reading;
      } else {
        // A read that runs while an append waits for its fsync (its rows already readable, its
        // notice not yet sent): kept, but never refreshed with that append's events again.
        const outcome = (done: Promise<unknown>) =>
          done.then(
            () => 'ok',
            (error: { code?: string }) => `error ${error.code}`,
          );
        await pair.cached.cache.clear(); // so the read below misses and keeps what it read
        const appending = outcome(pair.cached.append(append));
        await new Promise((resolve) => setImmediate(resolve));
        await ask(pair.cached, op.query, now);
        expect(await appending).toBe(await outcome(pair.plain.append(append)));
      }
      expect(await ask(pair.cached, op.query, now)).toBe(await ask(pair.plain, op.query, now));
      return;
    }
    case 'advance':
      pair.clock.advance(op.minutes * 60_000);
      return;
    case 'delete':
      await both((store) => store.deleteAggregate(op.stream));
      return;
    case 'retention':
      await both(async (store, archive) => store.setRetention(policies(archive)[op.policy]));
      return;
    case 'cleanup':
      await both((store) => store.cleanup());
      return;
    case 'restore':
      await both((store, archive) => store.restoreArchive(archive));
      return;
    case 'index':
      await both((store) =>
        op.create
          ? store.indexes.createIndex({ name: 'by_region', fields: ['tags.region'] })
          : store.indexes.dropIndex('by_region'),
      );
  }
}

describe.each([
  ['in memory', false],
  ['durable', true],
])('the result cache is never stale (%s)', (_name, durable) => {
  const opened: Pair[] = [];
  afterEach(async () => {
    for (const pair of opened.splice(0)) {
      await pair.cached.close();
      await pair.plain.close();
      for (const dir of pair.dirs) await removeDir(dir);
    }
  });

  it('answers every query as the store without a cache does, after every change', async () => {
    const totals = { refreshed: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.array(querySpec, { minLength: 6, maxLength: 14 }),
        fc.array(operation, { minLength: 5, maxLength: 40 }),
        async (dashboard, ops) => {
          const pair = await openPair(durable);
          opened.push(pair);
          for (const op of ops) {
            await apply(pair, op);
            // A dashboard asked after every operation: its answers cached before a change are
            // asked for after it.
            for (const query of [...CANARIES, ...dashboard]) await apply(pair, { op: 'query', query });
          }
          const stats = await pair.cached.cache.getCacheStats();
          expect(stats.hits).toBeGreaterThan(0);
          totals.refreshed += stats.refreshed;
          expect(stats.bytes).toBeLessThanOrEqual(256 * 1024);
          const last = opened.pop() as Pair;
          await last.cached.close();
          await last.plain.close();
          for (const dir of last.dirs) await removeDir(dir);
        },
      ),
      { numRuns: Number(process.env.CACHE_PROPERTY_RUNS ?? (durable ? 15 : 40)) },
    );
    // Incremental refresh took part (its answers were checked like the others).
    expect(totals.refreshed).toBeGreaterThan(0);
  }, 240_000);
});
