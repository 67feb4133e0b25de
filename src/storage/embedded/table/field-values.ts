/**
 * The distinct non-numeric values of one field column, interned to dense codes (0, 1, 2 ...):
 * strings, booleans, null, and objects and arrays. A group-by keys on the codes and reads a code's
 * value back once per group.
 *
 * Values of different JSON types never collide: strings, booleans and null are Map keys as they are
 * (a Map compares by SameValueZero, so "true" is not true), and objects and arrays are keyed by their
 * JSON text in a map of their own. An object's value is a copy made from that JSON text (so it is
 * never the caller's object), deep-frozen, because every row holding it shares it: a caller must not
 * change it under the others. Payloads are JSON values (validation sees to it), so the copy is exact.
 */
export class FieldValues {
  private readonly scalars = new Map<string | boolean | null, number>();
  private readonly objects = new Map<string, number>();
  private readonly values: unknown[] = [];
  private heapBytes = 0;

  /** How many distinct values: codes are 0 to size - 1. */
  get size(): number {
    return this.values.length;
  }

  intern(value: unknown): number {
    if (value === null || typeof value !== 'object') {
      const key = value as string | boolean | null;
      let code = this.scalars.get(key);
      if (code === undefined) {
        code = this.values.push(value) - 1;
        this.scalars.set(key, code);
        this.heapBytes += 40 + (typeof value === 'string' ? value.length * 2 : 0);
      }
      return code;
    }
    const json = JSON.stringify(value);
    let code = this.objects.get(json);
    if (code === undefined) {
      code = this.values.push(deepFreeze(JSON.parse(json) as unknown)) - 1;
      this.objects.set(json, code);
      // The JSON key and, about as large again, the object itself.
      this.heapBytes += 80 + json.length * 4;
    }
    return code;
  }

  /** The code's value; throws for a code never given. */
  valueOf(code: number): unknown {
    if (code < 0 || code >= this.values.length) throw new RangeError(`no field value with code ${code}`);
    return this.values[code];
  }

  /** The code of a value interned before, if it was: to filter a column on a value by code. */
  codeOf(value: unknown): number | undefined {
    if (value === null || typeof value !== 'object')
      return this.scalars.get(value as string | boolean | null);
    return this.objects.get(JSON.stringify(value));
  }

  /** Estimated heap bytes: the values, and the maps' entries. */
  get bytes(): number {
    return this.heapBytes;
  }

  /** The values by code, for the checkpoint's metadata (JSON: every value a payload holds is JSON). */
  toJSON(): unknown[] {
    return this.values;
  }

  static from(values: readonly unknown[]): FieldValues {
    const interned = new FieldValues();
    for (const value of values) {
      if (interned.intern(value) !== interned.size - 1) {
        throw new Error(`the field column's value ${JSON.stringify(value)} is listed twice`);
      }
    }
    return interned;
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
