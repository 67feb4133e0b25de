import {
  ReadOnlyError,
  StoreClosedError,
  UnsupportedError,
  ValidationError,
  type ExpectedVersion,
} from '../errors.js';
import type { Clock } from '../events/clock.js';
import { checkClockSkew, type OnFutureEvent } from '../events/clock-skew.js';
import { requireDense } from '../events/dense-list.js';
import type { NewEvent, StoredEvent } from '../events/types.js';
import { toEpochMs, validateBatch, type ValidEvent } from '../events/validate.js';
import { AdvancedQueryBuilder, type QueryRunner } from '../builder/advanced-query-builder.js';
import type { EventQuery } from '../query/ast.js';
import {
  normalizeCriteria,
  optionalInteger,
  requireObject,
  type QueryCriteria,
  type QueryEventsOptions,
  type TimeInput,
} from '../query/criteria.js';
import { criteriaToQuery } from '../query/criteria-to-query.js';
import type { Explanation } from '../query/explanation.js';
import type { Indexes } from '../indexes/indexes.js';
import { refuseExpired } from '../retention/admission.js';
import type { CleanupOptions, CleanupReport } from '../retention/cleanup-report.js';
import { RetentionPolicy, type RetentionOptions } from '../retention/policy.js';
import type { RestoreOptions, RestoreReport } from '../retention/restore-report.js';
import type { StorageCapabilities, StorageEngine } from '../storage/storage-engine.js';
import type { StoreStats } from '../storage/store-stats.js';
import { describe } from '../support/describe.js';
import type { WriteGate } from '../support/write-gate.js';
import { archiveToQuery, mergeBySequence } from './archive-merge.js';
import { checkCleanupOptions, checkExpectedVersion, requireStreamName, streamEvents } from './arguments.js';
import type {
  AppendToStreamOptions,
  EventStore,
  GetEventsByTypeOptions,
  GetEventsOptions,
  RangeOptions,
  ReadOptions,
} from './event-store.js';
import type { ReadCall } from './hooks.js';
import type { StoreMonitor } from './store-monitor.js';
import type { PluginHost } from './plugin-host.js';
import type { BeforeCommitHook } from './before-commit.js';
import { ReadRunner } from './read-runner.js';
import { StoreAnalytics } from './store-analytics.js';
import { readFromSource } from './source-read.js';
import { validateAnalytics } from '../analytics/validate-analytics.js';
import { validateQuery } from '../query/validate-query.js';
import type { PipelineRow } from '../query/analytics-ast.js';
import type { ResultRow, RunOptions } from '../query/results.js';
import { runExport, type ExportSource } from './export-runner.js';
import type { ExportOptions, ExportResult } from '../analytics/export/export-options.js';
import { requireNonEmptyString } from '../support/require-string.js';
import type {
  SubscribeOptions,
  Subscription,
  SubscriptionInfo,
  SubscriptionService,
  WaitForOptions,
} from './subscription-types.js';
import { observeIndexes } from './observed-indexes.js';
import type { IQueryCache, QueryCacheAccess } from './query-cache-api.js';

/** What the facade needs besides the engine: the options every engine shares. */
export interface FacadeSettings {
  readonly clock: Clock;
  readonly maxEventSize: number;
  /** Milliseconds; Infinity when the check is off. */
  readonly futureTolerance: number;
  readonly onFutureEvent: OnFutureEvent;
  /** The store's directory, if it has one: archive paths in a retention policy resolve against it. */
  readonly dir: string | undefined;
  readonly writeGate: WriteGate;
  /** The store's hooks.beforeCommit, handed to the engine with every batch. */
  readonly beforeCommit?: BeforeCommitHook;
}

const countRows = (rows: readonly unknown[]): number => rows.length;

/**
 * The EventStore over any StorageEngine. It owns what every backend shares: validation at the
 * door, the open/closed/failed state and the write gate, criteria → AST, the archive merge, the one
 * read runner, and the plugins' hooks (after each commit or change, around each read). The engine
 * owns how events are kept and found (storage/storage-engine.ts).
 */
