import { FunnelTally, type FunnelResult } from '../../../../analytics/funnel.js';
import { windowMs } from '../../../../analytics/partition-events.js';
import type { FunnelQuerySpec } from '../../../../query/analytics-ast.js';
import type { EventTable } from '../../table/event-table.js';
import type { BodyReader } from '../compile-filter.js';
import type { QueryGuard } from '../query-guard.js';
import type { ParallelFold } from './parallel-group-by.js';
import { runSequences } from './parallel-sequences.js';
import { stepColumns } from './step-columns.js';

/**
 * A funnel over the rows the filter selected, from the table's columns (step-columns.ts): each
 * step's and exclusion's filter tested once per row into its bit mask, the partition as a
 * dictionary code for aggregateId and type (a field column for tags and payload), time and sequence
 * from their columns; partitions matched on the scan workers when there are many events. Rows no
 * step or exclusion matches take part only in strict mode, where every event of a journey stands
 * between its steps. No event is read from the log.
 */
export async function funnelOverColumns(
  rows: Int32Array,
  spec: FunnelQuerySpec,
  table: EventTable,
  body: BodyReader,
  guard: QueryGuard,
  parallel: ParallelFold,
): Promise<{ result: FunnelResult; workers: number }> {
  const exclusions = spec.exclusions ?? [];
  const columns = stepColumns(
    rows,
    [...spec.steps, ...exclusions.map((exclusion) => exclusion.where)],
    spec.partitionBy,
    spec.mode === 'strict',
    table,
    body,
    guard,
  );
  const task = {
    kind: 'funnel' as const,
    steps: spec.steps.length,
    within: windowMs(spec.within, 'funnel.within'),
    mode: spec.mode ?? 'sequential',
    between: exclusions.map((exclusion) => exclusion.between),
  };
  const { answer, workers } = await runSequences(task, columns, guard, parallel);
  const tally = new FunnelTally(spec.steps.length);
  if (answer.kind === 'funnel') tally.merge(answer.times);
  return { result: tally.result(), workers };
}
