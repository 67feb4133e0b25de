import type { Field } from '../../query/ast.js';
import type { AggregateMap, DeltaSpec, MovingSpec, PipelineRow } from '../../query/analytics-ast.js';
import { accumulatorFor } from '../accumulator-for.js';
import { splitAggregates, validateAggregateMap } from './aggregate-map.js';
import { groupBy, groupKeyText } from './group-key.js';
import { rowInput } from './group-rows.js';
import { readRowField } from './read-row-field.js';
import { compareValues } from './sort-rows.js';

export interface RunningOptions {
  /** The column the rows of a group are ordered by (`bucket` or `windowStart`); absent: input order. */
  readonly order?: Field;
  /** The other group keys: each distinct combination is one series. */
  readonly partitionBy?: readonly Field[];
}

function moving(series: PipelineRow[], alias: string, spec: MovingSpec): void {
  const accumulator = accumulatorFor(spec.of);
  const input = rowInput(spec.of);
  // first/last over output rows: the row's place in the series is its time.
  const at = (i: number) => ({ timestamp: i, sequence: i });
  if (spec.buckets === 'all') {
    let state = accumulator.init();
    series.forEach((row, i) => {
      state = accumulator.add(state, input(row), at(i));
      row[alias] = accumulator.result(state);
    });
    return;
  }
  const span = spec.buckets;
  const values = series.map(input);
  series.forEach((row, i) => {
    let state = accumulator.init();
    for (let j = Math.max(0, i - span + 1); j <= i; j++) state = accumulator.add(state, values[j], at(j));
    row[alias] = accumulator.result(state);
  });
}

const finite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function delta(series: PipelineRow[], alias: string, spec: DeltaSpec): void {
  const values = series.map((row) => readRowField(row, spec.field));
  series.forEach((row, i) => {
    const [previous, current] = [values[i - 1], values[i]];
    row[alias] = i > 0 && finite(previous) && finite(current) ? current - previous : null;
  });
}

/**
 * Adds the running aggregates of `aggregates` (agg.moving, agg.cumulative, agg.delta; the others
 * are skipped) to grouped output rows. Per series (rows with equal `partitionBy` keys), ordered by
 * `order` (ascending, nulls last):
 *
 * - moving: `of` (an aggregate reading an output column, e.g. agg.avg('n')) over the last `buckets`
 *   rows of the series up to and including the current one; `'all'` is cumulative.
 * - delta: the column's value minus its value in the previous row; null for the first row or when
 *   either is not a finite number.
 *
 * Rows are the series' rows over consecutive *present* buckets: fill empty buckets first
 * (fillBuckets) to make "the previous bucket" the previous one in time. Running aggregates run in
 * the map's order, so one may read another defined before it. Returns new rows in input order.
 */
export function applyRunning(
  rows: readonly PipelineRow[],
  aggregates: AggregateMap,
  options: RunningOptions = {},
): PipelineRow[] {
  validateAggregateMap(aggregates, 'aggregates');
  const { running } = splitAggregates(aggregates);
  const out = rows.map((row) => ({ ...row }));
  if (running.length === 0) return out;
  const partitionBy = options.partitionBy ?? [];
  const { order } = options;
  const groups = groupBy(out, (row) => groupKeyText(partitionBy.map((field) => readRowField(row, field))));
  for (const series of groups.values()) {
    if (order !== undefined) {
      series.sort((a, b) => compareValues(readRowField(a, order), readRowField(b, order)));
    }
    for (const [alias, spec] of running) {
      if (spec.kind === 'moving') moving(series, alias, spec);
      else delta(series, alias, spec);
    }
  }
  return out;
}
