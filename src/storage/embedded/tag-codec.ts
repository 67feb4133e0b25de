import type { Tags } from '../../events/types.js';
import { writeUtf8 } from './utf8.js';

/**
 * Tags are small flat maps of string → string | number | boolean, read on every rebuild and every
 * hydrated event, so they get a direct binary form instead of a general-purpose encoder:
 *
 *   per tag: u16 key length, key (UTF-8), u8 kind, value
 *   kind 0: string (u32 length, UTF-8) · 1: number (f64) · 2: true · 3: false
 */
const STRING = 0;
const NUMBER = 1;
const TRUE = 2;
const FALSE = 3;

/** Upper bound of the encoded size, for reserving buffer space before writing. */
export function maxTagBytes(tags: Tags): number {
  let size = 0;
  for (const key in tags) {
    const value = tags[key];
    size += 3 + key.length * 3 + (typeof value === 'string' ? 4 + value.length * 3 : 8);
  }
  return size;
}

/** Writes the tags at `at`; returns the bytes written. The caller has reserved maxTagBytes. */
export function writeTags(buffer: Buffer, at: number, tags: Tags): number {
  const start = at;
  for (const key in tags) {
    const keyBytes = writeUtf8(buffer, key, at + 2);
    buffer.writeUInt16LE(keyBytes, at);
    at += 2 + keyBytes;
    const value = tags[key];
    if (typeof value === 'string') {
      buffer[at] = STRING;
      const valueBytes = writeUtf8(buffer, value, at + 5);
      buffer.writeUInt32LE(valueBytes, at + 1);
      at += 5 + valueBytes;
    } else if (typeof value === 'number') {
      buffer[at] = NUMBER;
      buffer.writeDoubleLE(value, at + 1);
      at += 9;
    } else {
      buffer[at++] = value ? TRUE : FALSE;
    }
  }
  return at - start;
}

export function readTags(buffer: Buffer, start: number, end: number): Tags {
  const tags: Tags = {};
  let at = start;
  while (at < end) {
    const keyLength = buffer.readUInt16LE(at);
    const key = buffer.toString('utf8', at + 2, at + 2 + keyLength);
    at += 2 + keyLength;
    const kind = buffer[at];
    if (kind === STRING) {
      const length = buffer.readUInt32LE(at + 1);
      tags[key] = buffer.toString('utf8', at + 5, at + 5 + length);
      at += 5 + length;
    } else if (kind === NUMBER) {
      tags[key] = buffer.readDoubleLE(at + 1);
      at += 9;
    } else {
      tags[key] = kind === TRUE;
      at += 1;
    }
  }
  return tags;
}
