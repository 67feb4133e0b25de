import { ValidationError } from '../../../errors.js';
import { decodeBody, type DecodedBody } from '../../../codec/record-codec.js';
import type { EventReader } from '../table/event-reader.js';
import { EventColumnsReader } from '../table/event-columns-reader.js';
import type { EventColumns, EventColumnsRequest } from '../../../analytics/export/event-columns.js';
import type { EventTable } from '../table/event-table.js';
import type { IndexManager } from '../indexes/index-manager.js';
import type { Statistics } from '../indexes/statistics.js';
import type { EventQuery } from '../../../query/ast.js';
import type { ColumnFilter } from './column-filter.js';
import { startRun } from './executor.js';
import { hydrateRows } from './operators/hydrate.js';
import { DONE, type RowCursor, type Run } from './operators/operator.js';
import { sortKeyOf } from './operators/row-order.js';
import { accessOf, indexesOf } from './plan-nodes.js';
import { explainPlan } from './explain.js';
import { type Explanation } from '../../../query/explanation.js';
import { ParallelScanPool } from './parallel-scan.js';
import { QueryGuard } from './query-guard.js';
import { createExecutionPlan, type QueryPlan } from './query-optimizer.js';
import { inSequenceOrder, validateQuery } from '../../../query/validate-query.js';
import { encodeCursor } from '../../../query/cursor.js';
import { f } from '../../../query/ast.js';
import { fingerprint } from '../../../query/fingerprint.js';
import { PlanCache } from './plan-cache.js';
import { type PlanCacheStats } from '../../store-stats.js';
import { QueryMonitor } from './query-monitor.js';
import { requireObject } from '../../../query/criteria.js';
import { describe } from '../../../support/describe.js';
import type { ResultPage, ResultRow, RunOptions } from '../../../query/results.js';
import { turn } from '../../../support/turn.js';
import { systemClock, type Clock } from '../../../events/clock.js';
import { validateAnalytics } from '../../../analytics/validate-analytics.js';
import { planAnalytics } from './analytics/plan-analytics.js';
import { runAnalytics, type AnalyticsRun } from './analytics/run-analytics.js';
import { rowPlansOf, type AnalyticsNode } from './analytics/analytics-nodes.js';
import { explainAnalytics } from './analytics/explain-analytics.js';
import { tableSources } from './analytics/dense-group-by.js';
import { requireNonEmptyString } from '../../../support/require-string.js';
import type { QueryObserver, QueryProfile } from '../../query-profile.js';
import { AnalyticsProfile, RunProfile } from './run-profile.js';

const NO_BODY: DecodedBody = Object.freeze({ id: '', tags: {}, payload: undefined, metadata: {} });

/**
 * In sequence order a cursor is a sequence bound, so it becomes one more filter term: the planner
 * then seeks past it in every index instead of filtering rows. Other orders filter while sorting.
 */
function seekPastCursor(query: EventQuery): EventQuery {
  const after = query.after;
  if (after === undefined || !inSequenceOrder(query.orderBy)) return query;
  const bound =
    query.orderBy[0]?.direction === 'desc'
      ? f.lt('sequence', after.sequence)
      : f.gt('sequence', after.sequence);
  return { ...query, filter: query.filter.kind === 'all' ? bound : f.and(query.filter, bound) };
}

const DEFAULT_BATCH = 1000;
/** Results of at least this many rows have their decoding timed apart in a query's profile. */
const DECODE_TIMED_ROWS = 64;

/**
 * Which rows reads may see (src/storage/embedded/retention/visibility.ts), asked afresh for each query: deadlines
 * move with the clock.
 */
export interface RowVisibility {
  /** A test for hidden rows, checked row by row; undefined when nothing can be hidden. */
  hidden(): ((row: number) => boolean) | undefined;
  /** The rows hidden() leaves, as column terms for vectorized plans; undefined exactly when hidden() is. */
  columnFilter(): ColumnFilter | undefined;
}

/** Runs EventQuery ASTs against the embedded table: plan, guard, execute, hydrate. */
export class QueryEngine {
  private readonly running = new Map<string, AbortController>();
  private readonly cache = new PlanCache();
  readonly monitor = new QueryMonitor();
  /** Called after every executed query: the advisor's auto mode hooks in here. */
  onQuery: (() => void) | undefined;
  /**
   * Told how each query ran (the performance monitor, through StorageEngine.observeQueries). Without
   * one, a query takes no extra clock readings and makes no profile.
   */
  observer: QueryObserver | undefined;
  private sequence = 0;
  private readonly pool: ParallelScanPool;
  private columnsReader: EventColumnsReader | undefined;

