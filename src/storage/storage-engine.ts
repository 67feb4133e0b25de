/**
 * The storage-engine contract: what a backend implements so that the facade (`store/`) can offer
 * the whole `EventStore` over it. The embedded engine (`storage/embedded/`) is one; a PostgreSQL
 * engine (`storage/postgres/`, later) is another. The facade owns everything backends share:
 * validation at the door, the open/closed/failed state, the write gate, criteria → AST, the
 * archive merge, the one read runner and its hooks. An engine owns how events are kept and found.
 *
 * Heavy drivers stay out of the core import graph: an engine is handed to `openEventStore` as a
 * `StorageEngineFactory` the user builds (with the pool or client they pass it), in the manner of
 * Kysely's `PostgresDialect`; nothing here or in the facade imports one.
 */
import type { EventColumns, EventColumnsRequest } from '../analytics/export/event-columns.js';
import type { ExpectedVersion } from '../errors.js';
import type { Clock } from '../events/clock.js';
import type { StoredEvent } from '../events/types.js';
import type { ValidEvent } from '../events/validate.js';
import type { EventQuery } from '../query/ast.js';
import type { NormalizedCriteria } from '../query/criteria.js';
import type { Explanation } from '../query/explanation.js';
import type { ResultPage, ResultRow, RunOptions } from '../query/results.js';
import type { Indexes } from '../indexes/indexes.js';
import type { CleanupOptions, CleanupReport } from '../retention/cleanup-report.js';
import type { RetentionPolicy } from '../retention/policy.js';
import type { RestoreOptions, RestoreReport } from '../retention/restore-report.js';
import type { StoreStats } from './store-stats.js';
import type { QueryObserver } from './query-profile.js';
import type { WriteGate } from '../support/write-gate.js';

/**
 * What an engine can do. The facade refuses a call an engine cannot serve with a coded
 * `UNSUPPORTED` error (never a silent no-op); the planner and the contract suites read it too, and
 * a suite for a capability an engine lacks is skipped visibly.
 */
export interface StorageCapabilities {
  /** Acknowledged appends survive the process (a directory, a database); false for memory. */
  readonly durable: boolean;
  /** Runs the whole query AST itself (the embedded executor; SQL pushdown for a database). */
  readonly pushdown: boolean;
  /** Sequences are 1, 2, 3 … with no gap a reader could observe. */
  readonly gapFreeSequences: boolean;
  /** createIndex / dropIndex / analyzeIndex and the index advisor. */
  readonly userIndexes: boolean;
  /** cleanup() archives what it removes, and restore() / includeArchived read it back. */
  readonly archive: boolean;
  /** checkpoint(): a snapshot that shortens the next open. */
  readonly checkpoints: boolean;
  /** deleteStream(): erasure with tombstones that survive restart. */
  readonly erasure: boolean;
  /** This handle only reads (a follower beside a writer in another process): every write refuses. */
  readonly readOnly: boolean;
  /** explain({ analyze: true }) runs the query and reports actual rows and time. */
  readonly explainAnalyze: boolean;
  /**
   * Calls AppendBatch.beforeCommit as append describes: openEventStore refuses `hooks.beforeCommit`
   * over an engine without it, rather than let a veto be silently skipped.
   */
  readonly commitHooks: boolean;
}

/** One append, validated at the facade's door. */
export interface AppendBatch {
  /** The events, validated (ids and timestamps filled in). */
  readonly events: readonly ValidEvent[];
  /**
   * Whether the caller gave each event's id itself. A retried batch (ids stored already, with the
   * same content) returns the stored events instead of writing twice; only caller-given ids can
   * mark a retry, and only caller-given timestamps take part in the content comparison.
   */
  readonly givenIds: readonly boolean[];
  readonly givenTimestamps: readonly boolean[];
  /**
   * appendToStream's expectation: checked in the same atomic step that assigns versions, so two
   * appends racing on one stream cannot both pass. Absent for a plain append.
   */
  readonly stream?: { readonly aggregateId: string; readonly expected: ExpectedVersion };
  /**
   * The batch's last check before it is written (openEventStore's `hooks.beforeCommit`): see
   * BeforeCommit and StorageEngine.append. Absent when the store has no such hook.
   */
  readonly beforeCommit?: BeforeCommit;
}

