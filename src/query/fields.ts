import { ValidationError } from '../errors.js';
import { describe } from '../support/describe.js';

/** The columns every event has, with the type of their values. */
export const CORE_FIELDS = {
  sequence: 'number',
  version: 'number',
  timestamp: 'number',
  aggregateId: 'string',
  type: 'string',
  id: 'string',
} as const;

export type CoreField = keyof typeof CORE_FIELDS;

/** A field name resolved to where its value lives. */
export type FieldRef =
  | { readonly kind: 'core'; readonly name: CoreField }
  | { readonly kind: 'tag'; readonly key: string }
  | { readonly kind: 'payload'; readonly path: readonly string[] };

const EXPECTED = 'expected sequence, id, aggregateId, type, timestamp, version, tags.<key> or payload.<path>';

/** Resolves a field name, or throws a ValidationError naming it and saying what is expected. */
export function resolveField(field: unknown, where: string): FieldRef {
  if (typeof field !== 'string' || field.length === 0) {
    throw new ValidationError(
      where,
      `must be a field name, got ${describe(field)}; ${EXPECTED}`,
      'UNKNOWN_FIELD',
    );
  }
  if (field in CORE_FIELDS) return { kind: 'core', name: field as CoreField };
  if (field.startsWith('tags.') && field.length > 5) return { kind: 'tag', key: field.slice(5) };
  if (field.startsWith('payload.') && field.length > 8) {
    const path = field.slice(8).split('.');
    if (path.every((part) => part.length > 0)) return { kind: 'payload', path };
  }
  throw new ValidationError(where, `unknown field ${describe(field)}; ${EXPECTED}`, 'UNKNOWN_FIELD');
}

const INDEX = /^(0|[1-9]\d*)$/;
const own = (object: object, key: string) => Object.prototype.hasOwnProperty.call(object, key);

/**
 * Reads a payload path: objects by their own keys, arrays by numeric index only (never `length` or
 * inherited names). Undefined when any step is missing.
 */
export function readPath(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    if (Array.isArray(current) ? !INDEX.test(part) : !own(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
    if (current === undefined) return undefined;
  }
  return current;
}

/** A tag's value, only if the event has it: names like `constructor` must not come from Object.prototype. */
export function ownTag(tags: Readonly<Record<string, unknown>>, key: string): unknown {
  return own(tags, key) ? tags[key] : undefined;
}
