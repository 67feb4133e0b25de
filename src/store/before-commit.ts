import { AsyncLocalStorage } from 'node:async_hooks';
import { TammaError } from '../errors.js';
import type { StoredEvent } from '../events/types.js';
import type { BeforeCommit } from '../storage/storage-engine.js';
import { isPromiseLike } from '../support/promise-like.js';

/**
 * Where a beforeCommit hook is running: in its synchronous call and in everything its promise
 * chain goes on to do, so a write it starts can be recognised however deep it is.
 */
const runningHook = new AsyncLocalStorage<{ readonly hook: BeforeCommitHook; running: boolean }>();

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
  readonly call: BeforeCommit = (events) => {
    // Marked for as long as the hook runs, not for good: work it leaves behind (a timer, a promise
    // nobody awaits) inherits the context, and may write once the hook has answered.
    const mark = { hook: this, running: true };
    let answer: void | PromiseLike<void>;
    try {
      answer = runningHook.run(mark, () => this.hook(Object.freeze(events.slice())));
    } catch (error) {
      mark.running = false;
      throw error;
    }
    if (!isPromiseLike(answer)) {
      mark.running = false;
      return answer;
    }
    return Promise.resolve(answer).finally(() => (mark.running = false));
  };

  /** Refuses a write that this hook makes (directly or down its promise chain) while it runs. */
  refuseReentry(operation: string): void {
    const mark = runningHook.getStore();
    if (mark !== undefined && mark.hook === this && mark.running) {
      throw new TammaError(
        'COMMIT_HOOK_REENTRY',
        `${operation} was called from inside this store's beforeCommit hook, where it would wait for the ` +
          'batch that waits for the hook; write from afterCommit, or return the work to the caller',
      );
    }
  }
}