/**
 * Approves a batch before it is written. The engine calls it once per batch that writes anything,
 * with the events exactly as they will be stored (sequences and versions assigned, every check
 * passed) and before anything is written. Throwing, or returning a promise that rejects, vetoes
 * the batch. Returning a promise holds the engine's commit order until it settles.
 */
export type BeforeCommit = (events: readonly StoredEvent[]) => void | PromiseLike<void>;

/** What an append did: the events in the batch's order, and which of them it wrote now. */
export interface AppendOutcome {
  readonly events: StoredEvent[];
  /** The events this call wrote, in sequence order (retried events already stored are not among them). */
  readonly written: readonly StoredEvent[];
}

/** A stream's events by version, for `getEvents`. */
export interface StreamRead {
  readonly aggregateId: string;
  /** First version, inclusive (≥ 1). */
  readonly fromVersion: number;
  /** Last version, inclusive (Infinity: to the end). */
  readonly toVersion: number;
  /** Most events to return (Infinity: all). */
  readonly limit: number;
}

/** Events in global (sequence) order, for `read`. */
export interface GlobalRead {
  /** First sequence, inclusive (≥ 1). */
  readonly fromSequence: number;
  readonly limit: number;
}

/** Retention mechanics: what `setRetention`, `cleanup` and `restoreArchive` need from an engine. */
export interface EngineRetention {
  /** The policy in force; setting it hides what it expires from every read at once. */
  policy: RetentionPolicy;
  /** Removes what reads already leave out, archiving first when the policy names an archive. */
  cleanup(options: CleanupOptions): Promise<CleanupReport>;
  /** Restores archived events with their sequences and ids (capability `archive`). */
  restore(archiveDir: string, options: RestoreOptions): Promise<RestoreReport>;
  /** Archived events matching the criteria, in sequence order (capability `archive`). */
  /** Archived events matching criteria or an event query's filter, in its limit and sequence order. */
  queryArchive(archiveDir: string, criteria: NormalizedCriteria | EventQuery): StoredEvent[];
}

/**
 * A backend. Every method is called by the facade after it validated the arguments and checked
 * the store is open (writes: writable, and past the write gate); an engine trusts them.
 */
export interface StorageEngine {
  readonly capabilities: StorageCapabilities;

  /**
   * Appends one batch atomically (all or none), after checking the stream expectation, deleted
   * streams and unique indexes in the same synchronous step that assigns sequences and versions.
   * Resolves once the batch is acknowledged under the engine's durability policy.
   * Throws ConcurrencyError, DuplicateEventIdError, UniqueViolationError, ValidationError
   * (AGGREGATE_DELETED, BATCH_TOO_LARGE) and leaves nothing written when it does.
   *
   * With `batch.beforeCommit`, the engine calls it after those checks, with the events it is about
   * to write, and writes only once it returned (or its promise resolved). When it throws or
   * rejects, the engine writes nothing, consumes no sequence (the next batch takes the sequences
   * this one would have had: no gap) and rejects with that same error, unwrapped. While a promise
   * it returned is pending, no other batch takes a sequence (the embedded engine queues them; a
   * database engine calls it inside the batch's transaction, holding what orders sequences), so
   * the events it saw are the events written. Not called for a batch that writes nothing (only
   * retries of stored ids).
   */
  append(batch: AppendBatch): Promise<AppendOutcome>;
  /** A stream's current version (0 when it has no event). */
  streamVersion(aggregateId: string): number;
  /** Whether deleteStream erased this stream (it then reads as empty and refuses appends). */
  isStreamDeleted(aggregateId: string): boolean;

