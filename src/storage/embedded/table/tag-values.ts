import type { TagValue } from '../../../events/types.js';

/**
 * Interns one tag key's values to dense ids. Values of different JSON types never collide ("1" is
 * not 1 is not true), and no string is built per lookup: strings and numbers have a map each.
 */
export class TagValues {
  private readonly strings = new Map<string, number>();
  private readonly numbers = new Map<number, number>();
  private readonly booleans: [number | undefined, number | undefined] = [undefined, undefined];
  private readonly values: (TagValue | undefined)[] = [];
  /** Released ids, reused before new ones (see Dictionary). */
  private readonly free: number[] = [];
  private stringBytes = 0;

  get size(): number {
    return this.values.length;
  }

  idOf(value: TagValue): number | undefined {
    if (typeof value === 'string') return this.strings.get(value);
    if (typeof value === 'number') return this.numbers.get(value);
    return this.booleans[value ? 1 : 0];
  }

  intern(value: TagValue): number {
    const known = this.idOf(value);
    if (known !== undefined) return known;
    const id = this.free.pop() ?? this.values.length;
    this.values[id] = value;
    if (typeof value === 'string') {
      this.strings.set(value, id);
      this.stringBytes += value.length * 2;
    } else if (typeof value === 'number') {
      this.numbers.set(value, id);
    } else {
      this.booleans[value ? 1 : 0] = id;
    }
    return id;
  }

  valueOf(id: number): TagValue {
    const value = this.values[id];
    if (value === undefined) throw new RangeError(`no tag value ${id}`);
    return value;
  }

  /** Forgets the value with this id; the id is given to a later new value. */
  release(id: number): void {
    const value = this.values[id];
    if (value === undefined) return;
    this.values[id] = undefined;
    this.free.push(id);
    if (typeof value === 'string') {
      this.strings.delete(value);
      this.stringBytes -= value.length * 2;
    } else if (typeof value === 'number') {
      this.numbers.delete(value);
    } else {
      this.booleans[value ? 1 : 0] = undefined;
    }
  }

  /** Estimated heap bytes: string data plus roughly 40 bytes of Map entry and array slot per value. */
  get bytes(): number {
    return this.stringBytes + this.values.length * 40;
  }

  /** The values by id; null for a released id. */
  toJSON(): (TagValue | null)[] {
    return this.values.map((value) => value ?? null);
  }

  /** Each value gets back the id it had; null leaves that id released. */
  static from(values: readonly (TagValue | null)[]): TagValues {
    const dictionary = new TagValues();
    for (const value of values) {
      // Interned before any id is free, so each value gets its position back.
      if (value !== null) dictionary.intern(value);
      else dictionary.values.push(undefined);
    }
    for (let id = 0; id < values.length; id++) if (values[id] === null) dictionary.free.push(id);
    return dictionary;
  }
}
