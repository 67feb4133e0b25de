import type { TammaError } from '../../errors.js';

interface Waiter {
  readonly reached: () => boolean;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Promises that resolve once a condition on the store's progress holds (store.waitFor), checked
 * whenever that progress moves; each may time out.
 */
export class SequenceWaiters {
  private readonly waiting = new Set<Waiter>();

  get size(): number {
    return this.waiting.size;
  }

  /** Resolves once `reached()` holds at a check; after `timeoutMs`, rejects with `timedOut()`. */
  wait(reached: () => boolean, timeoutMs: number | undefined, timedOut: () => TammaError): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { reached, resolve, reject, timer: undefined };
      if (timeoutMs !== undefined) {
        waiter.timer = setTimeout(() => {
          this.waiting.delete(waiter);
          reject(timedOut());
        }, timeoutMs);
      }
      this.waiting.add(waiter);
    });
  }

  /** Resolves every waiter whose condition now holds. */
  check(): void {
    if (this.waiting.size === 0) return;
    for (const waiter of this.waiting) {
      if (!waiter.reached()) continue;
      this.waiting.delete(waiter);
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
  }

  /** Rejects every waiter (the store closed). */
  rejectAll(error: unknown): void {
    for (const waiter of this.waiting) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.waiting.clear();
  }
}
