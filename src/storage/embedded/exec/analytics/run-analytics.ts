import type { StoredEvent } from '../../../../events/types.js';
import { assertNever } from '../../../../support/assert-never.js';
import type { EventReader } from '../../table/event-reader.js';
import type { EventTable } from '../../table/event-table.js';
import type { BodyReader } from '../compile-filter.js';
import type { QueryGuard } from '../query-guard.js';
import type { QueryPlan } from '../query-optimizer.js';
import type { OperatorWorkers } from './operator-workers.js';
import type { AggregateNode, AnalyticsNode, JoinKeyRead } from './analytics-nodes.js';
import { joinOverRows } from './join-over-rows.js';
import { groupByColumns } from './group-by-columns.js';
import { patternOverColumns } from './pattern-over-columns.js';
import { funnelOverColumns } from './funnel-over-columns.js';
import { denseGroupBy, type DenseSources } from './dense-group-by.js';
import type { ParallelFold } from './parallel-group-by.js';
import { applyRunning } from '../../../../analytics/stages/running-aggregates.js';
import { bucketRows, gridOf } from '../../../../analytics/stages/bucket-rows.js';
import { fillBuckets } from '../../../../analytics/stages/fill-buckets.js';
import { groupRows } from '../../../../analytics/stages/group-rows.js';
import { joinRows } from '../../../../analytics/stages/join-rows.js';
import { patternStage } from '../../../../analytics/stages/pattern-stage.js';
import { compileRowFilter } from '../../../../analytics/stages/row-filter.js';
import { dataRange } from '../../../../analytics/stages/run-pipeline.js';
import { sortRows } from '../../../../analytics/stages/sort-rows.js';
import { hoppingWindows, windowRows } from '../../../../analytics/stages/time-windows.js';
import type { TimeBucketSpec } from '../../../../query/analytics-ast.js';

type Row = Record<string, unknown>;

/** What running an analytics plan needs from the engine. */
export interface AnalyticsRun {
  readonly table: EventTable;
  readonly reader: EventReader;
  readonly body: BodyReader;
  readonly guard: QueryGuard;
  /** The rows a row plan selects (its Hydrate's row phase), counted for EXPLAIN ANALYZE. */
  selectRows(plan: QueryPlan): Promise<Int32Array>;
  /** The store's clock, epoch ms (absent pattern steps close by it). */
  now(): number;
  /** Where the typed-array group-by reads codes and numbers. */
  readonly sources: DenseSources;
  /** Rows each analytics node put out. */
  readonly actual: Map<AnalyticsNode, number>;
  /** The scan workers' pool, for Aggregates planned on workers. */
  readonly pool: OperatorWorkers;
  /** hints.parallel: true: fold on the workers however few the rows. */
  readonly forceParallel: boolean;
  /** Workers each Aggregate, Pattern and Funnel actually ran on (0: the main thread). */
  readonly workers: Map<AnalyticsNode, number>;
  /** Where each Join over row numbers read its keys from (absent: it joined records). */
  readonly joinReads?: Map<AnalyticsNode, readonly [JoinKeyRead, JoinKeyRead]>;
}

/** What a node hands the one above: row numbers straight from the filter, or records. */
type Output = { readonly rows: Int32Array } | { readonly records: Row[] };

function recordsOf(output: Output, run: AnalyticsRun): Row[] {
  return 'records' in output
    ? output.records
    : (run.reader.events(Array.from(output.rows)) as StoredEvent[] as unknown as Row[]);
}

async function evaluate(node: AnalyticsNode, run: AnalyticsRun): Promise<Output> {
  const output = await produce(node, run);
  run.actual.set(node, 'records' in output ? output.records.length : output.rows.length);
  return output;
}

/** How an operator planned on the workers may use them. */
function parallelOf(node: { readonly workers: number }, run: AnalyticsRun): ParallelFold {
  return { pool: run.pool, workers: node.workers, forced: run.forceParallel };
}

/** The group rows of an Aggregate node, before a Fill and running aggregates. */
async function groups(node: AggregateNode, input: Output, run: AnalyticsRun): Promise<Row[]> {
  if (node.overColumns && 'rows' in input) {
    const spec = {
      ...(node.bucket === undefined ? {} : { bucket: node.bucket }),
      ...(node.window === undefined ? {} : { window: node.window }),
      groupBy: node.groupBy,
      aggregates: node.aggregates,
    };
    const dense = await denseGroupBy(
      input.rows,
      spec,
      run.table,
      run.sources,
      run.guard,
      parallelOf(node, run),
    );
    run.workers.set(node, dense?.workers ?? 0);
    if (dense !== undefined) return dense.rows;
    // Windows the dense fold cannot take (an aggregate it has no fold for, too many groups) are
    // copied per window as records below.
    if (node.window === undefined) return groupByColumns(input.rows, spec, run.table, run.body, run.guard);
  }
  let rows = recordsOf(input, run);
  const plain = Object.fromEntries(node.aggregates.map(({ alias, spec }) => [alias, spec]));
  const keys = [...node.groupBy];
  if (node.bucket !== undefined) {
    rows = bucketRows(rows, node.bucket);
    keys.unshift('bucket');
  } else if (node.window !== undefined) {
    rows = hoppingWindows(rows, node.window);
    keys.unshift('windowStart', 'windowEnd');
  } else if (node.child.kind === 'Window') keys.unshift('windowStart', 'windowEnd');
  return groupRows(rows, { by: [...new Set(keys)], aggregates: plain });
}

