/**
 * Every stable error code, declared once: the class that carries it and what it means. A code is
 * thrown by exactly that class on every path, so the HTTP layer (and any caller) can map codes to
 * statuses in one table. `cli` marks the codes only the command line throws (its classes live in
 * src/cli/errors.ts). docs/api.md lists this table; test/errors.test.ts keeps the two in step.
 */
export const ERROR_CODES = deepFreeze({
  VALIDATION_FAILED: {
    error: 'ValidationError',
    meaning:
      'an event or a call argument does not fit the contract (error.path says where); nothing was changed',
  },
  INVALID_OPTION: {
    error: 'ValidationError',
    meaning: 'an unknown or bad option, index definition or policy; error.path names it',
  },
  INVALID_CLOCK: {
    error: 'ValidationError',
    meaning: "the clock option's now() returned something that is not a time; nothing was written",
  },
  UNKNOWN_FIELD: {
    error: 'ValidationError',
    meaning:
      'a query or index names a field that is not sequence, id, aggregateId, type, timestamp, version, tags.* or payload.*',
  },
  INVALID_OPERAND: {
    error: 'ValidationError',
    meaning: 'a query operand does not fit its field or operator (e.g. a string compared with sequence)',
  },
  INVALID_RANGE: {
    error: 'ValidationError',
    meaning: 'a between filter whose low bound is above its high bound',
  },
  INDEX_NOT_USABLE: {
    error: 'ValidationError',
    meaning: 'no index a forceIndex hint names can serve the query',
  },
  INVALID_CACHE_KEY: {
    error: 'ValidationError',
    meaning:
      'store.cache was given a key it did not make (keyOf), or a query it cannot key (one holding a function)',
  },
  CACHE_DISABLED: {
    error: 'ValidationError',
    meaning: 'store.cache.set or warmup on a store opened without the cache option',
  },
  EXPORT_SCHEMA_MISMATCH: {
    error: 'ValidationError',
    meaning:
      "a row an export cannot write without losing a value: one its column's type cannot hold, or a key the first batch did not have; declare columns",
  },
  EVENT_TOO_LARGE: {
    error: 'EventTooLargeError',
    meaning:
      'an event over maxEventSize once encoded (or found over it before encoding); carries size and limit',
  },
  BATCH_TOO_LARGE: {
    error: 'ValidationError',
    meaning: 'one append whose batch needs more than 4 GiB encoded (one log frame); split it',
  },
  EVENT_IN_FUTURE: {
    error: 'ValidationError',
    meaning: "an event timestamped beyond futureTolerance ahead of the store's clock",
  },
  EVENT_EXPIRED: { error: 'ValidationError', meaning: "an event already past its type's retention maxAge" },
  AGGREGATE_DELETED: {
    error: 'ValidationError',
    meaning: 'an append to a stream deleted with deleteAggregate',
  },
  ARCHIVE_DIR_MOVED: {
    error: 'ValidationError',
    meaning:
      'a relative retention.archive.dir now resolves elsewhere than the archive earlier versions wrote',
  },
  DUPLICATE_EVENT_ID: {
    error: 'DuplicateEventIdError',
    meaning: 'an id that a stored event (with other content) or an earlier event of the batch already holds',
  },
  UNIQUE_VIOLATION: {
    error: 'UniqueViolationError',
    meaning: 'a key a unique index already holds: on append, or among stored events when building the index',
  },
  CONCURRENCY_CONFLICT: {
    error: 'ConcurrencyError',
    meaning: 'appendToStream found the stream at another version than expectedVersion',
  },
  CORRUPTION: {
    error: 'CorruptionError',
    meaning: 'stored data failed a checksum or framing check, or is missing; run verify / repair',
  },
  STORE_CLOSED: { error: 'StoreClosedError', meaning: 'use after close(), or a write after a failed fsync' },
  STORE_LOCKED: {
    error: 'StoreLockedError',
    meaning: 'another process (or this one) holds the store directory open',
  },
  LOCK_FAILED: { error: 'TammaError', meaning: 'the file system cannot lock the store directory (flock)' },
  READ_ONLY: { error: 'ReadOnlyError', meaning: 'a write on a store opened with readOnly: true' },
  STORE_BUSY: {
    error: 'TammaError',
    meaning: 'a read-only load gave up because the writer kept replacing files under it; try again',
  },
  NOT_A_STORE: {
    error: 'TammaError',
    meaning: 'dir is a file, or a directory that holds no store where one is needed',
  },
  UNSUPPORTED_FORMAT: {
    error: 'TammaError',
    meaning: 'store.json names a format version this library does not read',
  },
  DISK_FULL: {
    error: 'StorageError',
    meaning: 'a file-system write failed for lack of space or quota (ENOSPC, EDQUOT)',
  },
  IO_ERROR: {
    error: 'StorageError',
    meaning: 'a file-system write, fsync or rename failed for another reason',
  },
  QUERY_CANCELLED: {
    error: 'QueryCancelledError',
    meaning: "the query's AbortSignal fired, or cancelQuery named it",
  },
  QUERY_TIMEOUT: { error: 'QueryTimeoutError', meaning: 'the query ran past hints.timeout' },
  WAIT_TIMEOUT: {
    error: 'TammaError',
    meaning:
      'store.waitFor: the store (or the named subscription) did not reach the sequence within the timeout',
  },
  SUBSCRIPTION_ACTIVE: {
    error: 'TammaError',
    meaning: 'subscribe({ name }) with a name an open subscription of this store is already using',
  },
  INDEX_NOT_FOUND: { error: 'IndexNotFoundError', meaning: 'no user-defined index of that name' },
  INDEX_EXISTS: { error: 'TammaError', meaning: 'createIndex with a name an index already has' },
  INDEX_DROPPED: {
    error: 'TammaError',
    meaning: 'the index was dropped while it was being built or rebuilt',
  },
  COMMIT_HOOK_REENTRY: {
    error: 'TammaError',
    meaning:
      "a write (append, appendToStream, deleteAggregate, …) made from inside the same store's beforeCommit hook; nothing was written",
  },
  TOO_MANY_TYPES: { error: 'TammaError', meaning: 'more than 2^21 distinct event types in one store' },
  RESULT_TOO_LARGE: {
    error: 'TammaError',
    meaning:
      'an analytics operator would put out more rows than one in-memory result holds (a join over 2^25 pairs); narrow the filter, add within, or aggregate',
  },
  UNSUPPORTED: {
    error: 'UnsupportedError',
    meaning:
      'the storage engine lacks the capability the call needs (error.capability names it); nothing was changed',
  },
  USAGE: { error: 'UsageError', meaning: 'the command line is wrong (exit status 2)', cli: true },
  INVALID_INPUT: {
    error: 'InputError',
    meaning: "the command's input data is wrong, e.g. bad NDJSON lines (exit status 2)",
    cli: true,
  },
  OUTPUT_CLOSED: {
    error: 'OutputClosedError',
    meaning: 'stdout closed early, e.g. piped into head (exit status 0)',
    cli: true,
  },
} as const);

