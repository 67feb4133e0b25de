import type { EventTable } from '../table/event-table.js';
import type { BodyReader } from './compile-filter.js';
import type { ParallelScanPool } from './parallel-scan.js';
import type { AccessNode, PlanKind, PlanNode, PlanNodeOf } from './plan-nodes.js';
import type { QueryGuard } from './query-guard.js';
import type { QueryPlan } from './query-optimizer.js';
import { indexLookup } from './operators/index-lookup.js';
import { intersectLookups } from './operators/intersect.js';
import { scan } from './operators/scan.js';
import { parallelScan } from './operators/parallel-scan-operator.js';
import { rowFilter } from './operators/row-filter.js';
import { vectorizedFilter } from './operators/vectorized-filter.js';
import { sort } from './operators/sort.js';
import { limit } from './operators/limit.js';
import { hydrate } from './operators/hydrate.js';
import type { AccessOperator, Candidates, Operator, Run, RowCursor } from './operators/operator.js';

type AccessKind = AccessNode['kind'];

/**
 * The executor's visitor: one operator per node kind, an access kind's able to hand candidates to
 * a filter. A kind without its operator fails to compile here.
 */
export type OperatorTable = {
  readonly [K in PlanKind]: K extends AccessKind
    ? AccessOperator<Extract<AccessNode, { readonly kind: K }>>
    : Operator<PlanNodeOf<K>>;
};

const OPERATORS: OperatorTable = {
  IndexLookup: indexLookup,
  Intersect: intersectLookups,
  Scan: scan,
  ParallelScan: parallelScan,
  Filter: rowFilter,
  VectorizedFilter: vectorizedFilter,
  Sort: sort,
  Limit: limit,
  Hydrate: hydrate,
};

// The table pairs each kind with its node type; TypeScript cannot follow that pairing through
// `node.kind`, so the operator found is called as taking any node.
const operatorOf = (node: PlanNode) => OPERATORS[node.kind] as Operator<PlanNode>;
const accessOperatorOf = (node: AccessNode) => OPERATORS[node.kind] as AccessOperator<AccessNode>;

/** One execution of a plan tree: operators run the nodes below them through it. */
class PlanRun implements Run {
  readonly actual = new Map<PlanNode, number>();
  readonly generation: number;

  constructor(
    readonly table: EventTable,
    readonly body: BodyReader,
    readonly guard: QueryGuard,
    readonly pool: ParallelScanPool,
  ) {
    this.generation = table.generation;
  }

  count(node: PlanNode, rows: number): void {
    this.actual.set(node, (this.actual.get(node) ?? 0) + rows);
  }

  rows(node: PlanNode, demand: number): Promise<number[]> {
    return operatorOf(node).rows(node, this, demand);
  }

  open(node: PlanNode, demand: number): Promise<RowCursor> {
    return operatorOf(node).open(node, this, demand);
  }

  candidates(node: AccessNode): Candidates {
    return accessOperatorOf(node).candidates(node, this);
  }
}

/**
 * Starts running plans against the table. `run.rows(plan.root, Infinity)` selects a query's rows
 * (hydrating them is hydrateRows', so a stream can hydrate page by page); `run.open` streams them;
 * `run.actual` then holds what each node put out.
 */
export function startRun(
  table: EventTable,
  body: BodyReader,
  guard: QueryGuard,
  pool: ParallelScanPool,
): Run {
  return new PlanRun(table, body, guard, pool);
}

/** The rows a plan selects, in its order. */
export function selectRows(
  plan: QueryPlan,
  table: EventTable,
  body: BodyReader,
  guard: QueryGuard,
  pool: ParallelScanPool,
): Promise<number[]> {
  return startRun(table, body, guard, pool).rows(plan.root, Infinity);
}
