import { ValidationError } from '../../errors.js';
import type { AnalyticsSpec, PipelineRow } from '../../query/analytics-ast.js';
import { validateFilter } from '../../query/validate-query.js';
import { describe } from '../../support/describe.js';
import { validateAggregateMap } from './aggregate-map.js';
import { bucketRows, gridOf, validateTimeBucketSpec } from './bucket-rows.js';
import { joinRows, validateJoinOptions } from './join-rows.js';
import { patternStage, validatePatternSpec } from './pattern-stage.js';
import { compileRowFilter, validateRowFilter } from './row-filter.js';
import type { PipelineContext } from './run-pipeline.js';
import { groupStage } from './run-pipeline.js';
import { validateWindowSpec, windowRows } from './time-windows.js';

/**
 * Checks a builder query's analytics spec: each part as its pipeline stage is checked; `bucket` and
 * `window` exclusive. Paths like `analytics.aggregates.p95`.
 */
export function validateAnalyticsSpec(spec: unknown, path = 'analytics'): asserts spec is AnalyticsSpec {
  if (spec === null || typeof spec !== 'object') {
    throw new ValidationError(
      path,
      `must be an analytics spec object, got ${describe(spec)}`,
      'INVALID_OPTION',
    );
  }
  const s = spec as AnalyticsSpec;
  if (s.join !== undefined) {
    validateJoinOptions(s.join, `${path}.join`);
    if ((s.join.right as { kind?: unknown } | undefined)?.kind !== 'query') {
      throw new ValidationError(
        `${path}.join.right`,
        `must be an event query, got ${describe(s.join.right)}`,
        'INVALID_OPTION',
      );
    }
    validateFilter(s.join.right.filter, `${path}.join.right.filter`);
  }
  if (s.pattern !== undefined) validatePatternSpec(s.pattern, `${path}.pattern`);
  if (s.bucket !== undefined) validateTimeBucketSpec(s.bucket, `${path}.bucket`);
  if (s.window !== undefined) validateWindowSpec(s.window, `${path}.window`);
  if (s.bucket !== undefined && s.window !== undefined) {
    throw new ValidationError(path, 'takes a time bucket or a time window, not both', 'INVALID_OPTION');
  }
  const by = s.groupBy ?? [];
  if (
    !Array.isArray(by) ||
    by.some((f) => typeof f !== 'string' || f === '') ||
    new Set(by).size !== by.length
  ) {
    throw new ValidationError(
      `${path}.groupBy`,
      `must be an array of distinct field names, got ${describe(by)}`,
      'UNKNOWN_FIELD',
    );
  }
  const keys = [...(s.bucket ? ['bucket'] : []), ...(s.window ? ['windowStart', 'windowEnd'] : []), ...by];
  if (s.aggregates !== undefined) validateAggregateMap(s.aggregates, `${path}.aggregates`, keys);
  if (s.having !== undefined) validateRowFilter(s.having, `${path}.having`);
}

/**
 * Applies a builder query's analytics to the events its filter selected, in the documented order:
 * join (the right query read with readEvents), pattern, time bucket or window, group and
 * aggregates, fill (a bucket's `fill`, across context.timeRange or the data's range), running
 * aggregates, having. Without groupBy and aggregates the rows of the earlier steps come back as
 * they are. The query's orderBy, offset and limit are the caller's (sortRows, limitRows).
 */
export async function runAnalytics(
  events: readonly object[],
  spec: AnalyticsSpec,
  context: PipelineContext,
): Promise<PipelineRow[]> {
  validateAnalyticsSpec(spec);
  let rows = [...events] as PipelineRow[];
  if (spec.join) rows = joinRows(rows, await context.readEvents(spec.join.right), spec.join);
  if (spec.pattern) rows = patternStage(rows, spec.pattern, context.now());
  const by = spec.groupBy ?? [];
  let pending: Parameters<typeof groupStage>[3] = null;
  if (spec.bucket) {
    rows = bucketRows(rows, spec.bucket);
    pending = { keys: ['bucket'], order: 'bucket', fill: { grid: gridOf(spec.bucket), spec: spec.bucket } };
  } else if (spec.window) {
    rows = windowRows(rows, spec.window, by);
    pending = { keys: ['windowStart', 'windowEnd'], order: 'windowStart' };
  }
  if (spec.groupBy !== undefined || spec.aggregates !== undefined) {
    rows = groupStage(rows, by, spec.aggregates ?? {}, pending, context);
  }
  if (spec.having) rows = rows.filter(compileRowFilter(spec.having));
  return rows;
}
