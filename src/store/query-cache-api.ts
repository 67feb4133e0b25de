import type { Clock } from '../events/clock.js';
import type { Duration } from '../events/duration.js';
import type { EventQuery } from '../query/ast.js';
import type { ResultRow } from '../query/results.js';
import type { RetentionPolicy } from '../retention/policy.js';
import type { StorePlugin } from './hooks.js';

/**
 * `openEventStore({ cache })`: `true` for the defaults, or the cache's budget. Off by default.
 *
 * @example
 * const store = await openEventStore({ cache: { maxBytes: 64 * 1024 * 1024, ttl: '5m' } });
 */
export interface QueryCacheOptions {
  /** Bytes the cached results may hold (estimated); least recently used go first. Default 64 MiB. */
  maxBytes?: number;
  /** How long an entry lives at most, by the store's clock; default none (only changes remove it). */
  ttl?: Duration;
}

/** Why entries left the cache, by cause: `store.cache.getCacheStats().invalidations`. */
export interface CacheInvalidations {
  /** A committed batch held an event the entry's query could select. */
  commit: number;
  /** deleteAggregate of a stream the entry could read. */
  deleteAggregate: number;
  /** setRetention: a new policy. */
  retention: number;
  /** The retention clock passed the moment the entry's answer could change (an event it counted expired). */
  expiry: number;
  /** A cleanup (archive-reading entries: it moves events into the archive). */
  cleanup: number;
  restore: number;
  /** createIndex / dropIndex / rebuildIndex of an index the entry's hints name. */
  index: number;
  /** A read-only store's refresh brought in the writer's changes. */
  refresh: number;
  /** The entry's ttl ran out. */
  ttl: number;
  /** delete, clear, invalidateByPattern, invalidateByTable. */
  manual: number;
}

/** `store.cache.getCacheStats()`. */
export interface CacheStats {
  enabled: boolean;
  hits: number;
  misses: number;
  /** hits / (hits + misses), or 0 before the first cacheable read. */
  hitRate: number;
  /** Misses that waited for an identical read already running instead of running their own. */
  coalesced: number;
  /** Reads that skipped the cache: `hints.cache: false`, or a query it cannot key (custom functions). */
  bypassed: number;
  /** Results not kept because a change arrived while they were being read. */
  discarded: number;
  /** Entries brought up to date from a commit's events instead of dropped (count, sum, min, max, event lists). */
  refreshed: number;
  entries: number;
  /** Estimated bytes of the cached results. */
  bytes: number;
  maxBytes: number;
  /** Entries the LRU dropped to stay within maxBytes. */
  evictions: number;
  invalidations: CacheInvalidations;
}

/** A cache key (from `store.cache.keyOf`), a query AST, or a builder. */
export type CacheKeyInput = string | EventQuery | { toQuery(): EventQuery };

/**
 * `store.cache`: the result cache (the seed's IQueryCache). Reads fill it on their own when the
 * store is opened with `cache`; these calls inspect and steer it. See docs/cache.md.
 */
export interface IQueryCache {
  /** Whether the store was opened with `cache`. */
  readonly enabled: boolean;
  /** The key a query's rows are cached under (its canonical text, constants included). */
  keyOf(query: CacheKeyInput): string;
  /** The cached rows of a query, if held and still current; null otherwise. Counts as a hit or a miss. */
  get(query: CacheKeyInput): Promise<readonly ResultRow[] | null>;
  /**
   * Caches rows for a query as its answer now (frozen; the caller vouches they are). Invalidated
   * like any other entry. `ttl` overrides the store's.
   */
  set(query: CacheKeyInput, rows: readonly ResultRow[], ttl?: Duration): Promise<void>;
  /** Drops a query's entry; resolves whether there was one. */
  delete(query: CacheKeyInput): Promise<boolean>;
  clear(): Promise<void>;
  /** Drops the entries whose key matches a glob (`*` any text) or a RegExp; resolves how many. */
  invalidateByPattern(pattern: string | RegExp): Promise<number>;
  /** Drops the entries that read `'events'` (live events) or `'archive'`; resolves how many. */
  invalidateByTable(table: 'events' | 'archive'): Promise<number>;
  getCacheStats(): Promise<CacheStats>;
  /** Drops entries past their ttl or retention deadline now, instead of at their next read. */
  optimize(): Promise<{ removed: number; entries: number; bytes: number }>;
  /** Runs the queries so their answers are cached; resolves how many are cached after it. */
  warmup(queries: readonly CacheKeyInput[]): Promise<number>;
}

/** What the cache needs from the store besides its hooks. */
export interface QueryCacheAccess {
  readonly clock: Clock;
  /** The retention policy now (it decides when events expire, hiding them from reads). */
  retentionPolicy(): RetentionPolicy;
  /** The last committed sequence now. */
  lastSequence(): number;
  /** Runs a query over live events in the engine, past the plugins: the cache's own probes. */
  executeLive(query: EventQuery): Promise<ResultRow[]>;
  /** Runs a query as a caller's would run (through the plugins, so the cache keeps it): warmup. */
  execute(query: EventQuery): Promise<ResultRow[]>;
  /**
   * Commits begun, and those whose notice has not run yet. A read with none under way from its start
   * to its end saw exactly the commits notified so far (an engine may show a batch before it is
   * acknowledged).
   */
  readonly commits: { readonly started: number; readonly inFlight: number };
}

/** The result cache as the store holds it: the public calls, its plugin, and its way into the store. */
export interface StoreQueryCache extends IQueryCache {
  readonly plugin: StorePlugin;
  attach(access: QueryCacheAccess): void;
}
