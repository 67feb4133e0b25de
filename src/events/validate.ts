import { DuplicateEventIdError, EventTooLargeError, ValidationError } from '../errors.js';
import { describe } from '../support/describe.js';
import { requireNonEmptyString } from '../support/require-string.js';
import type { Clock } from './clock.js';
import { uuidv7 } from './ids.js';
import type { NewEvent, TagValue, Tags } from './types.js';

/** A validated, normalised event: the shape the storage engine accepts. */
export interface ValidEvent {
  id: string;
  aggregateId: string;
  type: string;
  /** Event time in epoch milliseconds. */
  timestamp: number;
  tags: Tags;
  payload: unknown;
  metadata: Record<string, unknown>;
  /** Payload or metadata holds an own `__proto__` key (the record codec flags it for the decoder). */
  protoKeys?: boolean;
  /** Payload or metadata holds an object of more than 65,535 keys (encoded with 32-bit map sizes). */
  largeMaps?: boolean;
}

/** Strings the engine stores with a 16-bit length prefix. */
export const MAX_NAME_BYTES = 65_535;
const MAX_DATE_MS = 8.64e15;

const EMPTY_TAGS: Tags = Object.freeze({}) as Tags;
const EMPTY_METADATA: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/** A UTF-16 surrogate without its pair: it has no UTF-8 form, so it would not survive the log. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** String.prototype.isWellFormed (Node 20+; TypeScript's lib here predates it): native and fast. */
function isWellFormed(value: string): boolean {
  return (value as unknown as { isWellFormed(): boolean }).isWellFormed();
}

function requireWellFormed(value: string, path: string): void {
  if (LONE_SURROGATE.test(value)) {
    throw new ValidationError(
      path,
      `must be well-formed Unicode, got ${describe(value)} with a lone surrogate`,
    );
  }
}

function requireName(input: unknown, path: string): string {
  const value = requireNonEmptyString(input, path);
  requireWellFormed(value, path);
  if (value.length > MAX_NAME_BYTES / 3 && Buffer.byteLength(value) > MAX_NAME_BYTES) {
    throw new ValidationError(
      path,
      `must be at most ${MAX_NAME_BYTES} bytes of UTF-8, got ${Buffer.byteLength(value)}`,
    );
  }
  return value;
}

/** Parses a Date, epoch-milliseconds number or ISO-8601 string into epoch milliseconds. */
export function toEpochMs(value: unknown, path: string): number {
  let ms: number;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'number') ms = value;
  else if (typeof value === 'string' && value.trim() !== '') ms = Date.parse(value);
  else ms = Number.NaN;
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) {
    throw new ValidationError(
      path,
      `must be a valid time (a Date, epoch milliseconds or an ISO-8601 string), got ${describe(value)}`,
    );
  }
  return ms;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Deepest nesting of arrays and objects accepted in a payload or in metadata (the value itself is
 * depth 0). Real documents stay far below it; it bounds the recursion of validation, encoding and
 * decoding, which a payload nested 10,000 deep would otherwise overflow.
 */
export const MAX_VALUE_DEPTH = 100;

/** Largest `maxEventSize` the options accept: the default budget of a value walk. */
const MAX_EVENT_BYTES = 256 * 1024 * 1024;

/** What a value walk found out besides "it is acceptable". */
export interface ValueShape {
  /** A value changes on its way through JSON (undefined, a Date, -0): store the JSON round trip. */
  convert: boolean;
  /** An object has an own `__proto__` key: the decoder must restore it as a data property. */
  protoKeys: boolean;
  /** An object has more keys than the fast 16-bit msgpack map header holds. */
  largeMaps: boolean;
  /** Bytes left of the event's budget: a lower bound of the encoded size has been taken from it. */
  budget: number;
}

/** msgpackr's fast map header counts keys in 16 bits. */
const FAST_MAP_KEYS = 0xffff;

/**
 * Walks a payload or metadata value once and rejects what would not come back exactly: BigInt,
 * functions, symbols, NaN and ±Infinity, lone surrogates (they have no UTF-8 form), class instances
 * other than a valid Date, cycles, nesting deeper than MAX_VALUE_DEPTH. It also takes a lower bound
 * of the encoded size (a byte per value, a byte per UTF-16 unit of a string or key) from
 * `shape.budget` and stops as soon as that runs out, so a huge value (a sparse array of length
 * 2^32 - 1) is refused at once instead of being encoded first.
 *
 * `path` is null on the fast pass, which builds no path strings (one per value would be its main
 * cost) and throws NOT_JSON on the first problem; the caller then walks again with paths to name it.
 */
