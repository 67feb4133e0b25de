import { compilePredicate } from '../exec/compile-filter.js';
import { VIEW_SOURCE, viewGetter, type EventView } from '../exec/event-view.js';
import { resolveField } from '../../../query/fields.js';
import type { ArrayCursor, RawArray } from '../table/snapshot.js';
import { Dictionary } from '../table/dictionary.js';
import type { ResolvedIndexDefinition } from '../../../indexes/index-definition.js';
import { decodeKey, encodeKey, isKeyPart, type IndexKey } from '../../../indexes/index-keys.js';
import { KeyOrder } from './key-order.js';
import { PostingIndex, type PostingSnapshot } from '../table/posting-index.js';
import { NO_ROWS, type SortedRows } from '../table/sorted-rows.js';
import { unionOf } from '../table/union.js';

/**
 * What one event gives an index: its key; or, when the first field has a scalar value but a later
 * one does not, the position of that field (the event is left out, but a query constraining only
 * the fields before it could match it); or undefined when the index leaves it out for good.
 */
export type RowKey = IndexKey | number | undefined;

export interface UserIndexSnapshot {
  definition: ResolvedIndexDefinition;
  indexedRows: number;
  /** Per field position, the events left out for lacking a scalar there (see RowKey); absent before. */
  gaps?: number[];
  keys: (string | null)[];
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
  private keys = new Dictionary();
  private postings = new PostingIndex();
  private order: KeyOrder | undefined;
  private readonly fieldsOf: ((view: EventView) => unknown)[];
  private readonly covers: (view: EventView) => boolean;
  /** gaps[j]: covered events whose first field without a scalar value is field j (j >= 1). */
  private gaps: number[];
  /** Restored from a snapshot that did not count gaps: must be built again before use. */
  gapsUnknown = false;
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
    this.gaps = definition.fields.map(() => 0);
  }

  /** A new, empty index of the same definition, with this one's usage counts: to build again. */
  emptyCopy(): UserIndex {
    const copy = new UserIndex(this.definition, this.createdAt);
    copy.uses = this.uses;
    copy.lastUsed = this.lastUsed;
    return copy;
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

  /** The event's key, or why the index leaves it out (see RowKey). */
  keyOf(view: EventView): RowKey {
    if (!this.covers(view)) return undefined;
    const values = this.fieldsOf.map((get) => get(view));
    const gap = values.findIndex((value) => !isKeyPart(value));
    if (gap === -1) return values as IndexKey;
    return gap === 0 ? undefined : gap;
  }

  /**
   * Covered events left out because field `position` (not the first) has no scalar value while the
   * fields before it do. A query that constrains only the fields before it could match them, so
   * the planner may use the index for such a query only when this is 0.
   */
  gapsAt(position: number): number {
    return this.gaps[position] ?? 0;
  }

  /** Considers the next row; `key` is keyOf its event. */
  add(row: number, key: RowKey): void {
    if (row !== this.indexedRows)
      throw new Error(`index ${this.name} expected row ${this.indexedRows}, got ${row}`);
    if (typeof key === 'number') {
      this.gaps[key] = (this.gaps[key] ?? 0) + 1;
    } else if (key !== undefined) {
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

  /**
   * Forgets the rows below `floor` (cleanup removed the oldest events in place). Keys left with no
   * rows stay in the dictionary and the key order, holding nothing, until they are half of the keys:
   * then the index is rebuilt (removeRows), which sheds them, so that cost is spread over many cuts.
   */
  dropBelow(floor: number): void {
    this.postings.dropBelow(floor);
    if (this.postings.keys * 2 < this.keys.size) this.removeRows(() => false);
  }

  /**
   * Leaves out the rows cleanup removed: keys and postings are rebuilt from the rows that stay, so
   * keys no event holds any more are gone (a unique key is free again) and memory shrinks with them.
   * Runs in one synchronous step, in time proportional to the index's entries.
   */
  removeRows(removed: (row: number) => boolean): void {
    const keys = new Dictionary();
    const postings = new PostingIndex();
    for (let id = 0; id < this.keys.size; id++) {
      const rows = this.postings.rows(id);
      let kept = -1;
      for (let i = 0; i < rows.length; i++) {
        const row = rows.at(i);
        if (removed(row)) continue;
        if (kept < 0) kept = keys.intern(this.keys.valueOf(id));
        postings.add(kept, row);
      }
    }
    this.keys = keys;
    this.postings = postings;
    if (this.order !== undefined) {
      this.order = new KeyOrder(keys);
      for (let id = 0; id < keys.size; id++) this.order.add(id);
    }
  }

  recordUse(now: number): void {
    this.uses++;
    this.lastUsed = now;
  }

  get entries(): number {
    return this.postings.entries;
  }

  get distinctKeys(): number {
    return this.postings.keys;
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
    for (const id of ids) {
      const rows = this.postings.count(id);
      if (rows > 0) yield [decodeKey(text(id)), rows];
    }
  }

  snapshot(out: RawArray[]): UserIndexSnapshot {
    return {
      definition: this.definition,
      indexedRows: this.indexedRows,
      gaps: [...this.gaps],
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
    index.keys.load(meta.keys);
    index.postings.restore(meta.postings, arrays);
    if (meta.order) index.order?.restore(meta.order, arrays);
    index.indexedRows = meta.indexedRows;
    if (meta.gaps === undefined) index.gapsUnknown = true;
    else index.gaps = [...meta.gaps];
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
