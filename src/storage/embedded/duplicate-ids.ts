import { DuplicateEventIdError } from '../../errors.js';
import { uuidv7 } from '../../events/ids.js';
import type { StoredEvent } from '../../events/types.js';
import type { ValidEvent } from '../../events/validate.js';
import { FRAME_HEADER, RECORD_PREFIX, frameCount, frameSequence } from '../../codec/frame.js';
import { decodeAggregateId, decodeId } from '../../codec/record-codec.js';
import type { EventTable } from './table/event-table.js';
import type { EventReader } from './table/event-reader.js';

/**
 * The rule that an event id is stored once, checked for a batch before anything of it is written:
 *
 *  - an id no stored event holds: the event is new;
 *  - an id a stored event holds, with the same content (sameContent): a retry; the stored event is
 *    returned in its place and nothing is written for it;
 *  - an id a stored event holds, with other content: DuplicateEventIdError, and nothing of the
 *    batch is written.
 *
 * "Stored" means held by an event `holds` keeps: the store's rows that hold an event, less those of
 * deleted streams. An event cleanup removed (retention) or a deleted stream's event frees its id.
 */
export interface IdMatch {
  /** Each event's id hash, for the id index (IdIndex.add). */
  hashes: number[];
  /** Per event: the stored event it retries, or undefined when it is new. Absent when all are new. */
  stored: (StoredEvent | undefined)[] | undefined;
}

export function matchStoredIds(
  table: EventTable,
  reader: EventReader,
  events: readonly ValidEvent[],
  /** Whether the caller gave each event's id, and its timestamp (AppendBatch). */
  given: { readonly ids: readonly boolean[]; readonly timestamps: readonly boolean[] },
  /** Whether a row (one that holds an event) counts as stored: not one of a deleted stream. */
  holds: (row: number) => boolean,
): IdMatch {
  const ids = table.ids;
  const present = (row: number) => !table.isRemoved(row) && holds(row);
  // One closure for the batch, not one per event: `sought` is the id being looked up.
  let sought = '';
  const isSought = (candidate: number) => reader.decodeRecord(candidate, decodeId) === sought;
  const hashes = new Array<number>(events.length);
  let stored: (StoredEvent | undefined)[] | undefined;
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as ValidEvent;
    sought = event.id;
    let hash = ids.hashOf(sought);
    let row = ids.find(hash, present, isSought);
    // A generated UUIDv7 that a stored event holds (one a caller chose, or the 2^-74 chance): the
    // store picks another, since the caller asked for none in particular.
    while (row >= 0 && given.ids[i] !== true) {
      event.id = sought = uuidv7(event.timestamp);
      hash = ids.hashOf(sought);
      row = ids.find(hash, present, isSought);
    }
    hashes[i] = hash;
    if (row < 0) continue;
    const [existing] = reader.events([row]) as [StoredEvent];
    const difference = contentDifference(existing, event, given.timestamps[i] === true);
    if (difference !== undefined) throw new DuplicateEventIdError(event.id, existing.sequence, i, difference);
    stored ??= new Array<StoredEvent | undefined>(events.length);
    stored[i] = existing;
  }
  return { hashes, stored };
}

/**
 * What differs between a stored event and one appended again with its id, or undefined when it is
 * the same event: aggregateId, type, payload, tags, metadata, and the timestamp when the caller gave
 * one (a retry without a timestamp matches the time the store gave the first append). Payload,
 * tags and metadata compare as JSON values: key order does not matter.
 */
export function contentDifference(
  stored: StoredEvent,
  event: ValidEvent,
  timestampGiven: boolean,
): string | undefined {
  if (stored.aggregateId !== event.aggregateId) return 'aggregateId';
  if (stored.type !== event.type) return 'type';
  if (timestampGiven && stored.timestamp.getTime() !== event.timestamp) return 'timestamp';
  if (!sameJson(stored.tags, event.tags)) return 'tags';
  if (!sameJson(stored.payload, event.payload)) return 'payload';
  if (!sameJson(stored.metadata, event.metadata)) return 'metadata';
  return undefined;
}

/** Equality of JSON values (what validation lets into a payload): objects compare by keys, in any order. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  for (const key of keys) {
    if (!Object.prototype.hasOwnProperty.call(right, key) || !sameJson(left[key], right[key])) return false;
  }
  return true;
}

/**
 * Refuses a restore that would store an id twice: an archived event (one the restore would bring
 * back: not live at its sequence already, not of a deleted stream) whose id a live event holds at
 * another sequence, or that another archived event being restored holds. Before anything is
 * written. An id whose event cleanup removed may have been appended again since (removed ids are
 * free): restoring the old event then needs the new one gone first.
 */
export function refuseRestoredDuplicates(
  table: EventTable,
  reader: EventReader,
  frames: readonly { bytes: Buffer }[],
  holds: (row: number) => boolean,
  isDeleted: (aggregateId: string) => boolean,
): void {
  const ids = table.ids;
  const present = (row: number) => !table.isRemoved(row) && holds(row);
  const restored = new Map<string, number>();
  for (const { bytes: frame } of frames) {
    const first = frameSequence(frame, 0);
    const count = frameCount(frame, 0);
    for (let i = 0, at = FRAME_HEADER; i < count; i++) {
      const length = frame.readUInt32LE(at);
      const record = frame.subarray(at + RECORD_PREFIX, at + RECORD_PREFIX + length);
      at += RECORD_PREFIX + length;
      const sequence = first + i;
      if (length === 0 || (sequence <= table.rows && !table.isRemoved(sequence - 1))) continue;
      if (isDeleted(decodeAggregateId(record))) continue;
      const id = decodeId(record);
      const row = ids.find(
        ids.hashOf(id),
        present,
        (candidate) => reader.decodeRecord(candidate, decodeId) === id,
      );
      const other = row >= 0 ? row + 1 : restored.get(id);
      if (other !== undefined) {
        throw new DuplicateEventIdError(
          id,
          other,
          undefined,
          `the archived event of sequence ${sequence} has it too`,
        );
      }
      restored.set(id, sequence);
    }
  }
}
