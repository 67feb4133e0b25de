import { ValidationError } from '../errors.js';
import type { FilterNode } from '../query/ast.js';
import { canonicalJson } from '../query/canonical.js';
import { resolveField } from '../query/fields.js';
import { validateFilter } from '../query/validate-query.js';
import { describe } from '../support/describe.js';

/**
 * A user-defined index: which fields make its key, how it is organised, and which events it covers.
 *
 * @example
 * await store.indexes.createIndex({
 *   name: 'orders_by_tenant_total',
 *   fields: ['tags.tenant', 'payload.total'],
 *   type: 'btree',
 *   where: f.eq('type', 'OrderPlaced'),
 * });
 */
export interface IndexDefinition {
  /** Letters, digits, `_` and `-`; the name hints (`useIndex`, `forceIndex`) and EXPLAIN use. */
  name: string;
  /** 1 to 8 fields: core fields, `tags.<key>` or `payload.<path>`. The key is their values, in order. */
  fields: string[];
  /**
   * `btree` (the default) keeps keys ordered: it serves equality on a leading prefix of the fields
   * plus a range on the next one. `hash` serves equality on every field only.
   */
  type?: 'btree' | 'hash';
  /** Reject an append whose key the index already holds. */
  unique?: boolean;
  /** A partial index covers only events matching this filter; a query must imply it to use it. */
  where?: FilterNode;
}

/** A definition checked and with its defaults filled in: what is persisted. */
export interface ResolvedIndexDefinition {
  readonly name: string;
  readonly fields: readonly string[];
  readonly type: 'btree' | 'hash';
  readonly unique: boolean;
  readonly where?: FilterNode;
}

export const MAX_INDEX_FIELDS = 8;
const NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
/** Names the planner already uses for built-in access paths. */
export const BUILT_IN_INDEXES = ['scan', 'sequence', 'aggregate', 'type', 'aggregate+type', 'timestamp'];
const KEYS = new Set(['name', 'fields', 'type', 'unique', 'where']);

/** Checks a definition at the door; every message names the bad value and what is expected. */
export function resolveIndexDefinition(input: unknown): ResolvedIndexDefinition {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ValidationError(
      'definition',
      `must be an object with name and fields, got ${describe(input)}`,
      'INVALID_OPTION',
    );
  }
  const definition = input as Record<string, unknown>;
  for (const key of Object.keys(definition)) {
    if (!KEYS.has(key))
      throw new ValidationError(
        `definition.${key}`,
        'unknown option; expected name, fields, type, unique, where',
        'INVALID_OPTION',
      );
  }
  const { name, fields, type = 'btree', unique = false, where } = definition;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new ValidationError(
      'definition.name',
      `must be 1-64 letters, digits, _ or - starting with a letter or _, got ${describe(name)}`,
      'INVALID_OPTION',
    );
  }
  if (BUILT_IN_INDEXES.includes(name)) {
    throw new ValidationError(
      'definition.name',
      `${describe(name)} is a built-in index name`,
      'INVALID_OPTION',
    );
  }
  if (!Array.isArray(fields) || fields.length === 0 || fields.length > MAX_INDEX_FIELDS) {
    throw new ValidationError(
      'definition.fields',
      `must be an array of 1 to ${MAX_INDEX_FIELDS} field names, got ${describe(fields)}`,
      'INVALID_OPTION',
    );
  }
  fields.forEach((field, i) => resolveField(field, `definition.fields[${i}]`));
  if (new Set(fields).size !== fields.length) {
    throw new ValidationError(
      'definition.fields',
      `names a field twice: ${describe(fields)}`,
      'INVALID_OPTION',
    );
  }
  if (type !== 'btree' && type !== 'hash') {
    throw new ValidationError(
      'definition.type',
      `must be 'btree' or 'hash', got ${describe(type)}`,
      'INVALID_OPTION',
    );
  }
  if (typeof unique !== 'boolean') {
    throw new ValidationError(
      'definition.unique',
      `must be true or false, got ${describe(unique)}`,
      'INVALID_OPTION',
    );
  }
  if (where !== undefined) validateFilter(where, 'definition.where');
  return Object.freeze({
    name,
    fields: Object.freeze([...(fields as string[])]),
    type,
    unique,
    // A copy: the caller may reuse or change its filter object, and the index must keep its own.
    ...(where === undefined || (where as FilterNode).kind === 'all'
      ? {}
      : { where: frozenCopy(where as FilterNode) }),
  });
}

/** A deep, frozen copy of a plain JSON-like value (a filter tree). */
function frozenCopy<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  const copy = Array.isArray(value)
    ? value.map(frozenCopy)
    : Object.fromEntries(Object.entries(value).map(([key, item]) => [key, frozenCopy(item)]));
  return Object.freeze(copy) as T;
}

/** Whether two definitions build the same index (names aside): for duplicates and for reuse on open. */
export function sameShape(a: ResolvedIndexDefinition, b: ResolvedIndexDefinition): boolean {
  return (
    a.type === b.type &&
    a.unique === b.unique &&
    JSON.stringify(a.fields) === JSON.stringify(b.fields) &&
    canonicalJson(a.where ?? null) === canonicalJson(b.where ?? null)
  );
}