export class EventStoreFacade implements EventStore {
  private closed = false;
  /** Set when the engine lost its durability guarantee (a failed fsync): writes refuse until reopened. */
  private failure: Error | undefined;
  /** Restores run one after the other: the last one's end. */
  private restores: Promise<void> = Promise.resolve();
  private readonly runner: ReadRunner;
  private readonly writes: WriteGate;
  /** Commits begun, and those not yet through their notice: QueryCacheAccess.commits. */
  private readonly commits = { started: 0, inFlight: 0 };

  constructor(
    private readonly engine: StorageEngine,
    private readonly settings: FacadeSettings,
    private readonly plugins: PluginHost,
    /** The live parts' APIs, by name (store/live-part.ts). */
    private readonly live: {
      readonly monitor?: unknown;
      readonly subscriptions?: unknown;
      readonly cache?: unknown;
    } = {},
  ) {
    this.runner = new ReadRunner(plugins);
    this.writes = settings.writeGate;
    this.analytics = new StoreAnalytics({
      execute: (query) => this.builderRunner.execute(query) as Promise<PipelineRow[]>,
      now: () => settings.clock.now(),
    });
    this.indexes = observeIndexes(
      () => engine.indexes,
      (change) => this.plugins.afterChange(change),
    );
  }

  /** What the result cache (a live part) reads of the store, handed to it once the store is open. */
  queryCacheAccess(): QueryCacheAccess {
    const engine = this.engine;
    return {
      clock: this.settings.clock,
      retentionPolicy: () => engine.retention.policy,
      lastSequence: () => engine.stats().lastSequence,
      executeLive: (query) => engine.execute(query, {}),
      execute: (query) => this.builderRunner.execute(query),
      commits: this.commits,
    };
  }

  /** The result cache (docs/cache.md): off unless the store was opened with `cache`. */
  get cache(): IQueryCache {
    if (this.live.cache === undefined) {
      throw new UnsupportedError('cache', 'this store was opened without the result cache part');
    }
    return this.live.cache as IQueryCache;
  }

  /** Funnels and pipelines (docs/analytics.md). */
  readonly analytics: StoreAnalytics;

  /**
   * A builder query's rows: the engine's, or for `from('archive' | 'all')` archived events (and
   * live ones) read and worked over here.
   */
  private executeQuery(query: EventQuery, options: RunOptions): Promise<ResultRow[]> {
    if (query?.source === undefined || query.source === 'events') return this.engine.execute(query, options);
    this.requireCapability('archive', `from('${query.source}')`);
    validateQuery(query);
    if (query.analytics !== undefined) validateAnalytics(query.analytics);
    const archiveDir = this.engine.retention.policy.archiveDir;
    if (archiveDir === undefined) {
      throw new ValidationError(
        'from',
        'there is no archive to read: set retention.archive.dir (openEventStore or setRetention)',
      );
    }
    return readFromSource(query, {
      live: (input) => this.engine.execute(input, options),
      archived: (input) => this.engine.retention.queryArchive(archiveDir, input),
      now: () => this.settings.clock.now(),
    });
  }

  /** The engine's failure, as EngineContext.fail reports it. */
  engineFailed(error: Error): void {
    this.failure ??= error;
  }

  /** The subscriptions' hub (a live part): subscribe, subscriptions and waitFor hand off to it. */
  private get subscriptionService(): SubscriptionService {
    if (this.live.subscriptions === undefined) {
      throw new UnsupportedError('subscriptions', 'this store was opened without subscriptions');
    }
    return this.live.subscriptions as SubscriptionService;
  }

  /** The performance monitor (docs/monitoring.md). */
  get monitor(): StoreMonitor {
    if (this.live.monitor === undefined) {
      throw new UnsupportedError('monitor', 'this store was opened without the performance monitor');
    }
    return this.live.monitor as StoreMonitor;
  }

  /** What the engine under this store can do. */
  get capabilities(): StorageCapabilities {
    return this.engine.capabilities;
  }

  /** The engine's indexes; their changes reach the plugins (an `index` ChangeNotice). */
  readonly indexes: Indexes;

