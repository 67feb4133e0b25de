/**
 * Operator-tree plans (src/storage/embedded/exec/plan-nodes.ts): the tree the planner returns for
 * representative queries, the rows the executor gets by running it, and EXPLAIN printing that very
 * tree: with ANALYZE, every node shown carries the actual rows the run counted for it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { DecodedBody } from '../../src/codec/record-codec.js';
import { f, openEventStore, type EventQuery, type ExplainNode, type FilterNode } from '../../src/index.js';
import { startRun } from '../../src/storage/embedded/exec/executor.js';
import { explainPlan } from '../../src/storage/embedded/exec/explain.js';
import { ParallelScanPool } from '../../src/storage/embedded/exec/parallel-scan.js';
import { childrenOf, type PlanKind, type PlanNode } from '../../src/storage/embedded/exec/plan-nodes.js';
import { QueryGuard } from '../../src/storage/embedded/exec/query-guard.js';
import {
  createExecutionPlan,
  type PlannerContext,
  type QueryPlan,
} from '../../src/storage/embedded/exec/query-optimizer.js';
import { EventTable } from '../../src/storage/embedded/table/event-table.js';

const N = 6000;
const T0 = Date.UTC(2025, 0, 1);

/** Row i: type T(i % 4), stream a(i % 50), tenant t(i % 30), payload { n: i % 7 }, one second apart. */
const rows = Array.from({ length: N }, (_, i) => ({
  row: i,
  type: `T${i % 4}`,
  aggregateId: `a${i % 50}`,
  timestamp: T0 + i * 1000,
  version: Math.floor(i / 50) + 1,
  tenant: `t${i % 30}`,
  n: i % 7,
}));
type Row = (typeof rows)[number];

const table = new EventTable();
for (const r of rows) table.addRow(r.aggregateId, r.type, r.timestamp, r.version, 0, 1, { tenant: r.tenant });
/** The records, made up from the rows: only `payload.n` is read. */
const body = (row: number): DecodedBody => ({
  id: `e${row}`,
  tags: {},
  payload: { n: row % 7 },
  metadata: {},
});
const pool = new ParallelScanPool(table);

afterAll(() => pool.close());

const query = (filter: FilterNode, more: Partial<EventQuery> = {}): EventQuery => ({
  kind: 'query',
  filter,
  orderBy: [],
  hints: {},
  ...more,
});

const plan = (q: EventQuery, context: PlannerContext = {}) => createExecutionPlan(table, q, body, context);

/** The tree as `Kind(children)`, lookups with their index. */
function shape(node: PlanNode): string {
  const name = node.kind === 'IndexLookup' ? `IndexLookup ${node.index}` : node.kind;
  const children = childrenOf(node);
  return children.length === 0 ? name : `${name}(${children.map(shape).join(', ')})`;
}

async function execute(p: QueryPlan) {
  const run = startRun(table, body, new QueryGuard('test', undefined, undefined), pool);
  const selected = await run.rows(p.root, Infinity);
  return { selected, run, explanation: explainPlan('test', p, { actual: run.actual, timeMs: 1 }) };
}

/** The operator EXPLAIN shows for each kind; Hydrate is not shown (its child stands in its place). */
const OPERATOR: Record<PlanKind, ExplainNode['operator'] | undefined> = {
  IndexLookup: 'IndexLookup',
  Intersect: 'Intersect',
  Scan: 'Scan',
  ParallelScan: 'ParallelScan',
  Filter: 'Filter',
  VectorizedFilter: 'Filter',
  Sort: 'Sort',
  Limit: 'Limit',
  Hydrate: undefined,
};

const shown = (node: PlanNode): PlanNode[] => [
  ...(OPERATOR[node.kind] === undefined ? [] : [node]),
  ...childrenOf(node).flatMap(shown),
];
const flatten = (node: ExplainNode): ExplainNode[] => [node, ...node.children.flatMap(flatten)];

/** EXPLAIN's tree is the plan's, node for node, with the rows the run counted for each. */
function expectExplainsWhatRan(p: QueryPlan, explained: ExplainNode, actual: ReadonlyMap<PlanNode, number>) {
  const nodes = shown(p.root);
  const printed = flatten(explained);
  expect(printed.map((e) => e.operator)).toEqual(nodes.map((n) => OPERATOR[n.kind]));
  printed.forEach((e, i) => {
    const node = nodes[i]!;
    expect(actual.has(node), `${node.kind} ran`).toBe(true);
    expect(e.actualRows).toBe(actual.get(node));
    expect(e.estimatedRows).toBe(node.estimatedRows);
  });
}

const oracle = (keep: (r: Row) => boolean) => rows.filter(keep).map((r) => r.row);

