import type { SortNode } from '../plan-nodes.js';
import { arrayCursor, type Operator } from './operator.js';
import { RowOrder } from './row-order.js';

/**
 * Sort: every row below, ordered by the query's terms (rows after the page cursor only), keeping the
 * best `demand` (top-k under a Limit). Its actual rows are the rows it ordered.
 */
export const sort: Operator<SortNode> = {
  async rows(node, run, demand) {
    const rows = await run.rows(node.child, Infinity);
    const order = new RowOrder(node.order, run.table, run.body, node.after);
    for (const row of rows) order.offer(row, demand);
    run.count(node, rows.length);
    return order.sorted(demand);
  },
  // A stream of another order must sort first: it holds the row numbers (4-8 bytes a row), not events.
  open: async (node, run, demand) => arrayCursor(await sort.rows(node, run, demand)),
};
