import { isRunning } from '../../../../analytics/stages/aggregate-map.js';
import { aggregateFields } from '../../../../analytics/validate-analytics.js';
import { filterTimeRange } from '../../../../analytics/stages/filter-time-range.js';
import { windowMs } from '../../../../analytics/partition-events.js';
import { parseBucketWidth } from '../../../../analytics/bucket-width.js';
import type { AggregateSpec } from '../../../../query/aggregate-spec.js';
import type { HoppingWindow, RunningSpec } from '../../../../query/analytics-ast.js';
import { f, type EventQuery, type FilterNode } from '../../../../query/ast.js';
import { resolveField } from '../../../../query/fields.js';
import type { EventTable } from '../../table/event-table.js';
import type { QueryPlan } from '../query-optimizer.js';
import type { AggregateNode, AnalyticsNode, FieldRead, JoinKeyRead } from './analytics-nodes.js';
import { PARALLEL_FOLD_ROWS } from './parallel-group-by.js';

/** What the analytics planner asks of the engine: row plans, and where a payload field lives. */
export interface AnalyticsPlanning {
  readonly table: EventTable;
  planRows(query: EventQuery): QueryPlan;
  /** Whether a field column holds this `payload.*` / `tags.*` field (read without decoding records). */
  hasFieldColumn?(field: string): boolean;
  /** Scan worker threads the engine has (0 or absent: none). */
  readonly workers?: number;
}

/**
 * Workers an operator over the filter's rows (an Aggregate, Pattern or Funnel over columns) runs
 * on: hints.parallel true forces the pool's, false forbids them; otherwise the pool's when the
 * filter is expected to select enough rows (the operator decides again on the rows it gets).
 */
function operatorWorkers(query: EventQuery, estimatedRows: number, workers: number): number {
  if (workers < 2 || query.hints.parallel === false) return 0;
  return query.hints.parallel === true || estimatedRows >= PARALLEL_FOLD_ROWS ? workers : 0;
}

/** The event query under the analytics: the filter and hints, in sequence order, every row. */
export function inputQuery(query: EventQuery): EventQuery {
  return { kind: 'query', filter: inputFilter(query), orderBy: [], hints: query.hints };
}

/**
 * The filter of the events the analytics read. A pattern straight over the events (relaxed
 * contiguity) or a funnel (not strict) only ever looks at events some step (or exclusion)
 * matches, so those terms join the filter: the planner can then serve it from the type or tag
 * postings instead of scanning every row.
 */
function inputFilter(query: EventQuery): FilterNode {
  const spec = query.analytics;
  let terms: FilterNode[] | undefined;
  if (spec?.pattern !== undefined && spec.join === undefined && spec.pattern.contiguity !== 'strict') {
    terms = spec.pattern.steps.map((step) => step.where);
  } else if (spec?.funnel !== undefined && spec.funnel.mode !== 'strict') {
    terms = [...spec.funnel.steps, ...(spec.funnel.exclusions ?? []).map((exclusion) => exclusion.where)];
  }
  if (terms === undefined || terms.some((term) => term.kind === 'all')) return query.filter;
  const any = terms.length === 1 ? (terms[0] as FilterNode) : f.or(...terms);
  return query.filter.kind === 'all' ? any : f.and(query.filter, any);
}

function fieldRead(field: string, planning: AnalyticsPlanning): FieldRead {
  const ref = resolveField(field, 'field');
  if (ref.kind === 'core') return ref.name === 'id' ? 'record' : 'column';
  return planning.hasFieldColumn?.(field) === true ? 'field column' : 'field column, extracted now';
}

/** Where a join reads a key, as planned: a field column may turn out to mix kinds (then values). */
function joinKeyRead(field: string): JoinKeyRead {
  const ref = resolveField(field, 'join.on');
  if (ref.kind !== 'core') return 'field column';
  return ref.name === 'id' ? 'values' : 'column';
}

/** Groups a key can take, guessed from what the table knows: dictionary sizes, the time span. */
function distinctGuess(field: string, table: EventTable, input: number): number {
  if (field === 'type') return Math.max(1, table.types.count);
  if (field === 'aggregateId') return Math.max(1, table.aggregates.count);
  return Math.max(1, Math.round(Math.sqrt(input)));
}

function bucketGuess(query: EventQuery, table: EventTable): number {
  const bucket = query.analytics?.bucket;
  if (bucket === undefined) return 1;
  const width = parseBucketWidth(bucket.width);
  const span = table.rows === 0 ? 0 : table.timestamp.get(table.rows - 1) - table.timestamp.get(0);
  return Math.max(1, Math.ceil(Math.abs(span) / Math.max(1, width.fixedMs ?? 30 * 86_400_000)));
}

/** Windows the table's time span holds (every window is one `every` after the last). */
function windowGuess(window: HoppingWindow | undefined, table: EventTable): number {
  if (window === undefined) return 1;
  const span = table.rows === 0 ? 0 : table.timestamp.get(table.rows - 1) - table.timestamp.get(0);
  return Math.max(1, Math.ceil(Math.abs(span) / windowMs(window.every, 'every')));
}

/**
 * Plans a query's analytics as a chain of operators over its row plan. Groups over the table's
 * columns by row number when the events come straight from the filter (no join, pattern or window
 * in between); over records otherwise.
 */
