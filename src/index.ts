export { openEventStore } from './store/open.js';
export type { OpenOptions } from './store/options.js';
export type {
  EventStore,
  GetEventsOptions,
  GetEventsByTypeOptions,
  RangeOptions,
  QueryCriteria,
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
export {
  TammaError,
  ValidationError,
  EventTooLargeError,
  ConcurrencyError,
  CorruptionError,
  StoreClosedError,
  StoreLockedError,
  type ExpectedVersion,
} from './errors.js';
export { verifyStore, repairStore } from './storage/embedded/verify.js';
export type { VerifyReport, VerifyProblem, RepairReport } from './storage/embedded/verify-types.js';
