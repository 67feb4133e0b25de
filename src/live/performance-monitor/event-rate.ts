import type { LatencyWindow } from '../../store/store-monitor.js';
import { WINDOW_MS } from './windowed-sketch.js';

const SLOT_MS = 5_000;
/** An hour of 5 s slots, and the one being filled. */
const SLOTS = 3_600_000 / SLOT_MS + 1;

/** Events counted per 5 s slot over the last hour (a ring of counts), and in total: append throughput. */
export class EventRate {
  private readonly counts = new Float64Array(SLOTS);
  private readonly slotOf = new Float64Array(SLOTS).fill(-1);
  total = 0;

  constructor(private readonly startedAt: number) {}

  add(events: number, now: number): void {
    const slot = Math.floor(now / SLOT_MS);
    const at = slot % SLOTS;
    if (this.slotOf[at] !== slot) {
      this.slotOf[at] = slot;
      this.counts[at] = 0;
    }
    this.counts[at] = (this.counts[at] as number) + events;
    this.total += events;
  }

  /** Events in the window ending now, and the seconds the window spans (from the start, if later). */
  over(window: LatencyWindow, now: number): { events: number; seconds: number } {
    const elapsed = Math.max(now - this.startedAt, 1);
    if (window === 'all') return { events: this.total, seconds: elapsed / 1000 };
    const span = WINDOW_MS[window];
    const last = Math.floor(now / SLOT_MS);
    const first = Math.floor((now - span) / SLOT_MS) + 1;
    let events = 0;
    for (let at = 0; at < SLOTS; at++) {
      const slot = this.slotOf[at] as number;
      if (slot >= first && slot <= last) events += this.counts[at] as number;
    }
    return { events, seconds: Math.min(span, elapsed) / 1000 };
  }
}
