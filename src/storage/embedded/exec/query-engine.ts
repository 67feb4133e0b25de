import { ValidationError } from '../../../errors.js';
import { decodeBody, type DecodedBody } from '../../../codec/record-codec.js';
import type { EventReader } from '../table/event-reader.js';
import type { EventTable } from '../table/event-table.js';
import type { IndexManager } from '../indexes/index-manager.js';
import type { Statistics } from '../indexes/statistics.js';
import type { EventQuery } from '../../../query/ast.js';
import type { ColumnFilter } from './column-filter.js';
import { project, selectRows, sortKeyOf, type ExecutionCounts } from './executor.js';
import { explainPlan } from './explain.js';
import { type Explanation } from '../../../query/explanation.js';
import { ParallelScanPool } from './parallel-scan.js';
import { CHECK_EVERY, QueryGuard } from './query-guard.js';
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
import { requireNonEmptyString } from '../../../support/require-string.js';

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
  private sequence = 0;
  private readonly pool: ParallelScanPool;

  constructor(
    private readonly table: EventTable,
    private readonly reader: EventReader,
    private readonly indexes: IndexManager,
    private readonly statistics: Statistics,
    /** Rows reads must not see (deleted streams, expired events, removed rows); none without it. */
    private readonly visibility?: RowVisibility,
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
    return this.run(query, options, (rows) => this.hydrate(rows, query));
  }

  /**
   * One page of results and a cursor for the next (undefined once there is none): keyset
   * pagination, so page 1,000 costs what page 1 does. Pass the cursor back with `after`.
   */
  page(query: EventQuery, options: RunOptions = {}): Promise<ResultPage> {
    return this.run(query, options, (rows, body) => {
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
      return { rows: this.hydrate(rows, query), ...(cursor === undefined ? {} : { cursor }) };
    });
  }

  private async run<T>(
    query: EventQuery,
    options: RunOptions,
    finish: (rows: number[], body: (row: number) => DecodedBody) => T,
  ): Promise<T> {
    const { plan, body } = this.plan(query);
    const { guard, end } = this.begin(query, options);
    const counts: ExecutionCounts = { examined: 0, matched: 0 };
    const started = performance.now();
    try {
      const rows = await this.selectPresent(plan, body, guard, counts);
      const out = finish(rows, body);
      this.finished(plan, started, counts.examined, rows.length);
      return out;
    } finally {
      end();
    }
  }

  /** Counts a run plan: index usage, and the query statistics the advisor reads. */
  private finished(plan: QueryPlan, started: number, examined: number, returned: number): void {
    if (plan.access.index !== 'scan') {
      for (const part of plan.access.parts ?? [plan.access]) this.indexes.recordUse(part.index);
    }
    this.monitor.record(
      plan.fingerprint ?? '',
      plan.query,
      plan.access.index,
      performance.now() - started,
      examined,
      returned,
    );
    this.onQuery?.();
  }

  /**
   * Streams results page by page (hints.batchSize rows, default 1000), hydrating each page only
   * when the consumer asks for it: memory stays at one page for queries in sequence order. Other
   * orders first collect the matching row numbers (4-8 bytes a row) to sort them.
   */
  async *stream(query: EventQuery, options: RunOptions = {}): AsyncGenerator<ResultRow, void, undefined> {
    const { plan, body } = this.plan(query);
    const { guard, end } = this.begin(query, options);
    const batch = query.hints.batchSize ?? DEFAULT_BATCH;
    const started = performance.now();
    const counts: ExecutionCounts = { examined: 0, matched: 0 };
    const table = this.table;
    const { generation } = table;
    let returned = 0;
    try {
      if (!plan.sorted) {
        const rows = await selectRows(plan, table, body, guard, this.pool, counts);
        for (let i = 0; i < rows.length; i += batch) {
          guard.check();
          const page = this.present(rows.slice(i, i + batch), generation);
          returned += page.length;
          yield* this.hydrate(page, query);
          await turn();
        }
        return;
      }
      const source = plan.access.rows();
      const offset = query.offset ?? 0;
      const limit = query.limit ?? Infinity;
      let skipped = 0;
      let page: number[] = [];
      const step = plan.descending ? -1 : 1;
      for (
        let i = plan.descending ? source.length - 1 : 0;
        i >= 0 && i < source.length && returned + page.length < limit;
        i += step
      ) {
        if (++counts.examined % CHECK_EVERY === 0) guard.check();
        const row = source.at(i);
        // `source` is the index as the stream began: since then cleanup may have removed rows.
        if (table.generation !== generation && table.isRemoved(row)) continue;
        if (!plan.predicate(row)) continue;
        if (skipped < offset) {
          skipped++;
          continue;
        }
        page.push(row);
        if (page.length >= batch) {
          returned += page.length;
          yield* this.hydrate(page, query);
          page = [];
          await turn();
          guard.check();
        }
      }
      returned += page.length;
      if (page.length > 0) yield* this.hydrate(page, query);
    } finally {
      end();
      // Time includes the consumer's: a stream's pace is set by whoever reads it.
      this.finished(plan, started, counts.examined, returned);
    }
  }

  async explain(query: EventQuery, analyze: boolean): Promise<Explanation> {
    const { plan, body } = this.plan(query, true);
    const { guard, end } = this.begin(query, {});
    try {
      if (!analyze) return explainPlan(guard.queryId, plan);
      const counts: ExecutionCounts = { examined: 0, matched: 0 };
      const started = performance.now();
      const rows = await this.selectPresent(plan, body, guard, counts);
      this.hydrate(rows, query);
      const timeMs = performance.now() - started;
      // It ran: it counts for index usage and the advisor like any executed query.
      this.finished(plan, started, counts.examined, rows.length);
      return explainPlan(guard.queryId, plan, { counts, returned: rows.length, timeMs });
    } finally {
      end();
    }
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

  /** selectRows, less the rows a cleanup removed while it ran (see present). */
  private async selectPresent(
    plan: QueryPlan,
    body: (row: number) => DecodedBody,
    guard: QueryGuard,
    counts: ExecutionCounts,
  ): Promise<number[]> {
    const { generation } = this.table;
    return this.present(await selectRows(plan, this.table, body, guard, this.pool, counts), generation);
  }

  /**
   * The rows chosen while the table was at `generation` that it still holds. A parallel scan, or a
   * stream between two pages, can outlast a slice of cleanup, and a row cleanup removed meanwhile
   * holds no event to read: it is left out, as its event was hidden when cleanup took it.
   */
  private present(rows: number[], generation: number): number[] {
    const table = this.table;
    return table.generation === generation ? rows : rows.filter((row) => !table.isRemoved(row));
  }

  private hydrate(rows: readonly number[], query: EventQuery): ResultRow[] {
    const events = this.reader.events(rows);
    return query.select === undefined ? events : events.map((event) => project(event, query.select));
  }
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
