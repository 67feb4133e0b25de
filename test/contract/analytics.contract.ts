/**
 * Analytics through the store's own API, on concrete events whose answers are worked out by hand:
 * the issue's group-by example shape, time buckets with fill and running aggregates, windows,
 * patterns and sequences, joins, funnels with breakdowns, the README pipeline, archived sources,
 * EXPLAIN, page and stream, and bad input. (Random inputs against oracles are in test/property/
 * and test/analytics/.)
 */
import { afterEach, describe, expect, test } from 'vitest';
import {
  agg,
  f,
  ManualClock,
  QueryCancelledError,
  ValidationError,
  type EventStore,
  type NewEvent,
} from '../../src/index.js';
import { expectError, rejection, removeDir, tempDir } from '../support/helpers.js';
import type { ContractContext, StoreFactory } from './factory.js';
import { eachFreshStore } from './factory.js';
import { requires } from './requires.js';

const T0 = Date.UTC(2026, 0, 1);

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
const MIN = 60_000;
const HOUR = 60 * MIN;

/** 20 workflows: w<i> starts at i minutes, completes (i + 1) s later when i is even; odd ones are GitHub's. */
function workflows(): NewEvent[] {
  const events: NewEvent[] = [];
  for (let i = 0; i < 20; i++) {
    const tags = { issueId: `i${i}`, provider: i % 2 ? 'github' : 'gitlab' };
    events.push({
      aggregateId: `w${i}`,
      type: 'WORKFLOW.STARTED',
      timestamp: new Date(T0 + i * MIN),
      tags,
      payload: { delay: i },
    });
    if (i % 2 === 0) {
      events.push({
        aggregateId: `w${i}`,
        type: 'WORKFLOW.COMPLETED',
        timestamp: new Date(T0 + i * MIN + (i + 1) * 1000),
        tags,
        payload: { delay: i * 10 },
      });
    }
  }
  return events;
}

