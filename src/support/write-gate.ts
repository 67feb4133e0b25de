/**
 * Holds writes back while something rebuilds what they would change (a restore into the middle of
 * the store): the store's writes and the index manager's share one gate. Reads never wait.
 */
export class WriteGate {
  private held: Promise<void> | undefined;

  /** Writes wait from now until `done` settles (and any hold added meanwhile). */
  holdUntil(done: Promise<unknown>): void {
    const held = done.then(
      () => undefined,
      () => undefined,
    );
    this.held = held;
    void held.then(() => {
      if (this.held === held) this.held = undefined;
    });
  }

  get isHeld(): boolean {
    return this.held !== undefined;
  }

  /**
   * Undefined when nothing is held, so a write goes on in the same step (no turn of the event loop:
   * concurrent appends keep their order); else a promise that resolves once nothing is.
   */
  passage(): Promise<void> | undefined {
    if (this.held === undefined) return undefined;
    return (async () => {
      while (this.held !== undefined) await this.held;
    })();
  }
}
