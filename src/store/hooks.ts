import type { StoredEvent } from '../events/types.js';
import type { EventQuery } from '../query/ast.js';
import type { CleanupReport } from '../retention/cleanup-report.js';
import type { RestoreReport } from '../retention/restore-report.js';
import type { GlobalRead, StreamRead } from '../storage/storage-engine.js';

/** A read as the one read runner sees it: every read of the store is one of these. */
export type ReadCall =
  | { readonly kind: 'stream'; readonly method: 'getEvents'; readonly request: StreamRead }
  | { readonly kind: 'global'; readonly method: 'read'; readonly request: GlobalRead }
  | {
      readonly kind: 'query';
      readonly method: 'getEventsByType' | 'getEventsInRange' | 'queryEvents' | 'execute' | 'page' | 'stream';
      readonly query: EventQuery;
      /** The archive read too (queryEvents' includeArchived), if any. */
      readonly archiveDir?: string;
    }
  | {
      readonly kind: 'explain';
      readonly method: 'explain';
      readonly query: EventQuery;
      readonly analyze: boolean;
    };

/** How one read went: for metrics and the performance monitor. */
export interface ReadObservation {
  readonly call: ReadCall;
  /** Wall time, in milliseconds (for a stream: until it ended or was abandoned). */
  readonly durationMs: number;
  /** When it started, on the `performance.now()` timeline (QueryProfile.startedAt is on it too). */
  readonly startedAt?: number;
  /** Rows returned (events, projected rows, or a page's rows); 0 for explain. */
  readonly rows: number;
  /** Set when the read threw. */
  readonly error?: unknown;
}

/** How one append went (the batch's way through the engine to its acknowledgement): for the monitor. */
export interface WriteObservation {
  readonly method: 'append' | 'appendToStream';
  /** Wall time, in milliseconds, from the validated batch reaching the engine to the append resolving. */
  readonly durationMs: number;
  /** Events the call wrote (0 when it threw; retried events already stored are not counted). */
  readonly events: number;
  /** Set when the append threw (a concurrency conflict, a unique violation, a failed fsync …). */
  readonly error?: unknown;
}

/** A batch that committed: the events it wrote, in sequence order (retried events are not among them). */
export interface CommitNotice {
  readonly events: readonly StoredEvent[];
  readonly firstSequence: number;
  readonly lastSequence: number;
}

/** A change other than an append that alters what reads return. */
export type ChangeNotice =
  | { readonly kind: 'deleteStream'; readonly aggregateId: string }
  | { readonly kind: 'cleanup'; readonly report: CleanupReport }
  | { readonly kind: 'restore'; readonly report: RestoreReport }
  | { readonly kind: 'retention' }
  | { readonly kind: 'refresh'; readonly lastSequence: number }
  /** An index was created, dropped or rebuilt: a query whose hints name it may now answer otherwise (or fail). */
  | { readonly kind: 'index'; readonly change: 'create' | 'drop' | 'rebuild'; readonly name: string };

/**
 * A plugin: what subscriptions, the result cache and metrics hang on (openEventStore's `plugins`).
 * Every hook is optional. Hooks run in the order the plugins were given. A hook that throws does
 * not undo or fail the call it observes (the write is already durable): the error is counted in
 * `stats().plugins`, and the other plugins still run.
 *
 * @example
 * const seen: number[] = [];
 * const store = await openEventStore({
 *   plugins: [{ name: 'tail', afterCommit: (commit) => seen.push(commit.lastSequence) }],
 * });
 */
export interface StorePlugin {
  readonly name: string;
  /** After a batch commits and is acknowledged, before the append that wrote it resolves. */
  afterCommit?(commit: CommitNotice): void;
  /** After a deletion, cleanup, restore, retention change, index change or refresh, before the call resolves. */
  afterChange?(change: ChangeNotice): void;
  /**
   * Around each read that returns a whole result (every read but a stream): call `next()` for the
   * engine's answer, or answer without it (a cache). Runs before the read's rows are counted.
   */
  aroundRead?<R>(call: ReadCall, next: () => Promise<R>): Promise<R>;
  /** After each read, streams included, with its time and outcome. */
  afterRead?(observation: ReadObservation): void;
  /** After each append (append, appendToStream), with its time and outcome. */
  afterWrite?(observation: WriteObservation): void;
  /** When the store closes, after the engine closed. */
  close?(): void | Promise<void>;
}
