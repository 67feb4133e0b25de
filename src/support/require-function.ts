import { ValidationError } from '../errors.js';
import { describe } from './describe.js';

/** `value` itself when it is a function; otherwise an INVALID_OPTION ValidationError at `path` showing what came instead. */
export function requireFunction(value: unknown, path: string): (...args: never[]) => unknown {
  if (typeof value !== 'function') {
    throw new ValidationError(path, `must be a function, got ${describe(value)}`, 'INVALID_OPTION');
  }
  return value as (...args: never[]) => unknown;
}
