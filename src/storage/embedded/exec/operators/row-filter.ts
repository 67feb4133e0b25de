import type { RowPredicate } from '../compile-filter.js';
import type { RowFilterNode, VectorizedFilterNode } from '../plan-nodes.js';
import { CHECK_EVERY } from '../query-guard.js';
import { DONE, type Operator, type RowCursor, type Run } from './operator.js';

/**
 * Filter: the compiled filter called on each candidate in the access node's order, stopping once
 * `demand` rows matched (in sequence order, a Limit's offset + limit: top-k for free).
 */
export const rowFilter: Operator<RowFilterNode> = {
  async rows(node, run, demand) {
    const { rows } = run.candidates(node.child);
    const { predicate } = node;
    const guard = run.guard;
    const out: number[] = [];
    let examined = 0;
    if (demand > 0) {
      const descending = node.child.descending;
      for (let i = 0; i < rows.length; i++) {
        const row = rows.at(descending ? rows.length - 1 - i : i);
        if (++examined % CHECK_EVERY === 0) guard.check();
        if (predicate(row) && out.push(row) >= demand) break;
      }
    }
    run.count(node.child, examined);
    run.count(node, out.length);
    return out;
  },
  open: (node, run) => filterCursor(node, run),
};

/** The node's rows one at a time: its whole predicate over the access node's cursor. */
export async function filterCursor(node: RowFilterNode | VectorizedFilterNode, run: Run): Promise<RowCursor> {
  const source = await run.open(node.child, Infinity);
  const predicate: RowPredicate = node.predicate;
  let matched = 0;
  return {
    next(): number {
      for (let row = source.next(); row !== DONE; row = source.next()) {
        if (predicate(row)) {
          matched++;
          return row;
        }
      }
      return DONE;
    },
    close(): void {
      source.close();
      run.count(node, matched);
    },
  };
}
