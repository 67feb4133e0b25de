import { parseDuration } from '../events/duration.js';
import { ValidationError } from '../errors.js';
import { requireDense } from '../events/dense-list.js';
import { assertNever } from '../support/assert-never.js';
import { describe } from '../support/describe.js';
import type { EventQuery, FilterNode, QueryHints, Scalar } from './ast.js';
import { CORE_FIELDS, resolveField, type FieldRef } from './fields.js';

const RANGE_KINDS = new Set(['lt', 'lte', 'gt', 'gte']);

function checkOperand(ref: FieldRef, value: unknown, where: string, ordered: boolean): void {
  const isScalar = value === null || ['string', 'number', 'boolean'].includes(typeof value);
  if (!isScalar || (typeof value === 'number' && !Number.isFinite(value))) {
    throw new ValidationError(
      where,
      `must be a string, a finite number, a boolean or null, got ${describe(value)}`,
      'INVALID_OPERAND',
    );
  }
  if (ref.kind === 'core') {
    const expected = CORE_FIELDS[ref.name];
    if (typeof value !== expected) {
      throw new ValidationError(
        where,
        `${ref.name} compares with a ${expected}, got ${describe(value)}`,
        'INVALID_OPERAND',
      );
    }
  } else if (ref.kind === 'tag' && value === null) {
    throw new ValidationError(
      where,
      `tags hold strings, numbers and booleans, not null; use exists() to test presence`,
      'INVALID_OPERAND',
    );
  }
  if (ordered && (typeof value === 'boolean' || value === null)) {
    throw new ValidationError(
      where,
      `an ordering comparison needs a number or a string, got ${describe(value)}`,
      'INVALID_OPERAND',
    );
  }
}

/**
 * Deepest nesting of and / or / not accepted in a filter. Real filters are wide, not deep (a chain
 * of where() calls makes one flat `and`); the bound keeps validation, planning and compiling, which
 * recurse, from overflowing the stack on a filter nested thousands deep.
 */
export const MAX_FILTER_DEPTH = 100;

export function filterTooDeep(where: string): ValidationError {
  return new ValidationError(where, `nests and / or / not deeper than ${MAX_FILTER_DEPTH} levels`);
}

