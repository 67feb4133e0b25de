import { isUtf8 } from 'node:buffer';
import { ValidationError } from '../errors.js';
import { TAG_NUMBER, TAG_STRING, TAG_TRUE } from './tag-codec.js';

/**
 * JSON text straight from a record's bytes (its msgpack body, its binary tags), written as UTF-8
 * into a growing buffer: what an export of whole events writes for tags, payload and metadata,
 * without building the JavaScript objects only to stringify them again.
 *
 * The text must be exactly `JSON.stringify` of what the full decoder gives (record-codec.ts), so
 * anything whose JSON form the transcoder cannot be sure of makes it answer false, and the caller
 * decodes that record the slow way: a value msgpackr decodes specially (float32, 64-bit integers,
 * extensions such as Dates and undefined, binary), non-finite numbers, a string that is not strict
 * UTF-8 (msgpackr decodes those bytes its own way), and an object key made of digits only (an
 * object lists integer keys first, whatever the order they were written in) or `__proto__`.
 */

/** Arrow Utf8 offsets are 32-bit: one column of one batch holds at most 2 GiB of text. */
const MAX_TEXT_BYTES = 2 ** 31 - 1;
/** A column starts at its estimated size, but no larger: a huge batchRows grows it as it fills. */
const INITIAL_BYTES_LIMIT = 16 * 1024 * 1024;

/** UTF-8 bytes and the offsets where each value ends: one Arrow Utf8 column, built value by value. */
export class TextColumnBuilder {
  private buffer: Buffer;
  /** Bytes written. */
  length = 0;
  readonly offsets: Int32Array;
  /** Bit i set when value i is not null; `nulls` counts the others. */
  readonly validity: Uint8Array;
  nulls = 0;
  private count = 0;

  /** `name` is the column's, for the error of a batch too large. */
  constructor(
    private readonly name: string,
    values: number,
    bytesPerValue: number,
  ) {
    this.buffer = Buffer.allocUnsafe(Math.min(Math.max(1024, values * bytesPerValue), INITIAL_BYTES_LIMIT));
    this.offsets = new Int32Array(values + 1);
    this.validity = new Uint8Array((values + 7) >> 3);
  }

