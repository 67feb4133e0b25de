import { ValidationError } from '../errors.js';
import { requireDense } from '../events/dense-list.js';
import { isTagValue, toEpochMs } from '../events/validate.js';
import type { TagValue } from '../events/types.js';

import { describe } from '../support/describe.js';
import { requireNonEmptyString } from '../support/require-string.js';

/** `QueryCriteria` checked and normalised: arrays everywhere, times in epoch ms. */
export interface NormalizedCriteria {
  aggregateIds?: string[];
  types?: string[];
  from?: number;
  to?: number;
  tags: [key: string, values: TagValue[]][];
  afterSequence?: number;
  limit?: number;
  order: 'asc' | 'desc';
}

const FIELDS = new Set(['aggregateId', 'type', 'from', 'to', 'tags', 'afterSequence', 'limit', 'order']);

function nonNegativeInteger(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError(path, `must be a non-negative integer, got ${describe(value)}`);
  }
  return value;
}

export function optionalInteger(value: unknown, path: string): number | undefined {
  return value === undefined ? undefined : nonNegativeInteger(value, path);
}

function strings(value: unknown, path: string): string[] {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  if (list.length === 0)
    throw new ValidationError(path, 'must not be an empty array: it would match nothing');
  requireDense(list, path);
  list.forEach((item, i) => requireNonEmptyString(item, Array.isArray(value) ? `${path}[${i}]` : path));
  return list as string[];
}

export function requireObject(value: unknown, path: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError(path, `must be an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

export function normalizeCriteria(criteria: QueryCriteria | undefined): NormalizedCriteria {
  const input = requireObject(criteria ?? {}, 'criteria');
  for (const key of Object.keys(input)) {
    if (!FIELDS.has(key)) {
      throw new ValidationError(
        `criteria.${key}`,
        `is not a criteria field; expected one of ${[...FIELDS].join(', ')}`,
      );
    }
  }
  const result: NormalizedCriteria = { tags: [], order: 'asc' };
  if (input.aggregateId !== undefined)
    result.aggregateIds = strings(input.aggregateId, 'criteria.aggregateId');
  if (input.type !== undefined) result.types = strings(input.type, 'criteria.type');
  if (input.from !== undefined) result.from = toEpochMs(input.from, 'criteria.from');
  if (input.to !== undefined) result.to = toEpochMs(input.to, 'criteria.to');
  if (result.from !== undefined && result.to !== undefined && result.to < result.from) {
    throw new ValidationError(
      'criteria.to',
      `must not be before criteria.from (${describe(input.from)}), got ${describe(input.to)}`,
    );
  }
  if (input.tags !== undefined) {
    const tags = requireObject(input.tags, 'criteria.tags');
    for (const key of Object.keys(tags)) {
      const raw = tags[key];
      const values = Array.isArray(raw) ? (raw as unknown[]) : [raw];
      if (values.length === 0)
        throw new ValidationError(
          `criteria.tags.${key}`,
          'must not be an empty array: it would match nothing',
        );
      requireDense(values, `criteria.tags.${key}`);
      for (const value of values) {
        if (!isTagValue(value)) {
          throw new ValidationError(
            `criteria.tags.${key}`,
            `must be a string, number or boolean (or an array of them), got ${describe(value)}`,
          );
        }
      }
      result.tags.push([key, values as TagValue[]]);
    }
  }
  result.afterSequence = optionalInteger(input.afterSequence, 'criteria.afterSequence');
  result.limit = optionalInteger(input.limit, 'criteria.limit');
  if (input.order !== undefined) {
    if (input.order !== 'asc' && input.order !== 'desc') {
      throw new ValidationError('criteria.order', `must be 'asc' or 'desc', got ${describe(input.order)}`);
    }
    result.order = input.order;
  }
  return result;
}

export type TimeInput = Date | number | string;

/** The criteria object of `queryEvents`: every field present must match (AND). */
export interface QueryCriteria {
  aggregateId?: string | readonly string[];
  type?: string | readonly string[];
  /** Timestamp lower bound, inclusive. */
  from?: TimeInput;
  /** Timestamp upper bound, exclusive. */
  to?: TimeInput;
  /** Tag key → a value, or an array of accepted values. */
  tags?: Record<string, TagValue | readonly TagValue[]>;
  /** Only events with a larger sequence (with `order: 'desc'`: a smaller one). */
  afterSequence?: number;
  limit?: number;
  /** By sequence; default `'asc'`. */
  order?: 'asc' | 'desc';
}

/** `queryEvents`' options beyond the criteria. */
export interface QueryEventsOptions {
  /**
   * Also return matching events from the archive (`retention.archive.dir`), merged with the live
   * ones by sequence; `limit` and `afterSequence` apply to the merged result. Without an archive
   * configured this throws a ValidationError.
   */
  includeArchived?: boolean;
}
