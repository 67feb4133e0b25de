/**
 * A cached answer is shared by every caller that reads it, so no caller may change it under
 * another. Deep-freezing it once, when it is cached, makes each hit free (the rows themselves are
 * returned); a structured copy per hit costs as much as the answer is large (bench/suites/cache.mjs
 * measures both: freezing costs about one copy, once, and hits then cost nothing per row). Dates are
 * the one value freezing does not protect (setTime works on a frozen Date), so they become
 * FrozenDates, whose setters throw.
 *
 * The same walk estimates the answer's size for the byte budget: about what V8 holds for it.
 */

const DATE_SETTERS = [
  'setTime',
  'setMilliseconds',
  'setUTCMilliseconds',
  'setSeconds',
  'setUTCSeconds',
  'setMinutes',
  'setUTCMinutes',
  'setHours',
  'setUTCHours',
  'setDate',
  'setUTCDate',
  'setMonth',
  'setUTCMonth',
  'setFullYear',
  'setUTCFullYear',
  'setYear',
] as const;

/** A Date that cannot change: what a cached row's `timestamp` is. Still `instanceof Date`. */
export class FrozenDate extends Date {}
for (const setter of DATE_SETTERS) {
  Object.defineProperty(FrozenDate.prototype, setter, {
    value(): never {
      throw new TypeError(`a cached result's Date cannot change (${setter}); copy it first: new Date(date)`);
    },
  });
}
Object.freeze(FrozenDate.prototype);

const OBJECT_BYTES = 56;
const ENTRY_BYTES = 16;
const NUMBER_BYTES = 8;

/** Freezes `value` deeply (Dates become FrozenDates) and returns its estimated size in bytes. */
export function freezeAndMeasure(value: unknown): number {
  if (value === null || value === undefined) return NUMBER_BYTES;
  switch (typeof value) {
    case 'string':
      return 24 + value.length * 2;
    case 'number':
    case 'boolean':
    case 'bigint':
      return NUMBER_BYTES;
    case 'object':
      break;
    default:
      return NUMBER_BYTES;
  }
  const object = value as Record<string, unknown>;
  if (object instanceof Date) return OBJECT_BYTES;
  if (ArrayBuffer.isView(object)) {
    // A typed array cannot be frozen while it holds elements: cached as it is (analytics never returns one).
    return OBJECT_BYTES + object.byteLength;
  }
  // An object frozen already (a shared empty `tags`, or one cached before) cannot take a FrozenDate.
  const writable = !Object.isFrozen(object);
  let bytes = OBJECT_BYTES;
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) {
      if (writable && object[i] instanceof Date) object[i] = frozenDate(object[i]);
      bytes += ENTRY_BYTES / 2 + freezeAndMeasure(object[i]);
    }
  } else {
    for (const key of Object.keys(object)) {
      if (writable && object[key] instanceof Date) object[key] = frozenDate(object[key]);
      bytes += ENTRY_BYTES + key.length + freezeAndMeasure(object[key]);
    }
  }
  Object.freeze(object);
  return bytes;
}

function frozenDate(value: unknown): unknown {
  return value instanceof Date && !(value instanceof FrozenDate)
    ? Object.freeze(new FrozenDate(value.getTime()))
    : value;
}
