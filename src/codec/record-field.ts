import { RECORD_HEADER, decodeBody, decodeMsgpackValue } from './record-codec.js';
import { TAG_NUMBER, TAG_STRING, TAG_TRUE } from './tag-codec.js';
import { readString } from './utf8.js';

/** Where a field lives in a record: a tag key, or a path into the payload (as query/fields.ts resolves it). */
export type RecordFieldRef =
  | { readonly kind: 'tag'; readonly key: string }
  | { readonly kind: 'payload'; readonly path: readonly string[] };

const INDEX = /^(0|[1-9]\d*)$/;
const PROTO_KEYS = 4;
/** The body is msgpack of the 2-element array [payload, metadata]: fixarray of 2. */
const BODY_ARRAY = 0x92;
/** What `locate` found: no value, a number (`number`), a string's bytes (`stringStart`..`stringEnd`), or another value (`value`). */
export const FIELD_MISSING = 0;
export const FIELD_NUMBER = 1;
export const FIELD_STRING = 2;
export const FIELD_VALUE = 3;
export type FieldFound =
  typeof FIELD_MISSING | typeof FIELD_NUMBER | typeof FIELD_STRING | typeof FIELD_VALUE;

/** Positions the walker returns besides a value's: the field is missing, or the bytes need the full decoder. */
const MISSING = -1;
const UNKNOWN = -2;

/** A path step: the key's UTF-8 bytes, and its array index (-1 if it is not one, as readPath has it). */
interface Step {
  readonly bytes: Buffer;
  readonly index: number;
}

/**
 * Reads one field of a record straight from its bytes, without decoding the rest: what extracting a
 * field column does for every event, so it must cost a fraction of decodeBody. A tag is found by
 * walking the tags' binary form (tag-codec.ts); a payload path by walking the msgpack body, comparing
 * map keys as bytes and skipping the values it does not want without decoding them.
 *
 * The value read is exactly what `readPath(decodeBody(record).payload, path)` (or `ownTag` of the
 * tags) gives: scalars are decoded here (numbers, booleans, null, strings), anything else (an
 * object, an array, a 64-bit integer) by msgpackr itself on the value's bytes alone. What the walker
 * does not know (a body flagged with `__proto__` keys, which msgpackr decodes differently, or a
 * non-string map key) falls back to the full decode, so it is never wrong, only slower.
 *
 * `locate` leaves a string as its bytes, so a caller interning strings (a field column) makes a JS
 * string only for a value it has not seen; `read` gives the value itself.
 */
export class RecordFieldReader {
  /** After `locate` found FIELD_NUMBER. */
  number = 0;
  /** After `locate` found FIELD_STRING: the string's UTF-8 bytes in the buffer given. */
  stringStart = 0;
  stringEnd = 0;
  /** After `locate` found FIELD_VALUE. */
  value: unknown = undefined;
  private readonly tagKey: Buffer | undefined;
  private readonly steps: readonly Step[];
  private readonly path: readonly string[];

  constructor(ref: RecordFieldRef) {
    if (ref.kind === 'tag') {
      this.tagKey = Buffer.from(ref.key, 'utf8');
      this.steps = [];
      this.path = [];
    } else {
      this.steps = ref.path.map((part) => ({
        bytes: Buffer.from(part, 'utf8'),
        index: INDEX.test(part) ? Number(part) : -1,
      }));
      this.path = ref.path;
    }
  }

  /** The field's value in the record at `bytes[start, start + length)`; undefined when it has none. */
  read(bytes: Buffer, start: number, length: number): unknown {
    switch (this.locate(bytes, start, length)) {
      case FIELD_MISSING:
        return undefined;
      case FIELD_NUMBER:
        return this.number;
      case FIELD_STRING:
        return utf8String(bytes, this.stringStart, this.stringEnd);
      default:
        return this.value;
    }
  }

  /** Finds the field in the record at `bytes[start, start + length)`; what it found is in the fields above. */
  locate(bytes: Buffer, start: number, length: number): FieldFound {
    const names =
      bytes.readUInt16LE(start + 12) + bytes.readUInt16LE(start + 14) + bytes.readUInt16LE(start + 16);
    const tags = start + RECORD_HEADER + names;
    if (this.tagKey !== undefined) return this.locateTag(bytes, tags, tags + bytes.readUInt32LE(start + 18));
    const body = tags + bytes.readUInt32LE(start + 18);
    if (((bytes[start + 26] as number) & PROTO_KEYS) === 0 && bytes[body] === BODY_ARRAY) {
      const at = this.walk(bytes, body + 1);
      if (at === MISSING) return FIELD_MISSING;
      if (at !== UNKNOWN) {
        const found = this.scalar(bytes, at);
        if (found !== UNKNOWN) return found;
      }
    }
    return this.found(this.slowRead(bytes.subarray(start, start + length)));
  }

