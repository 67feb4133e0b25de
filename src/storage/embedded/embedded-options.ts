import { ValidationError } from '../../errors.js';
import { systemClock, type Clock } from '../../events/clock.js';
import type { FsyncPolicy } from '../store-stats.js';
import { RetentionPolicy, type RetentionOptions } from '../../retention/policy.js';
import { resolveFutureTolerance, type OnFutureEvent } from '../../events/clock-skew.js';
import type { Duration } from '../../events/duration.js';
import { checkPathLength } from '../../support/path-length.js';
import { describe } from '../../support/describe.js';
import { resolveField } from '../../query/fields.js';

/** The embedded engine's options (openEventStore's options when no `engine` is given). */
export interface EmbeddedOpenOptions {
  /** A directory for a durable store; omit for an in-memory store. */
  dir?: string;
  /**
   * When an append is acknowledged (default `'batch'`):
   * - `'always'`: after its bytes are fsync'ed (concurrent appends share one fsync: group commit);
   * - `'batch'`: after its bytes are written to the OS, which survives a crash of this process;
   *   an fsync follows within `fsyncIntervalMs`, after which it also survives power loss;
   * - `'never'`: like `'batch'`, but fsync only on `flush()`, `checkpoint()` and `close()`.
   */
  fsync?: FsyncPolicy;
  /** Longest delay between a write and its fsync under `fsync: 'batch'`; default 10 ms. */
  fsyncIntervalMs?: number;
  /** Source of default event time; default the system clock. */
  clock?: Clock;
  /** A log segment rolls over past this many bytes; default 128 MiB. */
  segmentSize?: number;
  /** Largest encoded event accepted; default 1 MiB. */
  maxEventSize?: number;
  /** Write an index checkpoint after this many appended events (0: only on close); default 1,000,000. */
  checkpointEvery?: number;
  /**
   * Check the CRC of every log frame when opening, not only the frames after the checkpoint; default
   * true. Damage anywhere then refuses the open. Costs a sequential read of the log (about 1 s per GB
   * here). Turned off, frames the checkpoint covers are not re-checked: a read then catches only a
   * record that no longer decodes, and `verifyStore` is the way to check the rest.
   */
  verifyOnOpen?: boolean;
  /**
   * What open does when the log ends before what a durable record proves was written (the
   * checkpoint, `log/start.json` or a tombstone names a later sequence): acknowledged events are
   * lost. `'refuse'` (default): open throws a CorruptionError naming the file and offset where the
   * log ends. `'truncate'`: open anyway, dropping the damaged end, and keep the lost sequences
   * unused (the next append continues after them); `stats().storage.recovery` says exactly what
   * was lost. Make a copy of the directory first: the lost events cannot be brought back after.
   */
  recover?: 'refuse' | 'truncate';
  /**
   * How long events stay visible, by event time: `{ maxAge: '30d', types: { 'DEBUG.*': '7d' },
   * maxEvents }`. Default: none, nothing expires. Changeable with `store.setRetention()`.
   */
  retention?: RetentionOptions;
  /**
   * How far ahead of `clock` an event's timestamp may be: a duration (`'5m'`, `'30s'`, milliseconds;
   * `0` allows none), or `false` to turn the check off. Default 5 minutes. A producer with a fast
   * clock would otherwise write events that sort after everything appended later and that outlive
   * their retention. See `onFutureEvent`.
   */
  futureTolerance?: Duration | false;
  /**
   * What to do with an event further ahead than `futureTolerance` (default `'reject'`):
   * - `'reject'`: the whole batch is refused with a ValidationError `EVENT_IN_FUTURE`;
   * - `'clamp'`: the event is stored with the store's time (`clock.now()`) instead, and a generated
   *   id is generated again from that time. Its original timestamp is not kept, and the clamping is
   *   recorded nowhere else: put the producer's time in `metadata` if you need it.
   */
  onFutureEvent?: OnFutureEvent;
  /**
   * Open an existing on-disk store for reading only, beside the process that writes it (default
   * false). Takes no lock and never changes a file in `dir`; follows the writer's appends every
   * `followIntervalMs` and at `store.refresh()`. Every write (append, deleteAggregate, cleanup,
   * restoreArchive, createIndex, flush, checkpoint, …) throws a `ReadOnlyError` (`READ_ONLY`).
   */
  readOnly?: boolean;
  /**
   * With `readOnly`: how often the store looks for the writer's new appends, in milliseconds
   * (default 1000); 0 turns polling off, and only `refresh()` brings them in.
   */
  followIntervalMs?: number;
  /**
   * Payload and tag fields (`'payload.<path>'`, `'tags.<key>'`) to hold as typed columns from open
   * on, so aggregates and group keys over them never decode records (see docs/analytics.md,
   * "Payload fields at column speed"). Any such field gets a column at its first use anyway; a
   * declared one is extracted (or caught up from the checkpoint) at open instead. Default none.
   */
  fieldColumns?: readonly string[];
}

