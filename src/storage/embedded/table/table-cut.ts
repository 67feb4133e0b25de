import type { PostingIndex } from './posting-index.js';
import { TimeIndex } from './time-index.js';
import { CHUNK_ROWS, CHUNK_SHIFT } from './chunked-column.js';
import type { EmptiedIds, EventTable } from './event-table.js';
import { COLUMN_NAMES } from './table-columns.js';

const CHUNK_MASK = CHUNK_ROWS - 1;

/**
 * Cleanup's cut: removes every row below `floor` in place, where what goes is the oldest events
 * (one maxAge, time in order), in steps that appends and queries run between. It costs time in the
 * rows removed and the indexes' keys, never in the rows that stay.
 *
 *  1. Count the rows removed, and how many per hour bucket (reads only: nothing changes).
 *  2. The cut itself, in one step: `firstRow` moves to the floor, so every reader leaves the rows
 *     below out from here on (EventTable.isRemoved), and the time index drops them.
 *  3. Cut each posting list at its head, a range of keys per step. A list not cut yet still holds
 *     rows below the floor; readers leave them out by step 2, and appends to it are safe (the cut
 *     keeps rows at or above the floor, whenever they came).
 *  4. Let go of the column chunks below the floor, in one step.
 *
 * The ids of streams and tag values left with no event are collected in `emptied`, for the caller to
 * release (releaseEmptied below, through EventTable.releaseEmptied), and re-count what holds aggregate ids.
 */
export class TableCut {
  /** Rows the cut removes (known once step 1 is done). */
  removed = 0;
  readonly emptied: EmptiedIds = { aggregates: [], tagValues: [] };
  private readonly hours = new Map<number, number>();
  private readonly from: number;
  private readonly end: number;
  private counted: number;
  private lists: { postings: PostingIndex; emptied: (ids: number[]) => void }[] | undefined;
  private key = 0;
  private done = false;

  constructor(
    private readonly table: EventTable,
    floor: number,
  ) {
    this.from = table.firstRow;
    this.end = Math.min(floor, table.rows);
    this.counted = this.from;
    this.done = this.end <= this.from;
  }

  /** Does about `budget` rows' or keys' worth of the cut; true once it is complete. */
  step(budget: number): boolean {
    if (this.done) return true;
    let left = budget;
    while (this.counted < this.end) {
      if (left <= 0) return false;
      const to = Math.min(this.end, this.counted + left);
      this.count(this.counted, to);
      left -= to - this.counted;
      this.counted = to;
    }
    this.lists ??= this.cut();
    while (this.lists.length > 0) {
      if (left <= 0) return false;
      const { postings, emptied } = this.lists[0] as (typeof this.lists)[number];
      const to = Math.min(postings.keySpace, this.key + left);
      const ids: number[] = [];
      postings.dropKeysBelow(this.end, this.key, to, ids);
      if (ids.length > 0) emptied(ids);
      left -= to - this.key;
      this.key = to;
      if (this.key >= postings.keySpace) {
        postings.forgetLinksBelow(this.end);
        this.lists.shift();
        this.key = 0;
      }
    }
    this.freeBelow();
    this.done = true;
    return true;
  }

  /** Step 2: readers leave the rows out from here on. Returns the posting lists to cut (step 3). */
  private cut(): NonNullable<TableCut['lists']> {
    const { table, end } = this;
    table.present -= this.removed;
    table.firstRow = table.present === 0 ? table.rows : end;
    table.generation++;
    table.byTime.dropBelow(end, this.hours);
    const lists: NonNullable<TableCut['lists']> = [
      { postings: table.byAggregate, emptied: (ids) => this.emptied.aggregates.push(...ids) },
      { postings: table.byType, emptied: () => undefined },
      { postings: table.byAggregateType, emptied: (ids) => table.forgetComposites(ids) },
    ];
    for (const index of table.tags.values()) {
      lists.push({ postings: index.postings, emptied: (ids) => this.emptied.tagValues.push({ index, ids }) });
    }
    return lists;
  }

  /** Step 4: marks the rows of the chunk the floor falls in removed, and frees the chunks below. */
  private freeBelow(): void {
    const { table, from, end } = this;
    for (let row = Math.max(from, (end >>> CHUNK_SHIFT) << CHUNK_SHIFT); row < end; row++)
      table.recordLength.set(row, 0);
    for (const name of COLUMN_NAMES) table[name].dropBelow(end);
    table.fieldColumns.dropBelow(end);
    table.ids.dropBelow(end);
    table.pruneIds();
  }

  /** Step 1 for rows [from, to): those holding an event, per hour bucket, read chunk by chunk. */
  private count(from: number, to: number): void {
    const { table, hours } = this;
    let hour = NaN;
    let run = 0;
    for (let row = from; row < to;) {
      const chunk = row >>> CHUNK_SHIFT;
      const stop = Math.min(to, (chunk + 1) << CHUNK_SHIFT);
      const lengths = table.recordLength.chunk(chunk);
      const times = table.timestamp.chunk(chunk);
      if (lengths !== undefined && times !== undefined) {
        for (let slot = row & CHUNK_MASK, last = slot + (stop - row); slot < last; slot++) {
          if (lengths[slot] === 0) continue;
          this.removed++;
          // Rows come mostly in time order: count runs of one hour, one Map update per run.
          const at = TimeIndex.hourOf(times[slot] as number);
          if (at !== hour) {
            if (run > 0) hours.set(hour, (hours.get(hour) ?? 0) + run);
            hour = at;
            run = 0;
          }
          run++;
        }
      }
      row = stop;
    }
    if (run > 0) hours.set(hour, (hours.get(hour) ?? 0) + run);
  }
}

/**
 * Releases up to `budget` of the ids a cut emptied (all by default) for reuse, skipping any that
 * got an event again meanwhile and the streams `keep` says to hold (deleted ones: their ids must
 * not pass to a new stream). Returns true once none is left.
 */
export function releaseEmptied(
  table: EventTable,
  emptied: EmptiedIds,
  keep: (aggregate: number) => boolean,
  budget = Infinity,
): boolean {
  let left = budget;
  for (; left > 0 && emptied.aggregates.length > 0; left--) {
    const id = emptied.aggregates.pop() as number;
    if (table.byAggregate.count(id) === 0 && !keep(id)) {
      table.aggregates.release(id);
      table.streamVersions.set(id, 0);
    }
  }
  while (left > 0 && emptied.tagValues.length > 0) {
    const { index, ids } = emptied.tagValues[emptied.tagValues.length - 1] as EmptiedIds['tagValues'][number];
    for (; left > 0 && ids.length > 0; left--) {
      const id = ids.pop() as number;
      if (index.postings.count(id) === 0) index.values.release(id);
    }
    if (ids.length === 0) emptied.tagValues.pop();
  }
  return emptied.aggregates.length === 0 && emptied.tagValues.length === 0;
}