  /** A stream's events in version order, leaving out what retention hides. */
  readStream(request: StreamRead): Promise<StoredEvent[]>;
  /** Events in sequence order from a sequence on, leaving out what retention hides. */
  readAll(request: GlobalRead): Promise<StoredEvent[]>;

  /** Runs a query AST (validated) to completion. */
  execute(query: EventQuery, options: RunOptions): Promise<ResultRow[]>;
  /** One page of a query, with the cursor for the next. */
  page(query: EventQuery, options: RunOptions): Promise<ResultPage>;
  /** A query's rows as they are found, in batches, bounded in memory. */
  stream(query: EventQuery, options: RunOptions): AsyncIterable<ResultRow>;
  /**
   * Optional: a query of whole events (no select, no analytics, live events) as the nine export
   * columns, `batchRows` rows a batch, bounded in memory like stream: what `store.export` writes to
   * Parquet and Arrow without a StoredEvent per row. The values must be exactly those the export
   * of `stream`'s events would write. Absent: the export flattens `stream`'s events.
   */
  exportEvents?(query: EventQuery, request: EventColumnsRequest): AsyncIterable<EventColumns>;
  /** The plan, as an operator tree; with `analyze`, also runs it (capability `explainAnalyze`). */
  explain(query: EventQuery, analyze: boolean): Promise<Explanation>;
  /** Cancels a running query by its queryId; whether one was running. */
  cancelQuery(queryId: string): boolean;
  /**
   * Optional: tells the observer how each query ran (QueryProfile), for the performance monitor;
   * `undefined` stops it. An engine without it still has per-method latency (the read hooks), not
   * per-plan detail.
   */
  observeQueries?(observer: QueryObserver | undefined): void;

  /** User-defined indexes (capability `userIndexes`). */
  readonly indexes: Indexes;
  /** Retention, cleanup, archive and restore. */
  readonly retention: EngineRetention;
  /** Erases a stream (capability `erasure`): durable when it resolves; false when it was erased already. */
  deleteStream(aggregateId: string): Promise<boolean>;

  stats(): StoreStats;
  /** Makes every acknowledged append durable now. */
  flush(): Promise<void>;
  /** Writes a checkpoint now (capability `checkpoints`). */
  checkpoint(): Promise<void>;
  /** A read-only handle brings in what the writer did; resolves with the last visible sequence. */
  refresh(): Promise<number>;
  /** Waits for work in flight, makes everything durable, and releases files, locks and connections. */
  close(): Promise<void>;
}

/** What the facade hands an engine when it opens it. */
export interface EngineContext {
  /** The store's clock: event time defaults, retention deadlines, fsync deadlines. */
  readonly clock: Clock;
  /** The retention policy the store opens with. */
  readonly retention: RetentionPolicy;
  /** The largest encoded event accepted. */
  readonly maxEventSize: number;
  /**
   * Called by the engine when it can no longer promise durability (a failed fsync, a half-done
   * swap): the facade then refuses every write with StoreClosedError until the store is reopened.
   */
  fail(error: Error): void;
  /**
   * The facade's write gate: held while a restore runs, so appends wait. An engine's own writes
   * that do not come through the facade (scheduled cleanup, checkpoints, index builds) respect it too.
   */
  readonly writeGate: WriteGate;
  /**
   * Called after a cleanup the engine ran on its own (its schedule), as the facade reports the ones
   * it was asked for: what reads of the archive return changed (the result cache listens).
   */
  cleaned?(report: CleanupReport): void;
}

/**
 * How `openEventStore` gets an engine: the embedded one from `dir` (or memory), any other from the
 * `engine` option, e.g. `openEventStore({ engine: postgresEngine({ pool }) })`.
 */
export interface StorageEngineFactory {
  /** For messages and stats: 'embedded', 'postgres', … */
  readonly name: string;
  open(context: EngineContext): Promise<StorageEngine>;
}