/** A stable error code: a key of ERROR_CODES, so a code that is not declared there fails to compile. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The class names of ValidationError and its subclasses: the codes they may carry are derived from them. */
type ValidationClass =
  | 'ValidationError'
  | 'EventTooLargeError'
  | 'DuplicateEventIdError'
  | 'UniqueViolationError'
  | 'UnsupportedError';

/** The codes ERROR_CODES gives to ValidationError or a subclass: a ValidationError carries no other. */
export type ValidationCode = {
  [C in ErrorCode]: (typeof ERROR_CODES)[C]['error'] extends ValidationClass ? C : never;
}[ErrorCode];

function deepFreeze<T extends Record<string, object>>(table: T): T {
  for (const entry of Object.values(table)) Object.freeze(entry);
  return Object.freeze(table);
}

/**
 * Every error the store throws on purpose is a TammaError with a stable `code`, so callers and the
 * HTTP layer can branch on the code rather than on message text. Messages name the offending value
 * and say what is expected.
 */
export class TammaError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad input: an event, an option or a query argument that does not fit the contract. Nothing was changed. */
export class ValidationError extends TammaError {
  /** Where the bad value was found, e.g. `events[3].aggregateId` or `fsync`. */
  readonly path: string;

  constructor(path: string, message: string, code: ValidationCode = 'VALIDATION_FAILED') {
    super(code, path ? `${path}: ${message}` : message);
    this.path = path;
  }
}

/** An encoded event larger than the store's `maxEventSize`. */
export class EventTooLargeError extends ValidationError {
  readonly size: number;
  readonly limit: number;

  /** `lowerBound`: refused before encoding, `size` being what was counted when the walk stopped. */
  constructor(path: string, size: number, limit: number, lowerBound = false) {
    super(
      path,
      lowerBound
        ? `event is at least ${size} bytes encoded (counted before encoding, which stopped there), over the limit of ${limit} bytes (option maxEventSize)`
        : `event is ${size} bytes encoded, over the limit of ${limit} bytes (option maxEventSize)`,
      'EVENT_TOO_LARGE',
    );
    this.size = size;
    this.limit = limit;
  }
}

