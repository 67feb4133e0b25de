/** One operator of a plan, PostgreSQL-like. `actual*` and `timeMs` only with `analyze`. */
export interface ExplainNode {
  operator:
    | 'Limit'
    | 'Sort'
    | 'Filter'
    | 'Intersect'
    | 'IndexLookup'
    | 'Scan'
    | 'ParallelScan'
    // Analytics operators, above the row plan of the query's filter:
    | 'Join'
    | 'Pattern'
    | 'Window'
    | 'Funnel'
    | 'Aggregate'
    | 'Fill'
    | 'Having';
  index?: string;
  detail?: string;
  /** Worker threads a ParallelScan is split across. */
  workers?: number;
  estimatedRows: number;
  actualRows?: number;
  /** Rows the filter dropped (Filter nodes, with analyze). */
  removedByFilter?: number;
  timeMs?: number;
  children: ExplainNode[];
}

export interface Explanation {
  queryId: string;
  plan: ExplainNode;
  estimatedCost: number;
  estimatedRows: number;
  indexesUsed: string[];
  /** Every access path the planner weighed, cheapest first. */
  considered: { index: string; condition: string; estimatedRows: number; cost: number }[];
  /** The query without its constants: queries sharing it share a cached plan. */
  fingerprint?: string;
  /** Whether the plan cache held a choice for this fingerprint (EXPLAIN itself always weighs every path). */
  planCache?: 'hit' | 'miss';
  /** With analyze: wall time of the whole execution. */
  executionTimeMs?: number;
  /** The same tree as text, one operator a line. */
  text: string;
}
