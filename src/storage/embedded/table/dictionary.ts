/** What a dictionary interns: strings (aggregate ids, types, index keys) or one tag key's values. */
export type DictionaryValue = string | number | boolean;

/**
 * Interns values to dense integer ids (0, 1, 2 ...), so each distinct aggregate id, type or tag
 * value is held once and columns store 4-byte ids instead of strings.
 *
 * Values of different JSON types never collide ("1" is not 1 is not true), and no string is built
 * per lookup: the map is keyed by the values themselves, and a Map compares keys by SameValueZero.
 *
 * Cleanup releases the ids of values no event holds any more; new values reuse them, so a rolling
 * window of streams keeps the dictionary (and every array indexed by id) at the window's size.
 */
export class Dictionary<V extends DictionaryValue = string> {
  private readonly ids = new Map<V, number>();
  private readonly values: (V | undefined)[] = [];
  /** Released ids, reused before new ones. */
  private readonly free: number[] = [];
  private stringBytes = 0;

  /** One past the highest id ever given: the id space (released ids included). */
  get size(): number {
    return this.values.length;
  }

  /** Values held now (ids not released). */
  get count(): number {
    return this.ids.size;
  }

  idOf(value: V): number | undefined {
    return this.ids.get(value);
  }

  intern(value: V): number {
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.free.pop() ?? this.values.length;
      this.ids.set(value, id);
      this.values[id] = value;
      this.stringBytes += stringBytesOf(value);
    }
    return id;
  }

  valueOf(id: number): V {
    const value = this.values[id];
    if (value === undefined) throw new RangeError(`no dictionary entry ${id}`);
    return value;
  }

  /** Forgets the value with this id; the id is given to a later new value. */
  release(id: number): void {
    const value = this.values[id];
    if (value === undefined) return;
    this.ids.delete(value);
    this.values[id] = undefined;
    this.free.push(id);
    this.stringBytes -= stringBytesOf(value);
  }

  /** Estimated heap bytes: string data plus roughly 40 bytes of Map entry and array slot per value. */
  get bytes(): number {
    return this.stringBytes + this.values.length * 40;
  }

  /** The values by id; null for a released id. */
  toJSON(): (V | null)[] {
    return this.values.map((value) => value ?? null);
  }

  /** Into an empty dictionary: each value gets back the id it had; null leaves that id released. */
  load(values: readonly (V | null)[]): this {
    for (const value of values) {
      const id = this.values.push(value ?? undefined) - 1;
      if (value === null) {
        this.free.push(id);
      } else {
        this.ids.set(value, id);
        this.stringBytes += stringBytesOf(value);
      }
    }
    return this;
  }

  static from<V extends DictionaryValue = string>(values: readonly (V | null)[]): Dictionary<V> {
    return new Dictionary<V>().load(values);
  }
}

/** Heap bytes of a value's string data (two a UTF-16 unit); numbers and booleans live in the slot. */
function stringBytesOf(value: DictionaryValue): number {
  return typeof value === 'string' ? value.length * 2 : 0;
}
