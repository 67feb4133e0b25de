import { readPath } from '../../query/fields.js';

const own = (object: object, key: string) => Object.prototype.hasOwnProperty.call(object, key);

/**
 * The one field reader of the row stages. A row is a stored event or a record a stage made of one
 * (a group's output row, a join or pattern row, a projection).
 *
 * - An own key exactly equal to `field` wins: output columns such as `'tags.origin'` or `'n'`.
 * - Otherwise `field` is a dotted path through own keys (`tags.origin`, `payload.order.total`,
 *   `done.timestamp`); arrays are indexed by number only, so names like `constructor` or `length`
 *   never come from a prototype.
 * - A `Date` reads as epoch ms, so `timestamp` compares, groups and aggregates as a number.
 *
 * @returns the value, or undefined when any step of the path is missing.
 */
export function readRowField(row: unknown, field: string): unknown {
  if (row === null || typeof row !== 'object') return undefined;
  const value = own(row, field)
    ? (row as Record<string, unknown>)[field]
    : field.includes('.')
      ? readPath(row, field.split('.'))
      : undefined;
  return value instanceof Date ? value.getTime() : value;
}

/** A reader for one field, for callers that read it from many rows: the path is split once. */
export function rowFieldReader(field: string): (row: unknown) => unknown {
  const path = field.split('.');
  return (row) => {
    if (row === null || typeof row !== 'object') return undefined;
    let value: unknown;
    if (own(row, field)) value = (row as Record<string, unknown>)[field];
    else if (path.length === 1) return undefined;
    else value = readPath(row, path);
    return value instanceof Date ? value.getTime() : value;
  };
}