/** Adds a node's running aggregates, each group's series in bucket (or window) order. */
function withRunning(node: AggregateNode, rows: Row[]): Row[] {
  if (node.running.length === 0) return rows;
  const windowed = node.window !== undefined || node.child.kind === 'Window';
  const order = node.bucket !== undefined ? 'bucket' : windowed ? 'windowStart' : undefined;
  return applyRunning(rows, Object.fromEntries(node.running.map(({ alias, spec }) => [alias, spec])), {
    ...(order === undefined ? {} : { order }),
    partitionBy: node.groupBy,
  });
}

async function produce(node: AnalyticsNode, run: AnalyticsRun): Promise<Output> {
  switch (node.kind) {
    case 'Events':
      return { rows: await run.selectRows(node.plan) };
    case 'Join': {
      const input = await evaluate(node.child, run);
      const rightRows = await run.selectRows(node.right);
      // Over row numbers the join reads keys from the columns and decodes only paired events;
      // over records (a Funnel's row), or rows out of order, the row stage joins the records.
      if ('rows' in input) {
        const joined = joinOverRows(input.rows, rightRows, node.spec, run);
        if (joined !== undefined) {
          run.joinReads?.set(node, joined.reads);
          return { records: joined.rows };
        }
      }
      const right = run.reader.events(Array.from(rightRows));
      return { records: joinRows(recordsOf(input, run), right, node.spec) };
    }
    case 'Pattern': {
      const input = await evaluate(node.child, run);
      const now = run.now();
      if ('rows' in input) {
        const { table, reader, body, guard } = run;
        const matched = await patternOverColumns(
          input.rows,
          node.spec,
          table,
          reader,
          body,
          guard,
          now,
          parallelOf(node, run),
        );
        run.workers.set(node, matched.workers);
        return { records: matched.rows };
      }
      return { records: patternStage(input.records, node.spec, now) };
    }
    case 'Funnel': {
      const input = await evaluate(node.child, run);
      // The planner puts a Funnel straight over the events (analytics-nodes.ts).
      if (!('rows' in input)) throw new Error('a Funnel runs over the filter’s rows, not records');
      const { result, workers } = await funnelOverColumns(
        input.rows,
        node.spec,
        run.table,
        run.body,
        run.guard,
        parallelOf(node, run),
      );
      run.workers.set(node, workers);
      return { records: [{ ...result }] };
    }
    case 'Window': {
      const rows = recordsOf(await evaluate(node.child, run), run);
      return { records: windowRows(rows, node.spec, node.groupBy) };
    }
    case 'Aggregate': {
      const rows = await groups(node, await evaluate(node.child, run), run);
      return { records: node.filled ? rows : withRunning(node, rows) };
    }
    case 'Fill': {
      const aggregate = node.child;
      const rows = recordsOf(await evaluate(aggregate, run), run);
      const bucket = aggregate.bucket as TimeBucketSpec;
      const grid = gridOf(bucket);
      const range = node.range ?? dataRange(rows, grid);
      const filled =
        range === null
          ? rows
          : fillBuckets(rows, {
              grid,
              ...range,
              fill: node.fill,
              by: aggregate.groupBy,
              aggregates: Object.fromEntries(aggregate.aggregates.map(({ alias, spec }) => [alias, spec])),
            });
      return { records: withRunning(aggregate, filled) };
    }
    case 'Having':
      return {
        records: recordsOf(await evaluate(node.child, run), run).filter(compileRowFilter(node.filter)),
      };
    case 'SortRows':
      return { records: sortRows(recordsOf(await evaluate(node.child, run), run), node.order) };
    case 'LimitRows': {
      const records = recordsOf(await evaluate(node.child, run), run);
      const end = node.limit === undefined ? undefined : node.offset + node.limit;
      return { records: records.slice(node.offset, end) };
    }
    default:
      return assertNever(node);
  }
}

/** Runs an analytics plan: the rows it outputs, with each node's actual rows in `run.actual`. */
export async function runAnalytics(root: AnalyticsNode, run: AnalyticsRun): Promise<Row[]> {
  return recordsOf(await evaluate(root, run), run);
}
