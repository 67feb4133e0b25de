import { funnel, type FunnelResult } from '../../../../analytics/funnel.js';
import { windowMs } from '../../../../analytics/partition-events.js';
import type { FunnelQuerySpec } from '../../../../query/analytics-ast.js';
import { resolveField } from '../../../../query/fields.js';
import type { EventTable } from '../../table/event-table.js';
import { compileFilter, type BodyReader, type RowPredicate } from '../compile-filter.js';
import type { QueryGuard } from '../query-guard.js';
import { analyticsGetter } from './group-by-columns.js';

interface RowEvent {
  readonly timestamp: number;
  readonly sequence: number;
  readonly row: number;
  readonly partition: unknown;
  /** Bit t: the row matches test t (steps, then exclusions), each tested once; 0 when there are over 31 tests. */
  readonly mask: number;
}

const CHECK_EVERY = 65_536;

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
  const tests: RowPredicate[] = [
    ...spec.steps.map((step) => compileFilter(step, table, body)),
    ...(spec.exclusions ?? []).map((exclusion) => compileFilter(exclusion.where, table, body)),
  ];
  const ref = resolveField(spec.partitionBy, 'funnel.partitionBy');
  const codes =
    ref.kind === 'core' && (ref.name === 'aggregateId' || ref.name === 'type')
      ? ref.name === 'type'
        ? table.typeId
        : table.aggregateId
      : undefined;
  const getter = analyticsGetter(spec.partitionBy, table, body);
  const strict = spec.mode === 'strict';
  // Up to 31 steps and exclusions, each row's matches fit one integer; past that, tests run as asked.
  const packed = tests.length <= 31;
  const matches = (event: RowEvent, t: number) =>
    packed ? (event.mask & (1 << t)) !== 0 : (tests[t] as RowPredicate)(event.row);
  const events: RowEvent[] = [];
  for (let i = 0; i < rows.length; i++) {
    if ((i & (CHECK_EVERY - 1)) === CHECK_EVERY - 1) guard.check();
    const row = rows[i] as number;
    let mask = 0;
    let any = false;
    for (let t = 0; t < tests.length; t++) {
      if ((tests[t] as RowPredicate)(row)) {
        if (packed) mask |= 1 << t;
        any = true;
      }
    }
    if (!any && !strict) continue;
    const value = codes === undefined ? getter(row) : codes.get(row);
    // An event without the partition field is in no journey.
    if (value === undefined || value === null) continue;
    const partition = typeof value === 'object' ? JSON.stringify(value) : value;
    events.push({ timestamp: table.timestamp.get(row), sequence: row + 1, row, partition, mask });
  }
  guard.check();
  const steps = spec.steps.length;
  return funnel(events, {
    partitionBy: (event) => event.partition,
    steps: spec.steps.map((_, s) => (event: RowEvent) => matches(event, s)),
    withinMs: windowMs(spec.within, 'funnel.within'),
    mode: spec.mode ?? 'sequential',
    exclusions: (spec.exclusions ?? []).map((exclusion, x) => ({
      test: (event: RowEvent) => matches(event, steps + x),
      between: exclusion.between,
    })),
  });
}
