/**
 * Interns strings to dense integer ids (0, 1, 2 ...), so each distinct aggregate id, type or tag
 * value is held once and columns store 4-byte ids instead of strings.
 */
export class Dictionary {
  private readonly ids = new Map<string, number>();
  private readonly values: string[] = [];
  private stringBytes = 0;

  get size(): number {
    return this.values.length;
  }

  idOf(value: string): number | undefined {
    return this.ids.get(value);
  }

  intern(value: string): number {
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.ids.set(value, id);
      this.values.push(value);
      this.stringBytes += value.length * 2;
    }
    return id;
  }

  valueOf(id: number): string {
    const value = this.values[id];
    if (value === undefined) throw new RangeError(`no dictionary entry ${id}`);
    return value;
  }

  /** Estimated heap bytes: string data plus roughly 40 bytes of Map entry and array slot per value. */
  get bytes(): number {
    return this.stringBytes + this.values.length * 40;
  }

  toJSON(): string[] {
    return this.values;
  }

  static from(values: readonly string[]): Dictionary {
    const dictionary = new Dictionary();
    for (const value of values) dictionary.intern(value);
    return dictionary;
  }
}