function walkValue(
  value: unknown,
  path: string | null,
  depth: number,
  shape: ValueShape,
  ancestors: object[],
): void {
  switch (typeof value) {
    case 'string':
      if (!isWellFormed(value))
        fail(
          path,
          `must be well-formed Unicode, got ${describe(value)} with a lone surrogate (it has no UTF-8 form)`,
        );
      shape.budget -= value.length + 1;
      break;
    case 'boolean':
      shape.budget -= 1;
      break;
    case 'number':
      if (value - value !== 0) fail(path, `${value} is not representable in JSON; use null or a string`);
      // msgpack and JSON both store -0 as 0: normalise it now, so append() returns what reads return.
      if (value === 0 && 1 / value < 0) shape.convert = true;
      shape.budget -= 1;
      break;
    case 'undefined':
      // Dropped as a property, null in an array: what JSON does.
      shape.convert = true;
      break;
    case 'object':
      if (value === null) shape.budget -= 1;
      else walkObject(value, path, depth, shape, ancestors);
      break;
    default:
      fail(path, `must be JSON-compatible, got ${describe(value)}`);
  }
  if (shape.budget < 0) throw TOO_LARGE;
}

function walkObject(
  object: object,
  path: string | null,
  depth: number,
  shape: ValueShape,
  ancestors: object[],
): void {
  if (path !== null && ancestors.includes(object))
    fail(path, 'must be JSON-compatible, but it contains a cycle');
  if (depth >= MAX_VALUE_DEPTH) {
    fail(path, `nests arrays and objects deeper than ${MAX_VALUE_DEPTH} levels (or holds a cycle)`);
  }
  shape.budget -= 1;
  if (Array.isArray(object)) {
    // Each element costs a byte at least: a length past the budget is refused before any is read.
    if (object.length > shape.budget) throw TOO_LARGE;
    if (path !== null) ancestors.push(object);
    for (let i = 0; i < object.length; i++)
      walkValue(object[i], path === null ? null : `${path}[${i}]`, depth + 1, shape, ancestors);
    if (path !== null) ancestors.pop();
    return;
  }
  if (!isPlainObject(object)) {
    if (object instanceof Date) {
      if (Number.isNaN(object.getTime())) fail(path, 'is an Invalid Date; JSON would store it as null');
      shape.convert = true; // stored as its ISO-8601 string
      shape.budget -= 24;
      return;
    }
    fail(
      path,
      `must be JSON-compatible, got a ${object.constructor?.name ?? 'non-plain'} object; use plain objects, arrays and Dates`,
    );
  }
  if (path !== null) ancestors.push(object);
  let count = 0;
  // for-in rather than Object.keys: no array per object. A plain object's prototype holds no
  // enumerable keys, so it lists the own keys, the ones the encoder writes.
  for (const key in object) {
    if (++count > FAST_MAP_KEYS) shape.largeMaps = true;
    if (!isWellFormed(key))
      fail(path, `has a key ${describe(key)} with a lone surrogate (it has no UTF-8 form)`);
    if (key === '__proto__') shape.protoKeys = true;
    shape.budget -= key.length;
    walkValue(
      (object as Record<string, unknown>)[key],
      path === null ? null : `${path}.${key}`,
      depth + 1,
      shape,
      ancestors,
    );
  }
  if (path !== null) ancestors.pop();
}

const NOT_JSON = Symbol('not JSON');
const TOO_LARGE = Symbol('too large');

function fail(path: string | null, message: string): never {
  if (path === null) throw NOT_JSON;
  throw new ValidationError(path, message);
}

/**
 * Checks a payload or metadata value (walkValue) and returns it as it will be stored: the value
 * itself, or its JSON round trip when something in it changes on the way (a Date becomes its ISO
 * string, an undefined property is dropped, -0 becomes 0), so that append() returns what reads do.
 */
function jsonValue(
  value: unknown,
  path: string,
  shape: ValueShape,
  eventPath: string,
  limit: number,
): unknown {
  if (value === undefined) return null;
  const budget = shape.budget;
  shape.convert = false;
  try {
    try {
      walkValue(value, null, 0, shape, []);
    } catch (error) {
      if (error !== NOT_JSON) throw error;
      shape.budget = budget;
      walkValue(value, path, 0, shape, []); // throws the precise error
    }
  } catch (error) {
    if (error !== TOO_LARGE) throw error;
    throw new EventTooLargeError(eventPath, limit - shape.budget, limit, true);
  }
  return shape.convert ? JSON.parse(JSON.stringify(value)) : value;
}

