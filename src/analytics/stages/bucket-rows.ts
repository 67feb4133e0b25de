import { ValidationError, type ValidationCode } from '../../errors.js';
import type { PipelineRow, TimeBucketSpec } from '../../query/analytics-ast.js';
import { describe } from '../../support/describe.js';
import { type BucketGrid, bucketGrid } from '../time-bucket.js';
import { readRowField } from './read-row-field.js';

/** The grid a time-bucket spec describes (width, origin, timezone checked). */
export function gridOf(spec: TimeBucketSpec, path = 'timeBucket'): BucketGrid {
  try {
    return bucketGrid(spec.width, {
      ...(spec.origin === undefined ? {} : { origin: spec.origin }),
      ...(spec.timezone === undefined ? {} : { timezone: spec.timezone }),
    });
  } catch (error) {
    // bucketGrid names `width`, `origin` or `timezone`; put them under the stage's path.
    if (error instanceof ValidationError) {
      throw new ValidationError(
        `${path}.${error.path}`,
        error.message.slice(error.path.length + 2),
        error.code as ValidationCode,
      );
    }
    throw error;
  }
}

/** Checks a time-bucket spec: width, origin, timezone (as bucketGrid does), field, fill. */
export function validateTimeBucketSpec(spec: unknown, path: string): asserts spec is TimeBucketSpec {
  if (spec === null || typeof spec !== 'object') {
    throw new ValidationError(
      path,
      `must be { width, field?, origin?, timezone?, fill? }, got ${describe(spec)}`,
      'INVALID_OPTION',
    );
  }
  const s = spec as Partial<Record<keyof TimeBucketSpec, unknown>>;
  gridOf(s as TimeBucketSpec, path);
  if (s.field !== undefined && (typeof s.field !== 'string' || s.field === '')) {
    throw new ValidationError(
      `${path}.field`,
      `must be a field name, got ${describe(s.field)}`,
      'UNKNOWN_FIELD',
    );
  }
  if (s.fill !== undefined && s.fill !== 0 && s.fill !== null && s.fill !== 'previous') {
    throw new ValidationError(
      `${path}.fill`,
      `must be 0, null or 'previous', got ${describe(s.fill)}`,
      'INVALID_OPTION',
    );
  }
}

/**
 * Each row with a `bucket` field added: the start (epoch ms) of the bucket holding its `field`
 * (default `timestamp`), or null when that is not a finite number or Date. A later group stage
 * groups by it.
 */
export function bucketRows(rows: readonly object[], spec: TimeBucketSpec): PipelineRow[] {
  validateTimeBucketSpec(spec, 'timeBucket');
  const grid = gridOf(spec);
  const field = spec.field ?? 'timestamp';
  return rows.map((row) => {
    const ms = readRowField(row, field);
    return { ...row, bucket: typeof ms === 'number' && Number.isFinite(ms) ? grid.start(ms) : null };
  });
}
