import { LRUCache } from 'lru-cache';
import { ValidationError } from '../../errors.js';
import type { Duration } from '../../events/duration.js';
import type { StoredEvent } from '../../events/types.js';
import { validateAnalytics } from '../../analytics/validate-analytics.js';
import type { EventQuery } from '../../query/ast.js';
import type { ResultRow } from '../../query/results.js';
import { validateQuery } from '../../query/validate-query.js';
import { describe } from '../../support/describe.js';
import type { ChangeNotice, CommitNotice, ReadCall, StorePlugin } from '../../store/hooks.js';
import type {
  CacheInvalidations,
  CacheKeyInput,
  CacheStats,
  QueryCacheAccess,
  StoreQueryCache,
} from '../../store/query-cache-api.js';
import { keyOfCall, keyOfInput, type KeyedRead } from './cache-key.js';
import { optionalTtl, type CacheSettings } from './cache-options.js';
import { dependenciesOf, type Dependencies } from './dependencies.js';
import { freezeAndMeasure } from './frozen-result.js';
import { refresherFor, type Refresher } from './incremental-refresh.js';
import { deadlineFromRows, planDeadline, probeDeadline } from './retention-deadline.js';

type Reason = keyof CacheInvalidations;

/** One cached answer and what it stands on. */
interface Entry {
  readonly read: KeyedRead;
  readonly deps: Dependencies;
  /** The answer, deep-frozen: handed to every caller as it is. */
  readonly value: unknown;
  readonly bytes: number;
  /** The last committed sequence when the read began: the state it reflects. */
  readonly sequence: number;
  /** Store clock when the read ended: not served before it (a clock set back may unhide events). */
  readonly computedAt: number;
  /** Retention deadline: not served after it (an event it holds expires then). */
  readonly validUntil: number;
  /** ttl deadline. */
  readonly expiresAt: number;
  /**
   * Whether newly committed events may be folded into the answer (incremental-refresh.ts): the
   * refresher itself is made at the first commit that touches the entry (most never see one).
   */
  readonly refreshable: boolean;
  refresher?: Refresher | null;
}

/**
 * A read running now. A change that could alter its answer taints it: the answer is still the
 * caller's (it was right at some moment of the call), but it is not kept, and no later caller joins it.
 */
interface Pending {
  readonly read: KeyedRead;
  readonly deps: Dependencies;
  tainted: boolean;
  /** false: answers the cache did not read itself (set) are never refreshed, only dropped. */
  readonly refreshable?: boolean;
  /** Resolves with the answer and whether a joiner may take it (untainted, still within its deadline). */
  outcome?: Promise<{ value: unknown; shareable: boolean }>;
}

const noInvalidations = (): CacheInvalidations => ({
  commit: 0,
  deleteAggregate: 0,
  retention: 0,
  expiry: 0,
  cleanup: 0,
  restore: 0,
  index: 0,
  refresh: 0,
  ttl: 0,
  manual: 0,
});

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '[\\s\\S]*');
  return new RegExp(`^${escaped}$`);
}

function validate(query: EventQuery): void {
  validateQuery(query);
  if (query.analytics !== undefined) validateAnalytics(query.analytics);
}

/** The rows of an answer: a list, or a page's rows. */
function rowsOf(value: unknown): readonly ResultRow[] {
  return Array.isArray(value) ? value : ((value as { rows: ResultRow[] }).rows ?? []);
}

/**
 * The result cache (module `query-cache`, the seed's IQueryCache): answers of query reads kept by
 * their canonical query, bounded by bytes (lru-cache), never stale. Each entry records what it
 * depends on; the store's hooks report every change (commit, deleteAggregate, retention, cleanup,
 * restore, index, refresh) before the call that made it resolves, and the cache drops exactly the
 * entries the change could alter, and taints the reads in flight it could alter. Retention's clock
 * is the one change without a notice: each entry carries the moment its answer can first change.
 * See docs/cache.md for the rules and their proofs.
 */
