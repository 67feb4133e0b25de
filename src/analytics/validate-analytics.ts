import { ValidationError } from '../errors.js';
import { requireDense } from '../events/dense-list.js';
import type { AggregateSpec } from '../query/aggregate-spec.js';
import type { AggregateMap, AnalyticsSpec, RunningSpec, TimeWindowSpec } from '../query/analytics-ast.js';
import type { EventQuery } from '../query/ast.js';
import { resolveField } from '../query/fields.js';
import {
  requireOutputColumn,
  validateFilter,
  validateOutputFilter,
  validateQuery,
} from '../query/validate-query.js';
import { describe } from '../support/describe.js';
import { windowMs } from './partition-events.js';
import { bucketGrid } from './time-bucket.js';

const FIELD_KINDS = new Set([
  'countField',
  'countDistinct',
  'sum',
  'avg',
  'min',
  'max',
  'stddev',
  'variance',
  'median',
  'first',
  'last',
  'percentile',
  'approxPercentile',
  'histogram',
]);

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Columns the analytics add to output rows themselves; an alias must not take them. */
const RESERVED_COLUMNS = new Set(['bucket', 'windowStart', 'windowEnd']);

/**
 * Checks one aggregate spec as JSON may carry it (a pipeline from the CLI): its kind, and each field
 * it reads with `checkField` (event fields over events, column names over output rows).
 */
export function validateAggregateSpec(
  spec: unknown,
  where: string,
  checkField: (field: unknown, where: string) => void,
): asserts spec is AggregateSpec {
  if (!isObject(spec) || typeof spec.kind !== 'string') {
    throw new ValidationError(where, `must be an aggregate (see agg.*), got ${describe(spec)}`);
  }
  const { kind } = spec;
  if (kind === 'count') return;
  if (kind === 'corr') {
    checkField(spec.x, `${where}.x`);
    checkField(spec.y, `${where}.y`);
    return;
  }
  if (kind === 'custom') {
    for (const part of ['init', 'add', 'merge', 'result']) {
      if (typeof spec[part] !== 'function') {
        throw new ValidationError(`${where}.${part}`, `must be a function, got ${describe(spec[part])}`);
      }
    }
    if (spec.field !== undefined) checkField(spec.field, `${where}.field`);
    return;
  }
  if (!FIELD_KINDS.has(kind)) {
    throw new ValidationError(
      `${where}.kind`,
      `unknown aggregate ${describe(kind)}; expected one of count, ${[...FIELD_KINDS].join(', ')}, corr, custom, moving, delta`,
    );
  }
  checkField(spec.field, `${where}.field`);
  if (kind === 'percentile' || kind === 'approxPercentile') {
    if (typeof spec.p !== 'number' || !(spec.p >= 0 && spec.p <= 1)) {
      throw new ValidationError(
        `${where}.p`,
        `must be a number from 0 to 1, got ${describe(spec.p)}`,
        'INVALID_OPERAND',
      );
    }
  }
  if (kind === 'histogram' && (!Number.isSafeInteger(spec.buckets) || (spec.buckets as number) < 1)) {
    throw new ValidationError(
      `${where}.buckets`,
      `must be a whole number of buckets, at least 1, got ${describe(spec.buckets)}`,
      'INVALID_OPERAND',
    );
  }
}

function validateRunning(spec: Record<string, unknown>, where: string): void {
  if (spec.kind === 'delta') {
    requireOutputColumn(spec.field, `${where}.field`);
    return;
  }
  validateAggregateSpec(spec.of, `${where}.of`, requireOutputColumn);
  const { buckets } = spec;
  if (buckets !== 'all' && (!Number.isSafeInteger(buckets) || (buckets as number) < 1)) {
    throw new ValidationError(
      `${where}.buckets`,
      `must be a whole number of buckets, at least 1, or 'all', got ${describe(buckets)}`,
      'INVALID_OPERAND',
    );
  }
}

/** Whether an aggregate of the map runs over output rows (moving, delta) rather than over events. */
export function isRunning(spec: AggregateSpec | RunningSpec): spec is RunningSpec {
  return spec.kind === 'moving' || spec.kind === 'delta';
}

