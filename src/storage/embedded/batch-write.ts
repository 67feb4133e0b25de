import { ValidationError } from '../../errors.js';
import type { ValidEvent } from '../../events/validate.js';
import { FRAME_HEADER, RECORD_PREFIX, sealFrame } from '../../codec/frame.js';
import type { EngineParts } from './engine-parts.js';
import type { EventView } from './exec/event-view.js';
import type { IndexManager, PreparedKeys } from './indexes/index-manager.js';

/** A batch encoded and checked, with its sequences and versions: what the write half needs. */
export interface EncodedBatch {
  readonly events: readonly ValidEvent[];
  readonly versions: readonly number[];
  /** Each record's encoded length, in the frame's order. */
  readonly lengths: readonly number[];
  readonly idHashes: readonly number[];
  readonly firstSequence: number;
}

/** Refuses a batch with an event of a stream deleteStream erased (AGGREGATE_DELETED); nothing is written. */
export function refuseDeletedStreams(parts: EngineParts, events: readonly ValidEvent[]): void {
  const { tombstones } = parts;
  if (!tombstones.active) return;
  events.forEach((event, i) => {
    if (tombstones.isAggregateDeleted(event.aggregateId)) {
      throw new ValidationError(
        `events[${i}].aggregateId`,
        `stream ${JSON.stringify(event.aggregateId)} was deleted (deleteAggregate) and takes no more events; nothing was written`,
        'AGGREGATE_DELETED',
      );
    }
  });
}

/** The user indexes' keys for the batch, unique ones checked now: a violation must leave nothing written. */
export function batchKeys(
  indexes: IndexManager,
  batch: Omit<EncodedBatch, 'lengths'>,
): PreparedKeys | undefined {
  if (!indexes.active) return undefined;
  const { events, versions, firstSequence } = batch;
  return indexes.prepareBatch(
    events.map((event, i): EventView => ({
      ...event,
      sequence: firstSequence + i,
      version: versions[i] as number,
    })),
  );
}

/**
 * The write half of the atomic append step: the frame (the batch's records after a FRAME_HEADER)
 * sealed and appended to the log, then the rows added to the table and the indexes. Called only
 * once every check passed: from here on only an I/O error can fail, and it leaves the log as it was.
 */
export function writeBatch(
  parts: EngineParts,
  indexes: IndexManager,
  frame: Buffer,
  batch: EncodedBatch,
  keys: PreparedKeys | undefined,
): void {
  const { table, log } = parts;
  const { events, versions, lengths, idHashes, firstSequence } = batch;
  sealFrame(frame, firstSequence, events.length);
  const frameOffset = log.append(frame);
  let at = frameOffset + FRAME_HEADER;
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as ValidEvent;
    const length = lengths[i] as number;
    at += RECORD_PREFIX;
    const row = table.addRow(
      event.aggregateId,
      event.type,
      event.timestamp,
      versions[i] as number,
      at,
      length,
      event.tags,
    );
    table.ids.add(row, idHashes[i] as number);
    if (table.fieldColumns.size > 0) table.fieldColumns.onAppend(row, event.payload, event.tags);
    at += length;
  }
  indexes.commitBatch(firstSequence - 1, keys);
}
