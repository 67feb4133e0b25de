/**
 * Index keys (src/indexes/index-keys.ts): a tuple of strings, numbers and booleans encoded as one
 * string whose code-unit order is the tuple order. Ordered indexes sort and seek on the encodings
 * alone, so the order must hold exactly, for every value, and decoding must give the tuple back.
 *
 * The oracle order (compareTuples) is written from the documented contract: booleans before numbers
 * before strings; booleans false < true, numbers by value (-0 equal to 0), strings by code unit; a
 * tuple that is a prefix of another comes first.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decodeKey, encodeKey, encodePart, typeTag, type KeyPart } from '../../src/indexes/index-keys.js';

const RUNS = Number(process.env.INDEX_KEY_RUNS ?? 500);

/** Code units that sit next to the encoding's own markers (\u0000 escape, \u0001-\u0004 tags). */
const EDGY_UNITS = ['\u0000', '\u0001', '\u0002', '\u0003', '\u0004', 'a', 'b', '\uffff', '\ud83d', '\ude00'];

const stringArb: fc.Arbitrary<string> = fc.oneof(
  // A small alphabet: equal strings, prefixes and embedded NULs come up often.
  { weight: 3, arbitrary: fc.string({ unit: fc.constantFrom(...EDGY_UNITS), maxLength: 5 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', '\u0000', '\u0000\u0000', 'a\u0000', 'a\u0000b', 'é', '😀', '\uffff'),
  },
);

const SPECIAL_NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.1,
  -0.1,
  Number.MIN_VALUE,
  -Number.MIN_VALUE,
  2.2250738585072014e-308, // smallest normal
  -2.2250738585072014e-308,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
  2 ** 53 + 2,
  -(2 ** 53 + 2),
  1e300,
  -1e300,
  1e-300,
  -1e-300,
];

const numberArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL_NUMBERS) },
  { weight: 2, arbitrary: fc.integer({ min: -3, max: 3 }) },
  { weight: 3, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
);

const partArb: fc.Arbitrary<KeyPart> = fc.oneof(fc.boolean(), numberArb, stringArb);
const tupleArb = (maxLength = 4): fc.Arbitrary<KeyPart[]> => fc.array(partArb, { maxLength });

/** Parts from a tiny pool, so two tuples tie, nest and differ by one NUL often. */
const tinyTupleArb = fc.array(
  fc.constantFrom<KeyPart>(false, true, -0, 0, 1, '', 'a', 'a\u0000', '\u0000', 'ab'),
  {
    maxLength: 3,
  },
);

/** Pairs that share a prefix more often than two independent tuples would. */
const tuplePairArb: fc.Arbitrary<[KeyPart[], KeyPart[]]> = fc.oneof(
  fc.tuple(tupleArb(), tupleArb()),
  { weight: 3, arbitrary: fc.tuple(tinyTupleArb, tinyTupleArb) },
  fc.tuple(tupleArb(2), tupleArb(2), tupleArb(2)).map(([prefix, a, b]): [KeyPart[], KeyPart[]] => [
    [...prefix, ...a],
    [...prefix, ...b],
  ]),
  tupleArb().chain((a) => fc.nat(a.length).map((cut): [KeyPart[], KeyPart[]] => [a, a.slice(0, cut)])),
);

const RANK = { boolean: 0, number: 1, string: 2 } as const;