/** Checks a filter tree; throws a ValidationError naming the bad node by its path, e.g. `filter.and[1].value`. */
export function validateFilter(
  node: unknown,
  where = 'filter',
  depth = 0,
  resolve: (field: unknown, where: string) => FieldRef = resolveField,
): void {
  if (depth > MAX_FILTER_DEPTH) throw filterTooDeep(where);
  if (node === null || typeof node !== 'object' || typeof (node as { kind?: unknown }).kind !== 'string') {
    throw new ValidationError(where, `must be a filter node with a kind, got ${describe(node)}`);
  }
  const n = node as FilterNode;
  switch (n.kind) {
    case 'all':
      return;
    case 'and':
    case 'or':
      if (!Array.isArray(n.filters) || n.filters.length === 0) {
        throw new ValidationError(`${where}.${n.kind}`, 'must hold at least one filter');
      }
      requireDense(n.filters, `${where}.${n.kind}`);
      n.filters.forEach((child, i) => validateFilter(child, `${where}.${n.kind}[${i}]`, depth + 1, resolve));
      return;
    case 'not':
      validateFilter(n.filter, `${where}.not`, depth + 1, resolve);
      return;
    case 'exists':
      resolve(n.field, `${where}.field`);
      return;
    case 'prefix': {
      const ref = resolve(n.field, `${where}.field`);
      if (typeof n.value !== 'string') {
        throw new ValidationError(
          `${where}.value`,
          `prefix needs a string, got ${describe(n.value)}`,
          'INVALID_OPERAND',
        );
      }
      if (ref.kind === 'core' && CORE_FIELDS[ref.name] !== 'string') {
        throw new ValidationError(
          `${where}.field`,
          `prefix applies to text, and ${ref.name} is a number`,
          'INVALID_OPERAND',
        );
      }
      return;
    }
    case 'in': {
      const ref = resolve(n.field, `${where}.field`);
      if (!Array.isArray(n.values) || n.values.length === 0) {
        throw new ValidationError(
          `${where}.values`,
          'in needs a non-empty array of values: an empty one matches nothing',
          'INVALID_OPERAND',
        );
      }
      requireDense(n.values, `${where}.values`);
      n.values.forEach((value, i) => checkOperand(ref, value, `${where}.values[${i}]`, false));
      return;
    }
    case 'between': {
      const ref = resolve(n.field, `${where}.field`);
      checkOperand(ref, n.low, `${where}.low`, true);
      checkOperand(ref, n.high, `${where}.high`, true);
      if (typeof n.low !== typeof n.high) {
        throw new ValidationError(
          where,
          `between needs bounds of one type, got ${describe(n.low)} and ${describe(n.high)}`,
          'INVALID_OPERAND',
        );
      }
      if ((n.low as string | number) > (n.high as string | number)) {
        throw new ValidationError(
          where,
          `bad range: low ${describe(n.low)} is above high ${describe(n.high)}`,
          'INVALID_RANGE',
        );
      }
      return;
    }
    case 'eq':
    case 'ne':
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte': {
      const ref = resolve(n.field, `${where}.field`);
      checkOperand(ref, (n as { value: Scalar }).value, `${where}.value`, RANGE_KINDS.has(n.kind));
      return;
    }
    default:
      // Reached by input from outside the type system alone: a missing case fails to compile here.
      return assertNever(
        n,
        (node) =>
          new ValidationError(
            `${where}.kind`,
            `unknown filter kind ${describe((node as { kind: unknown }).kind)}; expected eq, ne, in, lt, lte, gt, gte, between, exists, prefix, and, or, not`,
          ),
      );
  }
}

function optionalCount(value: unknown, where: string, min: number): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min)) {
    throw new ValidationError(where, `must be an integer >= ${min}, got ${describe(value)}`);
  }
}

function validateHints(hints: QueryHints): void {
  for (const name of ['useIndex', 'forceIndex'] as const) {
    const list = hints[name];
    if (Array.isArray(list)) requireDense(list, `hints.${name}`);
    if (
      list !== undefined &&
      (!Array.isArray(list) || list.some((item) => typeof item !== 'string' || item === ''))
    ) {
      throw new ValidationError(`hints.${name}`, `must be an array of index names, got ${describe(list)}`);
    }
  }
  if (hints.parallel !== undefined && typeof hints.parallel !== 'boolean') {
    throw new ValidationError('hints.parallel', `must be true or false, got ${describe(hints.parallel)}`);
  }
  optionalCount(hints.timeout, 'hints.timeout', 0);
  optionalCount(hints.batchSize, 'hints.batchSize', 1);
  validateCacheHint(hints.cache);
}

function validateCacheHint(cache: unknown): void {
  if (cache === undefined || typeof cache === 'boolean') return;
  if (cache === null || typeof cache !== 'object' || Array.isArray(cache)) {
    throw new ValidationError('hints.cache', `must be true, false or { ttl }, got ${describe(cache)}`);
  }
  for (const key of Object.keys(cache)) {
    if (key !== 'ttl') throw new ValidationError(`hints.cache.${key}`, 'unknown hint; expected ttl');
  }
  parseDuration((cache as { ttl?: unknown }).ttl, 'hints.cache.ttl');
}

/**
 * Checks a filter over output rows (`having`, a pipeline's later `match`): its fields are column
 * names, any non-empty text, and compare with any scalar.
 */
export function validateOutputFilter(node: unknown, where: string): void {
  validateFilter(node, where, 0, (field, at) => ({
    kind: 'payload',
    path: [requireOutputColumn(field, at)],
  }));
}