export function planAnalytics(query: EventQuery, planning: AnalyticsPlanning): AnalyticsNode {
  const spec = query.analytics ?? {};
  const { table } = planning;
  const plan = planning.planRows(inputQuery(query));
  let node: AnalyticsNode = { kind: 'Events', plan, estimatedRows: plan.estimatedRows };
  if (spec.funnel !== undefined) {
    const workers = operatorWorkers(query, node.estimatedRows, planning.workers ?? 0);
    node = { kind: 'Funnel', child: node, spec: spec.funnel, workers, estimatedRows: 1 };
  }
  if (spec.join !== undefined) {
    const right = planning.planRows({ ...spec.join.right, orderBy: [], limit: undefined, offset: undefined });
    const [leftField, rightField] =
      typeof spec.join.on === 'string' ? [spec.join.on, spec.join.on] : spec.join.on;
    node = {
      kind: 'Join',
      child: node,
      right,
      spec: spec.join,
      overRows: node.kind === 'Events',
      reads: [joinKeyRead(leftField), joinKeyRead(rightField)],
      estimatedRows: node.estimatedRows,
    };
  }
  if (spec.pattern !== undefined) {
    const steps = spec.pattern.steps.length;
    node = {
      kind: 'Pattern',
      child: node,
      spec: spec.pattern,
      workers: node.kind === 'Events' ? operatorWorkers(query, node.estimatedRows, planning.workers ?? 0) : 0,
      estimatedRows: Math.ceil(node.estimatedRows / steps),
    };
  }
  const grouped = spec.aggregates !== undefined || spec.groupBy !== undefined;
  // Hopping windows straight over the events are a key of the Aggregate over columns (each event
  // folded into every window that holds it), not records copied once per window.
  const hopping =
    spec.window !== undefined && !('gap' in spec.window) && grouped && node.kind === 'Events'
      ? spec.window
      : undefined;
  if (spec.window !== undefined && hopping === undefined) {
    const copies =
      'gap' in spec.window
        ? 1
        : Math.ceil(windowMs(spec.window.size, 'size') / windowMs(spec.window.every, 'every'));
    node = {
      kind: 'Window',
      child: node,
      spec: spec.window,
      groupBy: spec.groupBy ?? [],
      estimatedRows: node.estimatedRows * copies,
    };
  }
  if (grouped) {
    const entries = Object.entries(spec.aggregates ?? {});
    const aggregates = entries
      .filter((entry): entry is [string, AggregateSpec] => !isRunning(entry[1]))
      .map(([alias, aggregate]) => ({ alias, spec: aggregate }));
    const running = entries
      .filter((entry): entry is [string, RunningSpec] => isRunning(entry[1]))
      .map(([alias, aggregate]) => ({ alias, spec: aggregate }));
    const overColumns = node.kind === 'Events';
    const groupBy = spec.groupBy ?? [];
    const fields = [
      ...(spec.bucket === undefined ? [] : [spec.bucket.field ?? 'timestamp']),
      ...(hopping === undefined ? [] : ['timestamp']),
      ...groupBy,
      ...aggregates.flatMap(({ spec: aggregate }) => aggregateFields(aggregate)),
    ];
    const reads = overColumns
      ? [...new Set(fields)].map((field) => ({ field, from: fieldRead(field, planning) }))
      : [];
    const input = node.estimatedRows;
    const groups =
      groupBy.length === 0 && spec.bucket === undefined && hopping === undefined
        ? 1
        : Math.min(
            Math.max(1, input),
            groupBy.reduce(
              (product, field) => product * distinctGuess(field, table, input),
              bucketGuess(query, table) * windowGuess(hopping, table),
            ),
          );
    const aggregate: AggregateNode = {
      kind: 'Aggregate',
      child: node,
      ...(spec.bucket === undefined ? {} : { bucket: spec.bucket }),
      ...(hopping === undefined ? {} : { window: hopping }),
      groupBy,
      aggregates,
      running,
      overColumns,
      workers: overColumns ? operatorWorkers(query, input, planning.workers ?? 0) : 0,
      filled: spec.bucket?.fill !== undefined,
      reads,
      estimatedRows: groups,
    };
    node = aggregate;
    if (spec.bucket?.fill !== undefined) {
      const range = filterTimeRange(query.filter);
      node = {
        kind: 'Fill',
        child: aggregate,
        fill: spec.bucket.fill,
        ...(range === undefined || !Number.isFinite(range.from) || !Number.isFinite(range.to)
          ? {}
          : { range }),
        estimatedRows: groups,
      };
    }
  }
  if (spec.having !== undefined) {
    node = {
      kind: 'Having',
      child: node,
      filter: spec.having,
      estimatedRows: Math.ceil(node.estimatedRows / 3),
    };
  }
  if (query.orderBy.length > 0) {
    node = { kind: 'SortRows', child: node, order: query.orderBy, estimatedRows: node.estimatedRows };
  }
  if (query.limit !== undefined || (query.offset ?? 0) > 0) {
    const offset = query.offset ?? 0;
    const rows = Math.max(0, node.estimatedRows - offset);
    node = {
      kind: 'LimitRows',
      child: node,
      offset,
      ...(query.limit === undefined ? {} : { limit: query.limit }),
      estimatedRows: query.limit === undefined ? rows : Math.min(rows, query.limit),
    };
  }
  return node;
}
