import { Cron } from 'croner';

/** Whether croner accepts the pattern. */
export function isCronExpression(pattern: string): boolean {
  try {
    new Cron(pattern, { paused: true }).stop();
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs cleanup on a cron schedule (croner). Real time, by design: the schedule is wall-clock work
 * planning, while what expires is decided by the store's clock. Unref'd so an idle store never
 * keeps a process alive; `protect` skips a tick while the previous run is still going.
 */
export class CleanupSchedule {
  private job: Cron | undefined;

  constructor(private readonly run: () => Promise<unknown>) {}

  /** Replaces the schedule: a cron pattern, or false for none. */
  set(pattern: string | false): void {
    this.job?.stop();
    this.job = undefined;
    if (pattern === false) return;
    this.job = new Cron(pattern, { protect: true, unref: true }, async () => {
      // A failed run is reported in stats (lastError); the schedule goes on.
      await this.run().catch(() => undefined);
    });
  }

  get nextRun(): Date | null {
    return this.job?.nextRun() ?? null;
  }

  stop(): void {
    this.set(false);
  }
}
