import type { StoredEvent } from '../../events/types.js';
import type { CommitNotice } from '../../store/hooks.js';

/** The tail's bounds: shared by every subscription, whatever their number. */
export const RECENT_EVENTS = 10_000;
export const RECENT_BYTES = 8 * 1024 * 1024;

/**
 * The last events committed, in one contiguous run of sequences, shared by every subscription: one
 * that fell behind (its buffer overflowed) catches up from here without reading and decoding the
 * log, and without a copy of its own, so a hundred slow consumers do not each decode every event
 * again. Bounded by count and estimated bytes; emptied by any change that may hide an event
 * (deletion, retention, cleanup, restore, refresh), after which reads go to the log.
 */
export class RecentEvents {
  private events: StoredEvent[] = [];
  private sizes: number[] = [];
  private at = 0;
  private bytes = 0;

  /** The first sequence held, or undefined when empty. */
  private get first(): number | undefined {
    return this.events[this.at]?.sequence;
  }

  private get last(): number | undefined {
    return this.events[this.events.length - 1]?.sequence;
  }

  add(commit: CommitNotice, sizeAt: (index: number) => number): void {
    const last = this.last;
    // Only a contiguous run answers "everything from sequence s": a gap starts it afresh.
    if (last !== undefined && commit.firstSequence !== last + 1) this.clear();
    commit.events.forEach((event, i) => {
      this.events.push(event);
      const size = sizeAt(i);
      this.sizes.push(size);
      this.bytes += size;
    });
    while (this.events.length - this.at > RECENT_EVENTS || this.bytes > RECENT_BYTES) {
      this.bytes -= this.sizes[this.at] as number;
      this.at++;
    }
    if (this.at >= 1024 && this.at * 2 >= this.events.length) {
      this.events = this.events.slice(this.at);
      this.sizes = this.sizes.slice(this.at);
      this.at = 0;
    }
  }

  /** Up to `limit` events from `fromSequence` on, when the run holds that sequence; else undefined (ask the log). */
  read(fromSequence: number, limit: number): StoredEvent[] | undefined {
    const first = this.first;
    const last = this.last;
    if (first === undefined || last === undefined || fromSequence < first || fromSequence > last)
      return undefined;
    const start = this.at + (fromSequence - first);
    return this.events.slice(start, Math.min(start + limit, this.events.length));
  }

  clear(): void {
    this.events = [];
    this.sizes = [];
    this.at = 0;
    this.bytes = 0;
  }
}
