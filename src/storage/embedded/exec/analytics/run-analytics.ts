import type { StoredEvent } from '../../../../events/types.js';
import { assertNever } from '../../../../support/assert-never.js';
import type { EventReader } from '../../table/event-reader.js';
import type { EventTable } from '../../table/event-table.js';
import type { BodyReader } from '../compile-filter.js';
import type { QueryGuard } from '../query-guard.js';
import type { QueryPlan } from '../query-optimizer.js';
import type { AnalyticsNode } from './analytics-nodes.js';
import { groupByColumns } from './group-by-columns.js';
import { patternOverColumns } from './pattern-over-columns.js';
import { denseGroupBy, type DenseSources } from './dense-group-by.js';
import { havingRows, sortRows, unsupportedYet } from './row-stages.js';

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

async function produce(node: AnalyticsNode, run: AnalyticsRun): Promise<Output> {
  switch (node.kind) {
    case 'Events':
      return { rows: await run.selectRows(node.plan) };
    case 'Pattern': {
      const input = await evaluate(node.child, run);
      if ('rows' in input) {
        return {
          records: patternOverColumns(
            input.rows,
            node.spec,
            run.table,
            run.reader,
            run.body,
            run.guard,
            run.now(),
          ),
        };
      }
      return unsupportedYet('patterns over joined rows');
    }
    case 'Join':
    case 'Window':
    case 'Fill':
      return unsupportedYet(node.kind);
    case 'Aggregate': {
      const input = await evaluate(node.child, run);
      if (node.running.length > 0) unsupportedYet('running aggregates');
      if (node.overColumns && 'rows' in input) {
        const spec = {
          ...(node.bucket === undefined ? {} : { bucket: node.bucket }),
          groupBy: node.groupBy,
          aggregates: node.aggregates,
        };
        const records =
          denseGroupBy(input.rows, spec, run.table, run.sources, run.guard) ??
          groupByColumns(input.rows, spec, run.table, run.body, run.guard);
        return { records };
      }
      recordsOf(input, run);
      return unsupportedYet('grouping records');
    }
    case 'Having':
      return { records: havingRows(recordsOf(await evaluate(node.child, run), run), node.filter) };
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
