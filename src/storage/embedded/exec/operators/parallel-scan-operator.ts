import type { ColumnFilter } from '../column-filter.js';
import type { ParallelScanNode } from '../plan-nodes.js';
import { accessOperator, rowRange } from './access.js';
import { stillHeld, type Collector } from './collector.js';
import type { Run } from './operator.js';

/** A parallel scan's ranges: about this many per worker, so a slow worker delays the others little... */
const RANGES_PER_WORKER = 4;
/** ...and none larger than this, so a limit reached early wastes little of the workers' time. */
const MAX_RANGE = 1 << 20;

/**
 * ParallelScan: the scan's rows, whose column terms (the vectorized filter's above it) the pool's
 * workers check. Read as plain candidates (a stream reads them so), they are the scanned range.
 */
export const parallelScan = accessOperator<ParallelScanNode>((node, run) => ({
  rows: rowRange(node.firstRow, node.estimatedRows),
  filter: (columns, collector) => scanOnWorkers(node, columns, run, collector),
}));

/**
 * [first row, rows) split into ranges handed to the pool's workers, a few per worker outstanding at
 * any time (a range is handed out as soon as any finishes, so a worker that started late does not
 * hold the others up), their answers taken in range order (so the result is what the serial scan
 * gives). The guard is checked as each range is taken and, while waiting, stops the query the moment
 * it is cancelled or times out; outstanding ranges are then dropped by the workers at their next
 * chunk.
 *
 * A cleanup can cut rows while the workers scan (the serial passes run in one turn, so only this one
 * sees it). Their answers, and the rows taken before, then name rows that hold no event any more:
 * those are left out before they count toward the limit or reach the other terms, which would read
 * records that are gone. Otherwise a page could come back short, and a short page reads as the last.
 */
async function scanOnWorkers(
  node: ParallelScanNode,
  columns: ColumnFilter,
  run: Run,
  collector: Collector,
): Promise<void> {
  const { table, pool, guard } = run;
  const first = node.firstRow;
  const end = first + node.estimatedRows;
  const size = Math.max(
    1,
    Math.min(MAX_RANGE, Math.ceil(node.estimatedRows / (node.workers * RANGES_PER_WORKER))),
  );
  const ranges: [number, number][] = [];
  for (let from = first; from < end; from += size) ranges.push([from, Math.min(end, from + size)]);
  if (node.descending) ranges.reverse();

  const { generation } = table;
  let seen = generation;
  const scan = pool.open(columns);
  const { stopped, dispose } = guard.watch();
  const answers: (Promise<Uint32Array> | undefined)[] = [];
  let next = 0;
  let outstanding = 0;
  let over = false;
  const dispatch = (): void => {
    for (; !over && next < ranges.length && outstanding < 2 * node.workers; next++) {
      const [from, to] = ranges[next] as [number, number];
      const answer = scan.range(from, to);
      outstanding++;
      // Answers no longer wanted are never awaited; their failures are of no interest.
      answer.then(
        () => {
          outstanding--;
          dispatch();
        },
        () => outstanding--,
      );
      answers[next] = answer;
    }
  };
  try {
    dispatch();
    for (let i = 0; i < ranges.length; i++) {
      // Handed out already: each answer hands out the next range before anyone awaits it.
      const matching = await Promise.race([answers[i] as Promise<Uint32Array>, stopped]);
      answers[i] = undefined;
      guard.check();
      const [from, to] = ranges[i] as [number, number];
      if (table.generation !== seen) {
        seen = table.generation;
        collector.keepHeld(table);
      }
      const held = seen === generation ? matching : stillHeld(matching, table);
      if (collector.take(held, to - from)) break;
    }
  } finally {
    over = true;
    dispose();
    scan.close();
  }
}
