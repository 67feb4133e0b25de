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
  // Each part is self-delimiting (strings JSON-quoted, objects canonical JSON, numbers without
  // commas), so joining with commas is unambiguous: canonicalJson(values) without the array.
  let text = '';
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    const part =
      typeof value === 'string'
        ? JSON.stringify(value)
        : typeof value === 'number' || typeof value === 'boolean'
          ? String(value)
          : canonicalJson(keyValue(value));
    text = i === 0 ? part : `${text},${part}`;
  }
  return text;
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

/**
 * Groups found by their key parts without building a text per row: nested Maps, one level per
 * part, primitives as Map keys (so `1` and `"1"` differ; a missing part is null), objects as one
 * token per canonical JSON text (so they compare by content). What groupRows does per row.
 */
export class GroupIndex<G> {
  private readonly root = new Map<unknown, unknown>();
  private readonly tokens = new Map<string, object>();
  private only: G | undefined;
  /** Groups in first-seen order. */
  readonly groups: G[] = [];

  private part(value: unknown): unknown {
    if (value === undefined) return null;
    if (value === null || typeof value !== 'object') return value;
    const text = canonicalJson(value);
    let token = this.tokens.get(text);
    if (token === undefined) this.tokens.set(text, (token = {}));
    return token;
  }

  /** The group of these key parts (read, not kept: copy them in `create`), made on first sight. */
  find(parts: readonly unknown[], create: () => G): G {
    if (parts.length === 0) {
      if (this.only === undefined) this.groups.push((this.only = create()));
      return this.only;
    }
    let level = this.root;
    const last = parts.length - 1;
    for (let i = 0; i < last; i++) {
      const key = this.part(parts[i]);
      let next = level.get(key) as Map<unknown, unknown> | undefined;
      if (next === undefined) level.set(key, (next = new Map()));
      level = next;
    }
    const key = this.part(parts[last]);
    let group = level.get(key) as G | undefined;
    if (group === undefined) {
      group = create();
      level.set(key, group);
      this.groups.push(group);
    }
    return group;
  }
}
