import { ColumnScan, tableChunks } from '../column-scan.js';
import type { ScanNode } from '../plan-nodes.js';
import { accessOperator, rowRange } from './access.js';
import { windows } from './collector.js';

/**
 * Scan: every row from the node's first row. A vectorized filter above runs its column kernels over
 * the scanned range window by window, reading the columns in place (Scan and Filter fused).
 */
export const scan = accessOperator<ScanNode>((node, run) => {
  // The estimate is the exact row count from the first row, at the row count the plan was made at.
  const { firstRow: first, estimatedRows: length } = node;
  return {
    rows: rowRange(first, length),
    filter: (columns, collector) => {
      const kernels = new ColumnScan(columns, tableChunks(run.table));
      for (const [from, to] of windows(length, collector.descending)) {
        collector.guard.check();
        if (collector.take(kernels.range(first + from, first + to), to - from)) break;
      }
    },
  };
});