export class QueryCache implements StoreQueryCache {
  private access: QueryCacheAccess | undefined;
  private readonly lru: LRUCache<string, Entry>;
  /**
   * Entries by the event types they can hold, else by the streams they can hold, else among those
   * that can hold anything: a committed event is checked only against the entries it could touch.
   */
  private readonly byType = new Map<string, Set<Entry>>();
  private readonly byStream = new Map<string, Set<Entry>>();
  private readonly byTag = new Map<string, Set<Entry>>();
  private readonly anyEvent = new Set<Entry>();
  private readonly inFlight = new Map<string, Pending>();
  private readonly running = new Set<Pending>();
  private lastSequence = 0;
  private hits = 0;
  private misses = 0;
  private coalesced = 0;
  private bypassed = 0;
  private discarded = 0;
  private refreshed = 0;
  private evictions = 0;
  private readonly invalidations = noInvalidations();

  readonly plugin: StorePlugin;

  constructor(private readonly settings: CacheSettings) {
    this.lru = new LRUCache<string, Entry>({
      maxSize: settings.maxBytes,
      sizeCalculation: (entry) => Math.max(1, entry.bytes),
      dispose: (entry, _key, reason) => {
        this.unindex(entry);
        if (reason === 'evict') this.evictions++;
      },
    });
    const around = (call: ReadCall, next: () => Promise<unknown>) => this.around(call, next);
    this.plugin = {
      name: 'query-cache',
      aroundRead<R>(call: ReadCall, next: () => Promise<R>): Promise<R> {
        return around(call, next) as Promise<R>;
      },
      afterCommit: (commit) => this.committed(commit),
      afterChange: (change) => this.changed(change),
      close: () => this.lru.clear(),
    };
  }

  get enabled(): boolean {
    return this.settings.enabled;
  }

  attach(access: QueryCacheAccess): void {
    this.access = access;
    if (this.settings.enabled) this.lastSequence = access.lastSequence();
  }

  private get store(): QueryCacheAccess {
    if (this.access === undefined) throw new Error('query-cache: used before the store attached it');
    return this.access;
  }

  // ---- Reads

  private around(call: ReadCall, next: () => Promise<unknown>): Promise<unknown> {
    const read = keyOfCall(call);
    if (read === undefined) {
      if (call.kind === 'query' && call.method !== 'stream') this.bypassed++;
      return next();
    }
    const now = this.store.clock.now();
    const entry = this.lru.get(read.key);
    if (entry !== undefined) {
      const stale = this.staleReason(entry, now, this.hintedTtl(read.query));
      if (stale === undefined) {
        this.hits++;
        return Promise.resolve(entry.value);
      }
      this.drop(entry, stale);
    }
    this.misses++;
    const running = this.inFlight.get(read.key);
    if (running?.outcome !== undefined && !running.tainted) {
      this.coalesced++;
      // A read that failed (its caller's signal, its timeout) or that a change tainted is not
      // this caller's answer: it then reads for itself.
      return running.outcome.then(
        ({ value, shareable }) => (shareable ? value : next()),
        () => next(),
      );
    }
    return this.readAndKeep(read, next);
  }

  /** A miss: runs the read (once for every identical caller meanwhile) and keeps its answer if nothing changed under it. */
  private readAndKeep(read: KeyedRead, next: () => Promise<unknown>): Promise<unknown> {
    const pending: Pending = { read, deps: dependenciesOf(read), tainted: false };
    this.running.add(pending);
    this.inFlight.set(read.key, pending);
    const outcome = this.run(pending, next).finally(() => {
      this.running.delete(pending);
      if (this.inFlight.get(read.key) === pending) this.inFlight.delete(read.key);
    });
    pending.outcome = outcome;
    return outcome.then(({ value }) => value);
  }

