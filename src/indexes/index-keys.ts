/**
 * Keys of user-defined indexes: a tuple of the fields' values. Only strings, finite numbers and
 * booleans make a key; an event whose value is missing, null, an object or an array for any field
 * is not in the index (as SQL leaves NULL keys out), and no predicate an index serves can match it.
 *
 * A key is held as one string whose code-unit order is the tuple's order (booleans, then numbers,
 * then strings, each by value, as result sorting orders them). Ordered indexes then sort and seek
 * with native string comparison, never decoding a key, and every key with a given prefix of
 * fields starts with that prefix's encoding.
 *
 *   boolean: \u0001 then '0' or '1'
 *   number:  \u0002 then 16 hex digits of the float64 with its order made unsigned
 *   string:  \u0003 then the text with \u0000 written \u0000\u0001, ended by \u0000\u0000
 */
export type KeyPart = string | number | boolean;
export type IndexKey = readonly KeyPart[];

const BOOLEAN = '\u0001';
const NUMBER = '\u0002';
const STRING = '\u0003';
const END = '\u0000\u0000';

/** Whether a field's value can be part of a key. */
export function isKeyPart(value: unknown): value is KeyPart {
  const type = typeof value;
  return type === 'string' || type === 'number' || type === 'boolean';
}

const RANK: Record<string, number> = { boolean: 0, number: 1, string: 2 };

/** Booleans, then numbers, then strings, each by value: the order keys, results and statistics share. */
export function compareKeyParts(a: KeyPart, b: KeyPart): number {
  const ta = typeof a;
  const tb = typeof b;
  if (ta !== tb) return (RANK[ta] as number) - (RANK[tb] as number);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The key from field values, or undefined when the event has no key for this index. */
export function toKey(values: readonly unknown[]): IndexKey | undefined {
  return values.every(isKeyPart) ? (values as IndexKey) : undefined;
}

const scratch = new DataView(new ArrayBuffer(8));

function encodeNumber(value: number): string {
  // -0 === 0, so both must encode alike.
  scratch.setFloat64(0, value === 0 ? 0 : value);
  let high = scratch.getUint32(0);
  let low = scratch.getUint32(4);
  // IEEE order to unsigned order: flip the sign bit of positives, every bit of negatives.
  if (high >>> 31 === 1) {
    high = ~high >>> 0;
    low = ~low >>> 0;
  } else {
    high = (high | 0x80000000) >>> 0;
  }
  return NUMBER + high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0');
}

export function encodePart(value: KeyPart): string {
  if (typeof value === 'boolean') return BOOLEAN + (value ? '1' : '0');
  if (typeof value === 'number') return encodeNumber(value);
  return STRING + value.replaceAll('\u0000', '\u0000\u0001') + END;
}

export function encodeKey(key: IndexKey): string {
  let out = '';
  for (const part of key) out += encodePart(part);
  return out;
}

/** Where values of this type start within one field: a range with no lower bound starts here. */
export function typeTag(type: 'number' | 'string'): string {
  return type === 'number' ? NUMBER : STRING;
}

export function decodeKey(text: string): IndexKey {
  const key: KeyPart[] = [];
  let at = 0;
  while (at < text.length) {
    const tag = text[at++];
    if (tag === BOOLEAN) {
      key.push(text[at++] === '1');
    } else if (tag === NUMBER) {
      let high = Number.parseInt(text.slice(at, at + 8), 16);
      let low = Number.parseInt(text.slice(at + 8, at + 16), 16);
      at += 16;
      if (high >>> 31 === 1) high = (high & 0x7fffffff) >>> 0;
      else {
        high = ~high >>> 0;
        low = ~low >>> 0;
      }
      scratch.setUint32(0, high);
      scratch.setUint32(4, low);
      key.push(scratch.getFloat64(0));
    } else {
      let value = '';
      while (!(text[at] === '\u0000' && text[at + 1] === '\u0000')) {
        if (text[at] === '\u0000') {
          value += '\u0000';
          at += 2;
        } else value += text[at++];
      }
      at += 2;
      key.push(value);
    }
  }
  return key;
}
