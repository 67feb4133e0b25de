import { describe, expect, it } from 'vitest';
import { agg } from '../../../src/analytics/aggregates.js';
import { filterTimeRange } from '../../../src/analytics/stages/filter-time-range.js';
import { runPipeline } from '../../../src/analytics/stages/run-pipeline.js';
import { f, type FilterNode } from '../../../src/query/ast.js';
import type { PipelineStage } from '../../../src/query/analytics-ast.js';
import { nextUp } from '../../../src/query/time-bounds.js';
import { context, event } from './store-stand-in.js';

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
