import { ValidationError } from '../errors.js';
import { parseDuration } from '../events/duration.js';
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
} from '../query/ast.js';
import type { Explanation } from '../query/explanation.js';
import type { EventColumns, EventColumnsRequest } from '../analytics/export/event-columns.js';
import type {
  AggregateMap,
  AnalyticsSpec,
  BucketFill,
  Duration,
  EventSource,
  JoinSpec,
  PatternQuerySpec,
  PatternStepSpec,
  TimeWindowSpec,
} from '../query/analytics-ast.js';
import { agg } from '../analytics/aggregates.js';
import { resolveField } from '../query/fields.js';
import { requireOutputColumn, validateOutputFilter } from '../query/validate-query.js';
import { checkEventFields, validateAnalytics } from '../analytics/validate-analytics.js';
import { validateAggregateMap } from '../analytics/stages/aggregate-map.js';
import { validatePatternSpec } from '../analytics/stages/pattern-stage.js';
import { validateTimeBucketSpec } from '../analytics/stages/bucket-rows.js';
import { validateWindowSpec } from '../analytics/stages/time-windows.js';
import { validateJoinOptions } from '../analytics/stages/join-rows.js';
import type { ResultPage, ResultRow, RunOptions } from '../query/results.js';
import { decodeCursor } from '../query/cursor.js';
import { filterTooDeep, MAX_FILTER_DEPTH, validateFilter, validateQuery } from '../query/validate-query.js';

/** What a builder runs its query with: the store's query engine behind its open/closed checks. */
export interface QueryRunner {
  execute(query: EventQuery, options?: RunOptions): Promise<ResultRow[]>;
  page(query: EventQuery, options?: RunOptions): Promise<ResultPage>;
  stream(query: EventQuery, options?: RunOptions): AsyncIterable<ResultRow>;
  explain(query: EventQuery, options?: { analyze?: boolean }): Promise<Explanation>;
  /**
   * Optional: a query of whole events as export columns (StorageEngine.exportEvents), for
   * `store.export`; undefined when the store's engine has no such path or the query is not one.
   */
  exportEvents?(query: EventQuery, request: EventColumnsRequest): AsyncIterable<EventColumns> | undefined;
}

/**
 * The key of a builder's export fast path (see QueryRunner.exportEvents): a symbol, so it is no
 * method of the public builder; `store.export` asks the builder's own runner through it.
 */
export const EXPORT_EVENTS: unique symbol = Symbol('tamma-events.exportEvents');

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

