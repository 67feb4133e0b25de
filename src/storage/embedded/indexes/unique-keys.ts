import { UniqueViolationError } from '../../../errors.js';
import { encodeKey, type IndexKey } from '../../../indexes/index-keys.js';
import type { RowKey, UserIndex } from './user-index.js';

// A unique index's promise, kept on both paths that add keys: an append's batch is checked before
// it is written (IndexManager.prepareBatch), and a build stops at the first key two events share.

/**
 * Throws UniqueViolationError when a key of the batch is held already, or given by two of its
 * events; `keys` are the batch's, in order.
 */
export function checkUniqueKeys(index: UserIndex, keys: readonly RowKey[]): void {
  const seen = new Map<string, number>();
  keys.forEach((key, i) => {
    if (typeof key !== 'object') return; // not in the index: no key to clash
    const held = index.firstRowOf(key);
    const fields = index.definition.fields;
    if (held !== undefined)
      throw new UniqueViolationError(index.name, fields, key, i, `held by sequence ${held + 1}`);
    const text = encodeKey(key);
    const earlier = seen.get(text);
    if (earlier !== undefined)
      throw new UniqueViolationError(
        index.name,
        fields,
        key,
        i,
        `also given by events[${earlier}] of this batch`,
      );
    seen.set(text, i);
  });
}

/** What a build of a unique index throws when rows `held` and `row` both have `key`. */
export function uniqueBuildViolation(
  index: UserIndex,
  key: IndexKey,
  held: number,
  row: number,
): UniqueViolationError {
  return new UniqueViolationError(index.name, index.definition.fields, key, [held + 1, row + 1]);
}
