import type { EventQuery } from '../../../query/ast.js';
import type { Explanation } from '../../../query/explanation.js';
import type { QueryProfile } from '../../query-profile.js';
import { explainPlan } from './explain.js';
import { accessOf, indexesOf } from './plan-nodes.js';
import type { Run } from './operators/operator.js';
import type { QueryPlan } from './query-optimizer.js';

/**
 * One query's profile for a query observer. It keeps the plan and the run by reference, so a fast
 * query costs one small object; the plan tree with actual rows (`explain()`) is built only when the
 * observer keeps the profile (a slow query).
 */
export class RunProfile implements QueryProfile {
  readonly fingerprint: string;
  readonly accessPath: string;
  readonly estimatedRows: number;
  readonly rowsExamined: number;

  constructor(
    readonly queryId: string,
    /** The query as the caller gave it (the plan's may carry a cursor turned into a bound). */
    readonly query: EventQuery,
    private readonly plan: QueryPlan,
    private readonly run: Run,
    readonly startedAt: number,
    readonly selectMs: number,
    readonly decodeMs: number,
    readonly rowsReturned: number,
  ) {
    this.fingerprint = plan.fingerprint ?? '';
    this.accessPath = plan.access.index;
    this.estimatedRows = plan.estimatedRows;
    this.rowsExamined = run.actual.get(accessOf(plan.root)) ?? 0;
  }

  get timeMs(): number {
    return this.selectMs + this.decodeMs;
  }

  get indexesUsed(): readonly string[] {
    return indexesOf(this.plan.root);
  }

  explain(): Explanation {
    return explainPlan(this.queryId, this.plan, { actual: this.run.actual, timeMs: this.timeMs });
  }
}

/** An analytics query's profile: its row plan's access path, the analytics tree on demand. */
export class AnalyticsProfile implements QueryProfile {
  readonly accessPath: string;
  readonly estimatedRows: number;
  readonly rowsExamined: number;
  readonly decodeMs = 0;

  constructor(
    readonly queryId: string,
    readonly fingerprint: string,
    readonly query: EventQuery,
    private readonly rowPlan: QueryPlan,
    rowRun: Run,
    readonly startedAt: number,
    readonly selectMs: number,
    readonly rowsReturned: number,
    private readonly explainTree: () => Explanation,
  ) {
    this.accessPath = rowPlan.access.index;
    this.estimatedRows = rowPlan.estimatedRows;
    this.rowsExamined = rowRun.actual.get(accessOf(rowPlan.root)) ?? 0;
  }

  get timeMs(): number {
    return this.selectMs;
  }

  get indexesUsed(): readonly string[] {
    return indexesOf(this.rowPlan.root);
  }

  explain(): Explanation {
    return this.explainTree();
  }
}
