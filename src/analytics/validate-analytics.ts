import { ValidationError } from '../errors.js';
import type { AggregateSpec } from '../query/aggregate-spec.js';
import type { AggregateMap, AnalyticsSpec } from '../query/analytics-ast.js';
import type { EventQuery } from '../query/ast.js';
import { resolveField } from '../query/fields.js';
import { validateFilter, validateQuery } from '../query/validate-query.js';
import { isRunning } from './stages/aggregate-map.js';
import { validateAnalyticsSpec } from './stages/run-analytics.js';

/** The fields an aggregate reads. */
export function aggregateFields(spec: AggregateSpec): string[] {
  switch (spec.kind) {
    case 'count':
      return [];
    case 'corr':
      return [spec.x, spec.y];
    case 'custom':
      return spec.field === undefined ? [] : [spec.field];
    default:
      return [spec.field];
  }
}

/**
 * Over events (before a join or a pattern makes records of them), every field an aggregate map
 * reads must be an event field: `payload.delay`, not `delay`. Running aggregates read output
 * columns and are not checked here.
 */
export function checkEventFields(aggregates: AggregateMap, where: string): void {
  for (const [alias, spec] of Object.entries(aggregates)) {
    if (isRunning(spec)) continue;
    aggregateFields(spec).forEach((field) => resolveField(field, `${where}.${alias}`));
  }
}

/**
 * Checks a builder query's analytics before anything runs: the parts as their pipeline stages
 * check them (stages/run-analytics.ts), then what a query over events adds: fields are event
 * fields until a join or pattern makes records of them, the join's right side is a query of
 * events, a bucket or window needs aggregates, `having` needs groups.
 */
export function validateAnalytics(spec: unknown, where = 'analytics'): asserts spec is AnalyticsSpec {
  validateAnalyticsSpec(spec, where);
  const { join, pattern, bucket, window, groupBy, aggregates, having } = spec;
  if (join !== undefined) {
    validateQuery(join.right as EventQuery);
    if (join.right.analytics !== undefined) {
      throw new ValidationError(
        `${where}.join.right`,
        'must be a query of events, without analytics of its own',
      );
    }
    const on = typeof join.on === 'string' ? [join.on, join.on] : join.on;
    on.forEach((field, i) => resolveField(field, `${where}.join.on[${i}]`));
  }
  if (pattern !== undefined && join === undefined) {
    resolveField(pattern.partitionBy, `${where}.pattern.partitionBy`);
    pattern.steps.forEach((step, i) => validateFilter(step.where, `${where}.pattern.steps[${i}].where`));
  }
  if (join === undefined && pattern === undefined) {
    if (bucket?.field !== undefined) resolveField(bucket.field, `${where}.bucket.field`);
    groupBy?.forEach((field, i) => resolveField(field, `${where}.groupBy[${i}]`));
    if (aggregates !== undefined) checkEventFields(aggregates, `${where}.aggregates`);
  }
  const grouped = aggregates !== undefined || groupBy !== undefined;
  if ((bucket !== undefined || window !== undefined) && !grouped) {
    throw new ValidationError(
      where,
      'a time bucket or window needs aggregates: add .aggregate({ n: agg.count() })',
    );
  }
  if (having !== undefined && !grouped) {
    throw new ValidationError(`${where}.having`, 'filters groups: add groupBy or aggregates first');
  }
}