  private locateTag(bytes: Buffer, at: number, end: number): FieldFound {
    const key = this.tagKey as Buffer;
    const keyLength = key.length;
    while (at < end) {
      const length = bytes.readUInt16LE(at);
      const match = length === keyLength && sameBytes(bytes, at + 2, key);
      at += 2 + length;
      const kind = bytes[at];
      if (kind === TAG_STRING) {
        const valueLength = bytes.readUInt32LE(at + 1);
        if (match) {
          this.stringStart = at + 5;
          this.stringEnd = at + 5 + valueLength;
          return FIELD_STRING;
        }
        at += 5 + valueLength;
      } else if (kind === TAG_NUMBER) {
        if (match) {
          this.number = bytes.readDoubleLE(at + 1);
          return FIELD_NUMBER;
        }
        at += 9;
      } else {
        if (match) return this.found(kind === TAG_TRUE);
        at += 1;
      }
    }
    return FIELD_MISSING;
  }

  private found(value: unknown): FieldFound {
    if (value === undefined) return FIELD_MISSING;
    if (typeof value === 'number') {
      this.number = value;
      return FIELD_NUMBER;
    }
    this.value = value;
    return FIELD_VALUE;
  }

  /** Follows the path from the payload at `at`: the position of the value, MISSING, or UNKNOWN. */
  private walk(bytes: Buffer, at: number): number {
    for (const step of this.steps) {
      const type = bytes[at] as number;
      let count: number;
      if (type >= 0x80 && type <= 0x8f) {
        count = type & 0x0f;
        at += 1;
      } else if (type === 0xde) {
        count = bytes.readUInt16BE(at + 1);
        at += 3;
      } else if (type === 0xdf) {
        count = bytes.readUInt32BE(at + 1);
        at += 5;
      } else {
        let items: number;
        if (type >= 0x90 && type <= 0x9f) {
          items = type & 0x0f;
          at += 1;
        } else if (type === 0xdc) {
          items = bytes.readUInt16BE(at + 1);
          at += 3;
        } else if (type === 0xdd) {
          items = bytes.readUInt32BE(at + 1);
          at += 5;
        } else {
          return MISSING; // a scalar (or null) has no fields
        }
        if (step.index < 0 || step.index >= items) return MISSING;
        for (let i = 0; i < step.index && at >= 0; i++) at = skip(bytes, at);
        if (at < 0) return UNKNOWN;
        continue;
      }
      let found = false;
      const wanted = step.bytes;
      for (let i = 0; i < count; i++) {
        const key = bytes[at] as number;
        let keyStart: number;
        let keyLength: number;
        if (key >= 0xa0 && key <= 0xbf) {
          keyStart = at + 1;
          keyLength = key & 0x1f;
        } else if (key === 0xd9) {
          keyStart = at + 2;
          keyLength = bytes[at + 1] as number;
        } else if (key === 0xda) {
          keyStart = at + 3;
          keyLength = bytes.readUInt16BE(at + 1);
        } else if (key === 0xdb) {
          keyStart = at + 5;
          keyLength = bytes.readUInt32BE(at + 1);
        } else {
          return UNKNOWN;
        }
        at = keyStart + keyLength;
        if (keyLength === wanted.length && sameBytes(bytes, keyStart, wanted)) {
          found = true;
          break;
        }
        at = skip(bytes, at);
        if (at < 0) return UNKNOWN;
      }
      if (!found) return MISSING;
    }
    return at;
  }

  /** Classifies the msgpack value at `at`: numbers and strings read here, the rest decoded by msgpackr. */
  private scalar(bytes: Buffer, at: number): FieldFound | typeof UNKNOWN {
    const type = bytes[at] as number;
    let number: number;
    if (type < 0x80) number = type;
    else if (type >= 0xe0) number = type - 0x100;
    else if (type >= 0xa0 && type <= 0xbf) return this.string(at + 1, at + 1 + (type & 0x1f));
    else {
      switch (type) {
        case 0xc0:
          return this.found(null);
        case 0xc2:
          return this.found(false);
        case 0xc3:
          return this.found(true);
        case 0xcb:
          number = bytes.readDoubleBE(at + 1);
          break;
        case 0xcc:
          number = bytes[at + 1] as number;
          break;
        case 0xcd:
          number = bytes.readUInt16BE(at + 1);
          break;
        case 0xce:
          number = bytes.readUInt32BE(at + 1);
          break;
        case 0xd0:
          number = bytes.readInt8(at + 1);
          break;
        case 0xd1:
          number = bytes.readInt16BE(at + 1);
          break;
        case 0xd2:
          number = bytes.readInt32BE(at + 1);
          break;
        case 0xd9:
          return this.string(at + 2, at + 2 + (bytes[at + 1] as number));
        case 0xda:
          return this.string(at + 3, at + 3 + bytes.readUInt16BE(at + 1));
        case 0xdb:
          return this.string(at + 5, at + 5 + bytes.readUInt32BE(at + 1));
        default: {
          const end = skip(bytes, at);
          if (end < 0) return UNKNOWN;
          return this.found(decodeMsgpackValue(bytes.subarray(at, end)));
        }
      }
    }
    this.number = number;
    return FIELD_NUMBER;
  }

