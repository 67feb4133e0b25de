import type { SortedRows } from '../../table/sorted-rows.js';
import { within } from '../access-path.js';
import { intersect } from '../intersection.js';
import type { IndexLookupNode, IntersectNode } from '../plan-nodes.js';
import { accessOperator, listedCandidates } from './access.js';
import type { Run } from './operator.js';

/** A lookup's rows; the intersection reads (or seeks past) all of them, so they all count as its actual rows. */
function lookedUp(node: IndexLookupNode, run: Run): SortedRows {
  const { rows } = run.candidates(node);
  run.count(node, rows.length);
  return rows;
}

/** Intersect: the rows in both lookups below it, each row of the smaller sought in the larger. */
export const intersectLookups = accessOperator<IntersectNode>((node, run) => {
  const [small, large] = node.children;
  const both = intersect(lookedUp(small, run), lookedUp(large, run));
  const rows = node.bounds === undefined ? both : within(both, node.bounds.first, node.bounds.end);
  return listedCandidates(rows, run.table);
});