  constructor(
    private readonly table: EventTable,
    private readonly reader: EventReader,
    private readonly indexes: IndexManager,
    private readonly statistics: Statistics,
    /** Rows reads must not see (deleted streams, expired events, removed rows); none without it. */
    private readonly visibility?: RowVisibility,
    /** The store's clock: an absent pattern step's window closes by it. */
    private readonly clock: Clock = systemClock,
  ) {
    this.pool = new ParallelScanPool(table);
  }

  /**
   * A record reader that decodes each row at most once in a row, however many predicates ask. A row
   * a cleanup removed while the query ran (a parallel scan's answer checked after an await) has no
   * record: it reads as an event with nothing in it, and the engine leaves the row out (present).
   */
  private bodyReader(): (row: number) => DecodedBody {
    let lastRow = -1;
    let last: DecodedBody | undefined;
    return (row) => {
      if (row !== lastRow || last === undefined) {
        last = this.table.isRemoved(row) ? NO_BODY : this.reader.decodeRecord(row, decodeBody);
        lastRow = row;
      }
      return last;
    };
  }

  /**
   * Plans a query: through the plan cache, which remembers the access path chosen for each query
   * fingerprint; EXPLAIN (`fresh`) always weighs every alternative, so it can show them.
   */
  plan(original: EventQuery, fresh = false): { plan: QueryPlan; body: (row: number) => DecodedBody } {
    validateQuery(original);
    const query = seekPastCursor(original);
    const body = this.bodyReader();
    const key = fingerprint(query);
    const { generation } = this.indexes;
    const rows = this.table.rows;
    const usable = this.indexes.usable();
    const context = {
      userIndexes: usable,
      statistics: this.statistics,
      workers: this.pool.size,
      isHidden: this.visibility?.hidden(),
      visible: this.visibility?.columnFilter(),
    };
    if (fresh) {
      const plan = createExecutionPlan(this.table, query, body, context);
      return { plan: { ...plan, fingerprint: key, planCache: this.cache.holds(key) ? 'hit' : 'miss' }, body };
    }
    const cached = this.cache.lookup(key, generation, rows);
    let plan: QueryPlan | undefined;
    if (cached !== undefined) {
      // A hit builds only the cached path. A cached scan is weighed afresh instead: new constants
      // may make an index worth it, and next to a scan the planning costs nothing.
      const scan = cached.index === 'scan';
      plan = createExecutionPlan(
        this.table,
        query,
        body,
        scan ? context : { ...context, only: cached.index },
      );
      if (plan.access.index === cached.index && !this.cache.surprised(cached, plan.access.estimatedRows)) {
        return { plan: { ...plan, fingerprint: key, planCache: 'hit' }, body };
      }
      this.cache.reject(key);
      if (!scan) plan = undefined;
    }
    plan ??= createExecutionPlan(this.table, query, body, context);
    this.cache.store(key, {
      index: plan.access.index,
      estimatedRows: plan.access.estimatedRows,
      generation,
      rows,
    });
    return { plan: { ...plan, fingerprint: key, planCache: 'miss' }, body };
  }

  planCacheStats(): PlanCacheStats {
    return this.cache.stats();
  }

  private begin(query: EventQuery, options: RunOptions): { guard: QueryGuard; end: () => void } {
    checkRunOptions(options);
    const named = options.queryId !== undefined;
    const queryId = options.queryId ?? `q${++this.sequence}`;
    // Only a named query can be cancelled by cancelQuery(); an unnamed one without a signal skips
    // the AbortController and the registry, a measurable share of a microsecond lookup.
    if (!named && options.signal === undefined) {
      const guard = new QueryGuard(queryId, undefined, query.hints.timeout);
      guard.check();
      return { guard, end: () => undefined };
    }
    if (this.running.has(queryId)) {
      throw new ValidationError(
        'options.queryId',
        `query ${JSON.stringify(queryId)} is already running; ids must be unique while running`,
      );
    }
    const controller = new AbortController();
    const abort = () => controller.abort();
    if (options.signal?.aborted) controller.abort();
    options.signal?.addEventListener('abort', abort, { once: true });
    if (named) this.running.set(queryId, controller);
    const guard = new QueryGuard(queryId, controller.signal, query.hints.timeout);
    guard.check();
    return {
      guard,
      end: () => {
        options.signal?.removeEventListener('abort', abort);
        if (named) this.running.delete(queryId);
      },
    };
  }

