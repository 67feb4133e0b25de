import { canonicalJson } from '../../query/canonical.js';

/**
 * A group key value as output rows carry it: a missing value (undefined) is null, so rows missing
 * the field form one group with key null, as SQL's GROUP BY puts NULLs together.
 */
export function keyValue(value: unknown): unknown {
  return value === undefined ? null : value;
}

/**
 * The text two group keys are equal by: canonical JSON of the values, so `1` and `"1"` differ and
 * objects compare by content whatever their key order.
 */
export function groupKeyText(values: readonly unknown[]): string {
  return values.length === 1 ? canonicalJson(keyValue(values[0])) : canonicalJson(values.map(keyValue));
}

/** Rows bucketed by a key, groups in first-seen order, rows in input order within each. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const text = key(item);
    const group = groups.get(text);
    if (group === undefined) groups.set(text, [item]);
    else group.push(item);
  }
  return groups;
}
