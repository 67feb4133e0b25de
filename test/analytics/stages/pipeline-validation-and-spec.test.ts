import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { agg } from '../../../src/analytics/aggregates.js';
import { matchPattern } from '../../../src/analytics/pattern-match.js';
import { groupRows } from '../../../src/analytics/stages/group-rows.js';
import { patternStage } from '../../../src/analytics/stages/pattern-stage.js';
import { runAnalytics } from '../../../src/analytics/stages/run-analytics.js';
import { validatePipeline } from '../../../src/analytics/stages/validate-pipeline.js';
import { ValidationError } from '../../../src/errors.js';
import type { StoredEvent } from '../../../src/events/types.js';
import { f, MATCH_ALL, type EventQuery } from '../../../src/query/ast.js';
import { storedEvents } from './rows.js';
import { context, event } from './store-stand-in.js';

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
