import { ValidationError } from '../errors.js';
import { requireDense } from '../events/dense-list.js';
import { assertNever } from '../support/assert-never.js';
import { describe } from '../support/describe.js';
import {
  MATCH_ALL,
  f,
  type EventQuery,
  type FilterNode,
  type OrderTerm,
  type QueryHints,
  type Scalar,
} from './ast.js';
import type { Explanation } from './explanation.js';
import type { ResultPage, ResultRow, RunOptions } from './results.js';
import { decodeCursor } from './cursor.js';
import { filterTooDeep, MAX_FILTER_DEPTH, validateFilter, validateQuery } from './validate-query.js';

/** What a builder runs its query with: the store's query engine behind its open/closed checks. */
export interface QueryRunner {
  execute(query: EventQuery, options?: RunOptions): Promise<ResultRow[]>;
  page(query: EventQuery, options?: RunOptions): Promise<ResultPage>;
  stream(query: EventQuery, options?: RunOptions): AsyncIterable<ResultRow>;
  explain(query: EventQuery, options?: { analyze?: boolean }): Promise<Explanation>;
}

export type WhereOperator =
  'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte' | 'in' | 'between' | 'exists' | 'prefix';

/**
 * A frozen deep copy of a filter the caller built by hand: the builder must not share nodes (or their
 * arrays) that the caller could change later. Unknown shapes are copied as they are, for validation
 * to reject.
 */
function ownFilter(node: FilterNode, depth = 0): FilterNode {
  // Before validation, which reads the copy: bounded like it, and refusing sparse lists before mapping them.
  if (depth > MAX_FILTER_DEPTH) throw filterTooDeep('where');
  switch (node?.kind) {
    case 'and':
    case 'or':
      if (!Array.isArray(node.filters)) return f[node.kind]();
      requireDense(node.filters, `where.${node.kind}`);
      return f[node.kind](...node.filters.map((child) => ownFilter(child, depth + 1)));
    case 'not':
      return f.not(ownFilter(node.filter, depth + 1));
    case 'in':
      if (Array.isArray(node.values)) requireDense(node.values, 'where.values');
      return f.in(node.field, Array.isArray(node.values) ? node.values.map(toScalar) : node.values);
    case 'all':
    case 'eq':
    case 'ne':
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
    case 'between':
    case 'exists':
    case 'prefix':
      return Object.freeze({ ...node });
    default: {
      // Only input from outside the type system gets here (a missing case fails to compile):
      // copied as it is, for validation to reject with the path to it.
      const unknown: never = node;
      return unknown !== null && typeof unknown === 'object'
        ? (Object.freeze({ ...(unknown as object) }) as FilterNode)
        : unknown;
    }
  }
}

/** Dates become epoch milliseconds, the model's time unit; everything else is checked by validation. */
function toScalar(value: unknown): Scalar {
  return value instanceof Date ? value.getTime() : (value as Scalar);
}

function leaf(field: string, operator: WhereOperator, value: unknown, high: unknown): FilterNode {
  switch (operator) {
    case 'exists':
      return f.exists(field);
    case 'in':
      if (!Array.isArray(value))
        throw new ValidationError('where.value', `in needs an array of values, got ${describe(value)}`);
      requireDense(value, 'where.value');
      return f.in(field, value.map(toScalar));
    case 'between':
      // Both where(field, 'between', low, high) and where(field, 'between', [low, high]).
      if (Array.isArray(value) && high === undefined) {
        if (value.length !== 2)
          throw new ValidationError('where.value', `between needs [low, high], got ${describe(value)}`);
        return f.between(field, toScalar(value[0]), toScalar(value[1]));
      }
      return f.between(field, toScalar(value), toScalar(high));
    case 'prefix':
      return f.prefix(field, value as string);
    case 'eq':
    case 'ne':
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      return f[operator](field, toScalar(value));
    default:
      return assertNever(
        operator,
        (unknown) =>
          new ValidationError(
            'where.operator',
            `unknown operator ${describe(unknown)}; expected eq, ne, lt, lte, gt, gte, in, between, exists or prefix`,
          ),
      );
  }
}

/**
 * An immutable query builder: every method returns a new builder and leaves this one as it was, so a
 * base query can be shared and refined. Conditions from successive `where` calls are ANDed.
 *
 * @example
 * const recent = store.query().where('type', 'eq', 'WORKFLOW.COMPLETED').where('timestamp', 'gte', since);
 * const page = await recent.orderBy('timestamp', 'desc').limit(20).execute();
 * console.log((await recent.explain({ analyze: true })).text);
 *
 * `R` is the row type the query returns: `StoredEvent<P>` from `store.query<P>()` (the payload type
 * is the caller's word, not checked at run time, as with `JSON.parse`), a plain record after
 * `select`. The bare type `AdvancedQueryBuilder` takes any builder.
 */