  async append<P = unknown>(
    events: NewEvent<NoInfer<P>> | readonly NewEvent<NoInfer<P>>[],
  ): Promise<StoredEvent<P>[]> {
    const entering = this.enterWrite('append');
    if (entering !== undefined) await entering;
    const list = Array.isArray(events) ? (events as readonly unknown[]) : [events];
    const valid = validateBatch(list, this.settings.clock, this.settings.maxEventSize);
    this.admit(valid, list);
    if (valid.length === 0) return [];
    return this.commit(valid, list) as Promise<StoredEvent<P>[]>;
  }

  async appendToStream<P = unknown>(
    aggregateId: string,
    events: readonly Omit<NewEvent<NoInfer<P>>, 'aggregateId'>[] | Omit<NewEvent<NoInfer<P>>, 'aggregateId'>,
    options: AppendToStreamOptions = {},
  ): Promise<StoredEvent<P>[]> {
    const entering = this.enterWrite('appendToStream');
    if (entering !== undefined) await entering;
    requireStreamName(aggregateId);
    if (this.engine.isStreamDeleted(aggregateId)) {
      throw new ValidationError(
        'aggregateId',
        `stream ${JSON.stringify(aggregateId)} was deleted (deleteAggregate) and takes no more events; nothing was written`,
        'AGGREGATE_DELETED',
      );
    }
    const expected = checkExpectedVersion(requireObject(options, 'options').expectedVersion ?? 'any');
    const list = (Array.isArray(events) ? events : [events]) as readonly Partial<NewEvent>[];
    requireDense(list, 'events');
    const valid = validateBatch(
      streamEvents(aggregateId, list),
      this.settings.clock,
      this.settings.maxEventSize,
    );
    this.admit(valid, list);
    return this.commit(valid, list, { aggregateId, expected }) as Promise<StoredEvent<P>[]>;
  }

  /**
   * Hands a validated batch to the engine (with the beforeCommit hook, which the engine runs just
   * before it writes), then tells the plugins, hooks.afterCommit last, what it wrote.
   */
  private async commit(
    valid: ValidEvent[],
    inputs: readonly unknown[],
    stream?: { aggregateId: string; expected: ExpectedVersion },
  ): Promise<StoredEvent[]> {
    const watched = this.plugins.watchesWrites;
    const started = watched ? performance.now() : 0;
    // Reads may see a batch before its notice (the engine writes, then waits for fsync): the
    // result cache folds new events into an answer only if no commit was under way as it was read.
    this.commits.started++;
    this.commits.inFlight++;
    let outcome;
    try {
      try {
        outcome = await this.engine.append({
          events: valid,
          givenIds: inputs.map((input) => (input as Partial<NewEvent>).id !== undefined),
          givenTimestamps: inputs.map((input) => (input as Partial<NewEvent>).timestamp !== undefined),
          ...(stream === undefined ? {} : { stream }),
          ...(this.settings.beforeCommit === undefined
            ? {}
            : { beforeCommit: this.settings.beforeCommit.call }),
        });
      } catch (error) {
        if (watched) this.observeWrite(stream, started, 0, error);
        throw error;
      }
      if (outcome.written.length > 0) {
        const notified = this.plugins.afterCommit(outcome.written);
        if (notified !== undefined) await notified;
      }
    } finally {
      this.commits.inFlight--;
    }
    if (watched) this.observeWrite(stream, started, outcome.written.length);
    return outcome.events;
  }

  /** Tells the plugins watching appends (the performance monitor) how one went. */
  private observeWrite(stream: object | undefined, started: number, events: number, error?: unknown): void {
    this.plugins.afterWrite({
      method: stream === undefined ? 'append' : 'appendToStream',
      durationMs: performance.now() - started,
      events,
      ...(error === undefined ? {} : { error }),
    });
  }

  /**
   * Event time checks that need the store's clock: too far in the future (refused or clamped, per
   * `futureTolerance` / `onFutureEvent`) or already past retention (refused). Before anything is
   * written, so a refusal changes nothing.
   */
  private admit(events: ValidEvent[], inputs: readonly unknown[]): void {
    const now = this.settings.clock.now();
    const { futureTolerance, onFutureEvent } = this.settings;
    const callerId = (i: number) => (inputs[i] as Partial<NewEvent>).id !== undefined;
    checkClockSkew(events, callerId, now, futureTolerance, onFutureEvent);
    refuseExpired(events, now, this.engine.retention.policy);
  }

