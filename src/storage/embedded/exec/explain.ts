import type { Explanation, ExplainNode } from '../../../query/explanation.js';
import {
  indexesOf,
  visitPlan,
  type PlanNode,
  type PlanVisitor,
  type RowFilterNode,
  type VectorizedFilterNode,
} from './plan-nodes.js';
import type { QueryPlan } from './query-optimizer.js';

/** What an EXPLAIN ANALYZE run saw. */
export interface Actuals {
  /** Rows each node put out (Run.actual). */
  actual: ReadonlyMap<PlanNode, number>;
  timeMs: number;
}

/**
 * A node as EXPLAIN shows it, or undefined for one it leaves out (it then shows the node's child in
 * its place). `actual` is undefined without ANALYZE.
 */
type Shown = ExplainNode | undefined;
type Explain = PlanVisitor<Shown, [ReadonlyMap<PlanNode, number> | undefined]>;

/** With ANALYZE, the node's actual rows: 0 for a node that never ran (a limit of 0 stops before it). */
const actualRows = (node: PlanNode, actual: ReadonlyMap<PlanNode, number> | undefined) =>
  actual === undefined ? {} : { actualRows: actual.get(node) ?? 0 };

function filter(
  node: RowFilterNode | VectorizedFilterNode,
  actual: ReadonlyMap<PlanNode, number> | undefined,
): Shown {
  const removed = actual === undefined ? 0 : (actual.get(node.child) ?? 0) - (actual.get(node) ?? 0);
  // A query for every event still leaves out what reads may not see (expired events, deleted
  // streams): when it did, say so, or `actual rows` would count events the query never returns.
  if (node.visibilityOnly && removed === 0) return undefined;
  return {
    operator: 'Filter',
    detail: node.visibilityOnly
      ? 'only the events reads may see (retention, deleted streams)'
      : node.kind === 'Filter'
        ? 'the whole filter, compiled'
        : node.rest === undefined
          ? 'vectorized over column chunks'
          : 'column terms vectorized over column chunks, the rest compiled',
    // Rows before any limit: exact when the filter is the index condition itself, else the
    // path's rows times the statistics' selectivity of the other terms.
    estimatedRows: node.estimatedRows,
    ...(actual === undefined ? {} : { actualRows: actual.get(node) ?? 0, removedByFilter: removed }),
    children: [explainNode(node.child, actual)],
  };
}

const EXPLAIN: Explain = {
  IndexLookup: (node, actual) => ({
    operator: 'IndexLookup',
    index: node.index,
    detail: node.condition,
    estimatedRows: node.estimatedRows,
    ...actualRows(node, actual),
    children: [],
  }),
  Intersect: (node, actual) => ({
    operator: 'Intersect',
    detail: 'rows in both lookups',
    estimatedRows: node.estimatedRows,
    ...actualRows(node, actual),
    children: node.children.map((child) => explainNode(child, actual)),
  }),
  Scan: (node, actual) => ({
    operator: 'Scan',
    detail: node.condition,
    estimatedRows: node.estimatedRows,
    ...actualRows(node, actual),
    children: [],
  }),
  ParallelScan: (node, actual) => ({
    operator: 'ParallelScan',
    workers: node.workers,
    detail: `${node.condition}, ${node.workers} workers`,
    estimatedRows: node.estimatedRows,
    ...actualRows(node, actual),
    children: [],
  }),
  Filter: filter,
  VectorizedFilter: filter,
  Sort: (node, actual) => ({
    operator: 'Sort',
    detail: node.order.map((t) => `${t.field} ${t.direction}`).join(', '),
    estimatedRows: node.estimatedRows,
    ...actualRows(node, actual),
    children: [explainNode(node.child, actual)],
  }),
  Limit: (node, actual) => ({
    operator: 'Limit',
    detail: `offset ${node.offset}, limit ${node.limit ?? 'all'}${node.stopsEarly ? ' (stops early)' : ''}`,
    estimatedRows: node.estimatedRows,
    ...actualRows(node, actual),
    children: [explainNode(node.child, actual)],
  }),
  // Reading the events of the rows chosen is not an operator EXPLAIN shows (nor is it in
  // PostgreSQL's): the tree shown starts at the rows.
  Hydrate: () => undefined,
};

/** The node as EXPLAIN shows it; a node left out shows as its (only) child. */
function explainNode(node: PlanNode, actual: ReadonlyMap<PlanNode, number> | undefined): ExplainNode {
  const shown = visitPlan(node, EXPLAIN, actual);
  if (shown !== undefined) return shown;
  if (!('child' in node))
    throw new Error(`EXPLAIN left out ${node.kind}, which has no child to show instead`);
  return explainNode(node.child, actual);
}

/** The plan's operator tree as EXPLAIN shows it, with what a run saw when given (ANALYZE). */
export function explainPlan(queryId: string, plan: QueryPlan, run?: Actuals): Explanation {
  const root = explainNode(plan.root, run?.actual);
  if (run) root.timeMs = run.timeMs;
  return {
    queryId,
    plan: root,
    estimatedCost: plan.estimatedCost,
    estimatedRows: plan.estimatedRows,
    indexesUsed: indexesOf(plan.root),
    considered: plan.considered.map(({ index, condition, estimatedRows, cost }) => ({
      index,
      condition,
      estimatedRows,
      cost,
    })),
    ...(plan.fingerprint === undefined ? {} : { fingerprint: plan.fingerprint }),
    ...(plan.planCache === undefined ? {} : { planCache: plan.planCache }),
    ...(run ? { executionTimeMs: run.timeMs } : {}),
    text: renderTree(root, 0),
  };
}

export function renderTree(node: ExplainNode, depth: number): string {
  const head = `${depth === 0 ? '' : `${' '.repeat(depth * 2 - 2)}-> `}${node.operator}${node.index ? ` using ${node.index}` : ''}`;
  const facts = [`rows=${node.estimatedRows}`];
  if (node.workers !== undefined) facts.push(`workers=${node.workers}`);
  if (node.actualRows !== undefined) facts.push(`actual rows=${node.actualRows}`);
  if (node.removedByFilter !== undefined) facts.push(`removed by filter=${node.removedByFilter}`);
  if (node.timeMs !== undefined) facts.push(`time=${node.timeMs.toFixed(3)} ms`);
  const line = `${head}  (${facts.join(' ')})${node.detail ? `\n${' '.repeat(depth * 2 + 2)}${node.detail}` : ''}`;
  return [line, ...node.children.map((child) => renderTree(child, depth + 1))].join('\n');
}
