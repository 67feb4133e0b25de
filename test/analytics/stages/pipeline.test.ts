import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { agg } from '../../../src/analytics/aggregates.js';
import { matchPattern } from '../../../src/analytics/pattern-match.js';
import { groupRows } from '../../../src/analytics/stages/group-rows.js';
import { patternStage } from '../../../src/analytics/stages/pattern-stage.js';
import { filterTimeRange } from '../../../src/analytics/stages/filter-time-range.js';
import { nextUp } from '../../../src/query/time-bounds.js';
import { compileRowFilter } from '../../../src/analytics/stages/row-filter.js';
import { runAnalytics } from '../../../src/analytics/stages/run-analytics.js';
import { runPipeline, type PipelineContext } from '../../../src/analytics/stages/run-pipeline.js';
import { validatePipeline } from '../../../src/analytics/stages/validate-pipeline.js';
import { ValidationError } from '../../../src/errors.js';
import type { StoredEvent } from '../../../src/events/types.js';
import { f, MATCH_ALL, type EventQuery, type FilterNode } from '../../../src/query/ast.js';
import type { PipelineRow, PipelineStage } from '../../../src/query/analytics-ast.js';
import { storedEvents } from './rows.js';

/** A store stand-in over an array: reads with the row filter, records what it was asked. */
function context(events: readonly StoredEvent[], now = 0, timeRange?: { from: number; to: number }) {
  const asked: (FilterNode | EventQuery)[] = [];
  const ctx: PipelineContext = {
    readEvents: async (match) => {
      asked.push(match);
      const filter = match.kind === 'query' ? match.filter : match;
      return events.filter(compileRowFilter(filter)) as unknown as PipelineRow[];
    },
    now: () => now,
    ...(timeRange ? { timeRange: () => timeRange } : {}),
  };
  return { ctx, asked };
}

const event = (sequence: number, t: number, type: string, tags: Record<string, string>): StoredEvent => ({
  sequence,
  id: `e${sequence}`,
  aggregateId: tags.issueId ?? 'a',
  version: 1,
  type,
  timestamp: new Date(t),
  tags,
  payload: {},
  metadata: {},
});