function comparePart(a: KeyPart, b: KeyPart): number {
  const [ta, tb] = [typeof a as keyof typeof RANK, typeof b as keyof typeof RANK];
  if (ta !== tb) return RANK[ta] - RANK[tb];
  // Numbers by value (-0 and 0 are equal), booleans false < true, strings by UTF-16 code unit.
  const [x, y] = ta === 'boolean' ? [Number(a), Number(b)] : [a as number | string, b as number | string];
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareTuples(a: readonly KeyPart[], b: readonly KeyPart[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = comparePart(a[i] as KeyPart, b[i] as KeyPart);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);
const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** -0 encodes like 0, so it decodes as 0. */
const normalise = (tuple: readonly KeyPart[]) => tuple.map((part) => (Object.is(part, -0) ? 0 : part));

describe('index keys: encodeKey / decodeKey', () => {
  test('the oracle order agrees with hand-picked cases', () => {
    expect(compareTuples([true], [0])).toBeLessThan(0);
    expect(compareTuples([Number.MAX_VALUE], [''])).toBeLessThan(0);
    expect(compareTuples([false], [true])).toBeLessThan(0);
    expect(compareTuples([-0], [0])).toBe(0);
    expect(compareTuples(['a'], ['a', false])).toBeLessThan(0);
    expect(compareTuples(['a', 'z'], ['ab'])).toBeLessThan(0);
    expect(compareTuples([], [false])).toBeLessThan(0);
  });

  test('hand-picked encodings sort as their tuples', () => {
    const ordered: KeyPart[][] = [
      [],
      [false],
      [false, ''],
      [true],
      [-Number.MAX_VALUE],
      [-1, 'z'],
      [-Number.MIN_VALUE],
      [0],
      [Number.MIN_VALUE],
      [1e300],
      [''],
      ['', false],
      ['\u0000'],
      ['\u0000', 1],
      ['\u0000\u0000'],
      ['\u0000a'],
      ['\u0001'],
      ['a'],
      ['a', true],
      ['a', 'b'],
      ['a\u0000'],
      ['ab'],
      ['\uffff'],
    ];
    const encoded = ordered.map(encodeKey);
    expect([...encoded].sort()).toEqual(encoded);
    expect(new Set(encoded).size).toBe(encoded.length);
    for (const tuple of ordered) expect(decodeKey(encodeKey(tuple))).toEqual(tuple);
  });

  test('-0 encodes as 0 and decodes as 0', () => {
    expect(encodeKey([-0])).toBe(encodeKey([0]));
    expect(Object.is(decodeKey(encodeKey([-0]))[0], 0)).toBe(true);
  });

  test('round trip: decodeKey(encodeKey(t)) is t (with -0 as 0)', () => {
    fc.assert(
      fc.property(tupleArb(6), (tuple) => {
        const decoded = decodeKey(encodeKey(tuple));
        const expected = normalise(tuple);
        expect(decoded.length).toBe(expected.length);
        decoded.forEach((part, i) => expect(Object.is(part, expected[i]), `part ${i}`).toBe(true));
      }),
      { numRuns: RUNS },
    );
  });

  test('code-unit order of encodings is the tuple order, for tuples of equal and different lengths', () => {
    fc.assert(
      fc.property(tuplePairArb, ([a, b]) => {
        const [ea, eb] = [encodeKey(a), encodeKey(b)];
        expect(compareText(ea, eb)).toBe(sign(compareTuples(a, b)));
        // Equal encodings exactly when the tuples are equal: a hash index relies on it.
        expect(ea === eb).toBe(compareTuples(a, b) === 0);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  test('sorting encodings sorts the tuples', () => {
    fc.assert(
      fc.property(fc.array(tupleArb(3), { maxLength: 12 }), (tuples) => {
        const byEncoding = [...tuples].sort((a, b) => compareText(encodeKey(a), encodeKey(b)));
        for (let i = 1; i < byEncoding.length; i++) {
          expect(compareTuples(byEncoding[i - 1]!, byEncoding[i]!)).toBeLessThanOrEqual(0);
        }
      }),
      { numRuns: RUNS },
    );
  });

  test('seek bounds: every key extending a prefix lies in [enc(prefix), enc(prefix) + "\\u0004")', () => {
    fc.assert(
      fc.property(tupleArb(3), fc.array(partArb, { minLength: 1, maxLength: 3 }), (prefix, rest) => {
        const head = encodeKey(prefix);
        const key = encodeKey([...prefix, ...rest]);
        expect(key.startsWith(head)).toBe(true);
        expect(key > head).toBe(true);
        expect(key < `${head}\u0004`).toBe(true);
        // A field's values of one type lie between its type tag and the next one.
        const next = rest[0]!;
        if (typeof next !== 'boolean') {
          const tag = typeTag(typeof next as 'number' | 'string');
          expect(key >= head + tag).toBe(true);
          expect(key < head + String.fromCharCode(tag.charCodeAt(0) + 1)).toBe(true);
        }
        // Every key whose next field equals `next` starts with the encoding of that part.
        expect(key.startsWith(head + encodePart(next))).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});
