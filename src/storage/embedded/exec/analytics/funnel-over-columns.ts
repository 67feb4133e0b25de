import { FunnelTally, type FunnelResult } from '../../../../analytics/funnel.js';
import { windowMs } from '../../../../analytics/partition-events.js';
import type { FunnelQuerySpec } from '../../../../query/analytics-ast.js';
import type { EventTable } from '../../table/event-table.js';
import type { BodyReader } from '../compile-filter.js';
import type { QueryGuard } from '../query-guard.js';
import { analyticsGetter } from './group-by-columns.js';
import type { ParallelFold } from './parallel-group-by.js';
import { runSequences } from './parallel-sequences.js';
import { stepColumns, type StepColumns } from './step-columns.js';

/** A funnel's answer: the steps, and with breakdownBy each value's steps, values in order of first appearance. */
export interface FunnelAnswer extends FunnelResult {
  readonly breakdown?: { readonly value: unknown; readonly steps: FunnelResult['steps'] }[];
}

/**
 * A funnel over the rows the filter selected, from the table's columns (step-columns.ts): each
 * step's and exclusion's filter tested once per row into its bit mask, the partition as a
 * dictionary code for aggregateId and type (a field column for tags and payload), time and sequence
 * from their columns; partitions matched on the scan workers when there are many events. Rows no
 * step or exclusion matches take part only in strict mode, where every event of a journey stands
 * between its steps. No event is read from the log (a breakdown reads its field per journey, from
 * a column or a field column when there is one).
 */
export async function funnelOverColumns(
  rows: Int32Array,
  spec: FunnelQuerySpec,
  table: EventTable,
  body: BodyReader,
  guard: QueryGuard,
  parallel: ParallelFold,
): Promise<{ result: FunnelAnswer; workers: number }> {
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
  const groups =
    spec.breakdownBy === undefined ? undefined : breakdownGroups(columns, spec.breakdownBy, table, body);
  const steps = spec.steps.length;
  const task = {
    kind: 'funnel' as const,
    steps,
    groups: groups?.values.length ?? 1,
    within: windowMs(spec.within, 'funnel.within'),
    mode: spec.mode ?? 'sequential',
    between: exclusions.map((exclusion) => exclusion.between),
  };
  const layout = groups === undefined ? columns : { ...columns, groupOf: groups.groupOf };
  const { answer, workers } = await runSequences(task, layout, guard, parallel);
  const times = answer.kind === 'funnel' ? answer.times : [];
  const tally = new FunnelTally(steps);
  for (let g = 0; g < task.groups; g++) tally.merge(times.slice(g * steps, (g + 1) * steps));
  if (groups === undefined) return { result: tally.result(), workers };
  const breakdown = groups.values.map((value, g) => {
    const part = new FunnelTally(steps);
    part.merge(times.slice(g * steps, (g + 1) * steps));
    return { value, steps: part.result().steps };
  });
  return { result: { ...tally.result(), breakdown }, workers };
}

/**
 * Each journey's breakdown value (the field on its earliest event that holds it, null when none
 * does) as a group number, the groups numbered in the order their first journey starts (its first
 * event's time, then sequence), as a pass over the events in that order would meet them.
 */
function breakdownGroups(
  columns: StepColumns,
  field: string,
  table: EventTable,
  body: BodyReader,
): { groupOf: Int32Array; values: unknown[] } {
  const read = analyticsGetter(field, table, body);
  const { bounds, rows, ms } = columns;
  const partitions = bounds.length - 1;
  const keyOf = new Array<string>(partitions);
  const found = new Map<string, { value: unknown; ms: number; row: number }>();
  for (let p = 0; p < partitions; p++) {
    let value: unknown = null;
    for (let i = bounds[p] as number; i < (bounds[p + 1] as number); i++) {
      const held = read(rows[i] as number);
      if (held !== undefined && held !== null) {
        value = held;
        break;
      }
    }
    const key = JSON.stringify(value);
    keyOf[p] = key;
    // A journey's first event: the first of its partition (partitions are in time order).
    const first = bounds[p] as number;
    const seen = found.get(key);
    const earlier =
      seen === undefined ||
      (ms[first] as number) < seen.ms ||
      ((ms[first] as number) === seen.ms && (rows[first] as number) < seen.row);
    if (earlier) found.set(key, { value, ms: ms[first] as number, row: rows[first] as number });
  }
  const ordered = [...found.entries()].sort(([, a], [, b]) => a.ms - b.ms || a.row - b.row);
  const groupOfKey = new Map(ordered.map(([key], g) => [key, g]));
  const groupOf = Int32Array.from(keyOf, (key) => groupOfKey.get(key) as number);
  return { groupOf, values: ordered.map(([, entry]) => entry.value) };
}
