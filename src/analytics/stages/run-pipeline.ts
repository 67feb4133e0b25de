import { ValidationError } from '../../errors.js';
import { type EventQuery, type Field, type FilterNode, MATCH_ALL } from '../../query/ast.js';
import type { AggregateMap, PipelineRow, PipelineStage, TimeBucketSpec } from '../../query/analytics-ast.js';
import { describe } from '../../support/describe.js';
import { type BucketGrid } from '../time-bucket.js';
import { bucketRows, gridOf } from './bucket-rows.js';
import { fillBuckets } from './fill-buckets.js';
import { filterTimeRange } from './filter-time-range.js';
import { groupRows } from './group-rows.js';
import { joinRows } from './join-rows.js';
import { patternStage } from './pattern-stage.js';
import { projectRows } from './project-rows.js';
import { readRowField } from './read-row-field.js';
import { compileRowFilter } from './row-filter.js';
import { applyRunning } from './running-aggregates.js';
import { limitRows, sortRows } from './sort-rows.js';
import { windowRows } from './time-windows.js';
import { stageName, validatePipeline } from './validate-pipeline.js';

/** What a pipeline needs of the store: reading events, its clock, and the query's time range. */
export interface PipelineContext {
  /** Events matching a filter (or a whole query): the store serves it with its indexes. */
  readEvents(match: FilterNode | EventQuery): Promise<PipelineRow[]>;
  /** The store's clock, epoch ms: closes the windows of absent pattern steps. */
  now(): number;
  /**
   * The time range [from, to) empty buckets are filled across. Without it: the first match's
   * timestamp bounds (filterTimeRange) when it has both, else the data's first to last bucket.
   */
  timeRange?(): { from: number; to: number };
}

/** The keys a time bucket or window stage adds, which the next group stage groups by first. */
interface PendingKeys {
  readonly keys: readonly Field[];
  readonly order: Field;
  readonly fill?: { readonly grid: BucketGrid; readonly spec: TimeBucketSpec };
}

/**
 * Groups, then fills empty buckets (fill before running aggregates, so a moving average or a delta
 * sees an empty bucket as 0 or null rather than skipping it), then adds running aggregates.
 */
export function groupStage(
  rows: readonly PipelineRow[],
  by: readonly Field[],
  aggregates: AggregateMap,
  pending: PendingKeys | null,
  context: Pick<PipelineContext, 'timeRange'>,
): PipelineRow[] {
  const keys = pending ? [...pending.keys.filter((key) => !by.includes(key)), ...by] : by;
  let out = groupRows(rows, { by: keys, aggregates });
  const others = keys.filter((key) => !pending?.keys.includes(key));
  const fill = pending?.fill;
  if (fill !== undefined && fill.spec.fill !== undefined) {
    const range = context.timeRange?.() ?? dataRange(out, fill.grid);
    if (range !== null) {
      out = fillBuckets(out, { grid: fill.grid, ...range, fill: fill.spec.fill, by: others, aggregates });
    }
  }
  return applyRunning(out, aggregates, { ...(pending ? { order: pending.order } : {}), partitionBy: others });
}

/** [first bucket, end of last bucket) of grouped rows, or null when none has a bucket. */
export function dataRange(
  rows: readonly PipelineRow[],
  grid: BucketGrid,
): { from: number; to: number } | null {
  const buckets = rows
    .map((row) => readRowField(row, 'bucket'))
    .filter((b): b is number => typeof b === 'number');
  if (buckets.length === 0) return null;
  // A loop, not Math.min(...buckets): a spread of a million buckets overflows the call stack.
  let [low, high] = [Infinity, -Infinity];
  for (const bucket of buckets) [low, high] = [Math.min(low, bucket), Math.max(high, bucket)];
  return { from: low, to: grid.next(high) };
}

/**
 * Runs a pipeline (docs/analytics.md, Pipelines): validated as a whole first, then each stage over
 * the previous stage's rows. A first `match` is what the store reads (readEvents); without one, all
 * events are read. A later `match` and `having` filter rows; `timeBucket` adds `bucket` and
 * `window` adds `windowStart`/`windowEnd`, which the next `group` groups by first (and fills, for a
 * time bucket with `fill`); `join`'s right side is read with readEvents; a function stage's result
 * must be an array.
 */
export async function runPipeline(
  stages: readonly PipelineStage[],
  context: PipelineContext,
): Promise<PipelineRow[]> {
  validatePipeline(stages);
  const first = stages[0];
  const readsItself = first !== undefined && stageName(first) === 'match';
  const match = readsItself ? (first as { match: FilterNode }).match : MATCH_ALL;
  let rows = await context.readEvents(match);
  const matchRange = filterTimeRange(match);
  const ranged: Pick<PipelineContext, 'timeRange'> = context.timeRange
    ? context
    : matchRange
      ? { timeRange: () => matchRange }
      : {};
  let pending: PendingKeys | null = null;
  for (const [i, stage] of stages.entries()) {
    if (i === 0 && readsItself) continue;
    rows = await runStage(stage, rows, i);
  }
  return rows;

  async function runStage(stage: PipelineStage, input: PipelineRow[], i: number): Promise<PipelineRow[]> {
    if ('match' in stage) return input.filter(compileRowFilter(stage.match));
    if ('having' in stage) return input.filter(compileRowFilter(stage.having));
    if ('timeBucket' in stage) {
      pending = {
        keys: ['bucket'],
        order: 'bucket',
        fill: { grid: gridOf(stage.timeBucket), spec: stage.timeBucket },
      };
      return bucketRows(input, stage.timeBucket);
    }
    if ('window' in stage) {
      pending = { keys: ['windowStart', 'windowEnd'], order: 'windowStart' };
      // Sessions are per group: the next group stage's keys.
      const next = stages.slice(i + 1).find((s) => 'group' in s) as { group: { by?: Field[] } } | undefined;
      return windowRows(input, stage.window, next?.group.by ?? []);
    }
    if ('group' in stage) {
      const out = groupStage(input, stage.group.by ?? [], stage.group.aggregates, pending, ranged);
      pending = null;
      return out;
    }
    if ('pattern' in stage) return patternStage(input, stage.pattern, context.now());
    if ('join' in stage) return joinRows(input, await context.readEvents(stage.join.right), stage.join);
    if ('project' in stage) return projectRows(input, stage.project);
    if ('sort' in stage) return sortRows(input, stage.sort);
    if ('limit' in stage) return limitRows(input, stage.limit);
    const result: unknown = await stage.stage(input);
    if (!Array.isArray(result)) {
      throw new ValidationError(
        `stages[${i}].stage`,
        `must return an array of rows, got ${describe(result)}`,
      );
    }
    return result as PipelineRow[];
  }
}