export interface ResolvedOptions {
  dir: string | undefined;
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
  clock: Clock;
  segmentSize: number;
  maxEventSize: number;
  checkpointEvery: number;
  verifyOnOpen: boolean;
  recover: 'refuse' | 'truncate';
  retention: RetentionPolicy;
  /** Milliseconds; Infinity when the check is off. */
  futureTolerance: number;
  onFutureEvent: OnFutureEvent;
  readOnly: boolean;
  followIntervalMs: number;
  /** Field names, checked and without repeats. */
  fieldColumns: string[];
}

const MiB = 1024 * 1024;
const FSYNC_POLICIES: readonly FsyncPolicy[] = ['always', 'batch', 'never'];
export const EMBEDDED_OPTIONS: ReadonlySet<string> = new Set([
  'dir',
  'fsync',
  'fsyncIntervalMs',
  'clock',
  'segmentSize',
  'maxEventSize',
  'checkpointEvery',
  'verifyOnOpen',
  'recover',
  'retention',
  'futureTolerance',
  'onFutureEvent',
  'readOnly',
  'followIntervalMs',
  'fieldColumns',
]);

function integerOption(
  options: EmbeddedOpenOptions,
  name: keyof EmbeddedOpenOptions,
  fallback: number,
  min: number,
  max: number,
): number {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(
      name,
      `must be an integer from ${min} to ${max}, got ${describe(value)}`,
      'INVALID_OPTION',
    );
  }
  return value;
}

/** The `fieldColumns` option: an array of `tags.<key>` and `payload.<path>` field names. */
function fieldColumnsOption(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new ValidationError(
      'fieldColumns',
      `must be an array of field names ('payload.<path>' or 'tags.<key>'), got ${describe(value)}`,
      'INVALID_OPTION',
    );
  }
  value.forEach((field: unknown, i) => {
    const where = `fieldColumns[${i}]`;
    if (resolveField(field, where).kind === 'core') {
      throw new ValidationError(
        where,
        `${describe(field)} is a core field, a column already; expected 'payload.<path>' or 'tags.<key>'`,
        'INVALID_OPTION',
      );
    }
  });
  return [...new Set(value as string[])];
}

/** Epoch milliseconds a Date can hold: ±100,000,000 days. */
const MAX_TIME_MS = 8.64e15;

/**
 * The `clock` option, with each reading checked: a clock that returns a string, NaN or a time past
 * what a Date holds would otherwise store an Invalid Date (or fail later with a raw RangeError).
 * Reads happen before anything is written, so a bad reading changes nothing.
 */
function checkedClock(clock: Clock): Clock {
  return {
    now(): number {
      const time: unknown = clock.now();
      if (typeof time !== 'number' || !Number.isFinite(time) || Math.abs(time) > MAX_TIME_MS) {
        throw new ValidationError(
          'clock',
          `now() must return epoch milliseconds (a finite number within ±${MAX_TIME_MS}), got ${describe(time)}`,
          'INVALID_CLOCK',
        );
      }
      return time;
    },
  };
}