export type ExpectedVersion = number | 'no_stream' | 'stream_exists' | 'any';

/** `appendToStream` found the stream at another version than the caller expected. */
export class ConcurrencyError extends TammaError {
  readonly aggregateId: string;
  readonly expected: ExpectedVersion;
  readonly actual: number;

  constructor(aggregateId: string, expected: ExpectedVersion, actual: number) {
    super(
      'CONCURRENCY_CONFLICT',
      `stream ${JSON.stringify(aggregateId)} is at version ${actual}, but expectedVersion was ${JSON.stringify(expected)}; ` +
        're-read the stream and retry',
    );
    this.aggregateId = aggregateId;
    this.expected = expected;
    this.actual = actual;
  }
}

/** Stored data failed a checksum or framing check. The store refuses to guess: run `tamma-events verify` / `repair`. */
export class CorruptionError extends TammaError {
  readonly file: string;
  readonly offset: number;
  /** What is wrong, without the file, offset and advice: for reports that list problems by file. */
  readonly detail: string;

  /** `advice` says what to run; the default fits a store directory (archives have their own). */
  constructor(
    file: string,
    offset: number,
    detail: string,
    advice = 'Run `tamma-events verify --dir <dir>` for a report and `tamma-events repair --dir <dir>` to move the damage aside.',
  ) {
    super('CORRUPTION', `corrupt data in ${file} at byte offset ${offset}: ${detail}. ${advice}`);
    this.file = file;
    this.offset = offset;
    this.detail = detail;
  }
}

/** The store was closed, or failed (e.g. an fsync error) and refuses further writes to protect the data. */
export class StoreClosedError extends TammaError {
  constructor(reason = 'the event store is closed') {
    super('STORE_CLOSED', reason);
  }
}

/** Another process holds the store directory open. */
export class StoreLockedError extends TammaError {
  readonly dir: string;

  constructor(dir: string, holder: string) {
    super(
      'STORE_LOCKED',
      `store directory ${dir} is already open in another process (${holder}); close it first`,
    );
    this.dir = dir;
  }
}

/** A write to a store opened with `readOnly: true`. Nothing was changed. */
export class ReadOnlyError extends TammaError {
  constructor(operation: string, dir: string) {
    super(
      'READ_ONLY',
      `${operation} is a write, and the store in ${dir} was opened read-only (readOnly: true); ` +
        'write through the process that holds the store, or open it without readOnly',
    );
  }
}

/** The query was cancelled: its AbortSignal fired, or `cancelQuery(queryId)` was called. */
export class QueryCancelledError extends TammaError {
  readonly queryId: string;

  constructor(queryId: string) {
    super('QUERY_CANCELLED', `query ${queryId} was cancelled`);
    this.queryId = queryId;
  }
}

/** The query ran past its `timeout` hint. */
export class QueryTimeoutError extends TammaError {
  readonly queryId: string;
  readonly timeoutMs: number;

