import { canonicalJson } from '../../../../query/canonical.js';
import type { AggregateSpec } from '../../../../query/aggregate-spec.js';
import type { RunningSpec } from '../../../../query/analytics-ast.js';
import type { Explanation, ExplainNode } from '../../../../query/explanation.js';
import { assertNever } from '../../../../support/assert-never.js';
import { explainPlan, renderTree } from '../explain.js';
import { indexesOf, type PlanNode } from '../plan-nodes.js';
import { rowPlansOf, type AnalyticsNode, type JoinKeyRead, type JoinNode } from './analytics-nodes.js';

/** What an EXPLAIN ANALYZE run of an analytics query saw. */
export interface AnalyticsActuals {
  readonly actual: ReadonlyMap<AnalyticsNode, number>;
  /** Workers each Aggregate folded on (0: the main thread). */
  readonly workers?: ReadonlyMap<AnalyticsNode, number>;
  /** Where each Join over row numbers read its keys from. */
  readonly joinReads?: ReadonlyMap<AnalyticsNode, readonly [JoinKeyRead, JoinKeyRead]>;
  readonly rowActual: ReadonlyMap<PlanNode, number>;
  readonly timeMs: number;
}

function aggregateText(spec: AggregateSpec | RunningSpec): string {
  switch (spec.kind) {
    case 'count':
      return 'count()';
    case 'countField':
      return `count(${spec.field})`;
    case 'corr':
      return `corr(${spec.x}, ${spec.y})`;
    case 'percentile':
    case 'approxPercentile':
      return `${spec.kind}(${spec.field}, ${spec.p})`;
    case 'histogram':
      return `histogram(${spec.field}, ${spec.buckets} buckets)`;
    case 'custom':
      return `custom(${spec.field ?? ''})`;
    case 'moving':
      return `moving(${aggregateText(spec.of)}, ${spec.buckets} buckets)`;
    case 'delta':
      return `delta(${spec.field})`;
    default:
      return `${spec.kind}(${spec.field})`;
  }
}

/**
 * How a Join runs: a hash join over row ids with its keys' source (analyzed: the source it used;
 * one name when both sides read alike), or over the records below.
 */
function joinMethod(node: JoinNode, run: AnalyticsActuals | undefined): string {
  if (!node.overRows) return 'hash join over the rows below';
  const reads = run === undefined ? node.reads : run.joinReads?.get(node);
  if (reads === undefined) return 'hash join over decoded events';
  const [left, right] = reads;
  return `hash join over row ids: key codes from ${left === right ? left : `${left} = ${right}`}`;
}

function detailOf(
  node: Exclude<AnalyticsNode, { kind: 'Events' }>,
  run: AnalyticsActuals | undefined,
): string {
  switch (node.kind) {
    case 'Join': {
      const on = typeof node.spec.on === 'string' ? node.spec.on : node.spec.on.join(' = ');
      return `${node.spec.type ?? 'inner'} join on ${on} as ${node.spec.as}${node.spec.within === undefined ? '' : ` within ${node.spec.within}`}; ${joinMethod(node, run)}`;
    }
    case 'Pattern':
      return `${node.spec.steps.map((step) => `${step.absent ? 'not ' : ''}${step.name}`).join(' -> ')} per ${node.spec.partitionBy} within ${node.spec.within}${node.spec.contiguity === 'strict' ? ', strict' : ''}`;
    case 'Funnel':
      return `${node.spec.steps.length} steps per ${node.spec.partitionBy} within ${node.spec.within}, ${node.spec.mode ?? 'sequential'}`;
    case 'Window':
      return 'gap' in node.spec
        ? `session windows, gap ${node.spec.gap}${node.groupBy.length > 0 ? ` per ${node.groupBy.join(', ')}` : ''}`
        : `hopping windows of ${node.spec.size} every ${node.spec.every}`;
    case 'Aggregate': {
      const keys = [
        ...(node.window === undefined ? [] : [`window(${node.window.size} every ${node.window.every})`]),
        ...(node.bucket === undefined
          ? []
          : [
              `bucket(${node.bucket.width} of ${node.bucket.field ?? 'timestamp'}${node.bucket.timezone === undefined ? '' : ` in ${node.bucket.timezone}`})`,
            ]),
        ...node.groupBy,
      ];
      const aggregates = [...node.aggregates, ...node.running].map(
        ({ alias, spec }) => `${alias} = ${aggregateText(spec)}`,
      );
      const reads = node.overColumns
        ? `; over columns by row number: ${node.reads.map(({ field, from }) => `${field} (${from})`).join(', ') || 'nothing read'}`
        : '; over the rows below';
      return `${keys.length === 0 ? 'one group' : `group by ${keys.join(', ')}`}: ${aggregates.join(', ') || 'no aggregates'}${reads}`;
    }
    case 'Fill':
      return `empty buckets as ${node.fill === 'previous' ? 'the previous bucket' : String(node.fill)}${node.range === undefined ? ' over the data’s time range' : ` over [${new Date(node.range.from).toISOString()}, ${new Date(node.range.to).toISOString()})`}`;
    case 'Having':
      return canonicalJson(node.filter);
    case 'SortRows':
      return node.order.map((term) => `${term.field} ${term.direction}`).join(', ');
    case 'LimitRows':
      return `offset ${node.offset}, limit ${node.limit ?? 'all'}`;
    default:
      return assertNever(node);
  }
}

