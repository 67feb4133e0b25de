import { ValidationError } from '../../errors.js';
import type { EventQuery, QueryHints } from '../../query/ast.js';
import { describe } from '../../support/describe.js';
import type { ReadCall } from '../../store/hooks.js';
import type { CacheKeyInput } from '../../store/query-cache-api.js';

/** What a key stands for: the query (without hints that change no answer), and how it was read. */
export interface KeyedRead {
  readonly key: string;
  /** `rows`: a list of rows (execute, queryEvents, …); `page`: executePage's { rows, cursor }. */
  readonly shape: 'rows' | 'page';
  readonly query: EventQuery;
  /** queryEvents' includeArchived: the archive it merged in. */
  readonly archiveDir?: string;
}

// Hints that change how a query runs, not what it answers: left out of the key, so a query with a
// timeout shares the entry of the same query without one.
const RUN_ONLY_HINTS = new Set<keyof QueryHints>(['cache', 'timeout', 'batchSize', 'parallel']);

const KEY_PREFIX = 'q1:';

/**
 * The canonical text of a value, objects by sorted keys (like query/canonical.ts), or undefined when
 * it holds something JSON cannot say exactly (a function: a custom aggregate or a pipeline stage; a
 * class instance; a non-finite number): such a query has no key and is never cached.
 */
function canonical(value: unknown): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      // JSON would turn NaN and ±Infinity into null: such a query is left uncached, so every key
      // parses back to exactly its query (parseKey).
      return Number.isFinite(value) ? JSON.stringify(value) : undefined;
    case 'undefined':
      return undefined;
    case 'object':
      break;
    default:
      return undefined;
  }
  if (Array.isArray(value)) {
    const parts: string[] = [];
    for (const item of value) {
      const text = canonical(item);
      if (text === undefined) return undefined;
      parts.push(text);
    }
    return `[${parts.join(',')}]`;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const record = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(record).sort()) {
    if (record[key] === undefined) continue;
    const text = canonical(record[key]);
    if (text === undefined) return undefined;
    parts.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${parts.join(',')}}`;
}

function answerHints(hints: QueryHints): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(hints ?? {})) {
    if (!RUN_ONLY_HINTS.has(name as keyof QueryHints)) kept[name] = value;
  }
  return kept;
}

/**
 * A pattern whose last step is `absent` matches once its window has closed by the store's clock:
 * its answer changes with time alone, at moments no notice reports, so it is never cached.
 */
function readsTheClock(query: EventQuery): boolean {
  const steps = query?.analytics?.pattern?.steps;
  return Array.isArray(steps) && steps.some((step) => step?.absent === true);
}

/** The key of a query read with this shape, or undefined when the query cannot be keyed. */
export function keyOfQuery(
  query: EventQuery,
  shape: 'rows' | 'page',
  archiveDir?: string,
): KeyedRead | undefined {
  const text = canonical({ ...query, hints: answerHints(query.hints), shape, archiveDir });
  if (text === undefined) return undefined;
  return { key: `${KEY_PREFIX}${text}`, shape, query, ...(archiveDir === undefined ? {} : { archiveDir }) };
}

/**
 * The key of a read the cache may answer: query reads that return a whole result (builder
 * execute and executePage, queryEvents, getEventsByType, getEventsInRange; analytics go through
 * execute). Streams, explain, getEvents and read are left to the engine.
 */
export function keyOfCall(call: ReadCall): KeyedRead | undefined {
  if (call.kind !== 'query' || call.method === 'stream') return undefined;
  const { query } = call;
  if (query?.hints?.cache === false || readsTheClock(query)) return undefined;
  const shape = call.method === 'page' ? 'page' : 'rows';
  // A builder hands the same frozen query to every run: its key is made once (a hit's main cost).
  const variant = `${shape}|${call.archiveDir ?? ''}`;
  let known = keyed.get(query);
  const found = known?.get(variant);
  if (found !== undefined) return found ?? undefined;
  const made = keyOfQuery(query, shape, call.archiveDir);
  if (Object.isFrozen(query) && Object.isFrozen(query.filter) && Object.isFrozen(query.hints)) {
    if (known === undefined) keyed.set(query, (known = new Map()));
    known.set(variant, made ?? null);
  }
  return made;
}

/** Keys made for frozen queries, by shape and archive: a query object never changes, nor its key. */
const keyed = new WeakMap<EventQuery, Map<string, KeyedRead | null>>();

/** What a key stands for, from its text (keys are canonical JSON after a prefix). */
export function parseKey(key: string): KeyedRead {
  if (key.startsWith(KEY_PREFIX)) {
    try {
      const parsed = JSON.parse(key.slice(KEY_PREFIX.length)) as Record<string, unknown>;
      const { shape, archiveDir, ...query } = parsed;
      if ((shape === 'rows' || shape === 'page') && query.kind === 'query') {
        return {
          key,
          shape,
          query: query as unknown as EventQuery,
          ...(typeof archiveDir === 'string' ? { archiveDir } : {}),
        };
      }
    } catch {
      // Falls through to the error below.
    }
  }
  throw new ValidationError(
    'key',
    `must be a key from store.cache.keyOf(query), a query or a builder, got ${describe(key)}`,
    'INVALID_CACHE_KEY',
  );
}

/** The key for get/set/delete's argument: a key string, a query AST or a builder (its rows). */
export function keyOfInput(input: CacheKeyInput, validate: (query: EventQuery) => void): KeyedRead {
  if (typeof input === 'string') return parseKey(input);
  const query =
    input !== null && typeof input === 'object' && 'toQuery' in input && typeof input.toQuery === 'function'
      ? input.toQuery()
      : (input as EventQuery);
  validate(query);
  if (readsTheClock(query)) {
    throw new ValidationError(
      'query',
      'has a pattern with an absent step: its answer changes with the clock alone, so it is never cached',
      'INVALID_CACHE_KEY',
    );
  }
  const keyed = keyOfQuery(query, 'rows');
  if (keyed === undefined) {
    throw new ValidationError(
      'query',
      'holds a function (a custom aggregate or stage), so it has no cache key; such queries are not cached',
      'INVALID_CACHE_KEY',
    );
  }
  return keyed;
}