describe('runPipeline', () => {
  it('runs the README example: STARTED→COMPLETED per issue, then p50/p95 of the time per provider', async () => {
    const events = [
      event(1, 0, 'WORKFLOW.STARTED', { issueId: 'i1', provider: 'gh' }),
      event(2, 1000, 'WORKFLOW.COMPLETED', { issueId: 'i1', provider: 'gh' }),
      event(3, 0, 'WORKFLOW.STARTED', { issueId: 'i2', provider: 'gh' }),
      event(5, 3000, 'WORKFLOW.COMPLETED', { issueId: 'i2', provider: 'gh' }),
      event(4, 500, 'WORKFLOW.STARTED', { issueId: 'i3', provider: 'gl' }),
      event(6, 2500, 'WORKFLOW.COMPLETED', { issueId: 'i3', provider: 'gl' }),
    ];
    const { ctx, asked } = context(events);
    const stages: PipelineStage[] = [
      { match: f.in('type', ['WORKFLOW.STARTED', 'WORKFLOW.COMPLETED']) },
      {
        pattern: {
          partitionBy: 'tags.issueId',
          steps: [
            { name: 'started', where: f.eq('type', 'WORKFLOW.STARTED') },
            { name: 'completed', where: f.eq('type', 'WORKFLOW.COMPLETED') },
          ],
          within: '1d',
        },
      },
      { project: { provider: 'started.tags.provider', ms: 'durationMs' } },
      {
        group: {
          by: ['provider'],
          aggregates: {
            n: agg.count(),
            p50: { kind: 'percentile', field: 'ms', p: 0.5 },
            p95: { kind: 'percentile', field: 'ms', p: 0.95 },
          },
        },
      },
      { sort: [{ field: 'provider', direction: 'asc' }] },
    ];
    expect(await runPipeline(stages, ctx)).toEqual([
      { provider: 'gh', n: 2, p50: 2000, p95: 2900 },
      { provider: 'gl', n: 1, p50: 2000, p95: 2000 },
    ]);
    expect(asked).toEqual([(stages[0] as { match: FilterNode }).match]);
  });

  it('reads all events without a first match; a later match filters rows; timeBucket feeds group, fill and running', async () => {
    const events = [
      event(1, 5, 'A', {}),
      event(2, 25, 'A', {}),
      event(3, 27, 'B', {}),
      event(4, 26, 'A', {}),
    ];
    const { ctx, asked } = context(events, 0, { from: 0, to: 40 });
    const rows = await runPipeline(
      [
        { timeBucket: { width: '10ms', fill: 0 } },
        { match: f.eq('type', 'A') },
        {
          group: {
            aggregates: {
              n: agg.count(),
              total: agg.cumulative({ kind: 'sum', field: 'n' }),
              d: agg.delta('n'),
            },
          },
        },
        { having: f.gte('bucket', 0) },
        { sort: [{ field: 'bucket', direction: 'asc' }] },
        { limit: 3 },
      ],
      ctx,
    );
    expect(asked).toEqual([{ kind: 'all' }]);
    expect(rows).toEqual([
      { bucket: 0, n: 1, total: 1, d: null },
      { bucket: 10, n: 0, total: 1, d: -1 },
      { bucket: 20, n: 2, total: 3, d: 2 },
    ]);
  });

  it('fills across the first match’s timestamp range when the context gives none', async () => {
    const events = [event(1, 15, 'A', {})];
    const rows = await runPipeline(
      [
        { match: f.and(f.gte('timestamp', 0), f.lt('timestamp', 40), f.eq('type', 'A')) },
        { timeBucket: { width: '10ms', fill: 'previous' } },
        { group: { aggregates: { n: agg.count() } } },
      ],
      context(events).ctx,
    );
    expect(rows).toEqual([
      { bucket: 0, n: null },
      { bucket: 10, n: 1 },
      { bucket: 20, n: 1 },
      { bucket: 30, n: 1 },
    ]);
    expect(filterTimeRange(f.between('timestamp', 5, 9))).toEqual({ from: 5, to: nextUp(9) });
    expect(filterTimeRange(f.gte('timestamp', 5))).toBeUndefined();
    expect(filterTimeRange(f.or(f.gte('timestamp', 5), f.lt('timestamp', 9)))).toBeUndefined();
  });

  it('groups hopping windows by windowStart/windowEnd and session windows per the group keys', async () => {
    const events = [
      event(1, 0, 'A', { issueId: 'x' }),
      event(2, 15, 'A', { issueId: 'x' }),
      event(3, 100, 'A', { issueId: 'y' }),
    ];
    const hopping = await runPipeline(
      [{ window: { size: 20, every: 10 } }, { group: { aggregates: { n: agg.count() } } }],
      context(events).ctx,
    );
    expect(hopping).toEqual([
      { windowStart: -10, windowEnd: 10, n: 1 },
      { windowStart: 0, windowEnd: 20, n: 2 },
      { windowStart: 10, windowEnd: 30, n: 1 },
      { windowStart: 90, windowEnd: 110, n: 1 },
      { windowStart: 100, windowEnd: 120, n: 1 },
    ]);
    const sessions = await runPipeline(
      [{ window: { gap: 20 } }, { group: { by: ['tags.issueId'], aggregates: { n: agg.count() } } }],
      context(events).ctx,
    );
    expect(sessions).toEqual([
      { windowStart: 0, windowEnd: 35, 'tags.issueId': 'x', n: 2 },
      { windowStart: 100, windowEnd: 120, 'tags.issueId': 'y', n: 1 },
    ]);
  });

  it('joins with the right side read from the store, and awaits function stages', async () => {
    const events = [event(1, 0, 'S', { issueId: 'i' }), event(2, 10, 'C', { issueId: 'i' })];
    const { ctx, asked } = context(events);
    const rows = await runPipeline(
      [
        { match: f.eq('type', 'S') },
        { join: { right: f.eq('type', 'C'), on: 'tags.issueId', as: 'done', within: '1m' } },
        { project: { ms: { sub: ['done.timestamp', 'timestamp'] } } },
        { stage: async (rs) => rs.map((r) => ({ ...r, seen: true })) },
      ],
      ctx,
    );
    expect(rows).toEqual([{ ms: 10, seen: true }]);
    expect(asked).toEqual([f.eq('type', 'S'), f.eq('type', 'C')]);
    await expect(runPipeline([{ stage: () => 5 as never }], ctx)).rejects.toThrow(
      /stages\[0\]\.stage: must return an array/,
    );
  });
});