export function analyticsSuite(factory: StoreFactory): void {
  describe('analytics through the store', () => {
    let store: EventStore;
    let clock: ManualClock;
    eachFreshStore(factory, async (opened: ContractContext) => {
      store = opened.store;
      clock = opened.clock as ManualClock;
      clock.set(T0 + 2 * HOUR);
      await store.append(workflows());
    });

    test('group-by with aggregates, having, order and limit (the issue’s example shape)', async () => {
      const rows = await store
        .query()
        .where('type', 'in', ['WORKFLOW.STARTED', 'WORKFLOW.COMPLETED'])
        .groupBy(['tags.provider', 'type'])
        .aggregate({
          n: agg.count(),
          avgDelay: agg.avg('payload.delay'),
          p50: agg.percentile('payload.delay', 0.5),
        })
        .having(f.gte('n', 10))
        .orderBy('tags.provider')
        .orderBy('type', 'desc')
        .execute();
      expect(rows).toEqual([
        { 'tags.provider': 'github', type: 'WORKFLOW.STARTED', n: 10, avgDelay: 10, p50: 10 },
        { 'tags.provider': 'gitlab', type: 'WORKFLOW.STARTED', n: 10, avgDelay: 9, p50: 9 },
        { 'tags.provider': 'gitlab', type: 'WORKFLOW.COMPLETED', n: 10, avgDelay: 90, p50: 90 },
      ]);
    });

    test('sugar aggregates name their columns after the call', async () => {
      const [row] = await store
        .query()
        .where('type', 'eq', 'WORKFLOW.COMPLETED')
        .count()
        .sum('payload.delay')
        .max('payload.delay')
        .execute();
      expect(row).toEqual({ count: 10, 'sum(payload.delay)': 900, 'max(payload.delay)': 180 });
    });

    test('an aggregate over no events is one row: count 0, the others null', async () => {
      const rows = await store
        .query()
        .where('type', 'eq', 'NOPE')
        .aggregate({ n: agg.count(), s: agg.sum('payload.delay') })
        .execute();
      expect(rows).toEqual([{ n: 0, s: null }]);
    });

    test('time buckets with fill and a cumulative sum', async () => {
      const rows = await store
        .query()
        .where(f.gte('timestamp', T0))
        .where(f.lt('timestamp', T0 + 30 * MIN))
        .timeBucket('10m', { fill: 0 })
        .aggregate({ n: agg.count(), total: agg.cumulative(agg.sum('n')) })
        .orderBy('bucket')
        .execute();
      expect(rows).toEqual([
        { bucket: T0, n: 15, total: 15 },
        { bucket: T0 + 10 * MIN, n: 15, total: 30 },
        { bucket: T0 + 20 * MIN, n: 0, total: 30 },
      ]);
    });

    test('hopping windows count an event in every window holding it', async () => {
      const rows = await store
        .query()
        .timeWindow({ size: '20m', every: '10m' })
        .aggregate({ n: agg.count() })
        .orderBy('windowStart')
        .execute();
      expect(rows).toEqual([
        { windowStart: T0 - 10 * MIN, windowEnd: T0 + 10 * MIN, n: 15 },
        { windowStart: T0, windowEnd: T0 + 20 * MIN, n: 30 },
        { windowStart: T0 + 10 * MIN, windowEnd: T0 + 30 * MIN, n: 15 },
      ]);
      // The same windows as pipeline stages (run in the engine as one query), and with a
      // function stage in between (run over records by the pipeline itself).
      const window = { window: { size: '20m', every: '10m' } } as const;
      const group = { group: { aggregates: { n: agg.count() } } };
      const sort = { sort: [{ field: 'windowStart', direction: 'asc' as const }] };
      expect(await store.analytics.pipeline([window, group, sort])).toEqual(rows);
      const overRecords = await store.analytics.pipeline([{ stage: (input) => input }, window, group, sort]);
      expect(overRecords).toEqual(rows);
    });

    test('a sequence finds each start with its completion; an absent step finds the others once the window closed', async () => {
      const steps = [
        { name: 'begin', where: f.eq('type', 'WORKFLOW.STARTED') },
        { name: 'done', where: f.eq('type', 'WORKFLOW.COMPLETED') },
      ];
      const done = await store
        .query()
        .sequence(steps, { partitionBy: 'aggregateId', within: '1m' })
        .execute();
      expect(done.map((row) => [row.partition, row.durationMs])).toEqual(
        Array.from({ length: 10 }, (_, k) => [`w${2 * k}`, (2 * k + 1) * 1000]),
      );
      expect((done[0]?.done as { type: string }).type).toBe('WORKFLOW.COMPLETED');
      const stuck = await store
        .query()
        .pattern({
          partitionBy: 'aggregateId',
          steps: [steps[0]!, { ...steps[1]!, absent: true }],
          within: '1m',
        })
        .execute();
      expect(stuck.map((row) => row.partition)).toEqual(
        Array.from({ length: 10 }, (_, k) => `w${2 * k + 1}`),
      );
      expect(stuck.every((row) => row.done === null)).toBe(true);
    });

    test('a join pairs each start with its completion; a left join keeps the rest', async () => {
      const completed = store.query().where('type', 'eq', 'WORKFLOW.COMPLETED');
      const started = store.query().where('type', 'eq', 'WORKFLOW.STARTED');
      const inner = await started.join(completed, { on: 'tags.issueId', as: 'done', within: '1m' }).execute();
      expect(
        inner.map((row) => [row.aggregateId, (row.done as { aggregateId: string }).aggregateId]),
      ).toEqual(Array.from({ length: 10 }, (_, k) => [`w${2 * k}`, `w${2 * k}`]));
      const left = await started.join(completed, { on: 'tags.issueId', as: 'done', type: 'left' }).execute();
      expect(left).toHaveLength(20);
      expect(left.filter((row) => row.done === null)).toHaveLength(10);
    });

    test('the README pipeline: time from start to completion per issue, then p50/p95 per provider', async () => {
      const rows = await store.analytics.pipeline([
        { match: f.eq('type', 'WORKFLOW.STARTED') },
        { join: { right: f.eq('type', 'WORKFLOW.COMPLETED'), on: 'tags.issueId', as: 'done' } },
        { project: { provider: 'tags.provider', ms: { sub: ['done.timestamp', 'timestamp'] } } },
        { group: { by: ['provider'], aggregates: { n: agg.count(), p50: agg.percentile('ms', 0.5) } } },
        { sort: [{ field: 'provider', direction: 'asc' }] },
      ]);
      // Only gitlab's (even) workflows complete: 1, 3, 5 … 19 s, median 10 s.
      expect(rows).toEqual([{ provider: 'gitlab', n: 10, p50: 10_000 }]);
    });

    test('a funnel, with a breakdown by provider', async () => {
      const report = await store.analytics.funnel({
        partitionBy: 'aggregateId',
        steps: [f.eq('type', 'WORKFLOW.STARTED'), f.eq('type', 'WORKFLOW.COMPLETED')],
        within: '10s',
        breakdownBy: 'tags.provider',
      });
      // Completions within 10 s: w0, w2, w4, w6, w8 (1, 3, 5, 7, 9 s).
      expect(report.steps.map((step) => step.count)).toEqual([20, 5]);
      expect(report.steps[1]?.conversion).toBe(0.25);
      expect(report.steps[1]?.medianTimeToConvertMs).toBe(5000);
      expect(report.breakdown?.map((part) => [part.value, part.steps.map((step) => step.count)])).toEqual([
        ['gitlab', [10, 5]],
        ['github', [10, 0]],
      ]);
    });

    test('EXPLAIN ANALYZE shows the analytics operators over the row plan, with actual rows', async () => {
      const explanation = await store
        .query()
        .where('type', 'eq', 'WORKFLOW.STARTED')
        .timeBucket('1h')
        .groupBy(['tags.provider'])
        .aggregate({ n: agg.count() })
        .having(f.gt('n', 0))
        .orderBy('n', 'desc')
        .explain({ analyze: true });
      const operators: string[] = [];
      for (let node = explanation.plan; node; node = node.children[0]!) {
        operators.push(`${node.operator}:${node.actualRows}`);
        if (node.children.length === 0) break;
      }
      expect(operators.slice(0, 3)).toEqual(['Sort:2', 'Having:2', 'Aggregate:2']);
      expect(explanation.text).toMatch(/Aggregate .*\n.*group by bucket\(1h of timestamp\), tags.provider/);
    });

    test('page and stream give the same rows as execute', async () => {
      const query = store.query().groupBy(['type']).aggregate({ n: agg.count() }).orderBy('type');
      const rows = await query.execute();
      expect((await query.executePage()).rows).toEqual(rows);
      const streamed: unknown[] = [];
      for await (const row of query.executeStream()) streamed.push(row);
      expect(streamed).toEqual(rows);
    });

    test('an analytics query stops when its signal aborts', async () => {
      const controller = new AbortController();
      controller.abort();
      const error = await rejection(() =>
        store.query().timeBucket('1m').aggregate({ n: agg.count() }).execute({ signal: controller.signal }),
      );
      expect(error).toBeInstanceOf(QueryCancelledError);
    });

    test('bad analytics are refused with a ValidationError naming them', async () => {
      expectError(
        thrownBy(() => store.query().groupBy(['delay'])),
        ValidationError,
        'UNKNOWN_FIELD',
        'groupBy[0]',
        'delay',
      );
      expectError(
        thrownBy(() => store.query().aggregate({ a: agg.avg('delay') })),
        ValidationError,
        'UNKNOWN_FIELD',
        'aggregate.a',
        'delay',
      );
      expectError(
        thrownBy(() => store.query().timeBucket('1 hour')),
        ValidationError,
        'INVALID_OPTION',
        'timeBucket',
        '1 hour',
      );
      // A window that would put each event in more than 10,000 windows is refused before any read.
      expectError(
        thrownBy(() => store.query().timeWindow({ size: '1d', every: '1s' })),
        ValidationError,
        'INVALID_OPTION',
        'timeWindow',
        '"1d"',
      );
      await expect(
        store.analytics.pipeline([
          { window: { size: '1d', every: '1s' } },
          { group: { aggregates: { n: agg.count() } } },
        ]),
      ).rejects.toMatchObject({ code: 'INVALID_OPTION' });
      const gap = thrownBy(() => store.query().timeWindow({ gap: -1 }));
      expect(gap).toBeInstanceOf(ValidationError);
      expect((gap as ValidationError).path).toBe('timeWindow.gap');
      await expect(store.query().timeBucket('1h').execute()).rejects.toThrow(/needs aggregates/);
      await expect(store.query().having(f.gt('n', 1)).execute()).rejects.toThrow(
        /add groupBy or aggregates first/,
      );
      expectError(
        thrownBy(() => store.query().from('cold' as never)),
        ValidationError,
        'VALIDATION_FAILED',
        'from',
        'cold',
      );
    });
  });

  requires(factory, 'archive').describe('analytics over archived events', () => {
    const dirs: string[] = [];
    const opened: ContractContext[] = [];
    afterEach(async () => {
      for (const ctx of opened.splice(0)) await ctx.cleanup();
      await Promise.all(dirs.splice(0).map(removeDir));
    });

    test("from('archive') and from('all') read what cleanup archived", async () => {
      const archive = await tempDir('tamma-analytics-archive-');
      dirs.push(archive);
      const clock = new ManualClock(T0 + HOUR);
      const ctx = await factory.open({ clock, retention: { maxAge: '2h', archive: { dir: archive } } });
      opened.push(ctx);
      const { store } = ctx;
      await store.append(workflows());
      clock.set(T0 + 3 * HOUR);
      await store.append({ aggregateId: 'late', type: 'WORKFLOW.STARTED', tags: { provider: 'github' } });
      await store.cleanup();
      const count = (source: 'events' | 'archive' | 'all') =>
        store
          .query()
          .from(source)
          .groupBy(['type'])
          .aggregate({ n: agg.count() })
          .orderBy('type', 'desc')
          .execute();
      expect(await count('events')).toEqual([{ type: 'WORKFLOW.STARTED', n: 1 }]);
      expect(await count('archive')).toEqual([
        { type: 'WORKFLOW.STARTED', n: 20 },
        { type: 'WORKFLOW.COMPLETED', n: 10 },
      ]);
      expect(await count('all')).toEqual([
        { type: 'WORKFLOW.STARTED', n: 21 },
        { type: 'WORKFLOW.COMPLETED', n: 10 },
      ]);
      const events = await store.query().from('all').where('aggregateId', 'eq', 'w0').execute();
      expect(events.map((event) => event.type)).toEqual(['WORKFLOW.STARTED', 'WORKFLOW.COMPLETED']);
      const error = await rejection(() =>
        factory.open().then(async (plain) => {
          opened.push(plain);
          return plain.store.query().from('archive').execute();
        }),
      );
      expectError(error, ValidationError, 'VALIDATION_FAILED', 'from', 'no archive');
    });
  });
}
