import type { IndexUsageDay } from '../../store/store-monitor.js';

const DAY_MS = 86_400_000;

/** Per index: queries that used it since the store opened, and when one last did. */
export type IndexTotals = ReadonlyMap<string, { count: number; lastUsed: number | null }>;

interface DayRow {
  usageCount: number;
  lastUsed: number | null;
  sizeBytes: number;
}

const isoDate = (start: number) => new Date(start).toISOString().slice(0, 10);
const byName = <T>(a: [string, T], b: [string, T]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/**
 * Index use per index and UTC day (the seed's `index_usage_stats`), for the last `keepDays` days.
 * Nothing is counted per query here: the monitor keeps running totals per access path, and a day's
 * use is the difference of the totals at its end and at its start, taken when the first query of
 * the next day (or a report) finds the day over.
 */
export class IndexUsageDays {
  private readonly closed: { start: number; rows: Map<string, DayRow> }[] = [];
  private dayStart: number;
  /** When the current day ends: the monitor compares a query's time with it, and rolls past it. */
  dayEnd: number;
  private startTotals = new Map<string, number>();
  private sizes: ReadonlyMap<string, number> = new Map();

  constructor(
    private readonly keepDays: number,
    now: number,
  ) {
    this.dayStart = Math.floor(now / DAY_MS) * DAY_MS;
    this.dayEnd = this.dayStart + DAY_MS;
  }

  /** Closes the current day with the totals as they are now and starts the day of `now`. */
  roll(now: number, totals: IndexTotals): void {
    if (now < this.dayEnd) return;
    this.closed.push({ start: this.dayStart, rows: this.today(totals) });
    if (this.closed.length > this.keepDays - 1)
      this.closed.splice(0, this.closed.length - (this.keepDays - 1));
    this.dayStart = Math.floor(now / DAY_MS) * DAY_MS;
    this.dayEnd = this.dayStart + DAY_MS;
    this.startTotals = new Map([...totals].map(([name, { count }]) => [name, count]));
  }

  /** The rows, oldest day first; today's with every index in `sizes` (0 uses if unused) and their sizes now. */
  rows(now: number, totals: IndexTotals, sizes: ReadonlyMap<string, number>): IndexUsageDay[] {
    this.roll(now, totals);
    this.sizes = sizes;
    const days = [...this.closed, { start: this.dayStart, rows: this.today(totals) }];
    return days.flatMap(({ start, rows }) =>
      [...rows].sort(byName).map(([indexName, row]) => ({
        indexName,
        tableName: 'events' as const,
        usageCount: row.usageCount,
        lastUsed: row.lastUsed === null ? null : new Date(row.lastUsed).toISOString(),
        sizeBytes: row.sizeBytes,
        statsDate: isoDate(start),
      })),
    );
  }

  private today(totals: IndexTotals): Map<string, DayRow> {
    const rows = new Map<string, DayRow>();
    for (const [name, bytes] of this.sizes)
      rows.set(name, { usageCount: 0, lastUsed: null, sizeBytes: bytes });
    for (const [name, { count, lastUsed }] of totals) {
      const usageCount = count - (this.startTotals.get(name) ?? 0);
      if (usageCount === 0 && !rows.has(name)) continue;
      rows.set(name, {
        usageCount,
        lastUsed: usageCount > 0 && lastUsed !== null && lastUsed >= this.dayStart ? lastUsed : null,
        sizeBytes: this.sizes.get(name) ?? 0,
      });
    }
    return rows;
  }
}