  constructor(queryId: string, timeoutMs: number) {
    super(
      'QUERY_TIMEOUT',
      `query ${queryId} ran past its timeout of ${timeoutMs} ms; narrow it or raise hints.timeout`,
    );
    this.queryId = queryId;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A unique index would hold one key twice. On append (the event at `eventIndex` brings a key the
 * index holds, or an earlier event of the batch brings): nothing of the batch was written. On
 * building the index (`sequences` are two stored events with the key): no index was made.
 */
export class UniqueViolationError extends ValidationError {
  readonly index: string;
  readonly key: readonly unknown[];
  /** Position of the offending event in the batch; undefined when building the index found the conflict. */
  readonly eventIndex: number | undefined;
  /** When building the index: the sequences of two stored events with the same key; undefined on append. */
  readonly sequences: readonly [number, number] | undefined;

  /** `where`: who holds the key, e.g. `held by sequence 4` or `also given by events[0] of this batch`. */
  constructor(
    index: string,
    fields: readonly string[],
    key: readonly unknown[],
    eventIndex: number,
    where: string,
  );
  constructor(
    index: string,
    fields: readonly string[],
    key: readonly unknown[],
    sequences: readonly [number, number],
  );
  constructor(
    index: string,
    fields: readonly string[],
    key: readonly unknown[],
    at: number | readonly [number, number],
    where = '',
  ) {
    const shown = fields.map((field, i) => `${field} = ${JSON.stringify(key[i])}`).join(', ');
    super(
      typeof at === 'number' ? `events[${at}]` : '',
      typeof at === 'number'
        ? `${shown} is already in unique index "${index}" (${where}); nothing was written`
        : `cannot build unique index ${index}: sequences ${at[0]} and ${at[1]} both have ${shown}`,
      'UNIQUE_VIOLATION',
    );
    this.index = index;
    this.key = key;
    this.eventIndex = typeof at === 'number' ? at : undefined;
    this.sequences = typeof at === 'number' ? undefined : at;
  }
}

/**
 * An append (or a restore) brings an event id the store already holds for an event with other
 * content, or two events of one batch bring the same id. Ids are unique in the store: nothing of the
 * batch was written. Appending the same event again (same id and content) is not this error: it
 * returns the stored event (an idempotent retry).
 */
export class DuplicateEventIdError extends ValidationError {
  /** The id that is taken. */
  readonly id: string;
  /** The sequence of the stored event that holds it; undefined when an earlier event of the batch holds it. */
  readonly sequence: number | undefined;
  /** Position of the offending event in the batch; undefined for a restore. */
  readonly eventIndex: number | undefined;
  /** Position of the earlier event of the same batch that holds the id; undefined when a stored event holds it. */
  readonly heldByIndex: number | undefined;

  /** `difference`: what differs from the stored event, e.g. `payload`, or a restore's own sentence. */
  constructor(id: string, sequence: number, eventIndex: number | undefined, difference: string);
  /** Two events of one batch bring the same id, whatever their content: `heldBy` is the first one's position. */
  constructor(id: string, heldBy: { batchIndex: number }, eventIndex: number);
  constructor(
    id: string,
    holder: number | { batchIndex: number },
    eventIndex: number | undefined,
    difference = '',
  ) {
    const inBatch = typeof holder === 'object';
    super(
      eventIndex === undefined ? 'archiveDir' : `events[${eventIndex}].id`,
      inBatch
        ? `duplicates the id of events[${holder.batchIndex}] (${JSON.stringify(id)}); ids must be unique within a batch`
        : eventIndex === undefined
          ? `id ${JSON.stringify(id)} is held by the event of sequence ${holder}, and ${difference}; ` +
            'ids are unique in the store. Nothing was restored'
          : `id ${JSON.stringify(id)} is already stored, as sequence ${holder}, with a different ${difference}; ` +
            'ids are unique in the store, and appending an id again only returns the stored event when its content is the same. Nothing was written',
      'DUPLICATE_EVENT_ID',
    );
    this.id = id;
    this.sequence = inBatch ? undefined : holder;
    this.eventIndex = eventIndex;
    this.heldByIndex = inBatch ? holder.batchIndex : undefined;
  }
}

/** No index of that name, or one is still being built where a ready one is needed. */
export class IndexNotFoundError extends TammaError {
  readonly index: string;

  constructor(index: string, known: readonly string[]) {
    super(
      'INDEX_NOT_FOUND',
      `no index named ${JSON.stringify(index)}; user-defined indexes: ${known.length === 0 ? 'none' : known.join(', ')}`,
    );
    this.index = index;
  }
}

/**
 * The file system refused a write, an fsync or a rename: `DISK_FULL` when it is out of space (or
 * quota), `IO_ERROR` otherwise. The message says what was and was not done; `cause` is the system
 * error (its `code`, e.g. `ENOSPC`, is also in `systemCode`).
 */
export class StorageError extends TammaError {
  readonly systemCode: string | undefined;

  constructor(message: string, cause: unknown) {
    const systemCode = (cause as NodeJS.ErrnoException | undefined)?.code;
    const full = systemCode === 'ENOSPC' || systemCode === 'EDQUOT';
    super(
      full ? 'DISK_FULL' : 'IO_ERROR',
      `${message} (${(cause as Error | undefined)?.message ?? String(cause)})`,
      {
        cause,
      },
    );
    this.systemCode = systemCode;
  }
}

/**
 * The storage engine lacks a capability the call needs (see StorageCapabilities), e.g. user-defined
 * indexes or an archive. Like bad input, nothing was changed; unlike it, another engine would accept
 * the same call.
 */
export class UnsupportedError extends ValidationError {
  /** The capability the engine lacks, as StorageCapabilities names it. */
  readonly capability: string;

  /** `message` says what the call wanted; `path` names the argument or option that asked for it, if one did. */
  constructor(capability: string, message: string, path = '') {
    super(path, `${message} (this storage engine does not support ${capability})`, 'UNSUPPORTED');
    this.capability = capability;
  }
}