  execute(query: EventQuery, options: RunOptions = {}): Promise<ResultRow[]> {
    if (query?.analytics !== undefined) return this.analyze(query, options).then(({ rows }) => rows);
    return this.run(query, options, (rows, _, plan) => hydrateRows(plan.root, this.reader, rows));
  }

  /**
   * One page of results and a cursor for the next (undefined once there is none): keyset
   * pagination, so page 1,000 costs what page 1 does. Pass the cursor back with `after`.
   */
  page(query: EventQuery, options: RunOptions = {}): Promise<ResultPage> {
    // Analytics rows are paged with offset and limit: the page is the whole (limited) result.
    if (query?.analytics !== undefined) return this.analyze(query, options).then(({ rows }) => ({ rows }));
    return this.run(query, options, (rows, body, plan) => {
      const last = rows[rows.length - 1];
      const more = last !== undefined && query.limit !== undefined && rows.length === query.limit;
      const order = query.orderBy;
      const cursor = more
        ? encodeCursor(
            {
              sequence: last + 1,
              ...(inSequenceOrder(order) ? {} : { keys: sortKeyOf(order, this.table, body, last) }),
            },
            order,
          )
        : undefined;
      return { rows: hydrateRows(plan.root, this.reader, rows), ...(cursor === undefined ? {} : { cursor }) };
    });
  }

  private async run<T>(
    query: EventQuery,
    options: RunOptions,
    finish: (rows: number[], body: (row: number) => DecodedBody, plan: QueryPlan) => T,
  ): Promise<T> {
    const observer = this.observer;
    const { plan, body } = this.plan(query);
    const { guard, end } = this.begin(query, options);
    const run = startRun(this.table, body, guard, this.pool);
    const started = performance.now();
    try {
      const rows = await run.rows(plan.root, Infinity);
      // Decoding is timed apart only for results big enough for it to matter: a point query keeps
      // its decode within the row search rather than pay one more clock reading (~0.1 µs) for it.
      const timed = observer !== undefined && rows.length >= DECODE_TIMED_ROWS;
      const selected = timed ? performance.now() : 0;
      const out = finish(rows, body, plan);
      const ended = this.finished(plan, run, started, rows.length);
      if (observer !== undefined) {
        const searched = timed ? selected : ended;
        const profile = new RunProfile(
          guard.queryId,
          query,
          plan,
          run,
          started,
          searched - started,
          ended - searched,
          rows.length,
        );
        this.observe(observer, profile);
      }
      return out;
    } finally {
      end();
    }
  }

  /** Counts a run plan: index usage, and the query statistics the advisor reads. Returns when it ended. */
  private finished(plan: QueryPlan, run: Run, started: number, returned: number): number {
    const ended = performance.now();
    for (const index of indexesOf(plan.root)) this.indexes.recordUse(index);
    this.monitor.record(
      plan.fingerprint ?? '',
      plan.query,
      plan.access.index,
      ended - started,
      run.actual.get(accessOf(plan.root)) ?? 0,
      returned,
    );
    this.onQuery?.();
    return ended;
  }

  /** An observer's failure is its own: the query it watched has already answered. */
  private observe(observer: QueryObserver, profile: QueryProfile): void {
    try {
      observer(profile);
    } catch {
      // The observer (the performance monitor) counts its own failures; a query never fails for it.
    }
  }

  /**
   * Streams results page by page (hints.batchSize rows, default 1000), hydrating each page only
   * when the consumer asks for it: memory stays at one page for queries in sequence order. Other
   * orders first collect the matching row numbers (4-8 bytes a row) to sort them.
   */
  async *stream(query: EventQuery, options: RunOptions = {}): AsyncGenerator<ResultRow, void, undefined> {
    // Analytics rows are computed whole (groups are only complete at the end), then streamed.
    if (query?.analytics !== undefined) {
      yield* (await this.analyze(query, options)).rows;
      return;
    }
    const pageRows = query.hints.batchSize ?? DEFAULT_BATCH;
    for await (const { root, rows } of this.rowPages(query, options, pageRows, true))
      yield* hydrateRows(root, this.reader, rows);
  }