function validateTags(tags: unknown, path: string): Tags {
  if (tags === undefined || tags === null) return EMPTY_TAGS;
  if (typeof tags !== 'object' || Array.isArray(tags) || !isPlainObject(tags)) {
    throw new ValidationError(
      path,
      `must be an object of key → string | number | boolean, got ${describe(tags)}`,
    );
  }
  const keys = Object.keys(tags);
  if (keys.length === 0) return EMPTY_TAGS;
  for (const key of keys) {
    if (key.length === 0 || key === '__proto__') {
      throw new ValidationError(
        path,
        `tag keys must be non-empty strings other than "__proto__", got ${describe(key)}`,
      );
    }
    requireWellFormed(key, path);
    if (key.length > MAX_NAME_BYTES / 3 && Buffer.byteLength(key) > MAX_NAME_BYTES) {
      throw new ValidationError(
        path,
        `tag keys must be at most ${MAX_NAME_BYTES} bytes of UTF-8, got one of ${Buffer.byteLength(key)} bytes starting ${describe(key.slice(0, 20))}`,
      );
    }
    const v = (tags as Record<string, unknown>)[key];
    if (typeof v === 'string') requireWellFormed(v, `${path}.${key}`);
    if (!isTagValue(v)) {
      throw new ValidationError(
        `${path}.${key}`,
        `must be a string, a finite number or a boolean, got ${describe(v)}`,
      );
    }
  }
  return tags as Tags;
}

export function isTagValue(v: unknown): v is TagValue {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

const EVENT_FIELDS = new Set(['aggregateId', 'type', 'payload', 'tags', 'timestamp', 'metadata', 'id']);

/** Validates and normalises one event. `path` names it in errors, e.g. `events[3]`. */
export function validateEvent(
  input: unknown,
  path: string,
  clock: Clock,
  maxEventSize = MAX_EVENT_BYTES,
): ValidEvent {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ValidationError(
      path,
      `must be an event object with aggregateId and type, got ${describe(input)}`,
    );
  }
  const event = input as NewEvent;
  for (const key in event) {
    if (!EVENT_FIELDS.has(key)) {
      throw new ValidationError(
        `${path}.${key}`,
        `is not an event field; expected ${[...EVENT_FIELDS].join(', ')}`,
      );
    }
  }
  const aggregateId = requireName(event.aggregateId, `${path}.aggregateId`);
  const type = requireName(event.type, `${path}.type`);
  const timestamp =
    event.timestamp === undefined ? clock.now() : toEpochMs(event.timestamp, `${path}.timestamp`);
  const id = event.id === undefined ? uuidv7(timestamp) : requireName(event.id, `${path}.id`);
  const tags = validateTags(event.tags, `${path}.tags`);
  const shape: ValueShape = { convert: false, protoKeys: false, largeMaps: false, budget: maxEventSize };
  const payload = jsonValue(event.payload, `${path}.payload`, shape, path, maxEventSize);
  let metadata = EMPTY_METADATA;
  if (event.metadata !== undefined && event.metadata !== null) {
    if (
      typeof event.metadata !== 'object' ||
      Array.isArray(event.metadata) ||
      !isPlainObject(event.metadata)
    ) {
      throw new ValidationError(
        `${path}.metadata`,
        `must be a plain object, got ${describe(event.metadata)}`,
      );
    }
    metadata = jsonValue(event.metadata, `${path}.metadata`, shape, path, maxEventSize) as Record<
      string,
      unknown
    >;
  }
  const valid: ValidEvent = { id, aggregateId, type, timestamp, tags, payload, metadata };
  if (shape.protoKeys) valid.protoKeys = true;
  if (shape.largeMaps) valid.largeMaps = true;
  return valid;
}

/** Validates a whole batch: any bad event rejects the batch, and ids must be unique within it. */
export function validateBatch(
  inputs: readonly unknown[],
  clock: Clock,
  maxEventSize = MAX_EVENT_BYTES,
): ValidEvent[] {
  if (inputs.length === 0) return [];
  const events = new Array<ValidEvent>(inputs.length);
  for (let i = 0; i < inputs.length; i++)
    events[i] = validateEvent(inputs[i], `events[${i}]`, clock, maxEventSize);
  // Generated UUIDv7s are unique by construction; only caller-supplied ids need checking.
  let seen: Map<string, number> | undefined;
  for (let i = 0; i < inputs.length; i++) {
    if ((inputs[i] as NewEvent).id === undefined) continue;
    const id = (events[i] as ValidEvent).id;
    seen ??= new Map();
    const first = seen.get(id);
    if (first !== undefined) {
      throw new DuplicateEventIdError(id, { batchIndex: first }, i);
    }
    seen.set(id, i);
  }
  return events;
}
