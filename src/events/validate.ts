import { ValidationError } from '../errors.js';
import { describe } from '../store/options.js';
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
}

/** Strings the engine stores with a 16-bit length prefix. */
export const MAX_NAME_BYTES = 65_535;
const MAX_DATE_MS = 8.64e15;

const EMPTY_TAGS: Tags = Object.freeze({}) as Tags;
const EMPTY_METADATA: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/** A UTF-16 surrogate without its pair: it has no UTF-8 form, so it would not survive the log. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function requireWellFormed(value: string, path: string): void {
  if (LONE_SURROGATE.test(value)) {
    throw new ValidationError(
      path,
      `must be well-formed Unicode, got ${describe(value)} with a lone surrogate`,
    );
  }
}

function requireName(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ValidationError(path, `must be a non-empty string, got ${describe(value)}`);
  }
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
 * Checks that `value` survives a JSON round trip unchanged, walking it once. Returns true when the
 * value is JSON-compatible only after conversion (an `undefined` property, a Date or another object
 * with toJSON), so the caller normalises just those values through JSON.
 */
function checkJson(value: unknown, path: string, ancestors: object[]): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return false;
    case 'number':
      if (!Number.isFinite(value)) throw new ValidationError(path, `${value} is not representable in JSON`);
      return false;
    case 'undefined':
      return true;
    case 'bigint':
    case 'function':
    case 'symbol':
      throw new ValidationError(path, `must be JSON-compatible, got ${describe(value)}`);
  }
  if (value === null) return false;
  const object = value as object;
  if (ancestors.includes(object))
    throw new ValidationError(path, 'must be JSON-compatible, but it contains a cycle');
  if (Array.isArray(object)) {
    ancestors.push(object);
    let convert = false;
    for (let i = 0; i < object.length; i++)
      convert = checkJson(object[i], `${path}[${i}]`, ancestors) || convert;
    ancestors.pop();
    return convert;
  }
  if (!isPlainObject(object)) {
    if (typeof (object as { toJSON?: unknown }).toJSON === 'function') return true;
    throw new ValidationError(
      path,
      `must be JSON-compatible, got a ${object.constructor?.name ?? 'non-plain'} object; use plain objects and arrays`,
    );
  }
  ancestors.push(object);
  let convert = false;
  for (const key of Object.keys(object)) {
    convert = checkJson((object as Record<string, unknown>)[key], `${path}.${key}`, ancestors) || convert;
  }
  ancestors.pop();
  return convert;
}

const NOT_JSON = Symbol('not JSON');

/**
 * The fast pass of checkJson: same rules, but it builds no path strings (one per value, the main
 * cost of validating a payload). Throws NOT_JSON on the first problem; checkJson then walks again
 * to name where it is. Returns whether the value needs a JSON round trip to normalise.
 */
function quickCheckJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return false;
    case 'number':
      if (value - value !== 0) throw NOT_JSON; // NaN or ±Infinity
      return false;
    case 'undefined':
      return true;
    case 'object':
      break;
    default:
      throw NOT_JSON;
  }
  if (value === null) return false;
  // Deeper than any real payload: a cycle, most likely. checkJson tells which.
  if (depth > 64) throw NOT_JSON;
  let convert = false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) convert = quickCheckJson(value[i], depth + 1) || convert;
    return convert;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return true;
    throw NOT_JSON;
  }
  for (const key in value as Record<string, unknown>) {
    convert = quickCheckJson((value as Record<string, unknown>)[key], depth + 1) || convert;
  }
  return convert;
}

function jsonValue(value: unknown, path: string): unknown {
  if (value === undefined) return null;
  let convert: boolean;
  try {
    convert = quickCheckJson(value, 0);
  } catch (error) {
    if (error !== NOT_JSON) throw error;
    convert = checkJson(value, path, []); // throws the precise error, or accepts a deep but acyclic value
  }
  return convert ? JSON.parse(JSON.stringify(value)) : value;
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
export function validateEvent(input: unknown, path: string, clock: Clock): ValidEvent {
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
  const payload = jsonValue(event.payload, `${path}.payload`);
  let metadata = EMPTY_METADATA;
  if (event.metadata !== undefined && event.metadata !== null) {
    if (typeof event.metadata !== 'object' || Array.isArray(event.metadata)) {
      throw new ValidationError(`${path}.metadata`, `must be an object, got ${describe(event.metadata)}`);
    }
    metadata = jsonValue(event.metadata, `${path}.metadata`) as Record<string, unknown>;
  }
  return { id, aggregateId, type, timestamp, tags, payload, metadata };
}

/** Validates a whole batch: any bad event rejects the batch, and ids must be unique within it. */
export function validateBatch(inputs: readonly unknown[], clock: Clock): ValidEvent[] {
  if (inputs.length === 0) return [];
  const events = new Array<ValidEvent>(inputs.length);
  for (let i = 0; i < inputs.length; i++) events[i] = validateEvent(inputs[i], `events[${i}]`, clock);
  // Generated UUIDv7s are unique by construction; only caller-supplied ids need checking.
  let seen: Map<string, number> | undefined;
  for (let i = 0; i < inputs.length; i++) {
    if ((inputs[i] as NewEvent).id === undefined) continue;
    const id = (events[i] as ValidEvent).id;
    seen ??= new Map();
    const first = seen.get(id);
    if (first !== undefined) {
      throw new ValidationError(
        `events[${i}].id`,
        `duplicates the id of events[${first}] (${JSON.stringify(id)}); ids must be unique within a batch`,
        'DUPLICATE_EVENT_ID',
      );
    }
    seen.set(id, i);
  }
  return events;
}
