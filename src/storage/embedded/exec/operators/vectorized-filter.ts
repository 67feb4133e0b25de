import type { VectorizedFilterNode } from '../plan-nodes.js';
import { Collector } from './collector.js';
import type { Operator } from './operator.js';
import { filterCursor } from './row-filter.js';

/**
 * VectorizedFilter: the column terms run over the access node's candidates window by window (on
 * the workers under a ParallelScan), the other terms row by row on what they kept, up to `demand`.
 * A stream checks the whole predicate row by row instead: windows would scan ahead of its pages.
 */
export const vectorizedFilter: Operator<VectorizedFilterNode> = {
  async rows(node, run, demand) {
    const collector = new Collector(node.child.descending, node.rest, run.guard, demand);
    if (demand > 0) await run.candidates(node.child).filter(node.columns, collector);
    run.count(node.child, collector.examined);
    run.count(node, collector.total);
    return collector.result();
  },
  open: (node, run) => filterCursor(node, run),
};
