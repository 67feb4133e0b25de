import { QueryCancelledError, QueryTimeoutError } from '../errors.js';

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
}
