import { UnsupportedError, ValidationError } from '../errors.js';
import { EVENT_COLUMNS, selectColumns, type ColumnSpec } from '../analytics/export/column-spec.js';
import type { EventColumns, EventColumnsRequest } from '../analytics/export/event-columns.js';
import {
  checkExportOptions,
  type CheckedExportOptions,
  type ExportOptions,
  type ExportResult,
} from '../analytics/export/export-options.js';
import { exportEventColumns, exportRows } from '../analytics/export/export-rows.js';
import { AdvancedQueryBuilder, EXPORT_EVENTS } from '../builder/advanced-query-builder.js';
import type { PipelineRow, PipelineStage } from '../query/analytics-ast.js';
import type { EventQuery } from '../query/ast.js';
import type { ResultRow } from '../query/results.js';
import { validateQuery } from '../query/validate-query.js';
import { describe } from '../support/describe.js';

/** What `store.export` exports: a query builder, a query AST, or a pipeline of analytics stages. */
export type ExportSource = AdvancedQueryBuilder | EventQuery | readonly PipelineStage[];

/** What a pipeline export needs of the store: `store.analytics.pipeline`, which returns its rows. */
export interface PipelineRunner {
  pipeline(stages: readonly PipelineStage[]): Promise<PipelineRow[]>;
}

/** The store's side of an export: its stream of a query's rows, and its analytics when it has them. */
export interface ExportReads {
  stream(query: EventQuery): AsyncIterable<ResultRow>;
  /** Whole events as columns, when the store's engine has that path (StorageEngine.exportEvents). */
  exportEvents?(query: EventQuery, request: EventColumnsRequest): AsyncIterable<EventColumns> | undefined;
  readonly analytics: PipelineRunner | undefined;
}

/**
 * The columns of a query's rows: whole events flatten to the nine event columns; `select`ed fields
 * are one column each; analytics rows (group-by, buckets, …) are records whose columns the first
 * batch decides. A caller's `columns` win.
 */
function columnsOf(
  query: EventQuery,
  given: readonly ColumnSpec[] | undefined,
): readonly ColumnSpec[] | undefined {
  if (given !== undefined) return given;
  if (query.analytics !== undefined) return undefined;
  return query.select === undefined ? EVENT_COLUMNS : selectColumns(query.select);
}

/**
 * Whether an export can take whole events as columns from the engine (StorageEngine.exportEvents)
 * instead of flattening StoredEvents: whole events (no select, no analytics), the nine event
 * columns (no `columns` of the caller's), to Parquet, Arrow or NDJSON (CSV reads records).
 */
function takesEventColumns(query: EventQuery, checked: CheckedExportOptions): boolean {
  return (
    checked.format !== 'csv' &&
    checked.columns === undefined &&
    query.select === undefined &&
    query.analytics === undefined
  );
}

/**
 * `store.export(source, options)`. Queries (a builder or an AST) are streamed as the store streams
 * any query (executeStream: pages read as the writer asks), so an export of any size holds one
 * batch. A pipeline runs first (`store.analytics.pipeline` returns its rows as an array) and its
 * rows are then written in batches: a pipeline's output is materialized, a query's is not.
 * Options and the source are checked before the file is created.
 */
export async function runExport(
  source: ExportSource,
  options: ExportOptions,
  reads: ExportReads,
): Promise<ExportResult> {
  const checked = checkExportOptions(options);
  const request = { batchRows: checked.batchRows };
  if (source instanceof AdvancedQueryBuilder) {
    const query = source.toQuery();
    const events = takesEventColumns(query, checked) ? source[EXPORT_EVENTS](request) : undefined;
    if (events !== undefined) return exportEventColumns(events, options);
    return exportRows(source.executeStream() as AsyncIterable<Record<string, unknown>>, {
      ...options,
      columns: columnsOf(query, checked.columns),
    });
  }
  if (Array.isArray(source)) {
    const analytics = reads.analytics;
    if (analytics === undefined || typeof analytics.pipeline !== 'function') {
      throw new UnsupportedError(
        'analytics',
        'a pipeline export needs store.analytics.pipeline; export a query (a builder or an EventQuery) instead',
        'source',
      );
    }
    const rows = await analytics.pipeline(source as readonly PipelineStage[]);
    return exportRows(rows, options);
  }
  if (source !== null && typeof source === 'object' && (source as { kind?: unknown }).kind === 'query') {
    const query = source as EventQuery;
    validateQuery(query);
    const events = takesEventColumns(query, checked) ? reads.exportEvents?.(query, request) : undefined;
    if (events !== undefined) return exportEventColumns(events, options);
    return exportRows(reads.stream(query) as AsyncIterable<Record<string, unknown>>, {
      ...options,
      columns: columnsOf(query, checked.columns),
    });
  }
  throw new ValidationError(
    'source',
    `must be a query builder (store.query()...), an EventQuery ({ kind: 'query', ... }) or an array of pipeline stages, got ${describe(source)}`,
  );
}
