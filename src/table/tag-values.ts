import type { TagValue } from '../events/types.js';

/**
 * Interns one tag key's values to dense ids. Values of different JSON types never collide ("1" is
 * not 1 is not true), and no string is built per lookup: strings and numbers have a map each.
 */
export class TagValues {
  private readonly strings = new Map<string, number>();
  private readonly numbers = new Map<number, number>();
  private readonly booleans: [number | undefined, number | undefined] = [undefined, undefined];
  private readonly values: TagValue[] = [];
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
    const id = this.values.length;
    this.values.push(value);
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

  /** Estimated heap bytes: string data plus roughly 40 bytes of Map entry and array slot per value. */
  get bytes(): number {
    return this.stringBytes + this.values.length * 40;
  }

  toJSON(): TagValue[] {
    return this.values;
  }

  static from(values: readonly TagValue[]): TagValues {
    const dictionary = new TagValues();
    for (const value of values) dictionary.intern(value);
    return dictionary;
  }
}
