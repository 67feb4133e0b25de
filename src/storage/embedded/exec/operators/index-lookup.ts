import type { IndexLookupNode } from '../plan-nodes.js';
import { accessOperator, listedCandidates } from './access.js';

/** IndexLookup: the rows of a posting list (seeking to the sequence range, when there is one). */
export const indexLookup = accessOperator<IndexLookupNode>((node, run) =>
  listedCandidates(node.path.rows(), run.table),
);
