import type { TagValue } from '../../../events/types.js';
import { EventTable, type TagIndex } from '../table/event-table.js';

/**
 * Cleanup's in-memory half: builds, slice by slice, a copy of the table that holds only the rows
 * that stay, at the same row numbers (row = sequence - 1 always), then swaps it in.
 *
 * Why a copy rather than deleting in place: every structure (columns, postings with their per-row
 * chains, the time index, dictionaries) is append-only and compact because of it. A copy of the
 * survivors is compact again, sheds the dictionary entries of streams and tag values that are gone
 * (memory stays flat under a rolling window), and costs time in the rows that stay, not the ones that
 * go. Column chunks wholly below the first surviving row are never allocated in the copy.
 *
 * While the copy is built, appends and queries go on against the old table. Rows appended meanwhile
 * are copied in `finish`, which runs in one synchronous step with the swap, so no append falls
 * between the two; their tags come from the table's tag journal, since postings cannot say a row's tags.
 */
export class TableCompaction {
  private readonly compacted: EventTable;
  /** Rows below this were in the table when compaction began; later ones are the tail. */
  private readonly end: number;
  private nextRow: number;
  private readonly tagKeys: [string, TagIndex][];
  private tagKey = 0;
  private tagValue = 0;
  /** Where in the current tag value's rows the copy stands (a value may hold millions). */
  private tagPosition = 0;
  /** Rows the copy left out. */
  removed = 0;

  constructor(
    private readonly table: EventTable,
    /** Whether a row present now is to go. */
    private readonly drop: (row: number) => boolean,
  ) {
    this.compacted = new EventTable(table.types, table.ids);
    this.end = table.rows;
    this.nextRow = table.firstRow;
    this.tagKeys = [...table.tags];
    table.tagJournal = [];
  }

  /** Copies about `budget` rows or tag entries; returns true once only `finish` is left. */
  step(budget: number): boolean {
    let left = budget;
    const stop = Math.min(this.end, this.nextRow + left);
    for (let row = this.nextRow; row < stop; row++) this.copyRow(row, true);
    left -= stop - this.nextRow;
    this.nextRow = stop;
    if (this.nextRow < this.end) return false;
    while (left > 0 && this.tagKey < this.tagKeys.length) {
      const [key, index] = this.tagKeys[this.tagKey] as [string, TagIndex];
      if (this.tagValue >= index.values.size) {
        this.tagKey++;
        this.tagValue = 0;
        continue;
      }
      left -= this.copyTagValue(key, index, this.tagValue, left);
    }
    return this.tagKey >= this.tagKeys.length;
  }

  /** Copies the rows appended meanwhile and swaps the copy in. Synchronous: no append falls between. */
  finish(): void {
    while (!this.step(1 << 20));
    const { table, compacted } = this;
    const journal = table.tagJournal ?? [];
    let entry = 0;
    for (let row = this.end; row < table.rows; row++) {
      if (!this.copyRow(row, false)) continue;
      while (entry < journal.length && (journal[entry] as { row: number }).row < row) entry++;
      const logged = journal[entry];
      if (logged?.row !== row) continue;
      for (const key in logged.tags) {
        const index = compacted.tagIndex(key);
        index.postings.add(index.values.intern(logged.tags[key] as TagValue), row);
      }
    }
    compacted.skipTo(table.rows);
    table.adopt(compacted);
  }

  /** Gives up: the old table stays as it was. */
  abort(): void {
    this.table.tagJournal = undefined;
  }

  /** Copies one row's columns if it stays; returns whether it did. */
  private copyRow(row: number, mayDrop: boolean): boolean {
    const { table, compacted } = this;
    if (table.isRemoved(row)) return false;
    if (mayDrop && this.drop(row)) {
      this.removed++;
      return false;
    }
    const aggregate = table.aggregateId.get(row);
    const id = compacted.aggregates.intern(table.aggregates.valueOf(aggregate));
    // The stream keeps the highest version it had, also when compaction removes its newest events.
    compacted.keepStreamVersion(id, table.streamVersions.get(aggregate));
    compacted.addRowIds(
      id,
      table.typeId.get(row),
      table.timestamp.get(row),
      table.version.get(row),
      table.recordOffset.get(row),
      table.recordLength.get(row),
      row,
    );
    return true;
  }

  /**
   * Copies up to `budget` of one tag value's rows from before the tail (those that stay), from where
   * the last call stopped; moves on to the next value when done. Returns the rows looked at.
   */
  private copyTagValue(key: string, index: TagIndex, value: number, budget: number): number {
    const rows = index.postings.rows(value);
    const start = this.tagPosition;
    let i = start;
    let target: TagIndex | undefined;
    let id = 0;
    for (; i < rows.length && i - start < budget; i++) {
      const row = rows.at(i);
      if (row >= this.end) {
        i = rows.length;
        break;
      }
      if (this.compacted.isRemoved(row)) continue;
      if (target === undefined) {
        target = this.compacted.tagIndex(key);
        id = target.values.intern(index.values.valueOf(value));
      }
      target.postings.add(id, row);
    }
    if (i >= rows.length) {
      this.tagValue++;
      this.tagPosition = 0;
    } else {
      this.tagPosition = i;
    }
    return Math.max(1, i - start);
  }
}