  async getEvents<P = unknown>(
    aggregateId: string,
    options: GetEventsOptions = {},
  ): Promise<StoredEvent<P>[]> {
    this.assertOpen();
    requireStreamName(aggregateId);
    const input = requireObject(options, 'options');
    const request = {
      aggregateId,
      fromVersion: optionalInteger(input.fromVersion, 'options.fromVersion') ?? 1,
      toVersion: optionalInteger(input.toVersion, 'options.toVersion') ?? Infinity,
      limit: optionalInteger(input.limit, 'options.limit') ?? Infinity,
    };
    const call: ReadCall = { kind: 'stream', method: 'getEvents', request };
    return this.runner.run(call, () => this.engine.readStream(request), countRows) as Promise<
      StoredEvent<P>[]
    >;
  }

  async getEventsByType<P = unknown>(
    type: string,
    options: GetEventsByTypeOptions = {},
  ): Promise<StoredEvent<P>[]> {
    const { afterSequence, limit } = requireObject(options, 'options') as GetEventsByTypeOptions;
    requireNonEmptyString(type, 'type');
    return this.queryCriteria<P>('getEventsByType', { type, afterSequence, limit }, {});
  }

  async getEventsInRange<P = unknown>(
    start: TimeInput,
    end: TimeInput,
    options: RangeOptions = {},
  ): Promise<StoredEvent<P>[]> {
    const from = toEpochMs(start, 'start');
    const to = toEpochMs(end, 'end');
    if (to < from)
      throw new ValidationError('end', `must not be before start (${describe(start)}), got ${describe(end)}`);
    const limit = requireObject(options, 'options').limit as number | undefined;
    return this.queryCriteria<P>('getEventsInRange', { from, to, limit }, {});
  }

  async queryEvents<P = unknown>(
    criteria: QueryCriteria = {},
    options: QueryEventsOptions = {},
  ): Promise<StoredEvent<P>[]> {
    return this.queryCriteria<P>('queryEvents', criteria, options);
  }

  /**
   * A criteria read: criteria → AST, through the runner, merged with the archive when asked. Not
   * async itself (one turn fewer): its callers are, so what it throws still rejects their promise.
   */
  private queryCriteria<P>(
    method: 'getEventsByType' | 'getEventsInRange' | 'queryEvents',
    criteria: QueryCriteria,
    options: QueryEventsOptions,
  ): Promise<StoredEvent<P>[]> {
    this.assertOpen();
    const normalized = normalizeCriteria(criteria);
    const archiveDir = archiveToQuery(options, this.engine.retention.policy);
    if (archiveDir !== undefined) this.requireCapability('archive', 'includeArchived');
    const query = criteriaToQuery(normalized);
    const call: ReadCall = {
      kind: 'query',
      method,
      query,
      ...(archiveDir === undefined ? {} : { archiveDir }),
    };
    // Without the archive, the engine's promise as it is: no extra turn on the hottest reads.
    const read =
      archiveDir === undefined
        ? () => this.engine.execute(query, {}) as Promise<StoredEvent[]>
        : async (): Promise<StoredEvent[]> => {
            const live = (await this.engine.execute(query, {})) as StoredEvent[];
            return mergeBySequence(
              this.engine.retention.queryArchive(archiveDir, normalized),
              live,
              normalized,
            );
          };
    return this.runner.run(call, read, countRows) as Promise<StoredEvent<P>[]>;
  }

  query<P = unknown>(): AdvancedQueryBuilder<StoredEvent<P>> {
    return new AdvancedQueryBuilder<StoredEvent<P>>(this.builderRunner);
  }

  async explain(
    query: EventQuery | AdvancedQueryBuilder,
    options: { analyze?: boolean } = {},
  ): Promise<Explanation> {
    this.assertOpen();
    const ast = query instanceof AdvancedQueryBuilder ? query.toQuery() : query;
    return this.explainQuery(ast, requireObject(options, 'options').analyze === true);
  }

  private explainQuery(query: EventQuery, analyze: boolean): Promise<Explanation> {
    const call: ReadCall = { kind: 'explain', method: 'explain', query, analyze };
    return this.runner.run(
      call,
      () => this.engine.explain(query, analyze),
      () => 0,
    );
  }

