import { ValidationError } from '../errors.js';
import {
  EMBEDDED_OPTIONS,
  resolveOptions,
  type EmbeddedOpenOptions,
  type ResolvedOptions,
} from '../storage/embedded/embedded-options.js';
import type { StorageEngineFactory } from '../storage/storage-engine.js';
import { describe } from '../support/describe.js';
import type { StorePlugin } from './hooks.js';
import type { QueryCacheOptions } from './query-cache-api.js';

/**
 * openEventStore's options. Without `engine`, the store is the embedded engine's: durable files in
 * `dir`, or memory. With `engine` (a StorageEngineFactory, e.g. a PostgreSQL engine built over a pool
 * you pass it), the embedded engine's own options (dir, fsync, segmentSize, …) do not apply.
 */
export interface OpenOptions extends EmbeddedOpenOptions {
  /** Another storage engine than the embedded one; its driver stays out of this package's imports. */
  engine?: StorageEngineFactory;
  /** Plugins on the store's hooks: after each commit or change, around each read (see StorePlugin). */
  plugins?: readonly StorePlugin[];
  /**
   * The result cache (docs/cache.md): `true` for the defaults, or `{ maxBytes, ttl }`. Off by
   * default. Cached answers are never stale: every change drops the entries it could alter.
   */
  cache?: boolean | QueryCacheOptions;
}

/** Options that mean the same for every engine; the rest of EmbeddedOpenOptions are the embedded engine's. */
const SHARED = new Set(['clock', 'retention', 'maxEventSize', 'futureTolerance', 'onFutureEvent']);
const FACADE = ['engine', 'plugins', 'cache'];

export interface StoreOptions {
  /** Every option checked; for the embedded engine, all of them. */
  resolved: ResolvedOptions;
  engine: StorageEngineFactory | undefined;
  plugins: unknown;
  /** As given: the result cache checks it (live/query-cache/cache-options.ts). */
  cache: unknown;
}

/** Checks every option at the door, so a typo fails loudly instead of being ignored. */
export function resolveStoreOptions(options: OpenOptions = {}): StoreOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ValidationError('options', `must be an object, got ${describe(options)}`, 'INVALID_OPTION');
  }
  const known = [...EMBEDDED_OPTIONS, ...FACADE];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new ValidationError(
        key,
        `is not a known option; expected one of ${known.join(', ')}`,
        'INVALID_OPTION',
      );
    }
  }
  const { engine, plugins, cache, ...rest } = options;
  if (engine === undefined) return { resolved: resolveOptions(rest), engine, plugins, cache };
  if (engine === null || typeof engine !== 'object' || typeof engine.open !== 'function') {
    throw new ValidationError(
      'engine',
      `must be a storage engine factory (an object with open(context)), got ${describe(engine)}`,
      'INVALID_OPTION',
    );
  }
  for (const key of Object.keys(rest)) {
    if (!SHARED.has(key)) {
      throw new ValidationError(
        key,
        `applies to the embedded engine only; with engine ${describe(engine.name)} leave it out`,
        'INVALID_OPTION',
      );
    }
  }
  return { resolved: resolveOptions(rest), engine, plugins, cache };
}
