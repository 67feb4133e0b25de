/**
 * The embedded engine's commit order while a beforeCommit hook's promise is pending. An append's
 * checks, sequence assignment and write are one synchronous step (append-batch.ts), so with no
 * hook, or a hook that returns plainly, batches never wait for one another and the turn stays
 * free. A hook that returns a promise stretches that step over many turns of the event loop: the
 * sequences it saw must still be the ones written, and must go to the next batch if it vetoes. So
 * while it is pending, every other append queues here, in arrival order, and runs its own step
 * (hook included) when the one before it has settled.
 */
export class CommitTurn {
  /** Settles when the last queued step has; undefined when nothing holds the turn. */
  private tail: Promise<void> | undefined;

  /** Whether an append may run its step now, in the same synchronous call. */
  get free(): boolean {
    return this.tail === undefined;
  }

  /** A step that began while the turn was free and turned out to need more time: later steps wait for it. */
  hold<T>(step: Promise<T>): Promise<T> {
    this.track(step);
    return step;
  }

  /** Runs `step` once every step queued or held before it has settled (however it ended). */
  enqueue<T>(step: () => T | Promise<T>): Promise<T> {
    const run = (this.tail ?? Promise.resolve()).then(step);
    this.track(run);
    return run;
  }

  /** Resolves once no step holds the turn: for a restore, which swaps what the steps write to, and close. */
  async drained(): Promise<void> {
    while (this.tail !== undefined) await this.tail;
  }

  private track(step: Promise<unknown>): void {
    const settled = step.then(
      () => undefined,
      () => undefined,
    );
    this.tail = settled;
    // Registered before any later step chains on `settled`, so it runs first: the turn is freed only
    // if nothing queued behind it meanwhile.
    void settled.then(() => {
      if (this.tail === settled) this.tail = undefined;
    });
  }
}
