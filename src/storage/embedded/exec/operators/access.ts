import type { EventTable } from '../../table/event-table.js';
import type { SortedRows } from '../../table/sorted-rows.js';
import type { ColumnFilter } from '../column-filter.js';
import { ColumnScan, tableChunks } from '../column-scan.js';
import type { AccessNode } from '../plan-nodes.js';
import { CHECK_EVERY } from '../query-guard.js';
import { LAST_WINDOW, windows, type Collector } from './collector.js';
import { DONE, type AccessOperator, type Candidates, type RowCursor, type Run } from './operator.js';

/**
 * An access operator from how it finds its candidates: with no filter above, its rows are the
 * candidates themselves, in the node's order.
 */
export function accessOperator<N extends AccessNode>(
  candidates: (node: N, run: Run) => Candidates,
): AccessOperator<N> {
  return {
    candidates,
    rows: async (node, run, demand) => takeRows(node, run, candidates(node, run).rows, demand),
    open: async (node, run) => rowsCursor(node, run, candidates(node, run).rows),
  };
}

/** The first `demand` of the rows in the node's order. */
function takeRows(node: AccessNode, run: Run, rows: SortedRows, demand: number): number[] {
  const guard = run.guard;
  const n = Math.min(rows.length, demand);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    if ((i + 1) % CHECK_EVERY === 0) guard.check();
    out[i] = rows.at(node.descending ? rows.length - 1 - i : i);
  }
  run.count(node, n);
  return out;
}

/** The rows one at a time in the node's order, for a stream; every row handed out counts as examined. */
export function rowsCursor(node: AccessNode, run: Run, rows: SortedRows): RowCursor {
  const { table, generation, guard } = run;
  const step = node.descending ? -1 : 1;
  let at = node.descending ? rows.length - 1 : 0;
  let examined = 0;
  return {
    next(): number {
      while (at >= 0 && at < rows.length) {
        const row = rows.at(at);
        at += step;
        if (++examined % CHECK_EVERY === 0) guard.check();
        // `rows` are the index as the stream began: since then cleanup may have removed rows.
        if (table.generation !== generation && table.isRemoved(row)) continue;
        return row;
      }
      return DONE;
    },
    close(): void {
      run.count(node, examined);
    },
  };
}

/** Candidates listed by an index: run through the column terms a window of rows at a time. */
export function listedCandidates(rows: SortedRows, table: EventTable): Candidates {
  return {
    rows,
    filter: (columns, collector) => filterListed(rows, columns, table, collector),
  };
}

function filterListed(
  rows: SortedRows,
  columns: ColumnFilter,
  table: EventTable,
  collector: Collector,
): void {
  const scan = new ColumnScan(columns, tableChunks(table));
  const candidates = new Uint32Array(Math.min(rows.length, LAST_WINDOW));
  for (const [from, to] of windows(rows.length, collector.descending)) {
    collector.guard.check();
    for (let i = from; i < to; i++) candidates[i - from] = rows.at(i);
    if (collector.take(scan.filterRows(candidates.subarray(0, to - from)), to - from)) break;
  }
}

/** The rows [first, first + length), as a list. */
export function rowRange(first: number, length: number): SortedRows {
  return { length, at: (i: number) => first + i };
}
