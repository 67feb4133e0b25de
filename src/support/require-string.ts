import { ValidationError } from '../errors.js';
import { describe } from './describe.js';

/**
 * `value` itself when it is a non-empty string; otherwise a ValidationError at `path` that shows
 * what came instead. The one check behind every name argument: aggregate ids, types, query ids.
 */
export function requireNonEmptyString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ValidationError(path, `must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}