const OPERATOR = {
  Join: 'Join',
  Pattern: 'Pattern',
  Window: 'Window',
  Funnel: 'Funnel',
  Aggregate: 'Aggregate',
  Fill: 'Fill',
  Having: 'Having',
  SortRows: 'Sort',
  LimitRows: 'Limit',
} as const;

/**
 * Where an Aggregate over columns, a Pattern or a Funnel runs: planned on the workers, and
 * (analyzed) where it did.
 */
function workersOf(node: AnalyticsNode, run: AnalyticsActuals | undefined): string {
  if (node.kind !== 'Aggregate' && node.kind !== 'Pattern' && node.kind !== 'Funnel') return '';
  const verb = node.kind === 'Aggregate' ? 'folded' : 'matched';
  const used = run?.workers?.get(node);
  if (used === undefined) return node.workers > 0 ? `; parallel on ${node.workers} workers` : '';
  if (used > 0) return `; ${verb} on ${used} workers`;
  return node.workers > 0 ? `; ${verb} on the main thread (too few rows, or not one the workers do)` : '';
}

function explainNode(node: AnalyticsNode, queryId: string, run: AnalyticsActuals | undefined): ExplainNode {
  if (node.kind === 'Events') {
    return explainPlan(queryId, node.plan, run && { actual: run.rowActual, timeMs: 0 }).plan;
  }
  const children = [explainNode(node.child, queryId, run)];
  if (node.kind === 'Join')
    children.push(explainPlan(queryId, node.right, run && { actual: run.rowActual, timeMs: 0 }).plan);
  return {
    operator: OPERATOR[node.kind],
    detail: detailOf(node, run) + workersOf(node, run),
    estimatedRows: node.estimatedRows,
    ...(run === undefined ? {} : { actualRows: run.actual.get(node) ?? 0 }),
    children,
  };
}

/** EXPLAIN of an analytics query: its operators over the row plan of its filter (and a join's right side). */
export function explainAnalytics(
  queryId: string,
  root: AnalyticsNode,
  input: Explanation,
  run?: AnalyticsActuals,
): Explanation {
  const plan = explainNode(root, queryId, run);
  const untime = (node: ExplainNode): void => {
    delete node.timeMs;
    node.children.forEach(untime);
  };
  untime(plan);
  if (run) plan.timeMs = run.timeMs;
  return {
    ...input,
    plan,
    indexesUsed: [...new Set(rowPlansOf(root).flatMap((rows) => indexesOf(rows.root)))],
    estimatedRows: root.estimatedRows,
    ...(run ? { executionTimeMs: run.timeMs } : {}),
    text: renderTree(plan, 0),
  };
}
