import { compilePredicate } from '../query/compile-filter.js';
import { VIEW_SOURCE, viewGetter, type EventView } from '../query/event-view.js';
import { resolveField } from '../query/fields.js';
import type { ArrayCursor, RawArray } from '../storage/embedded/snapshot.js';
import { Dictionary } from '../table/dictionary.js';
import type { ResolvedIndexDefinition } from './index-definition.js';
import { decodeKey, encodeKey, toKey, type IndexKey } from './index-keys.js';
import { KeyOrder } from './key-order.js';
import { PostingIndex, type PostingSnapshot } from './posting-index.js';
import { NO_ROWS, type SortedRows } from './sorted-rows.js';
import { unionOf } from './union.js';

export interface UserIndexSnapshot {
  definition: ResolvedIndexDefinition;
  indexedRows: number;
  keys: string[];
  postings: PostingSnapshot;
  order?: ReturnType<KeyOrder['snapshot']>;
  uses: number;
  lastUsed: number | null;
  createdAt: number;
}

/**
 * One user-defined index: interned keys (index-keys.ts), each key's rows as postings, and for a
 * btree the keys in order. Rows [0, indexedRows) have been considered; an event outside a partial
 * index's `where`, or without a scalar value for every field, is considered and left out.
 */
export class UserIndex {
  private readonly keys = new Dictionary();
  private readonly postings = new PostingIndex();
  private readonly order: KeyOrder | undefined;
  private readonly fieldsOf: ((view: EventView) => unknown)[];
  private readonly covers: (view: EventView) => boolean;
  indexedRows = 0;
  uses = 0;
  lastUsed: number | undefined;

  constructor(
    readonly definition: ResolvedIndexDefinition,
    readonly createdAt: number,
  ) {
    this.order = definition.type === 'btree' ? new KeyOrder(this.keys) : undefined;
    this.fieldsOf = definition.fields.map((field) => viewGetter(resolveField(field, 'fields')));
    this.covers = definition.where ? compilePredicate(definition.where, VIEW_SOURCE) : () => true;
  }

  get name(): string {
    return this.definition.name;
  }

  /** Whether the index reads tags, payload or id, so building it must decode records. */
  get needsRecord(): boolean {
    const fields = [...this.definition.fields, ...fieldNames(this.definition.where)];
    return fields.some((field) => {
      const ref = resolveField(field, 'fields');
      return ref.kind !== 'core' || ref.name === 'id';
    });
  }

  /** The event's key, or undefined when the index leaves it out. */
  keyOf(view: EventView): IndexKey | undefined {
    if (!this.covers(view)) return undefined;
    return toKey(this.fieldsOf.map((get) => get(view)));
  }

  /** Considers the next row; `key` is keyOf its event. */
  add(row: number, key: IndexKey | undefined): void {
    if (row !== this.indexedRows)
      throw new Error(`index ${this.name} expected row ${this.indexedRows}, got ${row}`);
    if (key !== undefined) {
      const known = this.keys.size;
      const id = this.keys.intern(encodeKey(key));
      if (id === known) this.order?.add(id);
      this.postings.add(id, row);
    }
    this.indexedRows = row + 1;
  }

  /** The first row holding the key, or undefined: for unique checks. */
  firstRowOf(key: IndexKey): number | undefined {
    const id = this.keys.idOf(encodeKey(key));
    return id === undefined || this.postings.count(id) === 0 ? undefined : this.postings.rows(id).at(0);
  }

  /** Ids of the keys among `keys` that the index holds. */
  idsOf(keys: readonly IndexKey[]): number[] {
    const ids = new Set<number>();
    for (const key of keys) {
      const id = this.keys.idOf(encodeKey(key));
      if (id !== undefined) ids.add(id);
    }
    return [...ids];
  }

  /** Ids of keys from `from` (inclusive) to `to` (exclusive) in key order that `accept` lets through. */
  idsBetween(
    from: string,
    to: string | undefined,
    accept: (key: string) => boolean,
    enough?: (id: number) => boolean,
  ): number[] {
    if (this.order === undefined) throw new Error(`index ${this.name} is a hash index: it has no order`);
    return this.order.between(from, to, accept, enough);
  }

  countOf(ids: readonly number[]): number {
    let total = 0;
    for (const id of ids) total += this.postings.count(id);
    return total;
  }

  rowsOf(ids: readonly number[]): SortedRows {
    if (ids.length === 0) return NO_ROWS;
    return unionOf(ids.map((id) => this.postings.rows(id)));
  }

  recordUse(now: number): void {
    this.uses++;
    this.lastUsed = now;
  }

  get entries(): number {
    return this.postings.entries;
  }

  get distinctKeys(): number {
    return this.keys.size;
  }

  get bytes(): number {
    return this.keys.bytes + this.postings.bytes + (this.order?.bytes ?? 0);
  }

  /** Every key with its row count, in key order for a btree (insertion order for a hash). */
  *keyCounts(): Generator<[key: IndexKey, rows: number]> {
    const ids = this.order
      ? this.order.between('', undefined, () => true)
      : [...Array(this.keys.size).keys()];
    const text = (id: number) => this.keys.valueOf(id);
    if (this.order) ids.sort((a, b) => (text(a) < text(b) ? -1 : 1));
    for (const id of ids) yield [decodeKey(text(id)), this.postings.count(id)];
  }

  snapshot(out: RawArray[]): UserIndexSnapshot {
    return {
      definition: this.definition,
      indexedRows: this.indexedRows,
      keys: this.keys.toJSON(),
      postings: this.postings.snapshot(out),
      ...(this.order ? { order: this.order.snapshot(out) } : {}),
      uses: this.uses,
      lastUsed: this.lastUsed ?? null,
      createdAt: this.createdAt,
    };
  }

  static restore(meta: UserIndexSnapshot, arrays: ArrayCursor): UserIndex {
    const index = new UserIndex(meta.definition, meta.createdAt);
    for (const key of meta.keys) index.keys.intern(key);
    index.postings.restore(meta.postings, arrays);
    if (meta.order) index.order?.restore(meta.order, arrays);
    index.indexedRows = meta.indexedRows;
    index.uses = meta.uses;
    index.lastUsed = meta.lastUsed ?? undefined;
    return index;
  }
}

/** The fields a filter reads. */
export function fieldNames(filter: ResolvedIndexDefinition['where']): string[] {
  if (filter === undefined || filter.kind === 'all') return [];
  if (filter.kind === 'and' || filter.kind === 'or') return filter.filters.flatMap(fieldNames);
  if (filter.kind === 'not') return fieldNames(filter.filter);
  return [filter.field];
}
