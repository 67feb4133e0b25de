import { ConcurrencyError } from '../../errors.js';
import type { StoredEvent } from '../../events/types.js';

/**
 * After an async beforeCommit approved a batch, the step runs again: it must assign what the hook
 * saw. No other append can run meanwhile (commit-turn.ts) and a restore waits for the turn, so this
 * holds; if something still moved a stream under the batch, the write is refused as a concurrency
 * conflict (nothing written) rather than storing events the hook did not approve.
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