/** Checks every option at the door, so a typo fails loudly instead of being ignored. */
export function resolveOptions(options: EmbeddedOpenOptions = {}): ResolvedOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ValidationError('options', `must be an object, got ${describe(options)}`, 'INVALID_OPTION');
  }
  for (const key of Object.keys(options)) {
    if (!EMBEDDED_OPTIONS.has(key)) {
      throw new ValidationError(
        key,
        `is not a known option; expected one of ${[...EMBEDDED_OPTIONS].join(', ')}`,
        'INVALID_OPTION',
      );
    }
  }
  const {
    dir,
    fsync = 'batch',
    clock = systemClock,
    verifyOnOpen = true,
    recover = 'refuse',
    onFutureEvent = 'reject',
  } = options;
  if (recover !== 'refuse' && recover !== 'truncate') {
    throw new ValidationError(
      'recover',
      `must be 'refuse' or 'truncate', got ${describe(recover)}`,
      'INVALID_OPTION',
    );
  }
  if (typeof verifyOnOpen !== 'boolean') {
    throw new ValidationError(
      'verifyOnOpen',
      `must be true or false, got ${describe(verifyOnOpen)}`,
      'INVALID_OPTION',
    );
  }
  if (dir !== undefined && (typeof dir !== 'string' || dir.length === 0)) {
    throw new ValidationError(
      'dir',
      `must be a non-empty path string, got ${describe(dir)}`,
      'INVALID_OPTION',
    );
  }
  if (dir !== undefined) checkPathLength(dir, 'dir');
  if (!FSYNC_POLICIES.includes(fsync)) {
    throw new ValidationError(
      'fsync',
      `must be 'always', 'batch' or 'never', got ${describe(fsync)}`,
      'INVALID_OPTION',
    );
  }
  if (clock === null || typeof clock !== 'object' || typeof clock.now !== 'function') {
    throw new ValidationError(
      'clock',
      'must be an object with a now() method returning epoch milliseconds',
      'INVALID_OPTION',
    );
  }
  const { readOnly = false } = options;
  if (typeof readOnly !== 'boolean') {
    throw new ValidationError(
      'readOnly',
      `must be true or false, got ${describe(readOnly)}`,
      'INVALID_OPTION',
    );
  }
  if (readOnly && dir === undefined) {
    throw new ValidationError(
      'readOnly',
      'needs dir: only an on-disk store can be opened read-only (beside the process that writes it)',
      'INVALID_OPTION',
    );
  }
  if (onFutureEvent !== 'reject' && onFutureEvent !== 'clamp') {
    throw new ValidationError(
      'onFutureEvent',
      `must be 'reject' or 'clamp', got ${describe(onFutureEvent)}`,
      'INVALID_OPTION',
    );
  }
  return {
    dir,
    fsync,
    clock: clock === systemClock ? clock : checkedClock(clock),
    verifyOnOpen,
    recover,
    futureTolerance: resolveFutureTolerance(options.futureTolerance),
    onFutureEvent,
    retention: RetentionPolicy.from(options.retention, 'retention', dir),
    fsyncIntervalMs: integerOption(options, 'fsyncIntervalMs', 10, 1, 60_000),
    segmentSize: integerOption(options, 'segmentSize', 128 * MiB, 4096, 2 ** 40),
    maxEventSize: integerOption(options, 'maxEventSize', MiB, 256, 256 * MiB),
    checkpointEvery: integerOption(options, 'checkpointEvery', 1_000_000, 0, Number.MAX_SAFE_INTEGER),
    readOnly,
    followIntervalMs: integerOption(options, 'followIntervalMs', 1000, 0, 86_400_000),
    fieldColumns: fieldColumnsOption(options.fieldColumns),
  };
}
