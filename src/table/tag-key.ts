import type { TagValue } from '../events/types.js';

/**
 * Tag values of different JSON types must not collide in an index ("1" is not 1 is not true), so
 * each is keyed by its type letter and its text.
 */
export function encodeTagValue(value: TagValue): string {
  switch (typeof value) {
    case 'string':
      return `s${value}`;
    case 'number':
      return `n${value}`;
    default:
      return value ? 'b1' : 'b0';
  }
}