  /** The builder's view of the store: every run checks the store is open and goes through the runner. */
  private readonly builderRunner: QueryRunner = {
    execute: async (query, options = {}) => {
      this.assertOpen();
      const call: ReadCall = { kind: 'query', method: 'execute', query };
      return this.runner.run(call, () => this.executeQuery(query, options), countRows);
    },
    page: async (query, options = {}) => {
      this.assertOpen();
      const call: ReadCall = { kind: 'query', method: 'page', query };
      const read =
        query?.source === undefined || query.source === 'events'
          ? () => this.engine.page(query, options)
          : async () => ({ rows: await this.executeQuery(query, options) });
      return this.runner.run(call, read, (page) => page.rows.length);
    },
    stream: (query, options = {}) => {
      this.assertOpen();
      const read =
        query?.source === undefined || query.source === 'events'
          ? () => this.engine.stream(query, options)
          : async function* (this: EventStoreFacade) {
              yield* await this.executeQuery(query, options);
            }.bind(this);
      return this.runner.stream({ kind: 'query', method: 'stream', query }, read);
    },
    explain: async (query, options = {}) => {
      this.assertOpen();
      return this.explainQuery(query, requireObject(options, 'options').analyze === true);
    },
    exportEvents: (query, request) => {
      this.assertOpen();
      const engine = this.engine;
      const exportEvents = engine.exportEvents;
      const wholeLiveEvents =
        query?.select === undefined &&
        query?.analytics === undefined &&
        (query?.source === undefined || query.source === 'events');
      if (exportEvents === undefined || !wholeLiveEvents) return undefined;
      // A read the plugins see as the stream it replaces: afterRead counts rows, not batches.
      return this.runner.stream(
        { kind: 'query', method: 'stream', query },
        () => exportEvents.call(engine, query, request),
        (batch) => batch.length,
      );
    },
  };

  /**
   * Export (store/export-runner.ts): queries stream through the builder's runner, so every export
   * is a read the plugins see; a pipeline goes through `analytics.pipeline` when the store has it.
   */
  async export(source: ExportSource, options: ExportOptions): Promise<ExportResult> {
    this.assertOpen();
    return runExport(source, options, {
      stream: (query) => this.builderRunner.stream(query),
      exportEvents: (query, request) => this.builderRunner.exportEvents?.(query, request),
      analytics: this.analytics,
    });
  }

  async read<P = unknown>(options: ReadOptions = {}): Promise<StoredEvent<P>[]> {
    this.assertOpen();
    const input = requireObject(options, 'options');
    const request = {
      fromSequence: optionalInteger(input.fromSequence, 'options.fromSequence') ?? 1,
      limit: optionalInteger(input.limit, 'options.limit') ?? Infinity,
    };
    const call: ReadCall = { kind: 'global', method: 'read', request };
    return this.runner.run(call, () => this.engine.readAll(request), countRows) as Promise<StoredEvent<P>[]>;
  }

  subscribe<P = unknown>(options?: SubscribeOptions): Subscription<P> {
    this.assertOpen();
    return this.subscriptionService.subscribe<P>(options);
  }

  subscriptions(): SubscriptionInfo[] {
    this.assertOpen();
    return this.subscriptionService.subscriptions();
  }

  async waitFor(sequence: number, options?: WaitForOptions): Promise<void> {
    this.assertOpen();
    return this.subscriptionService.waitFor(sequence, options);
  }

  /**
   * Replaces the retention policy at run time; events it expires disappear from reads at once.
   * `undefined` keeps everything. A bad policy throws a ValidationError naming the value, and the
   * old policy stays.
   */
  setRetention(retention: RetentionOptions | undefined): void {
    this.assertOpen();
    this.engine.retention.policy = RetentionPolicy.from(retention, 'retention', this.settings.dir);
    this.plugins.afterChange({ kind: 'retention' });
  }

