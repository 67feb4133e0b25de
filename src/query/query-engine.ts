import { ValidationError } from '../errors.js';
import type { StoredEvent } from '../events/types.js';
import { decodeBody, type DecodedBody } from '../storage/embedded/record-codec.js';
import type { EventReader } from '../store/event-reader.js';
import type { EventTable } from '../table/event-table.js';
import type { EventQuery } from './ast.js';
import { project, selectRows, type ExecutionCounts } from './executor.js';
import { explainPlan, type Explanation } from './explain.js';
import { ParallelScanPool } from './parallel-scan.js';
import { CHECK_EVERY, QueryGuard } from './query-guard.js';
import { createExecutionPlan, type QueryPlan } from './query-optimizer.js';
import { validateQuery } from './validate-query.js';

export interface RunOptions {
  /** Cancels the query when it fires: QueryCancelledError. */
  signal?: AbortSignal;
  /** Names the query for cancelQuery(); one is generated otherwise. */
  queryId?: string;
}

export type ResultRow = StoredEvent | Record<string, unknown>;

const DEFAULT_BATCH = 1000;

/** Runs EventQuery ASTs against the embedded table: plan, guard, execute, hydrate. */
export class QueryEngine {
  private readonly running = new Map<string, AbortController>();
  private sequence = 0;
  private readonly pool: ParallelScanPool;

  constructor(
    private readonly table: EventTable,
    private readonly reader: EventReader,
  ) {
    this.pool = new ParallelScanPool(table);
  }

  /** A record reader that decodes each row at most once in a row, however many predicates ask. */
  private bodyReader(): (row: number) => DecodedBody {
    let lastRow = -1;
    let last: DecodedBody | undefined;
    return (row) => {
      if (row !== lastRow || last === undefined) {
        last = this.reader.decodeRecord(row, decodeBody);
        lastRow = row;
      }
      return last;
    };
  }

  plan(query: EventQuery): { plan: QueryPlan; body: (row: number) => DecodedBody } {
    validateQuery(query);
    const body = this.bodyReader();
    return { plan: createExecutionPlan(this.table, query, body, this.pool.size), body };
  }

  private begin(query: EventQuery, options: RunOptions): { guard: QueryGuard; end: () => void } {
    const queryId = options.queryId ?? `q${++this.sequence}`;
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
    this.running.set(queryId, controller);
    const guard = new QueryGuard(queryId, controller.signal, query.hints.timeout);
    guard.check();
    return {
      guard,
      end: () => {
        options.signal?.removeEventListener('abort', abort);
        this.running.delete(queryId);
      },
    };
  }

  async execute(query: EventQuery, options: RunOptions = {}): Promise<ResultRow[]> {
    const { plan, body } = this.plan(query);
    const { guard, end } = this.begin(query, options);
    try {
      const rows = await selectRows(plan, this.table, body, guard, this.pool);
      return this.hydrate(rows, query);
    } finally {
      end();
    }
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
    try {
      if (!plan.sorted) {
        const rows = await selectRows(plan, this.table, body, guard, this.pool);
        for (let i = 0; i < rows.length; i += batch) {
          guard.check();
          yield* this.hydrate(rows.slice(i, i + batch), query);
          await yieldToEventLoop();
        }
        return;
      }
      const source = plan.access.rows();
      const offset = query.offset ?? 0;
      const limit = query.limit ?? Infinity;
      let skipped = 0;
      let emitted = 0;
      let page: number[] = [];
      const step = plan.descending ? -1 : 1;
      for (
        let i = plan.descending ? source.length - 1 : 0, n = 0;
        i >= 0 && i < source.length && emitted < limit;
        i += step
      ) {
        if (++n % CHECK_EVERY === 0) guard.check();
        const row = source.at(i);
        if (!plan.predicate(row)) continue;
        if (skipped < offset) {
          skipped++;
          continue;
        }
        page.push(row);
        emitted++;
        if (page.length >= batch) {
          yield* this.hydrate(page, query);
          page = [];
          await yieldToEventLoop();
          guard.check();
        }
      }
      if (page.length > 0) yield* this.hydrate(page, query);
    } finally {
      end();
    }
  }

  async explain(query: EventQuery, analyze: boolean): Promise<Explanation> {
    const { plan, body } = this.plan(query);
    const { guard, end } = this.begin(query, {});
    try {
      if (!analyze) return explainPlan(guard.queryId, plan);
      const counts: ExecutionCounts = { examined: 0, matched: 0 };
      const started = performance.now();
      const rows = await selectRows(plan, this.table, body, guard, this.pool, counts);
      this.hydrate(rows, query);
      return explainPlan(guard.queryId, plan, {
        counts,
        returned: rows.length,
        timeMs: performance.now() - started,
      });
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

  private hydrate(rows: readonly number[], query: EventQuery): ResultRow[] {
    const events = this.reader.events(rows);
    return query.select === undefined ? events : events.map((event) => project(event, query.select));
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
