export { openEventStore } from './live/open-live-store.js';
/*
 * Everything a public signature mentions is exported here (as a type where it is only a type), so
 * an application names the options and reports it passes around without reaching into the package.
 * The package is ESM-only: `require('@tamma/events')` throws, saying to use `import`.
 */
export type { OpenOptions, OpenOptions as EventStoreOptions } from './store/options.js';
export type {
  IQueryCache,
  CacheStats,
  CacheInvalidations,
  CacheKeyInput,
  QueryCacheOptions,
} from './store/query-cache-api.js';
export type { EmbeddedOpenOptions } from './storage/embedded/embedded-options.js';
export type {
  StorePlugin,
  ReadCall,
  ReadObservation,
  WriteObservation,
  CommitNotice,
  ChangeNotice,
} from './store/hooks.js';
export type { QueryProfile, QueryObserver } from './storage/query-profile.js';
export type {
  StoreMonitor,
  MonitorOptions,
  MonitorSources,
  LatencyWindow,
  LatencySummary,
  LatencyReport,
  ShapeLatency,
  MonitoredMethod,
  QueryStats,
  QueryPhases,
  SlowQueryEntry,
  SlowQueryFilter,
  IndexUsageReport,
  IndexUsageDay,
  CleanupEffectiveness,
  AppendThroughput,
  CacheCounts,
  SubscriptionLagSource,
} from './store/store-monitor.js';
export type { CommitHooks } from './store/commit-hooks.js';
export type {
  SubscribeOptions,
  Subscription,
  SubscriptionInfo,
  SubscriptionLag,
  SkippedEvents,
  BufferedEvents,
  WaitForOptions,
} from './store/subscription-types.js';
export type {
  StorageEngine,
  StorageEngineFactory,
  StorageCapabilities,
  EngineContext,
  EngineRetention,
  AppendBatch,
  AppendOutcome,
  BeforeCommit,
  StreamRead,
  GlobalRead,
} from './storage/storage-engine.js';
export type { OnFutureEvent } from './events/clock-skew.js';
export type { RetentionOptions, PolicyDescription } from './retention/policy.js';
export type { Duration } from './events/duration.js';
export type {
  CleanupOptions,
  CleanupProgress,
  CleanupReport,
  CleanupStats,
} from './retention/cleanup-report.js';
export type { RestoreOptions, RestoreProgress, RestoreReport } from './retention/restore-report.js';
export type {
  EventStore,
  GetEventsOptions,
  GetEventsByTypeOptions,
  RangeOptions,
  ReadOptions,
  AppendToStreamOptions,
} from './store/event-store.js';
export type { QueryCriteria, QueryEventsOptions, TimeInput } from './query/criteria.js';
export type {
  StoreStats,
  IndexStats,
  MemoryStats,
  FieldColumnStats,
  FsyncPolicy,
  PlanCacheStats,
} from './storage/store-stats.js';
export type { NewEvent, StoredEvent, Tags, TagValue } from './events/types.js';
export { ManualClock, systemClock, type Clock } from './events/clock.js';
export { MAX_VALUE_DEPTH } from './events/validate.js';
export {
  TammaError,
  ValidationError,
  EventTooLargeError,
  ConcurrencyError,
  CorruptionError,
  StoreClosedError,
  StoreLockedError,
  ReadOnlyError,
  QueryCancelledError,
  QueryTimeoutError,
  UniqueViolationError,
  DuplicateEventIdError,
  IndexNotFoundError,
  StorageError,
  UnsupportedError,
  ERROR_CODES,
  type ErrorCode,
  type ExpectedVersion,
} from './errors.js';
export { verifyStore, repairStore } from './storage/embedded/recovery/verify.js';
export type {
  VerifyReport,
  VerifyProblem,
  RepairReport,
  DroppedRange,
} from './storage/embedded/recovery/verify-types.js';
export type { OpenRecovery } from './storage/store-stats.js';
export { AdvancedQueryBuilder, type WhereOperator } from './builder/advanced-query-builder.js';
export { f, MATCH_ALL } from './query/ast.js';
export type {
  ComparisonOperator,
  EventQuery,
  FilterNode,
  OrderTerm,
  QueryHints,
  Scalar,
  Field,
  PageCursor,
} from './query/ast.js';
export type { Explanation, ExplainNode } from './query/explanation.js';
export type { RunOptions, ResultRow, ResultPage } from './query/results.js';
export type { Indexes, Indexes as IndexManager } from './indexes/indexes.js';
export type { IndexDefinition } from './indexes/index-definition.js';
export type {
  IndexInfo,
  IndexAnalysis,
  IndexUsage,
  IndexSize,
  CreateIndexOptions,
} from './indexes/index-types.js';
export type { IndexKey, KeyPart } from './indexes/index-keys.js';
export type { FieldAnalysis, IndexRecommendation, IndexOptimizationResult } from './indexes/index-types.js';
export type { AutoIndexSettings, AutoIndexAction } from './indexes/auto-index.js';
export { parseBucketWidth, type BucketWidth, type BucketUnit } from './analytics/bucket-width.js';
export {
  bucketStart,
  nextBucket,
  bucketRange,
  bucketGrid,
  MAX_RANGE_BUCKETS,
  type BucketOptions,
  type BucketGrid,
} from './analytics/time-bucket.js';
export { agg, type Agg } from './analytics/aggregates.js';
export type { FunnelQuery, FunnelReport } from './store/store-analytics.js';
export { accumulatorFor, aggregateEvents } from './analytics/accumulator-for.js';
export type { Accumulator, AggregateEvent } from './analytics/accumulator.js';
export type {
  AggregateSpec,
  CountSpec,
  CountFieldSpec,
  CountDistinctSpec,
  FieldAggregateSpec,
  NumericAggregateKind,
  PositionalAggregateKind,
  PercentileSpec,
  ApproxPercentileSpec,
  CorrSpec,
  HistogramSpec,
  HistogramBucket,
  CustomAggregate,
  CustomAggregateSpec,
} from './query/aggregate-spec.js';
export {
  matchPattern,
  type PatternSpec,
  type PatternStep,
  type PatternRow,
} from './analytics/pattern-match.js';
export {
  funnel,
  type FunnelSpec,
  type FunnelMode,
  type FunnelExclusion,
  type FunnelStep,
  type FunnelResult,
} from './analytics/funnel.js';
export type { SequencedEvent } from './analytics/partition-events.js';
// Row stages (issue 16): the backend-neutral engine behind pipelines and the builder's analytics.
export { readRowField } from './analytics/stages/read-row-field.js';
export { evaluateRowFilter, compileRowFilter, validateRowFilter } from './analytics/stages/row-filter.js';
export { groupRows, type GroupRowsOptions } from './analytics/stages/group-rows.js';
export { applyRunning, type RunningOptions } from './analytics/stages/running-aggregates.js';
export { fillBuckets, type FillOptions } from './analytics/stages/fill-buckets.js';
export { bucketRows } from './analytics/stages/bucket-rows.js';
export {
  hoppingWindows,
  sessionWindows,
  MAX_WINDOWS_PER_ROW,
  type HoppingOptions,
  type SessionOptions,
} from './analytics/stages/time-windows.js';
export { projectRows, evaluateExpression, validateExpression } from './analytics/stages/project-rows.js';
export { sortRows, limitRows, compareValues } from './analytics/stages/sort-rows.js';
export { patternStage } from './analytics/stages/pattern-stage.js';
export { joinRows, type JoinOptions } from './analytics/stages/join-rows.js';
export { validatePipeline } from './analytics/stages/validate-pipeline.js';
export { runPipeline, type PipelineContext } from './analytics/stages/run-pipeline.js';
export { runAnalytics, validateAnalyticsSpec } from './analytics/stages/run-analytics.js';
export { filterTimeRange } from './analytics/stages/filter-time-range.js';
export type {
  AnalyticsSpec,
  AggregateMap,
  BucketFill,
  DeltaSpec,
  Duration as AnalyticsDuration,
  EventSource,
  Expression,
  JoinSpec,
  MovingSpec,
  PatternQuerySpec,
  PatternStepSpec,
  PipelineRow,
  PipelineStage,
  RunningSpec,
  TimeBucketSpec,
  TimeWindowSpec,
} from './query/analytics-ast.js';
// Export: rows to CSV, NDJSON, Parquet or Arrow (docs/export.md).
export { exportRows } from './analytics/export/export-rows.js';
export {
  EVENT_COLUMNS,
  type ColumnSpec,
  type ColumnType,
  type ExportColumn,
} from './analytics/export/column-spec.js';
export type { ExportFormat, ExportOptions, ExportResult } from './analytics/export/export-options.js';
export type { ExportSource, PipelineRunner } from './store/export-runner.js';
