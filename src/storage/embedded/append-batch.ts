import { ConcurrencyError, DuplicateEventIdError, type ExpectedVersion } from '../../errors.js';
import type { StoredEvent } from '../../events/types.js';
import type { ValidEvent } from '../../events/validate.js';
import { FRAME_HEADER, RECORD_PREFIX } from '../../codec/frame.js';
import { RecordWriter, decodeId } from '../../codec/record-codec.js';
import type { AppendBatch, AppendOutcome, BeforeCommit } from '../storage-engine.js';
import { isPromiseLike } from '../../support/promise-like.js';
import { writeApproved } from './approved-write.js';
import { batchKeys, refuseDeletedStreams, writeBatch, type EncodedBatch } from './batch-write.js';
import { contentDifference, matchStoredIds } from './duplicate-ids.js';
import type { EngineParts } from './engine-parts.js';
import type { IndexManager } from './indexes/index-manager.js';
import type { Tombstones } from './retention/tombstones.js';
import { positionOfVersion } from './table/stream-position.js';

/** One encoder for every append: its buffer grows to the largest batch and is reused. */
const writer = new RecordWriter();

/** Whether a row's event holds its id: a deleted stream's events have let theirs go (duplicate-ids.ts). */
export function holdsId(tombstones: Tombstones, row: number): boolean {
  return !tombstones.active || !tombstones.isDeleted(row);
}

/**
 * A batch its beforeCommit hook answered with a promise: nothing was written. The engine waits for
 * the approval, keeping every other batch out meanwhile, then runs the step again (commit-turn.ts).
 */
export interface AwaitingApproval {
  readonly approval: PromiseLike<void>;
  /** The events the hook saw: what is written after the approval must be exactly these. */
  readonly events: readonly StoredEvent[];
  /**
   * Once approved: writes the batch as it was encoded and returns the outcome, or undefined (nothing
   * written) when something it was checked against changed meanwhile; the step then runs again.
   */
  write(parts: EngineParts, indexes: IndexManager): AppendOutcome | undefined;
}

/**
 * The embedded engine's atomic append step, all in one synchronous call, so concurrent appends are
 * serialised and the stream expectation, versions, ids and unique keys are checked and taken
 * together: a retry (ids stored already, same content) returns the stored events; otherwise the
 * batch is encoded into one frame, written, then indexed. Everything that can fail on bad input
 * happens before the write, and a failed write leaves the log as it was, so a rejected batch
 * changes nothing. `approve` (the store's beforeCommit hook) comes last before the write: sequences
 * and versions are assigned, every check passed; when it throws, nothing is written and the table
 * is as it was, so the sequences it saw are the next batch's. The caller acknowledges (fsync
 * policy) afterwards.
 */
export function appendBatch(
  parts: EngineParts,
  indexes: IndexManager,
  maxEventSize: number,
  batch: AppendBatch,
  approve: (events: readonly StoredEvent[]) => undefined,
): AppendOutcome;
export function appendBatch(
  parts: EngineParts,
  indexes: IndexManager,
  maxEventSize: number,
  batch: AppendBatch,
  approve: BeforeCommit | undefined,
): AppendOutcome | AwaitingApproval;
export function appendBatch(
  parts: EngineParts,
  indexes: IndexManager,
  maxEventSize: number,
  batch: AppendBatch,
  approve: BeforeCommit | undefined,
): AppendOutcome | AwaitingApproval {
  const { events, stream } = batch;
  const { table, reader, tombstones } = parts;
  let versions: (fresh: readonly ValidEvent[]) => number[];
  if (stream === undefined) {
    if (events.length === 0) return { events: [], written: [] };
    versions = (fresh) => nextVersions(parts, fresh);
  } else {
    const current = table.streamVersion(stream.aggregateId);
    if (events.length > 0 && batch.givenIds.every(Boolean)) {
      const retried = findRetry(parts, batch, stream.aggregateId, stream.expected, current);
      if (retried !== undefined) return { events: retried, written: [] };
    }
    if (!versionMatches(stream.expected, current))
      throw new ConcurrencyError(stream.aggregateId, stream.expected, current);
    if (events.length === 0) return { events: [], written: [] };
    versions = (fresh) => fresh.map((_, i) => current + 1 + i);
  }
  const given = { ids: batch.givenIds, timestamps: batch.givenTimestamps };
  const match = matchStoredIds(table, reader, events, given, (row) => holdsId(tombstones, row));
  if (match.stored === undefined) {
    const written = commit(parts, indexes, maxEventSize, events, versions(events), match.hashes, approve);
    if (!Array.isArray(written)) return awaiting(written, (done) => ({ events: done, written: done }));
    return { events: written, written };
  }
  // Some events are retries: those return the stored events, the others are appended in one frame,
  // and the result is in the batch's order. A batch of retries only writes nothing.
  const stored = match.stored;
  const fresh: ValidEvent[] = [];
  const freshHashes: number[] = [];
  events.forEach((event, i) => {
    if (stored[i] !== undefined) return;
    fresh.push(event);
    freshHashes.push(match.hashes[i] as number);
  });
  if (fresh.length === 0) return { events: stored as StoredEvent[], written: [] };
  const written = commit(parts, indexes, maxEventSize, fresh, versions(fresh), freshHashes, approve);
  const outcome = (done: StoredEvent[]): AppendOutcome => {
    let next = 0;
    // A loop, not map: `stored` has holes where events are new, which map would skip.
    const out = new Array<StoredEvent>(stored.length);
    for (let i = 0; i < stored.length; i++) out[i] = stored[i] ?? (done[next++] as StoredEvent);
    return { events: out, written: done };
  };
  return Array.isArray(written) ? outcome(written) : awaiting(written, outcome);
}

