import type { StoredEvent } from '../events/types.js';
import type { StorePlugin } from './hooks.js';

/**
 * openEventStore's `hooks`: code that runs with each batch an append writes.
 *
 * - `beforeCommit(events)` sees the batch as it will be stored (sequences and versions assigned,
 *   every check passed) before anything is written, and vetoes it by throwing (or by returning a
 *   promise that rejects): nothing is written, no sequence is used, and the append rejects with
 *   that error as it was thrown. A plain return keeps appends fully concurrent; a returned promise
 *   is awaited, and while it is pending other appends wait their turn (their sequences depend on
 *   whether this batch is written). It must not write to the same store (COMMIT_HOOK_REENTRY).
 * - `afterCommit(events)` runs once the batch is acknowledged under the fsync policy (synced to
 *   disk under `'always'`), after the plugins, before the append resolves; a returned promise is
 *   awaited. The events are stored by then: an error it throws is counted in
 *   `stats().plugins` (as `hooks.afterCommit`) and the append still resolves with its events.
 *
 * Neither is called for a batch that writes nothing (an empty one, or only retries of stored ids).
 *
 * @example
 * const store = await openEventStore({
 *   hooks: {
 *     beforeCommit(events) {
 *       if (events.some((e) => e.type === 'Forbidden')) throw new Error('not here');
 *     },
 *   },
 * });
 */
export interface CommitHooks {
  beforeCommit?(events: readonly StoredEvent[]): void | PromiseLike<void>;
  afterCommit?(events: readonly StoredEvent[]): void | PromiseLike<void>;
}

/** The name `hooks.afterCommit` errors are counted under in `stats().plugins`. */
export const AFTER_COMMIT_PLUGIN = 'hooks.afterCommit';

/**
 * `hooks.afterCommit` as a plugin: the plugin host already calls afterCommit at the right moment,
 * isolates errors and counts them; the store's hook runs after the user's plugins, so a cache
 * plugin has invalidated what the batch changed before the hook reads the store.
 */
export function afterCommitPlugin(hooks: CommitHooks | undefined): StorePlugin | undefined {
  const afterCommit = hooks?.afterCommit;
  if (afterCommit === undefined) return undefined;
  return {
    name: AFTER_COMMIT_PLUGIN,
    // The host waits for a promise this returns (PluginHost.afterCommit).
    afterCommit: (commit) => afterCommit.call(hooks, commit.events) as void,
  };
}