  private async run(
    pending: Pending,
    next: () => Promise<unknown>,
  ): Promise<{ value: unknown; shareable: boolean }> {
    const { read, deps } = pending;
    const { clock } = this.store;
    const policy = this.store.retentionPolicy();
    const sequence = this.lastSequence;
    const { commits } = this.store;
    const commitsBefore = commits.inFlight === 0 ? commits.started : undefined;
    const startedAt = clock.now();
    const plan = planDeadline(read, deps, policy);
    let deadline = Infinity;
    if (plan.kind === 'probe') {
      try {
        deadline = await probeDeadline(deps.liveFilters, policy, (query) => this.store.executeLive(query));
      } catch {
        deadline = -Infinity; // No deadline to vouch for: answer, but keep nothing.
      }
    }
    const value = await next();
    let bytes: number;
    try {
      bytes = freezeAndMeasure(value);
      if (plan.kind === 'rows') deadline = Math.min(deadline, deadlineFromRows(rowsOf(value), policy));
    } catch {
      this.discarded++;
      return { value, shareable: false };
    }
    const finishedAt = clock.now();
    const keep =
      !pending.tainted &&
      finishedAt >= startedAt &&
      finishedAt <= deadline &&
      this.store.retentionPolicy() === policy;
    if (!keep) {
      this.discarded++;
      return { value, shareable: false };
    }
    const ttl = this.ttlOf(read.query);
    // Only an answer that saw exactly the notified commits can take the next ones' events.
    const exact =
      commitsBefore === commits.started && commits.inFlight === 0 && pending.refreshable !== false;
    this.keep({
      refreshable: exact && plan.kind === 'none',
      read,
      deps,
      value,
      bytes,
      sequence,
      computedAt: finishedAt,
      validUntil: deadline,
      expiresAt: ttl === Infinity ? Infinity : finishedAt + ttl,
    });
    return { value, shareable: true };
  }

  /** The query's own ttl (`.cache(ttl)`), or Infinity. */
  private hintedTtl(query: EventQuery): number {
    const hint = query.hints?.cache;
    return typeof hint === 'object' && hint !== null ? optionalTtl(hint.ttl, 'hints.cache.ttl') : Infinity;
  }

  private ttlOf(query: EventQuery): number {
    const hinted = this.hintedTtl(query);
    return hinted === Infinity ? this.settings.ttl : hinted;
  }

  /**
   * Why an entry may not answer now, or undefined when it may. `ttl`: the asking query's own, so
   * a query with `.cache('10s')` takes no answer older than that, whoever cached it.
   */
  private staleReason(entry: Entry, now: number, ttl = Infinity): Reason | undefined {
    if (now >= entry.expiresAt || now - entry.computedAt >= ttl) return 'ttl';
    if (now > entry.validUntil || now < entry.computedAt) return 'expiry';
    return undefined;
  }

  private keep(entry: Entry): void {
    if (!this.settings.enabled) return;
    this.lru.set(entry.read.key, entry);
    // lru-cache refuses an entry over maxSize without a word: only a kept entry is indexed.
    if (this.lru.peek(entry.read.key) !== entry) return;
    this.index(entry);
  }

  private index(entry: Entry): void {
    const { index, keys } = this.indexOf(entry);
    if (index === undefined) {
      this.anyEvent.add(entry);
      return;
    }
    for (const key of keys) {
      let set = index.get(key);
      if (set === undefined) index.set(key, (set = new Set()));
      set.add(entry);
    }
  }

  private indexOf(entry: Entry): { index?: Map<string, Set<Entry>>; keys: ReadonlySet<string> } {
    const { types, aggregates } = entry.deps;
    if (types !== undefined) return { index: this.byType, keys: types };
    if (aggregates !== undefined) return { index: this.byStream, keys: aggregates };
    if (entry.deps.tagValues !== undefined) return { index: this.byTag, keys: entry.deps.tagValues };
    return { keys: new Set() };
  }

  private unindex(entry: Entry): void {
    const { index, keys } = this.indexOf(entry);
    if (index === undefined) {
      this.anyEvent.delete(entry);
      return;
    }
    for (const key of keys) {
      const set = index.get(key);
      set?.delete(entry);
      if (set?.size === 0) index.delete(key);
    }
  }

  private drop(entry: Entry, reason: Reason): void {
    if (this.lru.peek(entry.read.key) !== entry) return;
    this.lru.delete(entry.read.key);
    this.invalidations[reason]++;
  }

  // ---- Changes

  private committed(commit: CommitNotice): void {
    this.lastSequence = Math.max(this.lastSequence, commit.lastSequence);
    if (this.lru.size === 0 && this.running.size === 0) return;
    // maxEvents hides the oldest sequences as new ones arrive, whatever their type: every answer
    // over live events may change.
    if (this.store.retentionPolicy().maxEvents !== Infinity) {
      this.dropWhere((deps) => deps.live, 'commit');
      return;
    }
    const touched = new Map<Entry, StoredEvent[]>();
    for (const event of commit.events) {
      const typed = this.byType.get(event.type);
      if (typed !== undefined) this.collectTouched(typed, event, touched);
      const streamed = this.byStream.get(event.aggregateId);
      if (streamed !== undefined) this.collectTouched(streamed, event, touched);
      if (this.byTag.size > 0) {
        for (const key in event.tags) {
          const tagged = this.byTag.get(`${key}=${String(event.tags[key])}`);
          if (tagged !== undefined) this.collectTouched(tagged, event, touched);
        }
      }
      if (this.anyEvent.size > 0) this.collectTouched(this.anyEvent, event, touched);
    }
    for (const [entry, events] of touched) this.refreshOrDrop(entry, events, commit.lastSequence);
    for (const pending of this.running) {
      if (pending.tainted || !pending.deps.live) continue;
      if (commit.events.some((event: StoredEvent) => pending.deps.touches(event))) this.taint(pending);
    }
  }