  /**
   * Deletes a stream (erasure): its events disappear at once from every read, query and count, and
   * appending to it again is refused. Durable (fsync'ed) when this resolves; survives restart.
   * Resolves false when the stream was deleted already.
   */
  async deleteAggregate(aggregateId: string): Promise<boolean> {
    const entering = this.enterWrite('deleteAggregate');
    if (entering !== undefined) await entering;
    requireStreamName(aggregateId);
    this.requireCapability('erasure', 'deleteAggregate');
    const deleted = await this.engine.deleteStream(aggregateId);
    if (deleted) this.plugins.afterChange({ kind: 'deleteStream', aggregateId });
    return deleted;
  }

  async cleanup(options: CleanupOptions = {}): Promise<CleanupReport> {
    this.refuseIfReadOnly('cleanup');
    this.settings.beforeCommit?.refuseReentry('cleanup');
    this.assertWritable();
    const report = await this.engine.retention.cleanup(checkCleanupOptions(options));
    this.plugins.afterChange({ kind: 'cleanup', report });
    return report;
  }

  /**
   * Restores archived events into this store with their sequence numbers, ids and bytes (see the
   * engine's restore). Writes wait from the call on, so one issued after it lands after the
   * restore, whatever path that takes; reads go on.
   */
  async restoreArchive(archiveDir: string, options: RestoreOptions = {}): Promise<RestoreReport> {
    this.refuseIfReadOnly('restoreArchive');
    this.settings.beforeCommit?.refuseReentry('restoreArchive');
    // One restore at a time, each deciding its path from the store as it finds it.
    const run = this.restores.then(async () => {
      this.assertWritable();
      this.requireCapability('archive', 'restoreArchive');
      const report = await this.engine.retention.restore(archiveDir, options);
      this.plugins.afterChange({ kind: 'restore', report });
      return report;
    });
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.restores = settled;
    this.writes.holdUntil(settled);
    return run;
  }

  cancelQuery(queryId: string): boolean {
    return this.engine.cancelQuery(queryId);
  }

  stats(): StoreStats {
    this.assertOpen();
    const stats = this.engine.stats();
    if (this.plugins.size > 0) stats.plugins = this.plugins.stats();
    return stats;
  }

  async flush(): Promise<void> {
    const entering = this.enterWrite('flush');
    if (entering !== undefined) await entering;
    await this.engine.flush();
  }

  async checkpoint(): Promise<void> {
    const entering = this.enterWrite('checkpoint');
    if (entering !== undefined) await entering;
    await this.engine.checkpoint();
  }

  /**
   * Read-only: brings in what the writer in another process did since the last refresh (new
   * appends; after a cleanup, restore, deletion or index change, the store is loaded afresh).
   * Resolves with the last sequence now visible. A writable store has nothing to bring in.
   */
  async refresh(): Promise<number> {
    this.assertOpen();
    const lastSequence = await this.engine.refresh();
    if (this.engine.capabilities.readOnly) this.plugins.afterChange({ kind: 'refresh', lastSequence });
    return lastSequence;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.writes.passage();
    if (this.closed) return;
    this.closed = true;
    try {
      await this.engine.close();
    } finally {
      await this.plugins.close();
    }
  }

  /**
   * A write's way in: refused on a read-only store, then past the write gate, then writable.
   * Undefined when the write may go on in the same step: no turn of the event loop, so a write
   * lands before anything called after it (an append and then a read, without awaiting).
   */
  private enterWrite(operation: string): Promise<void> | undefined {
    this.refuseIfReadOnly(operation);
    this.settings.beforeCommit?.refuseReentry(operation);
    const waiting = this.writes.passage();
    if (waiting === undefined) {
      this.assertWritable();
      return undefined;
    }
    return waiting.then(() => this.assertWritable());
  }

  /** Every write refuses on a read-only store, before it changes anything. */
  private refuseIfReadOnly(operation: string): void {
    if (this.engine.capabilities.readOnly) throw new ReadOnlyError(operation, this.settings.dir ?? '');
  }

  private requireCapability(capability: keyof StorageCapabilities, operation: string): void {
    if (!this.engine.capabilities[capability])
      throw new UnsupportedError(capability, `${operation} needs an engine with ${capability}`);
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }

  private assertWritable(): void {
    this.assertOpen();
    if (this.failure !== undefined) {
      throw new StoreClosedError(
        `an earlier fsync failed (${this.failure.message}); reopen the store to recover`,
      );
    }
  }
}