describe('the planner returns an operator tree, and the executor runs it', () => {
  it('index lookup + filter + limit: the filter stops at the limit', async () => {
    const p = plan(query(f.and(f.eq('type', 'T1'), f.gte('version', 3)), { offset: 1, limit: 5 }));
    expect(shape(p.root)).toBe('Hydrate(Limit(Filter(IndexLookup type)))');
    expect(p.root.child).toMatchObject({ kind: 'Limit', offset: 1, limit: 5, stopsEarly: true });
    const { selected, run, explanation } = await execute(p);
    const matching = oracle((r) => r.type === 'T1' && r.version >= 3);
    expect(selected).toEqual(matching.slice(1, 6));
    // Six rows matched, then the lookup stopped: it examined up to the sixth match only.
    const lookup = childrenOf(childrenOf(p.root.child)[0]!)[0]!;
    expect(run.actual.get(lookup)).toBe(rows.filter((r) => r.type === 'T1' && r.row <= matching[5]!).length);
    expectExplainsWhatRan(p, explanation.plan, run.actual);
    expect(explanation.text).toMatch(/^Limit {2}\(rows=6 actual rows=5 /);
    expect(explanation.indexesUsed).toEqual(['type']);
  });

  it('intersection of two indexes: each lookup, then the rows in both, then the filter', async () => {
    // The payload term makes each row dear to check, so intersecting the lookups first pays.
    const filter = f.and(f.eq('type', 'T1'), f.eq('tags.tenant', 't5'), f.eq('payload.n', 2));
    const p = plan(query(filter));
    expect(shape(p.root)).toBe('Hydrate(Filter(Intersect(IndexLookup tags.tenant, IndexLookup type)))');
    const { selected, run, explanation } = await execute(p);
    expect(selected).toEqual(oracle((r) => r.type === 'T1' && r.tenant === 't5' && r.n === 2));
    expectExplainsWhatRan(p, explanation.plan, run.actual);
    // The lookups' actual rows are their lists; the intersection's, the rows in both.
    const intersect = explanation.plan.children[0]!;
    expect(intersect.actualRows).toBe(oracle((r) => r.type === 'T1' && r.tenant === 't5').length);
    expect(intersect.children.map((c) => c.actualRows)).toEqual([N / 30, N / 4]);
    expect(explanation.indexesUsed).toEqual(['tags.tenant', 'type']);
  });

  it('full scan with sort and top-k: the scan and its filter fused in the vectorized kernel', async () => {
    const q = query(f.gte('version', 3), {
      orderBy: [{ field: 'timestamp', direction: 'desc' }],
      offset: 1,
      limit: 3,
    });
    const p = plan(q);
    expect(shape(p.root)).toBe('Hydrate(Limit(Sort(VectorizedFilter(Scan))))');
    expect(p.root.child).toMatchObject({ kind: 'Limit', stopsEarly: false });
    const matching = oracle((r) => r.version >= 3).reverse();
    const { selected, run, explanation } = await execute(p);
    expect(selected).toEqual(matching.slice(1, 4));
    expectExplainsWhatRan(p, explanation.plan, run.actual);
    expect(explanation.plan.children[0]).toMatchObject({ operator: 'Sort', actualRows: matching.length });

    // Row by row, the same rows through a Filter over the Scan.
    const perRow = plan(q, { vectorize: false });
    expect(shape(perRow.root)).toBe('Hydrate(Limit(Sort(Filter(Scan))))');
    const again = await execute(perRow);
    expect(again.selected).toEqual(selected);
    expectExplainsWhatRan(perRow, again.explanation.plan, again.run.actual);
  });

  it('a parallel scan under its vectorized filter, and a query with no filter at all', async () => {
    const parallel = plan(query(f.lt('version', 10), { hints: { parallel: true } }), { workers: pool.size });
    expect(shape(parallel.root)).toBe('Hydrate(VectorizedFilter(ParallelScan))');
    const ran = await execute(parallel);
    expect(ran.selected).toEqual(oracle((r) => r.version < 10));
    expectExplainsWhatRan(parallel, ran.explanation.plan, ran.run.actual);

    const everything = plan(
      query({ kind: 'all' }, { orderBy: [{ field: 'sequence', direction: 'desc' }], limit: 2 }),
    );
    expect(shape(everything.root)).toBe('Hydrate(Limit(Scan))');
    const all = await execute(everything);
    expect(all.selected).toEqual([N - 1, N - 2]);
    expectExplainsWhatRan(everything, all.explanation.plan, all.run.actual);
  });

  it('streams the same tree a row at a time', async () => {
    const q = query(f.and(f.eq('type', 'T2'), f.lt('version', 20)), { offset: 3, limit: 40 });
    const p = plan(q);
    const run = startRun(table, body, new QueryGuard('test', undefined, undefined), pool);
    const cursor = await run.open(p.root, Infinity);
    const streamed: number[] = [];
    for (let row = cursor.next(); row >= 0; row = cursor.next()) streamed.push(row);
    cursor.close();
    expect(streamed).toEqual(oracle((r) => r.type === 'T2' && r.version < 20).slice(3, 43));
    expect(run.actual.get(p.root)).toBe(40);
  });
});

describe('EXPLAIN ANALYZE through the store prints the tree it ran', () => {
  it('gives every node its actual rows', async () => {
    const store = await openEventStore();
    try {
      await store.append(
        rows.slice(0, 2000).map((r) => ({
          aggregateId: r.aggregateId,
          type: r.type,
          timestamp: r.timestamp,
          tags: { tenant: r.tenant },
          payload: { n: r.n },
        })),
      );
      const queries = [
        store.query().where('type', 'eq', 'T1').where('payload.n', 'lt', 3).limit(5),
        store.query().where('type', 'eq', 'T1').where('tags.tenant', 'eq', 't5').where('payload.n', 'eq', 2),
        store.query().where('payload.n', 'gte', 1).orderBy('timestamp', 'desc').offset(2).limit(3),
      ];
      const operators = [];
      for (const q of queries) {
        const explained = await q.explain({ analyze: true });
        const nodes = flatten(explained.plan);
        for (const node of nodes)
          expect(node.actualRows, `${node.operator} in\n${explained.text}`).toEqual(expect.any(Number));
        operators.push(nodes.map((node) => node.operator).join(' > '));
      }
      expect(operators).toEqual([
        'Limit > Filter > IndexLookup',
        'Filter > Intersect > IndexLookup > IndexLookup',
        'Limit > Sort > Filter > Scan',
      ]);
    } finally {
      await store.close();
    }
  });
});
