/**
 * Index structures save themselves as JSON metadata plus typed arrays; a checkpoint stores the
 * arrays raw and 8-byte aligned, so loading them back is a view into the file's bytes, not a
 * rebuild. Each structure pushes its arrays in order and takes them back in the same order.
 */
export type RawArray = Float64Array | Uint32Array | Int32Array;
export type RawArrayType = typeof Float64Array | typeof Uint32Array | typeof Int32Array;

export const ARRAY_KINDS = { f64: Float64Array, u32: Uint32Array, i32: Int32Array } as const;
export type ArrayKind = keyof typeof ARRAY_KINDS;

export function kindOf(array: RawArray): ArrayKind {
  if (array instanceof Float64Array) return 'f64';
  if (array instanceof Uint32Array) return 'u32';
  return 'i32';
}

/** Hands out saved arrays in the order they were pushed, checking each is of the expected type. */
export class ArrayCursor {
  private index = 0;

  constructor(private readonly arrays: readonly RawArray[]) {}

  next<T extends RawArray>(type: { new (length: number): T }): T {
    const array = this.arrays[this.index++];
    if (!(array instanceof type)) {
      throw new Error(
        `checkpoint array ${this.index - 1} is not a ${type.name}; the checkpoint does not match this build`,
      );
    }
    return array;
  }
}