export class AdvancedQueryBuilder<R = ResultRow> {
  constructor(
    private readonly runner: QueryRunner,
    private readonly state: EventQuery = Object.freeze({
      kind: 'query',
      filter: MATCH_ALL,
      orderBy: Object.freeze([]),
      hints: Object.freeze({}),
    }),
  ) {}

  private with<T = R>(changes: Partial<EventQuery>): AdvancedQueryBuilder<T> {
    return new AdvancedQueryBuilder<T>(this.runner, Object.freeze({ ...this.state, ...changes }));
  }

  /** Returns only these fields of each event (`aggregateId`, `tags.issueId`, `payload.order.total`, ...). */
  select(fields: readonly string[]): AdvancedQueryBuilder<Record<string, unknown>> {
    if (!Array.isArray(fields) || fields.length === 0) {
      throw new ValidationError(
        'select',
        `must be a non-empty array of field names, got ${describe(fields)}`,
      );
    }
    requireDense(fields, 'select');
    return this.with<Record<string, unknown>>({ select: Object.freeze([...fields]) });
  }

  /** Adds a condition: a filter node (see `f`), or a field, an operator and its value(s). */
  where(filter: FilterNode): AdvancedQueryBuilder<R>;
  where(field: string, operator: WhereOperator, value?: unknown, high?: unknown): AdvancedQueryBuilder<R>;
  where(
    fieldOrFilter: string | FilterNode,
    operator?: WhereOperator,
    value?: unknown,
    high?: unknown,
  ): AdvancedQueryBuilder<R> {
    const node =
      typeof fieldOrFilter === 'string'
        ? leaf(fieldOrFilter, operator as WhereOperator, value, high)
        : ownFilter(fieldOrFilter);
    validateFilter(node, 'where');
    const current = this.state.filter;
    const filter =
      current.kind === 'all'
        ? node
        : current.kind === 'and'
          ? f.and(...current.filters, node)
          : f.and(current, node);
    return this.with({ filter });
  }

  /** Adds a sort term; ascending sequence breaks remaining ties. */
  orderBy(field: string, direction: 'asc' | 'desc' = 'asc'): AdvancedQueryBuilder<R> {
    const term: OrderTerm = Object.freeze({ field, direction });
    return this.with({ orderBy: Object.freeze([...this.state.orderBy, term]) });
  }

  limit(limit: number): AdvancedQueryBuilder<R> {
    return this.with({ limit });
  }

  offset(offset: number): AdvancedQueryBuilder<R> {
    return this.with({ offset });
  }

  /**
   * Starts after a page cursor: the `cursor` a previous `executePage()` returned (an opaque string),
   * or `{ sequence }` in sequence order. Set the order first: a cursor only fits the order it came from.
   *
   * @example
   * const query = store.query().where('type', 'eq', 'ORDER.PLACED').orderBy('payload.total', 'desc').limit(100);
   * let page = await query.executePage();
   * while (page.cursor) page = await query.after(page.cursor).executePage();
   */
  after(cursor: string | { sequence: number }): AdvancedQueryBuilder<R> {
    if (typeof cursor === 'string') return this.with({ after: decodeCursor(cursor, this.state.orderBy) });
    const sequence = (cursor as { sequence?: unknown } | null)?.sequence;
    if (typeof sequence !== 'number' || !Number.isSafeInteger(sequence) || sequence < 0) {
      throw new ValidationError(
        'after',
        `must be a cursor string from executePage() or { sequence: n }, got ${describe(cursor)}`,
      );
    }
    return this.with({ after: Object.freeze({ sequence }) });
  }

  /** Merges optimisation hints: useIndex, forceIndex, parallel, timeout (ms), batchSize. */
  hint(hints: QueryHints): AdvancedQueryBuilder<R> {
    const merged: Record<string, unknown> = { ...this.state.hints, ...hints };
    for (const key of ['useIndex', 'forceIndex'] as const) {
      const list = merged[key];
      if (Array.isArray(list)) {
        requireDense(list, `hints.${key}`);
        merged[key] = Object.freeze([...list]);
      }
    }
    return this.with({ hints: Object.freeze(merged) as QueryHints });
  }

  /** The query as a plain, frozen AST, checked. */
  toQuery(): EventQuery {
    validateQuery(this.state);
    return this.state;
  }

  execute(options?: RunOptions): Promise<R[]> {
    return this.runner.execute(this.state, options) as Promise<R[]>;
  }

  /** One page (the `limit`) and the cursor for the next, absent on the last page. */
  executePage(options?: RunOptions): Promise<ResultPage<R>> {
    return this.runner.page(this.state, options) as Promise<ResultPage<R>>;
  }

  /** An async iterable with backpressure: pages are read only as the consumer asks. */
  executeStream(options?: RunOptions): AsyncIterable<R> {
    return this.runner.stream(this.state, options) as AsyncIterable<R>;
  }

  explain(options?: { analyze?: boolean }): Promise<Explanation> {
    return this.runner.explain(this.state, options);
  }
}
