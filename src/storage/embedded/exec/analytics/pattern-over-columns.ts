import { windowMs } from '../../../../analytics/partition-events.js';
import type { PatternQuerySpec } from '../../../../query/analytics-ast.js';
import type { StoredEvent } from '../../../../events/types.js';
import type { EventReader } from '../../table/event-reader.js';
import type { EventTable } from '../../table/event-table.js';
import type { BodyReader } from '../compile-filter.js';
import type { QueryGuard } from '../query-guard.js';
import type { ParallelFold } from './parallel-group-by.js';
import { runSequences } from './parallel-sequences.js';
import { stepColumns, type StepColumns } from './step-columns.js';

/**
 * A pattern over the rows the filter selected, read from the table's columns (step-columns.ts):
 * each step's filter tested once per row into its bit mask, the partition key from its column
 * (dictionary codes for aggregateId and type), time and sequence from theirs; partitions matched on
 * the scan workers when there are many events. Only rows some step matches take part (other events
 * cannot start or continue a match), except with strict contiguity, where every event of the
 * partition stands between steps. Only the events of the matches found are read from the log.
 */
export async function patternOverColumns(
  rows: Int32Array,
  spec: PatternQuerySpec,
  table: EventTable,
  reader: EventReader,
  body: BodyReader,
  guard: QueryGuard,
  now: number,
  parallel: ParallelFold,
): Promise<{ rows: Record<string, unknown>[]; workers: number }> {
  const strict = spec.contiguity === 'strict';
  const columns = stepColumns(
    rows,
    spec.steps.map((step) => step.where),
    spec.partitionBy,
    strict,
    table,
    body,
    guard,
  );
  const task = {
    kind: 'pattern' as const,
    absent: spec.steps.map((step) => step.absent === true),
    within: windowMs(spec.within, 'pattern.within'),
    strict,
    now,
  };
  const { answer, workers } = await runSequences(task, columns, guard, parallel);
  if (answer.kind !== 'pattern') return { rows: [], workers };
  return { rows: matchRows(answer.partitions, answer.found, spec, columns, reader), workers };
}

/**
 * The matches as rows, ordered by start time, then by the first event's sequence (as matchPattern
 * orders them), each step's event read from the log in one ordered pass.
 */
function matchRows(
  partitions: Int32Array,
  found: Int32Array,
  spec: PatternQuerySpec,
  columns: StepColumns,
  reader: EventReader,
): Record<string, unknown>[] {
  const steps = spec.steps.length;
  const { ms, rows } = columns;
  const count = partitions.length;
  const lastOf = (m: number): number => {
    for (let s = steps - 1; s >= 0; s--)
      if ((found[m * steps + s] as number) !== -1) return found[m * steps + s] as number;
    return found[m * steps] as number;
  };
  const order = Array.from({ length: count }, (_, m) => m);
  const first = (m: number) => found[m * steps] as number;
  order.sort(
    (a, b) =>
      (ms[first(a)] as number) - (ms[first(b)] as number) ||
      (rows[first(a)] as number) - (rows[first(b)] as number),
  );
  // The matches' events, read in row order once each: the distinct rows, sorted, then looked up by
  // binary search (no Set or Map of a hundred thousand entries).
  const wanted = Int32Array.from(
    found.filter((at) => at !== -1),
    (at) => rows[at] as number,
  ).sort();
  let distinct = 0;
  for (let i = 0; i < wanted.length; i++)
    if (i === 0 || wanted[i] !== wanted[i - 1]) wanted[distinct++] = wanted[i] as number;
  const ordered = wanted.subarray(0, distinct);
  const events = reader.events(Array.from(ordered));
  const eventOf = (row: number): StoredEvent | null => {
    let low = 0;
    let high = ordered.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((ordered[mid] as number) < row) low = mid + 1;
      else high = mid;
    }
    return (events[low] as StoredEvent | undefined) ?? null;
  };
  return order.map((m) => {
    const out: Record<string, unknown> = { partition: columns.partitionValue(partitions[m] as number) };
    spec.steps.forEach((step, s) => {
      const at = found[m * steps + s] as number;
      out[step.name] = at === -1 ? null : eventOf(rows[at] as number);
    });
    const start = ms[first(m)] as number;
    const end = ms[lastOf(m)] as number;
    out.start = start;
    out.end = end;
    out.durationMs = end - start;
    return out;
  });
}
