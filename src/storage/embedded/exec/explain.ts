import type { ExecutionCounts } from './executor.js';
import type { AccessPath } from './access-path.js';
import type { QueryPlan } from './query-optimizer.js';
import type { Explanation, ExplainNode } from '../../../query/explanation.js';

export interface Actuals {
  counts: ExecutionCounts;
  returned: number;
  timeMs: number;
}

export function explainPlan(queryId: string, plan: QueryPlan, actual?: Actuals): Explanation {
  const { access, query, vectorized } = plan;
  const workers = vectorized?.workers ?? 0;
  const lookup = (path: AccessPath): ExplainNode => ({
    operator: path.index !== 'scan' ? 'IndexLookup' : workers > 0 ? 'ParallelScan' : 'Scan',
    ...(path.index === 'scan' ? {} : { index: path.index }),
    ...(path.index === 'scan' && workers > 0 ? { workers } : {}),
    detail: path.index === 'scan' && workers > 0 ? `${path.condition}, ${workers} workers` : path.condition,
    estimatedRows: path.estimatedRows,
    children: [],
  });
  let node: ExplainNode =
    access.parts === undefined
      ? lookup(access)
      : {
          operator: 'Intersect',
          detail: 'rows in both lookups',
          estimatedRows: access.estimatedRows,
          children: access.parts.map(lookup),
        };
  if (actual) node.actualRows = actual.counts.examined;
  // A query for every event still leaves out what reads may not see (expired events, deleted
  // streams): when it did, say so, or `actual rows` would count events the query never returns.
  const hiddenOnly =
    query.filter.kind === 'all' && actual !== undefined && actual.counts.matched < actual.counts.examined;
  if (query.filter.kind !== 'all' || hiddenOnly) {
    node = {
      operator: 'Filter',
      detail: hiddenOnly
        ? 'only the events reads may see (retention, deleted streams)'
        : vectorized === undefined
          ? 'the whole filter, compiled'
          : vectorized.rest === undefined
            ? 'vectorized over column chunks'
            : 'column terms vectorized over column chunks, the rest compiled',
      // Rows before any limit: exact when the filter is the index condition itself, else the
      // path's rows times the statistics' selectivity of the other terms.
      estimatedRows: plan.matchedRows,
      ...(actual
        ? {
            actualRows: actual.counts.matched,
            removedByFilter: actual.counts.examined - actual.counts.matched,
          }
        : {}),
      children: [node],
    };
  }
  if (!plan.sorted) {
    node = {
      operator: 'Sort',
      detail: query.orderBy.map((t) => `${t.field} ${t.direction}`).join(', '),
      estimatedRows: node.estimatedRows,
      ...(actual ? { actualRows: actual.counts.matched } : {}),
      children: [node],
    };
  }
  if (query.limit !== undefined || query.offset !== undefined) {
    node = {
      operator: 'Limit',
      detail: `offset ${query.offset ?? 0}, limit ${query.limit ?? 'all'}${plan.sorted ? ' (stops early)' : ''}`,
      estimatedRows: plan.estimatedRows,
      ...(actual ? { actualRows: actual.returned } : {}),
      children: [node],
    };
  }
  if (actual) node.timeMs = actual.timeMs;
  return {
    queryId,
    plan: node,
    estimatedCost: plan.estimatedCost,
    estimatedRows: plan.estimatedRows,
    indexesUsed: (access.parts ?? [access]).filter((path) => path.index !== 'scan').map((path) => path.index),
    considered: plan.considered.map(({ index, condition, estimatedRows, cost }) => ({
      index,
      condition,
      estimatedRows,
      cost,
    })),
    ...(plan.fingerprint === undefined ? {} : { fingerprint: plan.fingerprint }),
    ...(plan.planCache === undefined ? {} : { planCache: plan.planCache }),
    ...(actual ? { executionTimeMs: actual.timeMs } : {}),
    text: renderTree(node, 0),
  };
}

function renderTree(node: ExplainNode, depth: number): string {
  const head = `${depth === 0 ? '' : `${' '.repeat(depth * 2 - 2)}-> `}${node.operator}${node.index ? ` using ${node.index}` : ''}`;
  const facts = [`rows=${node.estimatedRows}`];
  if (node.workers !== undefined) facts.push(`workers=${node.workers}`);
  if (node.actualRows !== undefined) facts.push(`actual rows=${node.actualRows}`);
  if (node.removedByFilter !== undefined) facts.push(`removed by filter=${node.removedByFilter}`);
  if (node.timeMs !== undefined) facts.push(`time=${node.timeMs.toFixed(3)} ms`);
  const line = `${head}  (${facts.join(' ')})${node.detail ? `\n${' '.repeat(depth * 2 + 2)}${node.detail}` : ''}`;
  return [line, ...node.children.map((child) => renderTree(child, depth + 1))].join('\n');
}
