import type { PolicyDescription } from '../retention/policy.js';
import type { CleanupStats } from '../retention/cleanup-report.js';

export interface PlanCacheStats {
  entries: number;
  hits: number;
  misses: number;
  /** Cached choices dropped because indexes changed, statistics drifted, or constants surprised. */
  invalidations: number;
}

export interface IndexStats {
  /** Distinct keys in the index. */
  keys: number;
  /** Row references held. */
  entries: number;
  bytes: number;
  lookups: number;
  /** Lookups that found at least one row. */
  hits: number;
  /** hits / lookups, or 0 before the first lookup. */
  hitRate: number;
}

export interface MemoryStats {
  /** Process resident set size. */
  rss: number;
  heapUsed: number;
  /** Bytes held by the fixed-width event columns. */
  columns: number;
  /** Bytes held by all indexes. */
  indexes: number;
  /** Bytes held by the string dictionaries (aggregate ids, types, tag values), estimated. */
  dictionaries: number;
  /** Bytes of encoded records held in memory: the in-memory store's log; 0 on disk, where the OS page cache holds them. */
  records: number;
  /** Bytes held by field columns (payload and tag fields extracted for analytics; see `fieldColumns`). */
  fieldColumns?: number;
}

/** One field column in `stats().fieldColumns`: a payload or tag field held as a typed column. */
export interface FieldColumnStats {
  field: string;
  /** Rows it holds values for (up to the table's rows at its last use or append). */
  rows: number;
  /** Bytes held: its number and code chunks and its dictionary of distinct non-numeric values. */
  bytes: number;
  /** 'number': only numbers (or no value yet); 'string': only strings; 'mixed': anything else. */
  kind: 'number' | 'string' | 'mixed';
  /** Whether it was read from the checkpoint at open rather than extracted from the log. */
  restored: boolean;
  /** Records decoded from the log to fill it, in this process. */
  extractedRows: number;
}

/** What `stats().plugins` says of each plugin (StorePlugin). */
export interface PluginStats {
  name: string;
  /** Hook calls that threw (the calls they observed went on). */
  errors: number;
  lastError: string | null;
}

export interface StoreStats {
  /** Live events: deleted streams' events are not counted. */
  events: number;
  aggregates: number;
  /** Streams deleted with deleteAggregate. */
  deletedAggregates: number;
  /** The retention policy in force: `maxAge` and per-type ages as durations ('forever' when none). */
  retention: PolicyDescription;
  /** Cleanup runs: the last one, totals since open, and the schedule. */
  cleanup: CleanupStats & {
    running: boolean;
    /** When the schedule runs cleanup next; null with `schedule: false`. */
    nextRunAt: string | null;
    /** Cleanup's CPU time as a share of the process's since the store opened. */
    cpuShare: number;
    /** Events of deleted streams still waiting for cleanup to remove them. */
    pendingTombstoned: number;
    /** The last scheduled run's error, if it failed. */
    lastError: string | null;
  };
  types: number;
  /** Last sequence assigned; 0 when empty. */
  lastSequence: number;
  indexes: Record<string, IndexStats>;
  /** The planner's cache of access-path choices by query fingerprint. */
  planCache: PlanCacheStats;
  memory: MemoryStats;
  /** Present when the store holds field columns (the embedded engine's analytics columns). */
  fieldColumns?: FieldColumnStats[];
  /** Present when the store has plugins: each one's hook errors. */
  plugins?: PluginStats[];
  /** Present for on-disk stores. */
  storage?: {
    dir: string;
    segments: number;
    logBytes: number;
    fsync: FsyncPolicy;
    /** fsyncs issued since open: with group commit, far fewer than appends. */
    fsyncs: number;
    /**
     * Log bytes acknowledged but not yet known to be fsync'ed: what a power loss could still take.
     * Under `fsync: 'batch'` at most `fsyncIntervalMs` worth of appends; 0 under `'always'` once
     * every append has resolved.
     */
    unsyncedBytes: number;
    lastCheckpointSequence: number;
    /** Why the last periodic checkpoint failed, if it did (it is tried again later; no data is lost). */
    checkpointError: string | null;
    /** What the open that made this handle cut off (torn tails) or found lost (`recover: 'truncate'`). */
    recovery: OpenRecovery;
    /** Present when opened with `readOnly: true`. */
    readOnly?: true;
    /** Read-only: why the last automatic refresh failed (null when it did not); the store serves what it had. */
    followError?: string | null;
  };
}

export type FsyncPolicy = 'always' | 'batch' | 'never';

/** What open dropped or found lost, so that no loss is invisible (`stats().storage.recovery`). */
export interface OpenRecovery {
  /**
   * Torn ends cut off at open: the last frame of the log, incomplete or failing its checksum with
   * nothing durable covering it (a crash mid-write, before the append was acknowledged).
   */
  tornTails: { file: string; offset: number; bytes: number }[];
  /**
   * With `recover: 'truncate'`: events a durable record proves were written but the log no longer
   * holds. Their sequences stay unused. Null when nothing was lost.
   */
  lost: {
    firstSequence: number;
    lastSequence: number;
    events: number;
    /** The file whose record proves the events were written. */
    provenBy: string;
    /** Where the log ended: segment file and byte offset. */
    file: string;
    offset: number;
  } | null;
}
