import { funnel, type FunnelResult } from '../../../../analytics/funnel.js';
import { windowMs } from '../../../../analytics/partition-events.js';
import type { FunnelQuerySpec } from '../../../../query/analytics-ast.js';
import type { EventTable } from '../../table/event-table.js';
import type { BodyReader } from '../compile-filter.js';
import type { QueryGuard } from '../query-guard.js';
import { stepRows, type StepRow } from './step-rows.js';

/**
 * A funnel over the rows the filter selected, from the table's columns: each step's and exclusion's
 * filter compiled to a row predicate and tested once per row, the partition as a dictionary code for
 * aggregateId and type (a field column for tags and payload), time and sequence from their columns.
 * Rows no step or exclusion matches take part only in strict mode, where every event of a journey
 * stands between its steps. No event is read from the log.
 */
export function funnelOverColumns(
  rows: Int32Array,
  spec: FunnelQuerySpec,
  table: EventTable,
  body: BodyReader,
  guard: QueryGuard,
): FunnelResult {
  const found = stepRows(
    rows,
    [...spec.steps, ...(spec.exclusions ?? []).map((exclusion) => exclusion.where)],
    spec.partitionBy,
    spec.mode === 'strict',
    table,
    body,
    guard,
  );
  const steps = spec.steps.length;
  return funnel(found.events, {
    partitionBy: (event) => event.partition,
    steps: spec.steps.map((_, s) => (event: StepRow) => found.matches(event, s)),
    withinMs: windowMs(spec.within, 'funnel.within'),
    mode: spec.mode ?? 'sequential',
    exclusions: (spec.exclusions ?? []).map((exclusion, x) => ({
      test: (event: StepRow) => found.matches(event, steps + x),
      between: exclusion.between,
    })),
  });
}