/**
 * Checks an aggregate map: aliases are non-empty and do not take a group column; aggregates over
 * events read fields `checkField` accepts; running ones read output columns.
 */
export function validateAggregateMap(
  aggregates: unknown,
  where: string,
  groupColumns: readonly string[],
  checkField: (field: unknown, where: string) => void,
): asserts aggregates is AggregateMap {
  if (!isObject(aggregates)) {
    throw new ValidationError(
      where,
      `must be an object of aliases to aggregates (agg.*), got ${describe(aggregates)}`,
    );
  }
  for (const [alias, spec] of Object.entries(aggregates)) {
    const at = `${where}.${alias}`;
    if (alias.length === 0) throw new ValidationError(where, 'aggregate aliases must not be empty');
    if (groupColumns.includes(alias) || RESERVED_COLUMNS.has(alias)) {
      throw new ValidationError(at, `alias ${describe(alias)} is also a group column; choose another name`);
    }
    if (isObject(spec) && (spec.kind === 'moving' || spec.kind === 'delta')) validateRunning(spec, at);
    else validateAggregateSpec(spec, at, checkField);
  }
}

function validateWindow(window: unknown, where: string): asserts window is TimeWindowSpec {
  if (!isObject(window)) {
    throw new ValidationError(where, `must be { size, every } or { gap }, got ${describe(window)}`);
  }
  if ('gap' in window) {
    if ('size' in window || 'every' in window) {
      throw new ValidationError(where, 'takes { size, every } (hopping) or { gap } (sessions), not both');
    }
    windowMs(window.gap, `${where}.gap`);
    return;
  }
  const size = windowMs(window.size, `${where}.size`);
  const every = windowMs(window.every, `${where}.every`);
  if (size < 1 || every < 1) {
    throw new ValidationError(where, `size and every must be at least 1 ms, got ${describe(window)}`);
  }
  if (size / every > 10_000) {
    throw new ValidationError(
      where,
      `puts each event in ${Math.ceil(size / every)} windows (size / every); at most 10000`,
    );
  }
}

/**
 * Checks a builder query's analytics before anything runs; bad parts throw a ValidationError
 * naming them (`analytics.aggregates.p95.p`). Over events, fields must be event fields; after a
 * join or a pattern the rows are records and fields are their column paths.
 */
export function validateAnalytics(spec: unknown, where = 'analytics'): asserts spec is AnalyticsSpec {
  if (!isObject(spec)) throw new ValidationError(where, `must be an object, got ${describe(spec)}`);
  const records = spec.join !== undefined || spec.pattern !== undefined;
  const checkField = records ? requireOutputColumn : resolveField;
  if (spec.join !== undefined) validateJoin(spec.join, `${where}.join`);
  if (spec.pattern !== undefined)
    validatePatternSpec(spec.pattern, `${where}.pattern`, spec.join !== undefined);
  if (spec.bucket !== undefined && spec.window !== undefined) {
    throw new ValidationError(where, 'takes a time bucket or a time window, not both');
  }
  const keys: string[] = [];
  if (spec.bucket !== undefined) {
    const bucket = spec.bucket;
    if (!isObject(bucket))
      throw new ValidationError(`${where}.bucket`, `must be an object, got ${describe(bucket)}`);
    bucketGrid(bucket.width as string, {
      ...(bucket.origin === undefined ? {} : { origin: bucket.origin as number }),
      ...(bucket.timezone === undefined ? {} : { timezone: bucket.timezone as string }),
    });
    if (bucket.field !== undefined) checkField(bucket.field, `${where}.bucket.field`);
    if (
      bucket.fill !== undefined &&
      bucket.fill !== 0 &&
      bucket.fill !== null &&
      bucket.fill !== 'previous'
    ) {
      throw new ValidationError(
        `${where}.bucket.fill`,
        `must be 0, null or 'previous', got ${describe(bucket.fill)}`,
      );
    }
    keys.push('bucket');
  }
  if (spec.window !== undefined) {
    validateWindow(spec.window, `${where}.window`);
    keys.push('windowStart', 'windowEnd');
  }
  if (spec.groupBy !== undefined) {
    if (!Array.isArray(spec.groupBy)) {
      throw new ValidationError(
        `${where}.groupBy`,
        `must be an array of fields, got ${describe(spec.groupBy)}`,
      );
    }
    requireDense(spec.groupBy, `${where}.groupBy`);
    spec.groupBy.forEach((field: unknown, i: number) => checkField(field, `${where}.groupBy[${i}]`));
    if (new Set(spec.groupBy).size !== spec.groupBy.length) {
      throw new ValidationError(`${where}.groupBy`, `names a field twice: ${describe(spec.groupBy)}`);
    }
    keys.push(...(spec.groupBy as string[]));
  }
  if (spec.aggregates !== undefined)
    validateAggregateMap(spec.aggregates, `${where}.aggregates`, keys, checkField);
  const grouped = spec.aggregates !== undefined || spec.groupBy !== undefined;
  if ((spec.bucket !== undefined || spec.window !== undefined) && !grouped) {
    throw new ValidationError(
      where,
      'a time bucket or window needs aggregates: add .aggregate({ n: agg.count() })',
    );
  }
  if (spec.having !== undefined) {
    if (!grouped)
      throw new ValidationError(`${where}.having`, 'filters groups: add groupBy or aggregates first');
    validateOutputFilter(spec.having, `${where}.having`);
  }
}

