import { RECORD_HEADER, decodeBody, decodeMsgpackValue } from './record-codec.js';
import { TAG_NUMBER, TAG_STRING, TAG_TRUE } from './tag-codec.js';
import { readString } from './utf8.js';

/** Where a field lives in a record: a tag key, or a path into the payload (as query/fields.ts resolves it). */
export type RecordFieldRef =
  | { readonly kind: 'tag'; readonly key: string }
  | { readonly kind: 'payload'; readonly path: readonly string[] };

const INDEX = /^(0|[1-9]\d*)$/;
const ASCII_TAGS = 2;
const PROTO_KEYS = 4;
/** The body is msgpack of the 2-element array [payload, metadata]: fixarray of 2. */
const BODY_ARRAY = 0x92;
/** Returned by the walker when the bytes hold something it leaves to the full decoder. */
const UNKNOWN = Symbol('unknown');

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
 * tags) gives: scalars are decoded here (numbers, booleans, null, ASCII strings), anything else (a
 * non-ASCII string, an object, an array, a 64-bit integer) by msgpackr itself on the value's bytes
 * alone. What the walker does not know (a body flagged with `__proto__` keys, which msgpackr decodes
 * differently, or a non-string map key) falls back to the full decode, so it is never wrong, only
 * slower.
 */
export class RecordFieldReader {
  private readonly tagKey: Buffer | undefined;
  private readonly steps: readonly Step[];
  private readonly path: readonly string[];

  constructor(private readonly ref: RecordFieldRef) {
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
    if (this.tagKey !== undefined) return this.readTag(bytes, start, this.tagKey);
    const names =
      bytes.readUInt16LE(start + 12) + bytes.readUInt16LE(start + 14) + bytes.readUInt16LE(start + 16);
    const body = start + RECORD_HEADER + names + bytes.readUInt32LE(start + 18);
    if (((bytes[start + 26] as number) & PROTO_KEYS) === 0 && bytes[body] === BODY_ARRAY) {
      const value = this.walk(bytes, body + 1);
      if (value !== UNKNOWN) return value;
    }
    return this.slowRead(bytes.subarray(start, start + length));
  }

  private readTag(bytes: Buffer, start: number, key: Buffer): unknown {
    const names =
      bytes.readUInt16LE(start + 12) + bytes.readUInt16LE(start + 14) + bytes.readUInt16LE(start + 16);
    let at = start + RECORD_HEADER + names;
    const end = at + bytes.readUInt32LE(start + 18);
    const ascii = ((bytes[start + 26] as number) & ASCII_TAGS) !== 0;
    const keyLength = key.length;
    while (at < end) {
      const length = bytes.readUInt16LE(at);
      const match = length === keyLength && sameBytes(bytes, at + 2, key);
      at += 2 + length;
      const kind = bytes[at];
      if (kind === TAG_STRING) {
        const valueLength = bytes.readUInt32LE(at + 1);
        if (match) return readString(bytes, at + 5, at + 5 + valueLength, ascii);
        at += 5 + valueLength;
      } else if (kind === TAG_NUMBER) {
        if (match) return bytes.readDoubleLE(at + 1);
        at += 9;
      } else {
        if (match) return kind === TAG_TRUE;
        at += 1;
      }
    }
    return undefined;
  }

  /** Follows the path from the payload at `at`; the value, undefined if a step is missing, or UNKNOWN. */
  private walk(bytes: Buffer, at: number): unknown {
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
          return undefined; // a scalar (or null) has no fields
        }
        if (step.index < 0 || step.index >= items) return undefined;
        for (let i = 0; i < step.index; i++) at = skip(bytes, at);
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
      if (!found) return undefined;
    }
    return this.value(bytes, at);
  }

  /** The msgpack value at `at`: common scalars decoded here, the rest by msgpackr. */
  private value(bytes: Buffer, at: number): unknown {
    const type = bytes[at] as number;
    if (type < 0x80) return type;
    if (type >= 0xe0) return type - 0x100;
    if (type >= 0xa0 && type <= 0xbf) return asciiString(bytes, at + 1, at + 1 + (type & 0x1f));
    switch (type) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xcb:
        return bytes.readDoubleBE(at + 1);
      case 0xcc:
        return bytes[at + 1];
      case 0xcd:
        return bytes.readUInt16BE(at + 1);
      case 0xce:
        return bytes.readUInt32BE(at + 1);
      case 0xd0:
        return bytes.readInt8(at + 1);
      case 0xd1:
        return bytes.readInt16BE(at + 1);
      case 0xd2:
        return bytes.readInt32BE(at + 1);
      case 0xd9:
        return asciiString(bytes, at + 2, at + 2 + (bytes[at + 1] as number));
      default: {
        const end = skip(bytes, at);
        if (end < 0) return UNKNOWN;
        return decodeMsgpackValue(bytes.subarray(at, end));
      }
    }
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
 * A msgpack string's bytes as a string: Latin-1 is exact for ASCII and faster. Validation refuses
 * lone surrogates, so the bytes are valid UTF-8 and Node's decoder gives what msgpackr's does.
 */
function asciiString(bytes: Buffer, start: number, end: number): string {
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
