import { AsyncLocalStorage } from 'node:async_hooks';
import { TammaError } from '../errors.js';
import type { StoredEvent } from '../events/types.js';
import type { BeforeCommit } from '../storage/storage-engine.js';

/**
 * Where a beforeCommit hook is running: in its synchronous call and in everything its promise
 * chain goes on to do, so a write it starts can be recognised however deep it is.
 */
const runningHook = new AsyncLocalStorage<BeforeCommitHook>();

/**
 * A store's `hooks.beforeCommit`, as the engine calls it (AppendBatch.beforeCommit). A write the
 * hook makes to the same store would wait for the batch that waits for the hook (the embedded
 * engine's commit turn, a database's transaction lock): the facade refuses it instead, with
 * COMMIT_HOOK_REENTRY, and the hook's error vetoes its own batch.
 */
export class BeforeCommitHook {
  constructor(private readonly hook: (events: readonly StoredEvent[]) => void | PromiseLike<void>) {}

  /**
   * The hook, marked as running, over a frozen copy of the batch: it cannot add to or reorder the
   * array the append returns. (The events were encoded already: changing them changes nothing stored.)
   */
  readonly call: BeforeCommit = (events) =>
    runningHook.run(this, () => this.hook(Object.freeze(events.slice())));

  /** Refuses a write that this hook makes (directly or down its promise chain). */
  refuseReentry(operation: string): void {
    if (runningHook.getStore() === this) {
      throw new TammaError(
        'COMMIT_HOOK_REENTRY',
        `${operation} was called from inside this store's beforeCommit hook, where it would wait for the ` +
          'batch that waits for the hook; write from afterCommit, or return the work to the caller',
      );
    }
  }
}
