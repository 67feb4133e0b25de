import type { PlanCacheStats } from '../../store-stats.js';
/** Plans kept: enough for every query shape a service issues, small enough to never matter in memory. */
const CAPACITY = 1024;
/** A cached choice is re-made once the table has grown or shrunk by this factor since it was made. */
const DRIFT = 2;
/** ...or when the cached path now yields this many times the rows it did (different constants). */
const SURPRISE = 10;

/** What a plan chose for a query shape, and the conditions it was chosen under. */
export interface CachedChoice {
  /** The access path chosen: an index name or `scan`. */
  readonly index: string;
  readonly estimatedRows: number;
  /** The index manager's generation then: any index created, dropped or rebuilt since voids it. */
  readonly generation: number;
  /** Table rows then: statistics drift voids it. */
  readonly rows: number;
}

/**
 * Caches the planner's choice of access path by query fingerprint (the query without its constants).
 * On a hit the planner builds only that path instead of costing every alternative; a choice is
 * dropped when indexes change, when the table's size drifts, or when the path turns out to yield
 * far more rows for these constants than it did when chosen (then the query is planned afresh).
 * Least recently used shapes are evicted first.
 */
export class PlanCache {
  private readonly entries = new Map<string, CachedChoice>();
  private hits = 0;
  private misses = 0;
  private invalidations = 0;

  lookup(fingerprint: string, generation: number, rows: number): CachedChoice | undefined {
    const choice = this.entries.get(fingerprint);
    if (choice === undefined) {
      this.misses++;
      return undefined;
    }
    const drifted = rows > choice.rows * DRIFT + 100 || rows * DRIFT + 100 < choice.rows;
    if (choice.generation !== generation || drifted) {
      this.invalidate(fingerprint);
      return undefined;
    }
    // Refresh its place in the LRU order.
    this.entries.delete(fingerprint);
    this.entries.set(fingerprint, choice);
    this.hits++;
    return choice;
  }

  /** Whether a choice is cached for the fingerprint, without counting a lookup: for EXPLAIN. */
  holds(fingerprint: string): boolean {
    return this.entries.has(fingerprint);
  }

  /** Whether a path built from a cached choice yields so many more rows that the choice is suspect. */
  surprised(choice: CachedChoice, estimatedRows: number): boolean {
    return estimatedRows > choice.estimatedRows * SURPRISE + 1000;
  }

  private invalidate(fingerprint: string): void {
    this.entries.delete(fingerprint);
    this.invalidations++;
    this.misses++;
  }

  /** A hit whose choice proved wrong for the constants at hand: it counts as a miss, and is re-made. */
  reject(fingerprint: string): void {
    this.hits--;
    this.invalidate(fingerprint);
  }

  store(fingerprint: string, choice: CachedChoice): void {
    this.entries.delete(fingerprint);
    this.entries.set(fingerprint, choice);
    if (this.entries.size > CAPACITY) this.entries.delete(this.entries.keys().next().value as string);
  }

  stats(): PlanCacheStats {
    return {
      entries: this.entries.size,
      hits: this.hits,
      misses: this.misses,
      invalidations: this.invalidations,
    };
  }
}
