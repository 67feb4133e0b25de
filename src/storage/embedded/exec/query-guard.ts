import { QueryCancelledError, QueryTimeoutError } from '../../../errors.js';

/** Rows between two checks for cancellation: rare enough to cost nothing, often enough to stop within ms. */
export const CHECK_EVERY = 1024;

/**
 * Watches one running query for cancellation (an AbortSignal, or cancelQuery) and for its timeout.
 * Execution loops call `check()` every CHECK_EVERY rows, which throws once the query must stop.
 */
export class QueryGuard {
  private readonly deadline: number;

  constructor(
    readonly queryId: string,
    private readonly signal: AbortSignal | undefined,
    private readonly timeoutMs: number | undefined,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.deadline = timeoutMs === undefined ? Infinity : now() + timeoutMs;
  }

  check(): void {
    if (this.signal?.aborted) throw new QueryCancelledError(this.queryId);
    if (this.deadline !== Infinity && this.now() >= this.deadline) {
      throw new QueryTimeoutError(this.queryId, this.timeoutMs as number);
    }
  }

  /**
   * For a query waiting on other threads, where no loop is there to call check(): `stopped` rejects
   * with check()'s error as soon as the signal aborts or the deadline passes. Call `dispose` when the
   * wait is over.
   */
  watch(): { stopped: Promise<never>; dispose: () => void } {
    let timer: NodeJS.Timeout | undefined;
    let fire = () => {};
    const stopped = new Promise<never>((_, reject) => {
      fire = () => {
        try {
          this.check();
          // Timers may fire a little before the deadline by this clock: look again shortly.
          if (this.deadline !== Infinity) timer = setTimeout(fire, Math.max(1, this.deadline - this.now()));
        } catch (error) {
          reject(error);
        }
      };
    });
    // Nobody may be awaiting at the moment it rejects; the waiter that races it sees the error.
    stopped.catch(() => undefined);
    this.signal?.addEventListener('abort', fire, { once: true });
    if (this.deadline !== Infinity) timer = setTimeout(fire, Math.max(0, this.deadline - this.now()));
    return {
      stopped,
      dispose: () => {
        this.signal?.removeEventListener('abort', fire);
        clearTimeout(timer);
      },
    };
  }
}