function requireObjectArgument(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError(where, `must be an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/** A frozen copy of a pattern spec, its steps' filters copied like where()'s. */
function ownPattern(spec: PatternQuerySpec): PatternQuerySpec {
  const input = requireObjectArgument(spec, 'pattern');
  const steps = input.steps;
  if (!Array.isArray(steps)) return Object.freeze({ ...input }) as unknown as PatternQuerySpec;
  requireDense(steps, 'pattern.steps');
  return Object.freeze({
    ...input,
    steps: Object.freeze(
      steps.map((step: unknown, i: number) => {
        const s = requireObjectArgument(step, `pattern.steps[${i}]`);
        return Object.freeze({
          ...s,
          where: s.where === undefined ? s.where : ownFilter(s.where as FilterNode),
        });
      }),
    ),
  }) as unknown as PatternQuerySpec;
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

  /**
   * Caches this query's answer (a store opened with `cache`; elsewhere it changes nothing), at most
   * `ttl` long (`'30s'`, ms) when given. The answer is never stale: changes drop it first. Use
   * `hint({ cache: false })` to read past the cache.
   *
   * @example
   * const perHour = await store.query().where('type', 'eq', 'ORDER.PLACED').timeBucket('1h').count().cache('1m').execute();
   */
  cache(ttl?: Duration): AdvancedQueryBuilder<R> {
    if (ttl !== undefined) parseDuration(ttl, 'cache.ttl');
    return this.hint({ cache: ttl === undefined ? true : Object.freeze({ ttl }) });
  }

  // ---- Analytics (docs/analytics.md). Each method checks its own arguments; how the parts fit
  // together (a bucket needs aggregates, having needs groups) is checked when the query runs.

  private withAnalytics(changes: Partial<AnalyticsSpec>): AdvancedQueryBuilder<Record<string, unknown>> {
    return this.with<Record<string, unknown>>({
      analytics: Object.freeze({ ...this.state.analytics, ...changes }),
    });
  }

  /** After a join or a pattern rows are records: fields are their column paths, not event fields. */
  private overRecords(): boolean {
    return this.state.analytics?.join !== undefined || this.state.analytics?.pattern !== undefined;
  }

  private checkField(): (field: unknown, where: string) => void {
    return this.overRecords() ? requireOutputColumn : resolveField;
  }

  /** Groups events by these fields; each output row holds the group's key under the field names. */
  groupBy(fields: string | readonly string[]): AdvancedQueryBuilder<Record<string, unknown>> {
    const list = typeof fields === 'string' ? [fields] : fields;
    if (!Array.isArray(list)) {
      throw new ValidationError('groupBy', `must be a field or an array of fields, got ${describe(fields)}`);
    }
    requireDense(list, 'groupBy');
    const check = this.checkField();
    list.forEach((field, i) => check(field, `groupBy[${i}]`));
    const groupBy = Object.freeze([...(this.state.analytics?.groupBy ?? []), ...list]);
    return this.withAnalytics({ groupBy });
  }

  /** Adds aggregates under their aliases: `{ n: agg.count(), p95: agg.percentile('payload.delay', 0.95) }`. */
  aggregate(aggregates: AggregateMap): AdvancedQueryBuilder<Record<string, unknown>> {
    const keys = [
      ...(this.state.analytics?.bucket === undefined ? [] : ['bucket']),
      ...(this.state.analytics?.window === undefined ? [] : ['windowStart', 'windowEnd']),
      ...(this.state.analytics?.groupBy ?? []),
    ];
    validateAggregateMap(aggregates, 'aggregate', keys);
    if (!this.overRecords()) checkEventFields(aggregates, 'aggregate');
    const merged = Object.freeze({ ...this.state.analytics?.aggregates, ...aggregates });
    return this.withAnalytics({ aggregates: merged });
  }

  /** Keeps the groups whose output row matches: fields are output columns (`f.gte('n', 100)`). */
  having(filter: FilterNode): AdvancedQueryBuilder<Record<string, unknown>> {
    const node = ownFilter(filter);
    validateOutputFilter(node, 'having');
    const current = this.state.analytics?.having;
    return this.withAnalytics({ having: current === undefined ? node : f.and(current, node) });
  }

  /** The aggregate `count` (events per group), or `count(field)` (events where the field is present). */
  count(field?: string): AdvancedQueryBuilder<Record<string, unknown>> {
    return this.aggregate({ [field === undefined ? 'count' : `count(${field})`]: agg.count(field) });
  }

  sum(field: string): AdvancedQueryBuilder<Record<string, unknown>> {
    return this.aggregate({ [`sum(${field})`]: agg.sum(field) });
  }

  avg(field: string): AdvancedQueryBuilder<Record<string, unknown>> {
    return this.aggregate({ [`avg(${field})`]: agg.avg(field) });
  }

  min(field: string): AdvancedQueryBuilder<Record<string, unknown>> {
    return this.aggregate({ [`min(${field})`]: agg.min(field) });
  }

  max(field: string): AdvancedQueryBuilder<Record<string, unknown>> {
    return this.aggregate({ [`max(${field})`]: agg.max(field) });
  }

  /**
   * Groups by time bucket as well: the group key `bucket` is the bucket's start, epoch ms. `fill`
   * emits empty buckets across the query's time range (its timestamp bounds, else the data's).
   */
  timeBucket(
    width: string,
    options: { field?: string; origin?: number; timezone?: string; fill?: BucketFill } = {},
  ): AdvancedQueryBuilder<Record<string, unknown>> {
    const bucket = Object.freeze({ ...requireObjectArgument(options, 'timeBucket.options'), width });
    validateTimeBucketSpec(bucket, 'timeBucket');
    if (bucket.field !== undefined) this.checkField()(bucket.field, 'timeBucket.field');
    return this.withAnalytics({ bucket });
  }

  /** Hopping windows (`{ size, every }`) or session windows per group (`{ gap }`). */
  timeWindow(window: TimeWindowSpec): AdvancedQueryBuilder<Record<string, unknown>> {
    const copy = Object.freeze({ ...requireObjectArgument(window, 'timeWindow') }) as TimeWindowSpec;
    validateWindowSpec(copy, 'timeWindow');
    return this.withAnalytics({ window: copy });
  }

  /** Finds sequences of events per partition; rows `{ partition, <step>: event, start, end, durationMs }`. */
  pattern(spec: PatternQuerySpec): AdvancedQueryBuilder<Record<string, unknown>> {
    const pattern = ownPattern(spec);
    validatePatternSpec(pattern, 'pattern');
    if (this.state.analytics?.join === undefined) {
      resolveField(pattern.partitionBy, 'pattern.partitionBy');
      pattern.steps.forEach((step, i) => validateFilter(step.where, `pattern.steps[${i}].where`));
    }
    return this.withAnalytics({ pattern });
  }

  /** `pattern` with its options apart: `sequence(steps, { partitionBy, within })`. */
  sequence(
    steps: readonly PatternStepSpec[],
    options: { partitionBy: string; within: Duration; contiguity?: 'relaxed' | 'strict' },
  ): AdvancedQueryBuilder<Record<string, unknown>> {
    return this.pattern({ ...requireObjectArgument(options, 'sequence.options'), steps } as PatternQuerySpec);
  }

  /**
   * Joins each event with the events of `other` whose field equals its own (`on`, or
   * `[leftField, rightField]`): the right event under `as`; `within` bounds how much later it is.
   */
  join(
    other: AdvancedQueryBuilder<unknown> | EventQuery,
    options: Omit<JoinSpec, 'right'>,
  ): AdvancedQueryBuilder<Record<string, unknown>> {
    const right = other instanceof AdvancedQueryBuilder ? other.toQuery() : other;
    const input = requireObjectArgument(options, 'join.options');
    const join = Object.freeze({
      ...input,
      right,
      ...(Array.isArray(input.on) ? { on: Object.freeze([...input.on]) } : {}),
    }) as JoinSpec;
    validateJoinOptions(join, 'join');
    validateAnalytics({ join }, 'join');
    return this.withAnalytics({ join });
  }

  /** Reads live events (default), archived ones, or both. */
  from(source: EventSource): AdvancedQueryBuilder<R> {
    if (source !== 'events' && source !== 'archive' && source !== 'all') {
      throw new ValidationError('from', `must be 'events', 'archive' or 'all', got ${describe(source)}`);
    }
    return this.with({ source });
  }

  /** The query as a plain, frozen AST, checked. */
  toQuery(): EventQuery {
    validateQuery(this.state);
    if (this.state.analytics !== undefined) validateAnalytics(this.state.analytics);
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

  /** For `store.export`: the query's event columns when its runner has that path (QueryRunner.exportEvents). */
  [EXPORT_EVENTS](request: EventColumnsRequest): AsyncIterable<EventColumns> | undefined {
    return this.runner.exportEvents?.(this.state, request);
  }

  explain(options?: { analyze?: boolean }): Promise<Explanation> {
    return this.runner.explain(this.state, options);
  }
}
