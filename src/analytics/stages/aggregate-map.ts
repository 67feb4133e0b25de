import { ValidationError } from '../../errors.js';
import type { AggregateSpec } from '../../query/aggregate-spec.js';
import type { AggregateMap, RunningSpec } from '../../query/analytics-ast.js';
import { describe } from '../../support/describe.js';
import { requireFunction } from '../../support/require-function.js';

/** Whether an entry of an aggregate map is a running aggregate (computed over output rows). */
export function isRunning(spec: AggregateSpec | RunningSpec): spec is RunningSpec {
  return spec.kind === 'moving' || spec.kind === 'delta';
}

/** The map's aggregates over input rows and its running aggregates, each in the map's order. */
export function splitAggregates(aggregates: AggregateMap): {
  plain: [string, AggregateSpec][];
  running: [string, RunningSpec][];
} {
  const plain: [string, AggregateSpec][] = [];
  const running: [string, RunningSpec][] = [];
  for (const [alias, spec] of Object.entries(aggregates)) {
    if (isRunning(spec)) running.push([alias, spec]);
    else plain.push([alias, spec]);
  }
  return { plain, running };
}

function fieldName(value: unknown, path: string): void {
  if (typeof value !== 'string' || value === '') {
    throw new ValidationError(
      path,
      `must be a field name (a non-empty string), got ${describe(value)}`,
      'UNKNOWN_FIELD',
    );
  }
}

function fraction(value: unknown, path: string): void {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new ValidationError(
      path,
      `must be a number from 0 to 1, got ${describe(value)}`,
      'INVALID_OPERAND',
    );
  }
}

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
]);
const KINDS =
  'expected count, countField, countDistinct, sum, avg, min, max, stddev, variance, median, percentile, approxPercentile, first, last, corr, histogram, custom, moving or delta';

/**
 * Checks one aggregate spec as plain JSON (a pipeline's text) or as agg.* built it. Field names may
 * be any non-empty string: rows of a pipeline are not only events (`done.timestamp`, `n`).
 */
export function validateAggregateSpec(spec: unknown, path: string, runningAllowed = true): void {
  if (spec === null || typeof spec !== 'object' || typeof (spec as { kind?: unknown }).kind !== 'string') {
    throw new ValidationError(
      path,
      `must be an aggregate spec such as agg.count(), got ${describe(spec)}`,
      'INVALID_OPTION',
    );
  }
  const s = spec as Record<string, unknown> & { kind: string };
  if (FIELD_KINDS.has(s.kind)) return fieldName(s.field, `${path}.field`);
  switch (s.kind) {
    case 'count':
      return;
    case 'percentile':
    case 'approxPercentile':
      fieldName(s.field, `${path}.field`);
      return fraction(s.p, `${path}.p`);
    case 'corr':
      fieldName(s.x, `${path}.x`);
      return fieldName(s.y, `${path}.y`);
    case 'histogram':
      fieldName(s.field, `${path}.field`);
      if (typeof s.buckets !== 'number' || !Number.isSafeInteger(s.buckets) || s.buckets < 1) {
        throw new ValidationError(
          `${path}.buckets`,
          `must be a positive integer, got ${describe(s.buckets)}`,
          'INVALID_OPTION',
        );
      }
      return;
    case 'custom':
      for (const part of ['init', 'add', 'merge', 'result']) requireFunction(s[part], `${path}.${part}`);
      if (s.field !== undefined) fieldName(s.field, `${path}.field`);
      return;
    case 'moving':
    case 'delta':
      if (!runningAllowed) {
        throw new ValidationError(
          `${path}.kind`,
          `a running aggregate cannot nest in another, got ${describe(s.kind)}`,
          'INVALID_OPTION',
        );
      }
      if (s.kind === 'delta') return fieldName(s.field, `${path}.field`);
      validateAggregateSpec(s.of, `${path}.of`, false);
      if (
        s.buckets !== 'all' &&
        (typeof s.buckets !== 'number' || !Number.isSafeInteger(s.buckets) || s.buckets < 1)
      ) {
        throw new ValidationError(
          `${path}.buckets`,
          `must be a positive integer or 'all', got ${describe(s.buckets)}`,
          'INVALID_OPTION',
        );
      }
      return;
    default:
      throw new ValidationError(
        `${path}.kind`,
        `unknown aggregate ${describe(s.kind)}; ${KINDS}`,
        'INVALID_OPTION',
      );
  }
}

/**
 * Checks an aggregate map: an object of aliases (non-empty, none equal to a group key in `keys`)
 * to aggregate specs. Paths like `stages[2].group.aggregates.p95`.
 */
export function validateAggregateMap(
  map: unknown,
  path: string,
  keys: readonly string[] = [],
): asserts map is AggregateMap {
  if (map === null || typeof map !== 'object' || Array.isArray(map)) {
    throw new ValidationError(
      path,
      `must be an object of aliases to aggregates, got ${describe(map)}`,
      'INVALID_OPTION',
    );
  }
  for (const [alias, spec] of Object.entries(map)) {
    if (alias === '' || keys.includes(alias)) {
      throw new ValidationError(
        `${path}.${alias}`,
        `an alias must be non-empty and differ from the group keys (${keys.join(', ') || 'none'}), got ${describe(alias)}`,
        'INVALID_OPTION',
      );
    }
    validateAggregateSpec(spec, `${path}.${alias}`);
  }
}
