/**
 * Every error the store throws on purpose is a TammaError with a stable `code`, so callers and the
 * HTTP layer can branch on the code rather than on message text. Messages name the offending value
 * and say what is expected.
 */
export class TammaError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad input: an event, an option or a query argument that does not fit the contract. Nothing was changed. */
export class ValidationError extends TammaError {
  /** Where the bad value was found, e.g. `events[3].aggregateId` or `fsync`. */
  readonly path: string;

  constructor(path: string, message: string, code = 'VALIDATION_FAILED') {
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

/** An append would give a unique index a key it already holds; nothing of the batch was written. */
export class UniqueViolationError extends ValidationError {
  readonly index: string;
  readonly key: readonly unknown[];
  /** Position of the offending event in the batch. */
  readonly eventIndex: number;

  constructor(
    index: string,
    fields: readonly string[],
    key: readonly unknown[],
    eventIndex: number,
    where: string,
  ) {
    const shown = fields.map((field, i) => `${field} = ${JSON.stringify(key[i])}`).join(', ');
    super(
      `events[${eventIndex}]`,
      `${shown} is already in unique index "${index}" (${where}); nothing was written`,
      'UNIQUE_VIOLATION',
    );
    this.index = index;
    this.key = key;
    this.eventIndex = eventIndex;
  }
}

/**
 * An append (or a restore) brings an event id the store already holds for an event with other
 * content. Ids are unique in the store: nothing of the batch was written. Appending the same event
 * again (same id and content) is not this error: it returns the stored event (an idempotent retry).
 */
export class DuplicateEventIdError extends ValidationError {
  /** The id that is taken. */
  readonly id: string;
  /** The sequence of the stored event that holds it. */
  readonly sequence: number;
  /** Position of the offending event in the batch; undefined for a restore. */
  readonly eventIndex: number | undefined;

  /** `difference`: what differs from the stored event, e.g. `payload`, or a restore's own sentence. */
  constructor(id: string, sequence: number, eventIndex: number | undefined, difference: string) {
    super(
      eventIndex === undefined ? 'archiveDir' : `events[${eventIndex}].id`,
      eventIndex === undefined
        ? `id ${JSON.stringify(id)} is held by the event of sequence ${sequence}, and ${difference}; ` +
            'ids are unique in the store. Nothing was restored'
        : `id ${JSON.stringify(id)} is already stored, as sequence ${sequence}, with a different ${difference}; ` +
            'ids are unique in the store, and appending an id again only returns the stored event when its content is the same. Nothing was written',
      'DUPLICATE_EVENT_ID',
    );
    this.id = id;
    this.sequence = sequence;
    this.eventIndex = eventIndex;
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