  /** Makes room for `extra` more bytes. */
  reserve(extra: number): Buffer {
    const needed = this.length + extra;
    if (needed > this.buffer.length) {
      if (needed > MAX_TEXT_BYTES) {
        throw new ValidationError(
          'batchRows',
          `column ${this.name} holds over 2 GiB of text in one batch of ${this.offsets.length - 1} rows; export with a smaller batchRows`,
          'INVALID_OPTION',
        );
      }
      let size = this.buffer.length * 2;
      while (size < needed) size *= 2;
      size = Math.min(size, MAX_TEXT_BYTES);
      const grown = Buffer.allocUnsafe(size);
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    return this.buffer;
  }

  /** Ends the current value (the bytes written since the previous one). */
  end(): void {
    const i = this.count++;
    (this.validity[i >> 3] as number) |= 1 << (i & 7);
    this.offsets[this.count] = this.length;
  }

  /** Ends the current value as null, dropping any bytes written for it. */
  endNull(): void {
    this.length = this.offsets[this.count] as number;
    this.count++;
    this.nulls++;
    this.offsets[this.count] = this.length;
  }

  /** Drops the bytes written for the current value (before writing it another way). */
  rewind(): void {
    this.length = this.offsets[this.count] as number;
  }

  /** Appends bytes as they are: a short run byte by byte, a long one with one native copy. */
  bytes(source: Buffer, start: number, end: number): void {
    const n = end - start;
    const b = this.reserve(n);
    if (n < 64) {
      let at = this.length;
      for (let i = start; i < end; i++) b[at++] = source[i] as number;
    } else source.copy(b, this.length, start, end);
    this.length += n;
  }

  /** Appends a string's UTF-8 bytes. */
  text(value: string): void {
    const b = this.reserve(value.length * 3);
    this.length += b.write(value, this.length, 'utf8');
  }

  /** The column's bytes: a view of the buffer. */
  data(): Uint8Array {
    return new Uint8Array(this.buffer.buffer, this.buffer.byteOffset, this.length);
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HEX = '0123456789abcdef';
/** JSON.stringify's short escapes; other control characters are \u00XX. */
const SHORT_ESCAPES: Readonly<Record<number, number>> = { 8: 0x62, 9: 0x74, 10: 0x6e, 12: 0x66, 13: 0x72 };

/**
 * A JSON string of UTF-8 bytes known to be valid: quoted, with `"`, `\` and control characters
 * escaped as JSON.stringify escapes them (other characters, non-ASCII ones too, as they are).
 */
export function writeJsonString(
  out: TextColumnBuilder,
  source: Uint8Array,
  start: number,
  end: number,
): void {
  // Worst case: every byte a control character (\u00XX, 6 bytes), plus the quotes.
  const b = out.reserve((end - start) * 6 + 2);
  let at = out.length;
  b[at++] = QUOTE;
  for (let i = start; i < end; i++) {
    const c = source[i] as number;
    if (c >= 0x20 && c !== QUOTE && c !== BACKSLASH) b[at++] = c;
    else {
      b[at++] = BACKSLASH;
      const short = c === QUOTE || c === BACKSLASH ? c : SHORT_ESCAPES[c];
      if (short !== undefined) b[at++] = short;
      else {
        b[at++] = 0x75; // u
        b[at++] = 0x30;
        b[at++] = 0x30;
        b[at++] = HEX.charCodeAt(c >> 4);
        b[at++] = HEX.charCodeAt(c & 15);
      }
    }
  }
  b[at++] = QUOTE;
  out.length = at;
}

function asciiOnly(source: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if ((source[i] as number) >= 0x80) return false;
  return true;
}

/** A key JSON.stringify would not write where it stands: digits only (an array index), or `__proto__`. */
function reorderedKey(source: Buffer, start: number, end: number): boolean {
  if (end - start === 9 && source.toString('latin1', start, end) === '__proto__') return true;
  for (let i = start; i < end; i++) {
    const c = source[i] as number;
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** A finite number as JSON.stringify writes it (-0 as 0). */
export function writeJsonNumber(out: TextColumnBuilder, value: number): void {
  if (Number.isInteger(value) && Math.abs(value) < EXACT_DIGITS) writeInteger(out, value);
  else if (!writeShortDecimal(out, value)) writeJsonAscii(out, String(value));
}

const DECIMAL_SCALES = [10, 100, 1000, 10_000, 100_000, 1_000_000];
/**
 * Below this, integers divide by 10 exactly enough to print digit by digit, and a decimal's digits
 * have a unique shortest form (neighbouring decimals of as many digits are over 4 ulps apart).
 */
const EXACT_DIGITS = 2 ** 50;

/**
 * A number with at most 6 decimals (`12.5`, `1234.56`) written as String() writes it, without
 * making the string: String() writes the fewest digits that read back as the same double, and for
 * such a number those are its k decimals for the smallest k at which `m / 10^k` is the double (m
 * below 2^50, so no other m' of k decimals is). False for any other number: String() writes it.
 */
function writeShortDecimal(out: TextColumnBuilder, value: number): boolean {
  const magnitude = Math.abs(value);
  for (let k = 0; k < DECIMAL_SCALES.length; k++) {
    const scale = DECIMAL_SCALES[k] as number;
    const m = Math.round(magnitude * scale);
    if (m >= EXACT_DIGITS) return false;
    if (m / scale !== magnitude) continue;
    const whole = Math.floor(m / scale);
    let fraction = m - whole * scale;
    if (value < 0) out.reserve(1)[out.length++] = 0x2d;
    writeInteger(out, whole);
    const b = out.reserve(k + 2);
    b[out.length] = 0x2e; // .
    for (let i = out.length + k + 1; i > out.length; i--) {
      const q = Math.floor(fraction / 10);
      b[i] = 0x30 + (fraction - q * 10);
      fraction = q;
    }
    out.length += k + 2;
    return true;
  }
  return false;
}

/** An integer below 2^50 in magnitude, in decimal digit by digit (-0 as 0): no string made. */
function writeInteger(out: TextColumnBuilder, value: number): void {
  const b = out.reserve(17);
  let at = out.length;
  let v = value;
  if (v < 0) {
    b[at++] = 0x2d;
    v = -v;
  }
  let digits = 1;
  for (let p = 10; p <= v; p *= 10) digits++;
  for (let i = at + digits - 1; i >= at; i--) {
    const q = Math.floor(v / 10);
    b[i] = 0x30 + (v - q * 10);
    v = q;
  }
  out.length = at + digits;
}

/** A string of ASCII characters (a number's or a date's text), char by char: cheaper than an encoder call for a few bytes. */
export function writeJsonAscii(out: TextColumnBuilder, text: string): void {
  const b = out.reserve(text.length);
  let at = out.length;
  for (let i = 0; i < text.length; i++) b[at++] = text.charCodeAt(i);
  out.length = at;
}

/*
 * Big-endian reads (msgpack's order) and the tags' little-endian ones, by hand: Buffer's readers
 * check their arguments on every call, which costs more than the read for values this small.
 * The transcoder reads only within the bounds it checked.
 */
function u16be(source: Buffer, at: number): number {
  return ((source[at] as number) << 8) | (source[at + 1] as number);
}

function u32be(source: Buffer, at: number): number {
  return (
    (source[at] as number) * 0x1000000 +
    (((source[at + 1] as number) << 16) | ((source[at + 2] as number) << 8) | (source[at + 3] as number))
  );
}

function u32le(source: Buffer, at: number): number {
  return (
    (source[at + 3] as number) * 0x1000000 +
    (((source[at + 2] as number) << 16) | ((source[at + 1] as number) << 8) | (source[at] as number))
  );
}

const SCRATCH = new Uint8Array(8);
const SCRATCH_VIEW = new DataView(SCRATCH.buffer);

function float64(source: Buffer, at: number, littleEndian: boolean): number {
  for (let i = 0; i < 8; i++) SCRATCH[i] = source[at + i] as number;
  return SCRATCH_VIEW.getFloat64(0, littleEndian);
}

/** Where the transcoder stopped: -1 when it met something it leaves to the full decoder. */
const GIVE_UP = -1;

/**
 * Writes the msgpack value at `source[at]` as JSON text; returns where the value ends, or GIVE_UP.
 * `depth` bounds the recursion as msgpackr's own decoder does not need to: deeper values give up.
 */
function transcode(source: Buffer, at: number, end: number, out: TextColumnBuilder, depth: number): number {
  if (at >= end || depth > 64) return GIVE_UP;
  const c = source[at] as number;
  if (c < 0x80) {
    writeJsonNumber(out, c);
    return at + 1;
  }
  if (c >= 0xe0) {
    writeJsonNumber(out, c - 0x100);
    return at + 1;
  }
  if (c >= 0xa0 && c <= 0xbf) return transcodeString(source, at + 1, at + 1 + (c & 0x1f), end, out);
  if (c >= 0x90 && c <= 0x9f) return transcodeArray(source, at + 1, c & 0x0f, end, out, depth);
  if (c >= 0x80 && c <= 0x8f) return transcodeMap(source, at + 1, c & 0x0f, end, out, depth);
  switch (c) {
    case 0xc0:
      out.bytes(NULL_TEXT, 0, 4);
      return at + 1;
    case 0xc2:
      out.bytes(FALSE_TEXT, 0, 5);
      return at + 1;
    case 0xc3:
      out.bytes(TRUE_TEXT, 0, 4);
      return at + 1;
    case 0xcb: {
      if (at + 9 > end) return GIVE_UP;
      const value = float64(source, at + 1, false);
      if (!Number.isFinite(value)) return GIVE_UP;
      writeJsonNumber(out, value);
      return at + 9;
    }
    case 0xcc:
      if (at + 2 > end) return GIVE_UP;
      writeJsonNumber(out, source[at + 1] as number);
      return at + 2;
    case 0xcd:
      if (at + 3 > end) return GIVE_UP;
      writeJsonNumber(out, u16be(source, at + 1));
      return at + 3;
    case 0xce:
      if (at + 5 > end) return GIVE_UP;
      writeJsonNumber(out, u32be(source, at + 1));
      return at + 5;
    case 0xd0:
      if (at + 2 > end) return GIVE_UP;
      writeJsonNumber(out, ((source[at + 1] as number) << 24) >> 24);
      return at + 2;
    case 0xd1:
      if (at + 3 > end) return GIVE_UP;
      writeJsonNumber(out, (u16be(source, at + 1) << 16) >> 16);
      return at + 3;
    case 0xd2:
      if (at + 5 > end) return GIVE_UP;
      writeJsonNumber(out, u32be(source, at + 1) | 0);
      return at + 5;
    case 0xd9:
      if (at + 2 > end) return GIVE_UP;
      return transcodeString(source, at + 2, at + 2 + (source[at + 1] as number), end, out);
    case 0xda:
      if (at + 3 > end) return GIVE_UP;
      return transcodeString(source, at + 3, at + 3 + u16be(source, at + 1), end, out);
    case 0xdb:
      if (at + 5 > end) return GIVE_UP;
      return transcodeString(source, at + 5, at + 5 + u32be(source, at + 1), end, out);
    case 0xdc:
      if (at + 3 > end) return GIVE_UP;
      return transcodeArray(source, at + 3, u16be(source, at + 1), end, out, depth);
    case 0xdd:
      if (at + 5 > end) return GIVE_UP;
      return transcodeArray(source, at + 5, u32be(source, at + 1), end, out, depth);
    case 0xde:
      if (at + 3 > end) return GIVE_UP;
      return transcodeMap(source, at + 3, u16be(source, at + 1), end, out, depth);
    case 0xdf:
      if (at + 5 > end) return GIVE_UP;
      return transcodeMap(source, at + 5, u32be(source, at + 1), end, out, depth);
    default:
      // float32, 64-bit integers, bin, ext (Dates, undefined, records): the full decoder's.
      return GIVE_UP;
  }
}

const NULL_TEXT = Buffer.from('null');
const TRUE_TEXT = Buffer.from('true');
const FALSE_TEXT = Buffer.from('false');

function transcodeString(
  source: Buffer,
  start: number,
  stop: number,
  end: number,
  out: TextColumnBuilder,
): number {
  if (stop > end) return GIVE_UP;
  if (!asciiOnly(source, start, stop) && !isUtf8(source.subarray(start, stop))) return GIVE_UP;
  writeJsonString(out, source, start, stop);
  return stop;
}

function transcodeArray(
  source: Buffer,
  at: number,
  count: number,
  end: number,
  out: TextColumnBuilder,
  depth: number,
): number {
  out.reserve(1)[out.length++] = 0x5b; // [
  for (let i = 0; i < count; i++) {
    if (i > 0) out.reserve(1)[out.length++] = 0x2c; // ,
    at = transcode(source, at, end, out, depth + 1);
    if (at === GIVE_UP) return GIVE_UP;
  }
  out.reserve(1)[out.length++] = 0x5d; // ]
  return at;
}

function transcodeMap(
  source: Buffer,
  at: number,
  count: number,
  end: number,
  out: TextColumnBuilder,
  depth: number,
): number {
  out.reserve(1)[out.length++] = 0x7b; // {
  for (let i = 0; i < count; i++) {
    if (at >= end) return GIVE_UP;
    // Keys: strings only (fixstr, str8, str16).
    const c = source[at] as number;
    let start: number;
    let stop: number;
    if (c >= 0xa0 && c <= 0xbf) {
      start = at + 1;
      stop = start + (c & 0x1f);
    } else if (c === 0xd9 && at + 2 <= end) {
      start = at + 2;
      stop = start + (source[at + 1] as number);
    } else if (c === 0xda && at + 3 <= end) {
      start = at + 3;
      stop = start + u16be(source, at + 1);
    } else return GIVE_UP;
    if (stop > end || reorderedKey(source, start, stop)) return GIVE_UP;
    if (i > 0) out.reserve(1)[out.length++] = 0x2c; // ,
    if (transcodeString(source, start, stop, end, out) === GIVE_UP) return GIVE_UP;
    out.reserve(1)[out.length++] = 0x3a; // :
    at = transcode(source, stop, end, out, depth + 1);
    if (at === GIVE_UP) return GIVE_UP;
  }
  out.reserve(1)[out.length++] = 0x7d; // }
  return at;
}

/**
 * Writes the msgpack value at `source[start..end)` as JSON text (as JSON.stringify would write what
 * msgpackr decodes) and returns where it ends; -1 when it leaves the value to the full decoder.
 * On -1 the output holds partial bytes: rewind the builder.
 */
export function msgpackToJson(source: Buffer, start: number, end: number, out: TextColumnBuilder): number {
  return transcode(source, start, end, out, 0);
}

/**
 * Writes tags in their binary form (tag-codec.ts) at `source[start..end)` as the JSON text of the
 * object readTags builds; false (with partial output) when that object's JSON differs from a plain
 * walk (a digits-only or `__proto__` key, a non-finite number).
 */
export function tagsToJson(source: Buffer, start: number, end: number, out: TextColumnBuilder): boolean {
  out.reserve(1)[out.length++] = 0x7b; // {
  let at = start;
  let first = true;
  while (at < end) {
    const keyStart = at + 2;
    const keyEnd = keyStart + ((source[at] as number) | ((source[at + 1] as number) << 8));
    if (reorderedKey(source, keyStart, keyEnd)) return false;
    if (!first) out.reserve(1)[out.length++] = 0x2c;
    first = false;
    writeJsonString(out, source, keyStart, keyEnd);
    out.reserve(1)[out.length++] = 0x3a;
    at = keyEnd;
    const kind = source[at];
    if (kind === TAG_STRING) {
      const length = u32le(source, at + 1);
      writeJsonString(out, source, at + 5, at + 5 + length);
      at += 5 + length;
    } else if (kind === TAG_NUMBER) {
      const value = float64(source, at + 1, true);
      if (!Number.isFinite(value)) return false;
      writeJsonNumber(out, value);
      at += 9;
    } else {
      if (kind === TAG_TRUE) out.bytes(TRUE_TEXT, 0, 4);
      else out.bytes(FALSE_TEXT, 0, 5);
      at += 1;
    }
  }
  out.reserve(1)[out.length++] = 0x7d;
  return true;
}