/**
 * A retried appendToStream whose events already stand, by id, where the caller meant them to go:
 * returns them instead of writing twice; undefined when this is not such a retry.
 */
function findRetry(
  parts: EngineParts,
  batch: AppendBatch,
  aggregateId: string,
  expected: ExpectedVersion,
  current: number,
): StoredEvent[] | undefined {
  const { table, reader } = parts;
  const events = batch.events;
  const start =
    typeof expected === 'number' ? expected + 1 : expected === 'no_stream' ? 1 : current - events.length + 1;
  if (start < 1 || start + events.length - 1 > current) return undefined;
  const stream = table.aggregateRows(aggregateId);
  const first = positionOfVersion(table, stream, start);
  const rows = events.map((_, i) => (first + i < stream.length ? stream.at(first + i) : undefined));
  const same = rows.map(
    (row, i) =>
      row !== undefined &&
      table.version.get(row) === start + i &&
      reader.decodeRecord(row, decodeId) === events[i]?.id,
  );
  if (same.every(Boolean)) {
    const stored = reader.events(rows as number[]);
    // The ids stand where this write would have put them; their content must be this write's too.
    stored.forEach((event, i) => {
      const difference = contentDifference(event, events[i] as ValidEvent, batch.givenTimestamps[i] === true);
      if (difference !== undefined) throw new DuplicateEventIdError(event.id, event.sequence, i, difference);
    });
    return stored;
  }
  // Some of the ids stand there but not all: a different batch overlapped this one.
  if (same.some(Boolean)) throw new ConcurrencyError(aggregateId, expected, current);
  return undefined;
}

function nextVersions(parts: EngineParts, events: readonly ValidEvent[]): number[] {
  const next = new Map<string, number>();
  return events.map(({ aggregateId }) => {
    const version = (next.get(aggregateId) ?? parts.table.streamVersion(aggregateId)) + 1;
    next.set(aggregateId, version);
    return version;
  });
}

function versionMatches(expected: ExpectedVersion, current: number): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return current === 0;
    case 'stream_exists':
      return current > 0;
    default:
      return current === expected;
  }
}

/**
 * Encodes the batch into one frame, asks `approve`, writes the frame, then adds its rows to the
 * table and the indexes. What approve sees was encoded already: changing those objects cannot
 * change what is written. When approve answers with a promise, nothing is written yet: the frame
 * is copied out of the shared encoder and kept, to be written once approved (approved-write.ts).
 */
function commit(
  parts: EngineParts,
  indexes: IndexManager,
  maxEventSize: number,
  events: readonly ValidEvent[],
  versions: readonly number[],
  idHashes: readonly number[],
  approve: BeforeCommit | undefined,
): StoredEvent[] | PendingWrite {
  writer.reset(FRAME_HEADER);
  const lengths = new Array<number>(events.length);
  for (let i = 0; i < events.length; i++) {
    writer.ensure(RECORD_PREFIX);
    const prefix = writer.length;
    writer.length += RECORD_PREFIX;
    const length = writer.writeRecord(
      events[i] as ValidEvent,
      versions[i] as number,
      maxEventSize,
      `events[${i}]`,
    );
    writer.buffer.writeUInt32LE(length, prefix);
    lengths[i] = length;
  }
  refuseDeletedStreams(parts, events);
  const batch: EncodedBatch = { events, versions, lengths, idHashes, firstSequence: parts.table.rows + 1 };
  const keys = batchKeys(indexes, batch);
  const stored = storedEvents(batch);
  if (approve !== undefined) {
    const verdict = approve(stored);
    if (isPromiseLike(verdict)) {
      const frame = Buffer.from(writer.buffer.subarray(0, writer.length));
      return {
        approval: verdict,
        stored,
        write: (now, nowIndexes) => writeApproved(now, nowIndexes, { parts, frame, batch }),
      };
    }
  }
  writeBatch(parts, indexes, writer.buffer.subarray(0, writer.length), batch, keys);
  return stored;
}

/** The batch's events as they are stored (and returned): what beforeCommit sees. */
function storedEvents({ events, versions, firstSequence }: EncodedBatch): StoredEvent[] {
  const stored = new Array<StoredEvent>(events.length);
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as ValidEvent;
    stored[i] = {
      sequence: firstSequence + i,
      id: event.id,
      aggregateId: event.aggregateId,
      version: versions[i] as number,
      type: event.type,
      timestamp: new Date(event.timestamp),
      tags: event.tags,
      payload: event.payload,
      metadata: event.metadata,
    };
  }
  return stored;
}

/** A batch encoded and waiting for its hook's promise; `write` writes it then, if nothing moved. */
interface PendingWrite {
  readonly approval: PromiseLike<void>;
  readonly stored: StoredEvent[];
  write(parts: EngineParts, indexes: IndexManager): boolean;
}

/** The step's answer while the hook's promise is pending, with how to finish the outcome once written. */
function awaiting(
  pending: PendingWrite,
  outcome: (written: StoredEvent[]) => AppendOutcome,
): AwaitingApproval {
  return {
    approval: pending.approval,
    events: pending.stored,
    write: (parts, indexes) => (pending.write(parts, indexes) ? outcome(pending.stored) : undefined),
  };
}
