import type { LimitNode } from '../plan-nodes.js';
import { DONE, arrayCursor, type Operator } from './operator.js';

/** Rows the limit keeps, counted from the first row below: offset + limit. */
const wantedBy = (node: LimitNode): number =>
  node.limit === undefined ? Infinity : node.offset + node.limit;

/** Limit: skips `offset` rows and keeps `limit`, asking the node below for no more than it keeps. */
export const limit: Operator<LimitNode> = {
  async rows(node, run) {
    const wanted = wantedBy(node);
    const rows = wanted === 0 ? [] : await run.rows(node.child, wanted);
    const out = rows.slice(node.offset, wanted);
    run.count(node, out.length);
    return out;
  },
  async open(node, run) {
    const wanted = wantedBy(node);
    if (wanted === 0) return arrayCursor([], () => run.count(node, 0));
    const source = await run.open(node.child, wanted);
    let taken = 0;
    return {
      next(): number {
        while (taken < wanted) {
          const row = source.next();
          if (row === DONE) return DONE;
          if (++taken > node.offset) return row;
        }
        return DONE;
      },
      close(): void {
        source.close();
        run.count(node, Math.max(0, taken - node.offset));
      },
    };
  },
};
