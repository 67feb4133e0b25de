import type { IndexUsageDay } from '../../store/store-monitor.js';

const DAY_MS = 86_400_000;

interface DayUse {
  usageCount: number;
  lastUsed: number | null;
  /** The index's size when a report last ran that day; null until one did. */
  sizeBytes: number | null;
}

/**
 * Index use per index and UTC day (the seed's `index_usage_stats`), for the last `keepDays` days:
 * one map lookup and one increment per index a query used.
 */
export class IndexUsageDays {
  /** Day start (ms) → index → use, oldest day first. */
  private readonly days = new Map<number, Map<string, DayUse>>();
  private today: Map<string, DayUse> | undefined;
  private todayStart = -Infinity;

  constructor(private readonly keepDays: number) {}

  record(index: string, now: number): void {
    const today = now >= this.todayStart && now < this.todayStart + DAY_MS ? this.today : this.dayOf(now);
    const use = (today as Map<string, DayUse>).get(index);
    if (use === undefined)
      (today as Map<string, DayUse>).set(index, { usageCount: 1, lastUsed: now, sizeBytes: null });
    else {
      use.usageCount++;
      use.lastUsed = now;
    }
  }

  /**
   * The rows, oldest day first, every index listed for today (with 0 uses if unused), today's sizes
   * set from `sizes`; a past day keeps the size last seen on it.
   */
  rows(sizes: ReadonlyMap<string, number>, now: number): IndexUsageDay[] {
    const today = this.dayOf(now);
    for (const [name, bytes] of sizes) {
      const use = today.get(name);
      if (use === undefined) today.set(name, { usageCount: 0, lastUsed: null, sizeBytes: bytes });
      else use.sizeBytes = bytes;
    }
    const rows: IndexUsageDay[] = [];
    for (const [start, uses] of this.days) {
      const statsDate = new Date(start).toISOString().slice(0, 10);
      for (const [indexName, use] of [...uses].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        rows.push({
          indexName,
          tableName: 'events',
          usageCount: use.usageCount,
          lastUsed: use.lastUsed === null ? null : new Date(use.lastUsed).toISOString(),
          sizeBytes: use.sizeBytes ?? sizes.get(indexName) ?? 0,
          statsDate,
        });
      }
    }
    return rows;
  }

  /** The day's map for a time, made (and the oldest days dropped) when it is new. */
  private dayOf(now: number): Map<string, DayUse> {
    const start = Math.floor(now / DAY_MS) * DAY_MS;
    let uses = this.days.get(start);
    if (uses === undefined) {
      uses = new Map();
      this.days.set(start, uses);
      // Map keeps insertion order; a clock set back may insert an older day last, so sort.
      const sorted = [...this.days].sort(([a], [b]) => a - b);
      this.days.clear();
      for (const [day, dayUses] of sorted.slice(-this.keepDays)) this.days.set(day, dayUses);
      uses = this.days.get(start) ?? uses;
    }
    this.today = uses;
    this.todayStart = start;
    return uses;
  }
}
