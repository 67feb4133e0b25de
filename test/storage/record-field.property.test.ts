/**
 * RecordFieldReader (codec/record-field.ts) against the full decode: for random JSON payloads and
 * tags written as the log writes them, reading a field from the record's bytes gives exactly what
 * `readPath(decodeBody(record).payload, path)` (or `ownTag(tags, key)`) gives, for paths that exist
 * (picked by walking the payload), paths that stop short or go too far, array indexes in and out of
 * range, and keys that only look like indexes. Records sit at an offset in a larger buffer, as they
 * do in a frame.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecordWriter, decodeBody } from '../../src/codec/record-codec.js';
import { RecordFieldReader } from '../../src/codec/record-field.js';
import { ManualClock } from '../../src/events/clock.js';
import { validateEvent } from '../../src/events/validate.js';
import { ownTag, readPath } from '../../src/query/fields.js';

const clock = new ManualClock(Date.UTC(2026, 0, 1));

const scalar = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
  fc.constantFrom(
    0,
    127,
    128,
    255,
    256,
    65_535,
    65_536,
    2 ** 32 - 1,
    2 ** 32,
    -32,
    -33,
    -128,
    -129,
    -(2 ** 31) - 1,
  ),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.string({ maxLength: 4 }).map((s) => s.repeat(80)),
  fc.boolean(),
  fc.constant(null),
);
const key = fc.oneof(
  fc.constantFrom('a', 'b', '0', '1', '10', '01', 'é', 'length', '__proto__'),
  fc.string({ maxLength: 4 }),
);
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('array'), tie('object')),
  array: fc.array(tie('tree'), { maxLength: 20 }),
  object: fc.dictionary(key, tie('tree'), { maxKeys: 20 }),
}));
const payloadArb = fc.dictionary(key, tree, { maxKeys: 20 });

/** A path into `value` following `choices`: mostly real keys and indexes, sometimes ones that are not there. */
function pathInto(value: unknown, choices: readonly number[]): string[] {
  const path: string[] = [];
  let current = value;
  for (const choice of choices) {
    if (choice % 7 === 0) {
      path.push(['zz', '99', '-1', '1.0', 'length'][choice % 5] as string);
      break;
    }
    if (Array.isArray(current) && current.length > 0) {
      const index = choice % current.length;
      path.push(String(index));
      current = current[index];
    } else if (current !== null && typeof current === 'object') {
      const keys = Object.keys(current);
      if (keys.length === 0) break;
      const picked = keys[choice % keys.length] as string;
      path.push(picked);
      current = (current as Record<string, unknown>)[picked];
    } else {
      if (choice % 2 === 0) path.push('deeper');
      break;
    }
  }
  return path.filter((part) => part.length > 0);
}

function record(payload: unknown, tags: Record<string, string | number | boolean>): Buffer {
  const event = validateEvent({ aggregateId: 'agg', type: 'T', payload, tags }, 'event', clock);
  const writer = new RecordWriter();
  // A record at an odd offset of a larger buffer, as in a frame.
  writer.ensure(7);
  writer.length = 7;
  const length = writer.writeRecord(event, 1, 16 * 1024 * 1024, 'event');
  return writer.buffer.subarray(0, 7 + length + 5);
}

describe('RecordFieldReader reads a field as the full decode does', () => {
  it('payload paths, present or not', () => {
    fc.assert(
      fc.property(payloadArb, fc.array(fc.nat(1000), { minLength: 1, maxLength: 6 }), (input, choices) => {
        const bytes = record(input, {});
        const recordBytes = bytes.subarray(7, bytes.length - 5);
        const decoded = decodeBody(recordBytes).payload;
        const path = pathInto(decoded, choices);
        if (path.length === 0) return;
        const reader = new RecordFieldReader({ kind: 'payload', path });
        expect(reader.read(bytes, 7, recordBytes.length)).toStrictEqual(readPath(decoded, path));
      }),
      { numRuns: 1500 },
    );
  });

  it('tags, present or not', () => {
    const tagKey = key.filter((k) => k.length > 0 && k !== '__proto__');
    const tagValue = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 6 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
    );
    fc.assert(
      fc.property(fc.dictionary(tagKey, tagValue, { maxKeys: 6 }), tagKey, (tags, wanted) => {
        const bytes = record({}, tags);
        const recordBytes = bytes.subarray(7, bytes.length - 5);
        const decoded = decodeBody(recordBytes).tags;
        const reader = new RecordFieldReader({ kind: 'tag', key: wanted });
        expect(reader.read(bytes, 7, recordBytes.length)).toStrictEqual(ownTag(decoded, wanted));
      }),
      { numRuns: 500 },
    );
  });
});
