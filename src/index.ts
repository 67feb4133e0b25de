export { openEventStore } from './store/open.js';
export type { OpenOptions } from './store/options.js';
export type {
  EventStore,
  GetEventsOptions,
  GetEventsByTypeOptions,
  RangeOptions,
  QueryCriteria,
  QueryEventsOptions,
  ReadOptions,
  AppendToStreamOptions,
  StoreStats,
  IndexStats,
  MemoryStats,
  FsyncPolicy,
  TimeInput,
} from './store/event-store.js';
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
  QueryCancelledError,
  QueryTimeoutError,
  UniqueViolationError,
  IndexNotFoundError,
  type ExpectedVersion,
} from './errors.js';
export { verifyStore, repairStore } from './storage/embedded/verify.js';
export type { VerifyReport, VerifyProblem, RepairReport } from './storage/embedded/verify-types.js';
export { AdvancedQueryBuilder, type WhereOperator } from './query/advanced-query-builder.js';
export { f, MATCH_ALL } from './query/ast.js';
export type {
  EventQuery,
  FilterNode,
  OrderTerm,
  QueryHints,
  Scalar,
  Field,
  PageCursor,
} from './query/ast.js';
export type { Explanation, ExplainNode } from './query/explain.js';
export type { PlanCacheStats } from './query/plan-cache.js';
export type { RunOptions, ResultRow, ResultPage } from './query/query-engine.js';
export type { IndexManager } from './indexes/index-manager.js';
export type { IndexDefinition } from './indexes/index-definition.js';
export type {
  IndexInfo,
  IndexAnalysis,
  IndexUsage,
  IndexSize,
  CreateIndexOptions,
} from './indexes/index-types.js';
export type { IndexKey, KeyPart } from './indexes/index-keys.js';
export type { FieldAnalysis } from './indexes/statistics.js';
export type { IndexRecommendation, IndexOptimizationResult } from './indexes/index-advisor.js';
export type { AutoIndexSettings, AutoIndexAction } from './indexes/auto-index.js';
