/** How many commits the times are kept for: enough to date any lag a live consumer has. */
const KEPT = 4096;

/**
 * When recent commits happened, by their last sequence: to tell how long the oldest event a
 * subscription has not received has been waiting (lag().ms). Bounded: the oldest commits are
 * forgotten first, and an event older than every commit kept counts from the oldest time known.
 */
export class CommitTimes {
  private lasts: number[] = [];
  private times: number[] = [];

  /** The first sequence of the first commit this handle saw: events before it came before the handle. */
  private firstSeen = Infinity;

  /** `openedAt`: when the handle opened; an event committed before counts from then (it has waited at least that long). */
  constructor(private readonly openedAt: number) {}

  record(firstSequence: number, lastSequence: number, at: number): void {
    if (this.firstSeen === Infinity) this.firstSeen = firstSequence;
    const previous = this.lasts[this.lasts.length - 1];
    if (previous !== undefined && lastSequence <= previous) return;
    this.lasts.push(lastSequence);
    this.times.push(at);
    if (this.lasts.length >= 2 * KEPT) {
      this.lasts = this.lasts.slice(KEPT);
      this.times = this.times.slice(KEPT);
    }
  }

  /**
   * When the event of `sequence` committed, as far as this handle knows: exact for a commit it saw
   * and still keeps; the open time for an event from before; for one older than every commit kept,
   * the oldest time kept (it waited at least that long); `now` for one no commit has brought yet.
   */
  committedAt(sequence: number, now: number): number {
    if (sequence < this.firstSeen) return this.openedAt;
    let low = 0;
    let high = this.lasts.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.lasts[middle] as number) < sequence) low = middle + 1;
      else high = middle;
    }
    return this.times[low] ?? now;
  }
}