function validateJoin(join: unknown, where: string): void {
  if (!isObject(join)) throw new ValidationError(where, `must be an object, got ${describe(join)}`);
  validateQuery(join.right as EventQuery);
  if ((join.right as EventQuery).analytics !== undefined) {
    throw new ValidationError(`${where}.right`, 'must be a query of events, without analytics of its own');
  }
  const on = join.on;
  if (Array.isArray(on)) {
    if (on.length !== 2)
      throw new ValidationError(
        `${where}.on`,
        `must be a field or [leftField, rightField], got ${describe(on)}`,
      );
    resolveField(on[0], `${where}.on[0]`);
    resolveField(on[1], `${where}.on[1]`);
  } else resolveField(on, `${where}.on`);
  requireOutputColumn(join.as, `${where}.as`);
  if (join.type !== undefined && join.type !== 'inner' && join.type !== 'left') {
    throw new ValidationError(`${where}.type`, `must be 'inner' or 'left', got ${describe(join.type)}`);
  }
  if (join.within !== undefined) windowMs(join.within, `${where}.within`);
}

/** Checks a pattern spec as JSON carries it (the matching itself checks names and order again). */
export function validatePatternSpec(pattern: unknown, where: string, records: boolean): void {
  if (!isObject(pattern)) throw new ValidationError(where, `must be an object, got ${describe(pattern)}`);
  (records ? requireOutputColumn : resolveField)(pattern.partitionBy, `${where}.partitionBy`);
  windowMs(pattern.within, `${where}.within`);
  const steps = pattern.steps;
  if (!Array.isArray(steps) || steps.length === 0) {
    throw new ValidationError(
      `${where}.steps`,
      `must be a non-empty array of { name, where }, got ${describe(steps)}`,
    );
  }
  requireDense(steps, `${where}.steps`);
  steps.forEach((step: unknown, i: number) => {
    const at = `${where}.steps[${i}]`;
    if (!isObject(step))
      throw new ValidationError(at, `must be { name, where, absent? }, got ${describe(step)}`);
    requireOutputColumn(step.name, `${at}.name`);
    if (records) validateOutputFilter(step.where, `${at}.where`);
    else validateFilter(step.where, `${at}.where`);
  });
  if (
    pattern.contiguity !== undefined &&
    pattern.contiguity !== 'relaxed' &&
    pattern.contiguity !== 'strict'
  ) {
    throw new ValidationError(
      `${where}.contiguity`,
      `must be 'relaxed' or 'strict', got ${describe(pattern.contiguity)}`,
    );
  }
}
