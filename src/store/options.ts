import { ValidationError } from '../errors.js';
import {
  EMBEDDED_OPTIONS,
  resolveOptions,
  type EmbeddedOpenOptions,
  type ResolvedOptions,
} from '../storage/embedded/embedded-options.js';
import type { StorageEngineFactory } from '../storage/storage-engine.js';
import { describe } from '../support/describe.js';
import { requireFunction } from '../support/require-function.js';
import type { CommitHooks } from './commit-hooks.js';
import type { StorePlugin } from './hooks.js';
import type { MonitorOptions } from './store-monitor.js';
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
  /** Code run with each batch written: beforeCommit may veto it, afterCommit follows it (see CommitHooks). */
  hooks?: CommitHooks;
  /**
   * The performance monitor (`store.monitor`): on by default; `false` turns it off, an object tunes
   * it (slow-query threshold, log sizes; see MonitorOptions and docs/monitoring.md).
   */
  monitor?: MonitorOptions | boolean;
  /**
   * The result cache (docs/cache.md): `true` for the defaults, or `{ maxBytes, ttl }`. Off by
   * default. Cached answers are never stale: every change drops the entries it could alter.
   */
  cache?: boolean | QueryCacheOptions;
}

/** Options that mean the same for every engine; the rest of EmbeddedOpenOptions are the embedded engine's. */
const SHARED = new Set(['clock', 'retention', 'maxEventSize', 'futureTolerance', 'onFutureEvent']);
const FACADE = ['engine', 'plugins', 'hooks', 'monitor', 'cache'];
const COMMIT_HOOKS = ['beforeCommit', 'afterCommit'] as const;

export interface StoreOptions {
  /** Every option checked; for the embedded engine, all of them. */
  resolved: ResolvedOptions;
  engine: StorageEngineFactory | undefined;
  plugins: unknown;
  hooks: CommitHooks | undefined;
  /** The live parts' options (checked by each part when the store opens). */
  live: { monitor: unknown; cache: unknown; subscriptions?: unknown };
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
  const { engine, plugins, hooks: given, monitor, cache, ...rest } = options;
  const hooks = checkCommitHooks(given);
  const live = { monitor, cache };
  if (engine === undefined) return { resolved: resolveOptions(rest), engine, plugins, hooks, live };
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
  return { resolved: resolveOptions(rest), engine, plugins, hooks, live };
}

/** `hooks`: an object with beforeCommit and/or afterCommit functions, and nothing else. */
function checkCommitHooks(hooks: unknown): CommitHooks | undefined {
  if (hooks === undefined) return undefined;
  if (hooks === null || typeof hooks !== 'object' || Array.isArray(hooks)) {
    throw new ValidationError(
      'hooks',
      `must be an object with beforeCommit and/or afterCommit functions, got ${describe(hooks)}`,
      'INVALID_OPTION',
    );
  }
  for (const key of Object.keys(hooks)) {
    if (!(COMMIT_HOOKS as readonly string[]).includes(key)) {
      throw new ValidationError(
        `hooks.${key}`,
        `is not a known hook; expected one of ${COMMIT_HOOKS.join(', ')}`,
        'INVALID_OPTION',
      );
    }
  }
  for (const key of COMMIT_HOOKS) {
    const hook = (hooks as Record<string, unknown>)[key];
    if (hook !== undefined) requireFunction(hook, `hooks.${key}`);
  }
  return hooks as CommitHooks;
}