/** Checks a whole query; a bad query never reaches the planner. */
export function validateQuery(query: EventQuery): void {
  // A query from outside the builder (explain(ast), a parsed JSON body) may be anything.
  if (query === null || typeof query !== 'object' || Array.isArray(query)) {
    throw new ValidationError('query', `must be a query object or a builder, got ${describe(query)}`);
  }
  if (!Array.isArray(query.orderBy)) {
    throw new ValidationError(
      'orderBy',
      `must be an array of { field, direction }, got ${describe(query.orderBy)}`,
    );
  }
  if (query.select !== undefined && !Array.isArray(query.select)) {
    throw new ValidationError('select', `must be an array of fields, got ${describe(query.select)}`);
  }
  if (query.hints === null || typeof query.hints !== 'object') {
    throw new ValidationError('hints', `must be an object, got ${describe(query.hints)}`);
  }
  validateFilter(query.filter);
  if (query.select !== undefined) requireDense(query.select, 'select');
  requireDense(query.orderBy, 'orderBy');
  query.select?.forEach((field, i) => resolveField(field, `select[${i}]`));
  const analytics = query.analytics !== undefined;
  if (analytics) checkAnalyticsShape(query);
  query.orderBy.forEach((term, i) => {
    // With analytics, the order is over output rows: group fields, `bucket`, aggregate aliases.
    if (analytics) requireOutputColumn(term.field, `orderBy[${i}].field`);
    else resolveField(term.field, `orderBy[${i}].field`);
    if (term.direction !== 'asc' && term.direction !== 'desc') {
      throw new ValidationError(
        `orderBy[${i}].direction`,
        `must be 'asc' or 'desc', got ${describe(term.direction)}`,
      );
    }
  });
  optionalCount(query.limit, 'limit', 0);
  optionalCount(query.offset, 'offset', 0);
  if (query.after !== undefined) validateCursor(query);
  validateHints(query.hints);
  if (query.source !== undefined && !SOURCES.includes(query.source)) {
    throw new ValidationError(
      'source',
      `must be 'events', 'archive' or 'all', got ${describe(query.source)}`,
    );
  }
}

const SOURCES = ['events', 'archive', 'all'];

function checkAnalyticsShape(query: EventQuery): void {
  const { analytics } = query;
  if (analytics === null || typeof analytics !== 'object' || Array.isArray(analytics)) {
    throw new ValidationError('analytics', `must be an object, got ${describe(analytics)}`);
  }
  if (query.select !== undefined) {
    throw new ValidationError(
      'select',
      'cannot be combined with group-by, aggregates, buckets, windows, patterns or joins: their rows have their own columns',
    );
  }
  if (query.after !== undefined) {
    throw new ValidationError(
      'after',
      'keyset pagination is for event queries; page analytics rows with offset and limit',
    );
  }
}

/** An output column name: any non-empty string (what it names is checked against the rows' columns). */
export function requireOutputColumn(field: unknown, where: string): string {
  if (typeof field !== 'string' || field.length === 0) {
    throw new ValidationError(where, `must be a column name, got ${describe(field)}`, 'UNKNOWN_FIELD');
  }
  return field;
}

/** Whether rows come in sequence order: no orderBy, or sequence alone. */
export function inSequenceOrder(order: EventQuery['orderBy']): boolean {
  return order.length === 0 || (order.length === 1 && order[0]?.field === 'sequence');
}

function validateCursor(query: EventQuery): void {
  const after = query.after as NonNullable<EventQuery['after']>;
  optionalCount(after.sequence, 'after.sequence', 0);
  if (inSequenceOrder(query.orderBy)) return;
  const keys = after.keys;
  if (!Array.isArray(keys) || keys.length !== query.orderBy.length) {
    throw new ValidationError(
      'after.keys',
      `must hold one value per orderBy term (${query.orderBy.length}), got ${describe(keys)}`,
    );
  }
  keys.forEach((key, i) => {
    if (key !== null && !['string', 'number', 'boolean'].includes(typeof key))
      throw new ValidationError(`after.keys[${i}]`, `must be a scalar or null, got ${describe(key)}`);
  });
}