  private collectTouched(entries: Set<Entry>, event: StoredEvent, touched: Map<Entry, StoredEvent[]>): void {
    for (const entry of entries) {
      if (!entry.deps.live || !entry.deps.touches(event)) continue;
      const list = touched.get(entry);
      if (list === undefined) touched.set(entry, [event]);
      else list.push(event);
    }
  }

  /** Folds the events into the entry's answer when its refresher can, else drops it. */
  private refreshOrDrop(entry: Entry, events: StoredEvent[], sequence: number): void {
    if (this.lru.peek(entry.read.key) !== entry) return; // Evicted meanwhile.
    let rows: unknown[] | undefined;
    try {
      if (entry.refreshable && entry.refresher === undefined)
        entry.refresher = refresherFor(entry.read) ?? null;
      rows = entry.refresher?.(entry.value as readonly unknown[], events) ?? undefined;
    } catch {
      rows = undefined;
    }
    if (rows === undefined) {
      this.drop(entry, 'commit');
      return;
    }
    if (rows === entry.value) return; // The events were not the query's after all.
    this.refreshed++;
    this.lru.set(entry.read.key, { ...entry, value: rows, bytes: freezeAndMeasure(rows), sequence });
    const kept = this.lru.peek(entry.read.key);
    if (kept !== undefined && kept !== entry) this.index(kept);
  }

  private changed(change: ChangeNotice): void {
    switch (change.kind) {
      case 'deleteStream':
        this.dropWhere((deps) => deps.live && deps.touchesStream(change.aggregateId), 'deleteAggregate');
        return;
      case 'cleanup':
        // Cleanup removes only what reads already leave out; what it changes is the archive.
        this.dropWhere((deps) => deps.archive, 'cleanup');
        return;
      case 'restore':
        if (this.access !== undefined) this.lastSequence = this.access.lastSequence();
        this.dropWhere(() => true, 'restore');
        return;
      case 'retention':
        this.dropWhere(() => true, 'retention');
        return;
      case 'refresh':
        this.lastSequence = Math.max(this.lastSequence, change.lastSequence);
        this.dropWhere(() => true, 'refresh');
        return;
      case 'index':
        this.dropWhere((deps) => deps.indexes.has(change.name), 'index');
        return;
      default:
        // A change this cache does not know: everything may have changed.
        this.dropWhere(() => true, 'manual');
    }
  }

  /** Drops the entries, and taints the running reads, whose dependencies the test picks. */
  private dropWhere(test: (deps: Dependencies) => boolean, reason: Reason): number {
    let dropped = 0;
    for (const entry of [...this.lru.values()]) {
      if (test(entry.deps)) {
        this.drop(entry, reason);
        dropped++;
      }
    }
    for (const pending of this.running) if (test(pending.deps)) this.taint(pending);
    return dropped;
  }

  private taint(pending: Pending): void {
    pending.tainted = true;
    if (this.inFlight.get(pending.read.key) === pending) this.inFlight.delete(pending.read.key);
  }

  // ---- IQueryCache

  keyOf(query: CacheKeyInput): string {
    return keyOfInput(query, validate).key;
  }

  async get(query: CacheKeyInput): Promise<readonly ResultRow[] | null> {
    const read = keyOfInput(query, validate);
    if (!this.settings.enabled) return null;
    const entry = this.lru.get(read.key);
    if (entry !== undefined) {
      const stale = this.staleReason(entry, this.store.clock.now());
      if (stale === undefined) {
        this.hits++;
        return entry.value as readonly ResultRow[];
      }
      this.drop(entry, stale);
    }
    this.misses++;
    return null;
  }

