import type { Tags } from '../events/types.js';
import { readString, writeUtf8 } from './utf8.js';

/**
 * Tags are small flat maps of string → string | number | boolean, read on every rebuild and every
 * hydrated event, so they get a direct binary form instead of a general-purpose encoder:
 *
 *   per tag: u16 key length, key (UTF-8), u8 kind, value
 *   kind 0: string (u32 length, UTF-8) · 1: number (f64) · 2: true · 3: false
 */
export const TAG_STRING = 0;
export const TAG_NUMBER = 1;
export const TAG_TRUE = 2;
export const TAG_FALSE = 3;

/** Upper bound of the encoded size, for reserving buffer space before writing. */
export function maxTagBytes(tags: Tags): number {
  let size = 0;
  for (const key in tags) {
    const value = tags[key];
    size += 3 + key.length * 3 + (typeof value === 'string' ? 4 + value.length * 3 : 8);
  }
  return size;
}

/** What writeTags wrote: its size, and whether every key and string value was ASCII. */
export interface TagsWritten {
  bytes: number;
  ascii: boolean;
}

/** Writes the tags at `at` into `result` (reused, to allocate nothing). The caller has reserved maxTagBytes. */
export function writeTags(buffer: Buffer, at: number, tags: Tags, result: TagsWritten): void {
  const start = at;
  let ascii = true;
  for (const key in tags) {
    const keyBytes = writeUtf8(buffer, key, at + 2);
    ascii &&= keyBytes === key.length;
    buffer.writeUInt16LE(keyBytes, at);
    at += 2 + keyBytes;
    const value = tags[key];
    if (typeof value === 'string') {
      buffer[at] = TAG_STRING;
      const valueBytes = writeUtf8(buffer, value, at + 5);
      ascii &&= valueBytes === value.length;
      buffer.writeUInt32LE(valueBytes, at + 1);
      at += 5 + valueBytes;
    } else if (typeof value === 'number') {
      buffer[at] = TAG_NUMBER;
      buffer.writeDoubleLE(value, at + 1);
      at += 9;
    } else {
      buffer[at++] = value ? TAG_TRUE : TAG_FALSE;
    }
  }
  result.bytes = at - start;
  result.ascii = ascii;
}

/** Reads tags written by writeTags; `ascii` as it reported (Latin-1 decoding is then exact and faster). */
export function readTags(buffer: Buffer, start: number, end: number, ascii: boolean): Tags {
  const tags: Tags = {};
  let at = start;
  while (at < end) {
    const keyLength = buffer.readUInt16LE(at);
    const key = readString(buffer, at + 2, at + 2 + keyLength, ascii);
    at += 2 + keyLength;
    const kind = buffer[at];
    if (kind === TAG_STRING) {
      const length = buffer.readUInt32LE(at + 1);
      tags[key] = readString(buffer, at + 5, at + 5 + length, ascii);
      at += 5 + length;
    } else if (kind === TAG_NUMBER) {
      tags[key] = buffer.readDoubleLE(at + 1);
      at += 9;
    } else {
      tags[key] = kind === TAG_TRUE;
      at += 1;
    }
  }
  return tags;
}