describe('validatePipeline', () => {
  it.each([
    [
      [
        { match: MATCH_ALL },
        {},
        { group: { aggregates: { p95: { kind: 'percentile', field: 'x', p: 2 } } } },
      ],
      'stages[1]',
    ],
    [
      [
        { match: f.eq('type', 'A') },
        { limit: 1 },
        { group: { aggregates: { p95: { kind: 'percentile', field: 'x', p: 2 } } } },
      ],
      'stages[2].group.aggregates.p95.p',
    ],
    [[{ match: f.eq('nope', 1) }], 'stages[0].match.field'],
    [
      [{ limit: 1 }, { match: f.eq('n', 1) }, { sort: [{ field: 'n', direction: 'up' }] }],
      'stages[2].sort[0].direction',
    ],
    [[{ limit: 1, sort: [] }], 'stages[0]'],
    [
      [{ timeBucket: { width: '1h' } }, { group: { aggregates: { bucket: agg.count() } } }],
      'stages[1].group.aggregates.bucket',
    ],
    [[{ timeBucket: { width: '5x' } }], 'stages[0].timeBucket.width'],
    [[{ window: { size: 10 } }], 'stages[0].window'],
    [
      [
        {
          pattern: {
            partitionBy: 'p',
            steps: [{ name: 'a', where: { kind: 'eq', field: 'type' } }],
            within: 1,
          },
        },
      ],
      'stages[0].pattern.steps[0].where.value',
    ],
    [[{ join: { right: MATCH_ALL, on: 'a', as: 'b', type: 'outer' } }], 'stages[0].join.type'],
    [[{ project: { x: { pow: [1, 2] } } }], 'stages[0].project.x'],
    ['nope', 'stages'],
  ])('refuses %j at %s before anything runs', (stages, path) => {
    let error: unknown;
    try {
      validatePipeline(stages);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).path).toBe(path);
  });
});

describe('patternStage', () => {
  it('is matchPattern with each step’s filter as its predicate', () => {
    fc.assert(
      fc.property(
        storedEvents({ maxTime: 300 }),
        fc.integer({ min: 0, max: 200 }),
        fc.boolean(),
        (events, within, absent) => {
          const steps = [
            { name: 'a', where: f.eq('type', 'A') },
            { name: 'b', where: f.eq('type', 'B'), ...(absent ? { absent: true as const } : {}) },
          ];
          const rows = patternStage(events, { partitionBy: 'aggregateId', steps, within }, 1000);
          const expected = matchPattern(events, {
            partitionBy: (e) => e.aggregateId,
            steps: steps.map((s) => ({
              ...s,
              test: (e: StoredEvent) => e.type === (s.where as { value: string }).value,
            })),
            withinMs: within,
            now: 1000,
          });
          expect(rows).toEqual(expected.map((r) => ({ ...r })));
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('runAnalytics', () => {
  it('is bucket + group + having as groupRows and a filter give them', async () => {
    await fc.assert(
      fc.asyncProperty(storedEvents(), fc.integer({ min: 0, max: 3 }), async (events, minCount) => {
        const aggregates = { n: agg.count(), avg: agg.avg('payload.delay') };
        const spec = {
          bucket: { width: '1s' },
          groupBy: ['tags.origin'],
          aggregates,
          having: f.gte('n', minCount),
        };
        const rows = await runAnalytics(events, spec, context([]).ctx);
        const expected = groupRows(events, {
          by: ['tags.origin'],
          aggregates,
          bucket: { width: '1s' },
        }).filter((r) => (r.n as number) >= minCount);
        expect(rows).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });

  it('fills across the context’s time range and refuses a bucket with a window', async () => {
    const events = [event(1, 1500, 'A', {})];
    const rows = await runAnalytics(
      events,
      { bucket: { width: '1s', fill: null }, aggregates: { n: agg.count() } },
      context([], 0, { from: 0, to: 3000 }).ctx,
    );
    expect(rows).toEqual([
      { bucket: 0, n: null },
      { bucket: 1000, n: 1 },
      { bucket: 2000, n: null },
    ]);
    await expect(
      runAnalytics(events, { bucket: { width: '1s' }, window: { gap: 5 } }, context([]).ctx),
    ).rejects.toThrow(ValidationError);
  });

  it('joins with the right query read from the store, then groups session windows per key', async () => {
    const events = [
      event(1, 0, 'S', { issueId: 'i1' }),
      event(2, 50, 'C', { issueId: 'i1' }),
      event(3, 1000, 'S', { issueId: 'i2' }),
      event(4, 5000, 'S', { issueId: 'i1' }),
    ];
    const { ctx, asked } = context(events);
    const right: EventQuery = { kind: 'query', filter: f.eq('type', 'C'), orderBy: [], hints: {} };
    const starts = events.filter((e) => e.type === 'S');
    const rows = await runAnalytics(
      starts,
      {
        join: { right, on: 'tags.issueId', as: 'done', type: 'left', within: 100 },
        window: { gap: 2000 },
        groupBy: ['tags.issueId'],
        aggregates: { n: agg.count(), completed: { kind: 'countField', field: 'done.id' } },
      },
      ctx,
    );
    expect(asked).toEqual([right]);
    expect(rows).toEqual([
      { windowStart: 0, windowEnd: 2000, 'tags.issueId': 'i1', n: 1, completed: 1 },
      { windowStart: 5000, windowEnd: 7000, 'tags.issueId': 'i1', n: 1, completed: null },
      { windowStart: 1000, windowEnd: 3000, 'tags.issueId': 'i2', n: 1, completed: null },
    ]);
  });
});