  async set(query: CacheKeyInput, rows: readonly ResultRow[], ttl?: Duration): Promise<void> {
    const read = keyOfInput(query, validate);
    this.requireEnabled('set');
    if (!Array.isArray(rows)) {
      throw new ValidationError('rows', `must be an array of result rows, got ${describe(rows)}`);
    }
    const ttlMs = optionalTtl(ttl, 'ttl');
    const hints = ttl === undefined ? read.query.hints : { ...read.query.hints, cache: { ttl: ttlMs } };
    const keyed: KeyedRead = { ...read, query: { ...read.query, hints } };
    // As a read would, so a change while the deadline probe runs leaves the rows out.
    const pending: Pending = { read: keyed, deps: dependenciesOf(keyed), tainted: false, refreshable: false };
    this.running.add(pending);
    try {
      await this.run(pending, () => Promise.resolve(rows));
    } finally {
      this.running.delete(pending);
    }
  }

  async delete(query: CacheKeyInput): Promise<boolean> {
    const entry = this.lru.peek(keyOfInput(query, validate).key);
    if (entry === undefined) return false;
    this.drop(entry, 'manual');
    return true;
  }

  async clear(): Promise<void> {
    this.invalidations.manual += this.lru.size;
    this.lru.clear();
  }

  async invalidateByPattern(pattern: string | RegExp): Promise<number> {
    if (typeof pattern !== 'string' && !(pattern instanceof RegExp)) {
      throw new ValidationError(
        'pattern',
        `must be a glob over cache keys (\`*\` for any text) or a RegExp, got ${describe(pattern)}`,
      );
    }
    const regex = typeof pattern === 'string' ? globToRegExp(pattern) : pattern;
    let dropped = 0;
    for (const entry of [...this.lru.values()]) {
      regex.lastIndex = 0;
      if (regex.test(entry.read.key)) {
        this.drop(entry, 'manual');
        dropped++;
      }
    }
    return dropped;
  }

  async invalidateByTable(table: 'events' | 'archive'): Promise<number> {
    if (table !== 'events' && table !== 'archive') {
      throw new ValidationError(
        'table',
        `must be 'events' (live events) or 'archive', got ${describe(table)}`,
      );
    }
    return this.dropWhere((deps) => (table === 'events' ? deps.live : deps.archive), 'manual');
  }

  async getCacheStats(): Promise<CacheStats> {
    const lookups = this.hits + this.misses;
    return {
      enabled: this.settings.enabled,
      hits: this.hits,
      misses: this.misses,
      hitRate: lookups === 0 ? 0 : this.hits / lookups,
      coalesced: this.coalesced,
      bypassed: this.bypassed,
      discarded: this.discarded,
      refreshed: this.refreshed,
      entries: this.lru.size,
      bytes: this.lru.calculatedSize,
      maxBytes: this.settings.maxBytes,
      evictions: this.evictions,
      invalidations: { ...this.invalidations },
    };
  }

  async optimize(): Promise<{ removed: number; entries: number; bytes: number }> {
    let removed = 0;
    if (this.settings.enabled) {
      const now = this.store.clock.now();
      for (const entry of [...this.lru.values()]) {
        const stale = this.staleReason(entry, now);
        if (stale !== undefined) {
          this.drop(entry, stale);
          removed++;
        }
      }
    }
    return { removed, entries: this.lru.size, bytes: this.lru.calculatedSize };
  }

  async warmup(queries: readonly CacheKeyInput[]): Promise<number> {
    if (!Array.isArray(queries)) {
      throw new ValidationError(
        'queries',
        `must be an array of queries or builders, got ${describe(queries)}`,
      );
    }
    const reads = queries.map((query, i) => {
      try {
        return keyOfInput(query, validate);
      } catch (error) {
        if (error instanceof ValidationError) {
          throw new ValidationError(`queries[${i}]`, error.message, 'INVALID_CACHE_KEY');
        }
        throw error;
      }
    });
    this.requireEnabled('warmup');
    for (const read of reads) await this.store.execute(read.query);
    return reads.filter((read) => this.lru.has(read.key)).length;
  }

  private requireEnabled(call: string): void {
    if (!this.settings.enabled) {
      throw new ValidationError(
        'cache',
        `store.cache.${call} needs the result cache: open the store with { cache: true } (or { maxBytes, ttl })`,
        'CACHE_DISABLED',
      );
    }
  }
}