  private string(start: number, end: number): FieldFound {
    this.stringStart = start;
    this.stringEnd = end;
    return FIELD_STRING;
  }

  private slowRead(record: Buffer): unknown {
    const body = decodeBody(record);
    let current: unknown = body.payload;
    for (const part of this.path) {
      if (current === null || typeof current !== 'object') return undefined;
      if (Array.isArray(current) ? !INDEX.test(part) : !Object.prototype.hasOwnProperty.call(current, part))
        return undefined;
      current = (current as Record<string, unknown>)[part];
      if (current === undefined) return undefined;
    }
    return current;
  }
}

/**
 * A string's UTF-8 bytes (msgpack's or a tag's) as a string: Latin-1 is exact for ASCII and faster. Validation refuses
 * lone surrogates, so the bytes are valid UTF-8 and Node's decoder gives what msgpackr's does.
 */
export function utf8String(bytes: Buffer, start: number, end: number): string {
  let high = 0;
  for (let i = start; i < end; i++) high |= bytes[i] as number;
  return readString(bytes, start, end, high < 0x80);
}

function sameBytes(bytes: Buffer, at: number, wanted: Buffer): boolean {
  for (let i = 0; i < wanted.length; i++) if (bytes[at + i] !== wanted[i]) return false;
  return true;
}

/**
 * The position just past the msgpack value at `at` (containers included), or -1 for a byte that
 * starts no value. Iterative: `pending` counts the values still to pass.
 */
export function skip(bytes: Buffer, at: number): number {
  let pending = 1;
  while (pending > 0) {
    pending--;
    const type = bytes[at] as number;
    if (type === undefined) return -1;
    if (type < 0x80 || type >= 0xe0) {
      at += 1;
    } else if (type <= 0x8f) {
      pending += 2 * (type & 0x0f);
      at += 1;
    } else if (type <= 0x9f) {
      pending += type & 0x0f;
      at += 1;
    } else if (type <= 0xbf) {
      at += 1 + (type & 0x1f);
    } else {
      switch (type) {
        case 0xc0:
        case 0xc2:
        case 0xc3:
          at += 1;
          break;
        case 0xc4:
        case 0xd9:
          at += 2 + (bytes[at + 1] as number);
          break;
        case 0xc5:
        case 0xda:
          at += 3 + bytes.readUInt16BE(at + 1);
          break;
        case 0xc6:
        case 0xdb:
          at += 5 + bytes.readUInt32BE(at + 1);
          break;
        case 0xc7:
          at += 3 + (bytes[at + 1] as number);
          break;
        case 0xc8:
          at += 4 + bytes.readUInt16BE(at + 1);
          break;
        case 0xc9:
          at += 6 + bytes.readUInt32BE(at + 1);
          break;
        case 0xcc:
        case 0xd0:
          at += 2;
          break;
        case 0xcd:
        case 0xd1:
        case 0xd4:
          at += 3;
          break;
        case 0xd5:
          at += 4;
          break;
        case 0xca:
        case 0xce:
        case 0xd2:
          at += 5;
          break;
        case 0xd6:
          at += 6;
          break;
        case 0xcb:
        case 0xcf:
        case 0xd3:
          at += 9;
          break;
        case 0xd7:
          at += 10;
          break;
        case 0xd8:
          at += 18;
          break;
        case 0xdc:
          pending += bytes.readUInt16BE(at + 1);
          at += 3;
          break;
        case 0xdd:
          pending += bytes.readUInt32BE(at + 1);
          at += 5;
          break;
        case 0xde:
          pending += 2 * bytes.readUInt16BE(at + 1);
          at += 3;
          break;
        case 0xdf:
          pending += 2 * bytes.readUInt32BE(at + 1);
          at += 5;
          break;
        default:
          return -1;
      }
    }
  }
  return at;
}