  /**
   * A query of whole events (no select, no analytics) as export columns, `request.batchRows` rows a
   * batch, read as the consumer asks: the stream above without a StoredEvent per row (see
   * EventColumnsReader). Memory holds one batch of row numbers and its columns.
   */
  async *eventColumns(
    query: EventQuery,
    request: EventColumnsRequest,
    options: RunOptions = {},
  ): AsyncGenerator<EventColumns, void, undefined> {
    if (query?.analytics !== undefined || query?.select !== undefined) {
      throw new ValidationError(
        'query',
        'event columns are for queries of whole events (no select, no analytics)',
      );
    }
    const columns = (this.columnsReader ??= new EventColumnsReader(this.table, this.reader));
    let returned = 0;
    for await (const { rows } of this.rowPages(query, options, request.batchRows, false)) {
      // An empty last page is a batch only when there was no other: an export always has one.
      if (rows.length > 0 || returned === 0) yield columns.columns(rows, returned);
      returned += rows.length;
    }
  }

  /**
   * A query's row numbers, `pageRows` a page, as the consumer asks for them: the run is planned and
   * guarded, the next page read only after the consumer took the last one (then the event loop gets
   * a turn and the guard its check), and the run is timed (and, with `observe`, shown to the
   * performance monitor) when the consumer stops. The last page may be empty.
   */
  private async *rowPages(
    query: EventQuery,
    options: RunOptions,
    pageRows: number,
    observe: boolean,
  ): AsyncGenerator<{ root: QueryPlan['root']; rows: number[] }, void, undefined> {
    const { plan, body } = this.plan(query);
    const { guard, end } = this.begin(query, options);
    const started = performance.now();
    const run = startRun(this.table, body, guard, this.pool);
    let returned = 0;
    let cursor: RowCursor | undefined;
    try {
      cursor = await run.open(plan.root, Infinity);
      let page: number[] = [];
      for (let row = cursor.next(); row !== DONE; row = cursor.next()) {
        page.push(row);
        if (page.length >= pageRows) {
          returned += page.length;
          yield { root: plan.root, rows: page };
          page = [];
          await turn();
          guard.check();
        }
      }
      returned += page.length;
      yield { root: plan.root, rows: page };
    } finally {
      cursor?.close();
      end();
      // Time includes the consumer's: a stream's pace is set by whoever reads it.
      const ended = this.finished(plan, run, started, returned);
      const observer = this.observer;
      if (observe && observer !== undefined) {
        this.observe(
          observer,
          new RunProfile(guard.queryId, query, plan, run, started, ended - started, 0, returned),
        );
      }
    }
  }

  async explain(query: EventQuery, analyze: boolean): Promise<Explanation> {
    if (query?.analytics !== undefined) return this.explainAnalytics(query, analyze);
    const { plan, body } = this.plan(query, true);
    const { guard, end } = this.begin(query, {});
    try {
      if (!analyze) return explainPlan(guard.queryId, plan);
      const run = startRun(this.table, body, guard, this.pool);
      const started = performance.now();
      const rows = await run.rows(plan.root, Infinity);
      const selected = performance.now();
      hydrateRows(plan.root, this.reader, rows);
      const timeMs = performance.now() - started;
      // It ran: it counts for index usage, the advisor and the monitor like any executed query.
      const ended = this.finished(plan, run, started, rows.length);
      const observer = this.observer;
      if (observer !== undefined) {
        this.observe(
          observer,
          new RunProfile(
            guard.queryId,
            query,
            plan,
            run,
            started,
            selected - started,
            ended - selected,
            rows.length,
          ),
        );
      }
      return explainPlan(guard.queryId, plan, { actual: run.actual, timeMs });
    } finally {
      end();
    }
  }

