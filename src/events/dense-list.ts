import { ValidationError } from '../errors.js';

/**
 * Refuses an array with a hole. A sparse array can claim a length of 2^32 - 1 while holding
 * nothing: spreading, mapping or walking it index by index would then block the process for
 * minutes or exhaust memory before any element is looked at. This loop stops at the first hole,
 * so it costs no more than the elements the caller really built.
 */
export function requireDense(list: readonly unknown[], path: string): void {
  for (let i = 0; i < list.length; i++) {
    if (!(i in list)) {
      throw new ValidationError(
        path,
        `must be an array without holes; index ${i} of ${list.length} is empty (a sparse array)`,
      );
    }
  }
}
