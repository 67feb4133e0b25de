import { ValidationError } from '../../errors.js';
import type { Field } from '../../query/ast.js';
import type { AggregateSpec } from '../../query/aggregate-spec.js';
import type { AggregateMap, BucketFill, PipelineRow } from '../../query/analytics-ast.js';
import { describe } from '../../support/describe.js';
import { type BucketGrid, MAX_RANGE_BUCKETS } from '../time-bucket.js';
import { splitAggregates } from './aggregate-map.js';
import { groupBy, groupKeyText } from './group-key.js';
import { readRowField } from './read-row-field.js';
import { compareValues } from './sort-rows.js';

export interface FillOptions {
  readonly grid: BucketGrid;
  /** The query's time range [from, to), epoch ms: every bucket overlapping it gets a row. */
  readonly from: number;
  readonly to: number;
  readonly fill: BucketFill;
  /** The other group keys: each distinct combination present in `rows` is filled separately. */
  readonly by?: readonly Field[];
  readonly aggregates: AggregateMap;
}

/** Aggregates whose result is a number: what `fill: 0` sets to 0 (the others get null). */
const NUMERIC = new Set<AggregateSpec['kind']>([
  'count',
  'countField',
  'countDistinct',
  'sum',
  'avg',
  'min',
  'max',
  'stddev',
  'variance',
  'median',
  'percentile',
  'approxPercentile',
  'corr',
]);

function fillValues(
  fill: BucketFill,
): (spec: AggregateSpec, previous: PipelineRow | undefined, alias: string) => unknown {
  if (fill === 0) return (spec) => (NUMERIC.has(spec.kind) ? 0 : null);
  if (fill === null) return () => null;
  return (_spec, previous, alias) => (previous === undefined ? null : previous[alias]);
}

/** The bucket starts overlapping [from, to), refusing more than MAX_RANGE_BUCKETS. */
export function bucketStarts(grid: BucketGrid, from: number, to: number): number[] {
  for (const [name, value] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new ValidationError(
        name,
        `must be epoch ms (a finite number), got ${describe(value)}`,
        'INVALID_RANGE',
      );
    }
  }
  if (from > to)
    throw new ValidationError('from', `must not be after to, got from ${from} and to ${to}`, 'INVALID_RANGE');
  const starts: number[] = [];
  for (let start = from === to ? to : grid.start(from); start < to; start = grid.next(start)) {
    if (starts.length === MAX_RANGE_BUCKETS) {
      throw new ValidationError(
        'fill',
        `${JSON.stringify(grid.width.text)} cuts [${from}, ${to}) into more than ${MAX_RANGE_BUCKETS} buckets to fill; use a wider width or a shorter range`,
        'INVALID_OPTION',
      );
    }
    starts.push(start);
  }
  return starts;
}

/**
 * Emits the empty buckets of grouped rows (keys `bucket` and `by`): for each group, a row for every
 * bucket overlapping [from, to) that has none, holding for each aggregate 0 (`fill: 0`, numeric
 * aggregates; first, last, histogram and custom ones get null), null, or the value of the group's
 * previous bucket (`'previous'`; null before the first). Without `by` there is one group even when
 * `rows` is empty; with `by`, only groups present in `rows`. Rows come out per group (first-seen
 * order) in bucket order, the existing rows (also those outside the range) kept as they are.
 * Running aggregates are left to applyRunning, which should run after this.
 */
export function fillBuckets(rows: readonly PipelineRow[], options: FillOptions): PipelineRow[] {
  const { grid, from, to, fill, aggregates } = options;
  if (fill !== 0 && fill !== null && fill !== 'previous') {
    throw new ValidationError(
      'fill',
      `must be 0, null or 'previous', got ${describe(fill)}`,
      'INVALID_OPTION',
    );
  }
  const by = options.by ?? [];
  const starts = bucketStarts(grid, from, to);
  const { plain } = splitAggregates(aggregates);
  const value = fillValues(fill);
  const groups = groupBy(rows, (row) => groupKeyText(by.map((field) => readRowField(row, field))));
  if (groups.size === 0 && by.length === 0) groups.set('', []);
  const out: PipelineRow[] = [];
  for (const group of groups.values()) {
    const present = new Set(group.map((row) => readRowField(row, 'bucket')));
    const keys: PipelineRow = {};
    for (const field of by) keys[field] = group[0]![field] ?? readRowField(group[0], field) ?? null;
    const series: PipelineRow[] = [...group];
    for (const start of starts) if (!present.has(start)) series.push({ bucket: start, ...keys });
    series.sort((a, b) => compareValues(a.bucket, b.bucket));
    let previous: PipelineRow | undefined;
    for (const row of series) {
      if (!present.has(row.bucket)) {
        for (const [alias, spec] of plain) row[alias] = value(spec, previous, alias);
      }
      previous = row;
      out.push(row);
    }
  }
  return out;
}
