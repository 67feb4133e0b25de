import { ConcurrencyError } from '../../errors.js';
import type { StoredEvent } from '../../events/types.js';
import { batchKeys, writeBatch, type EncodedBatch } from './batch-write.js';
import type { EngineParts } from './engine-parts.js';
import type { IndexManager } from './indexes/index-manager.js';

/** A batch encoded before its async beforeCommit, against the parts it was checked on. */
export interface ApprovedBatch {
  readonly parts: EngineParts;
  /** The frame, copied out of the shared encoder. */
  readonly frame: Buffer;
  readonly batch: EncodedBatch;
}

/**
 * Writes a batch its async beforeCommit approved, as it was encoded, when everything it was checked
 * against still holds; false (nothing written) otherwise, and the engine runs the step again. No
 * append ran meanwhile (commit-turn.ts), so the common case writes at once; what else may have
 * moved is checked again: the parts (a restore swaps them), the next sequence, a stream deleted,
 * each stream's version, and the user indexes' keys (one may have become ready; unique keys are
 * checked again, and a violation throws with nothing written).
 */
export function writeApproved(now: EngineParts, indexes: IndexManager, approved: ApprovedBatch): boolean {
  const { parts, frame, batch } = approved;
  const { table, tombstones } = now;
  if (now !== parts || table.rows + 1 !== batch.firstSequence) return false;
  const streams = new Set<string>();
  for (let i = 0; i < batch.events.length; i++) {
    const { aggregateId } = batch.events[i] as EncodedBatch['events'][number];
    if (streams.has(aggregateId)) continue;
    streams.add(aggregateId);
    if (tombstones.active && tombstones.isAggregateDeleted(aggregateId)) return false;
    if (table.streamVersion(aggregateId) !== (batch.versions[i] as number) - 1) return false;
  }
  writeBatch(now, indexes, frame, batch, batchKeys(indexes, batch));
  return true;
}

/**
 * When the step had to run again after an approval, it must assign what the hook saw. No other
 * append can run meanwhile and a restore waits for the turn, so this holds; if something still
 * moved a stream under the batch, the write is refused as a concurrency conflict (nothing written)
 * rather than storing events the hook did not approve.
 */
export function requireApproved(
  approved: readonly StoredEvent[],
  assigned: readonly StoredEvent[],
): undefined {
  const differs = (seen: StoredEvent, now: StoredEvent | undefined) =>
    now === undefined || seen.sequence !== now.sequence || seen.version !== now.version || seen.id !== now.id;
  const at = approved.findIndex((seen, i) => differs(seen, assigned[i]));
  if (at === -1 && approved.length === assigned.length) return undefined;
  const seen = (approved[at] ?? approved[0]) as StoredEvent;
  const now = assigned.find((event) => event.aggregateId === seen.aggregateId);
  throw new ConcurrencyError(seen.aggregateId, seen.version - 1, (now?.version ?? seen.version) - 1);
}