  /**
   * Runs a query with analytics: its filter's row plan selects the events, the analytics plan
   * (analytics/plan-analytics.ts) groups, buckets, matches or joins them, then orders and cuts the
   * output rows.
   */
  private async analyze(
    query: EventQuery,
    options: RunOptions,
  ): Promise<{
    rows: Record<string, unknown>[];
    root: AnalyticsNode;
    run: AnalyticsRun;
    rowRun: Run;
    timeMs: number;
  }> {
    const root = this.planAnalytics(query, false);
    const { guard, end } = this.begin(query, options);
    const body = this.bodyReader();
    const rowRun = startRun(this.table, body, guard, this.pool);
    const run: AnalyticsRun = {
      table: this.table,
      reader: this.reader,
      body,
      guard,
      selectRows: (plan) => selectRowsOf(plan, rowRun, this.table),
      now: () => this.clock.now(),
      sources: tableSources(this.table),
      actual: new Map(),
      pool: this.pool,
      forceParallel: query.hints.parallel === true,
      workers: new Map(),
      joinReads: new Map(),
    };
    const started = performance.now();
    try {
      const rows = await runAnalytics(root, run);
      const timeMs = performance.now() - started;
      for (const plan of rowPlansOf(root)) this.finished(plan, rowRun, started, rows.length);
      const observer = this.observer;
      const rowPlan = rowPlansOf(root)[0];
      if (observer !== undefined && rowPlan !== undefined) {
        const explain = () =>
          explainAnalytics(guard.queryId, root, explainPlan(guard.queryId, rowPlan), {
            actual: run.actual,
            rowActual: rowRun.actual,
            timeMs,
          });
        const shape = analyticsFingerprint(query);
        this.observe(
          observer,
          new AnalyticsProfile(
            guard.queryId,
            shape,
            query,
            rowPlan,
            rowRun,
            started,
            timeMs,
            rows.length,
            explain,
          ),
        );
      }
      return { rows, root, run, rowRun, timeMs };
    } finally {
      end();
    }
  }

  private planAnalytics(query: EventQuery, fresh: boolean): AnalyticsNode {
    validateQuery(query);
    validateAnalytics(query.analytics);
    return planAnalytics(query, {
      table: this.table,
      planRows: (rowQuery) => this.plan(rowQuery, fresh).plan,
      hasFieldColumn: (field) => this.table.hasFieldColumn(field),
      workers: this.pool.size,
    });
  }

  private async explainAnalytics(query: EventQuery, analyze: boolean): Promise<Explanation> {
    if (!analyze) {
      const root = this.planAnalytics(query, true);
      const events = rowPlansOf(root)[0] as QueryPlan;
      return explainAnalytics(`q${++this.sequence}`, root, explainPlan('', events));
    }
    const { root, run, rowRun, timeMs } = await this.analyze(query, {});
    const events = rowPlansOf(root)[0] as QueryPlan;
    return explainAnalytics(run.guard.queryId, root, explainPlan(run.guard.queryId, events), {
      actual: run.actual,
      workers: run.workers,
      ...(run.joinReads === undefined ? {} : { joinReads: run.joinReads }),
      rowActual: rowRun.actual,
      timeMs,
    });
  }

  /** Ends the scan workers, if any were started. */
  close(): Promise<void> {
    return this.pool.close();
  }

  /** Cancels a running query by id; returns whether one was running. */
  cancel(queryId: string): boolean {
    const controller = this.running.get(queryId);
    controller?.abort();
    return controller !== undefined;
  }
}

/**
 * An analytics query's shape for the monitor: which analytics parts, grouped and aggregated how,
 * over which filter shape. Constants (bucket widths, windows, values) are left out like the filter's.
 */
function analyticsFingerprint(query: EventQuery): string {
  const spec = query.analytics ?? {};
  const parts = Object.keys(spec).sort().join('+');
  const groups = spec.groupBy?.join(',') ?? '';
  const aggregates = spec.aggregates === undefined ? '' : Object.keys(spec.aggregates).sort().join(',');
  return `analytics(${parts};${groups};${aggregates})|${fingerprint(query)}`;
}

/**
 * The rows of an analytics query's filter, as an Int32Array: a plain scan of a table without holes
 * (no filter, nothing hidden) is the row range itself, made without a row list; anything else runs
 * its plan.
 */
async function selectRowsOf(plan: QueryPlan, run: Run, table: EventTable): Promise<Int32Array> {
  const child = plan.root.child;
  if (child.kind === 'Scan' && !table.hasHoles && plan.root.select === undefined) {
    const rows = new Int32Array(child.estimatedRows);
    for (let i = 0; i < rows.length; i++) rows[i] = child.firstRow + i;
    run.count(child, rows.length);
    run.count(plan.root, rows.length);
    return rows;
  }
  return Int32Array.from(await run.rows(plan.root, Infinity));
}

/** Checked before a query starts: a wrong `signal` or `queryId` would otherwise fail deep inside with a TypeError. */
function checkRunOptions(options: unknown): asserts options is RunOptions {
  const input = requireObject(options, 'options');
  const { signal, queryId } = input;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new ValidationError('options.signal', `must be an AbortSignal, got ${describe(signal)}`);
  }
  if (queryId !== undefined) requireNonEmptyString(queryId, 'options.queryId');
}
