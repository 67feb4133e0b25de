import type { TagValue } from '../../../events/types.js';
import { PostingIndex, type PostingSnapshot } from './posting-index.js';
import type { ArrayCursor, RawArray } from './snapshot.js';
import type { EventTable, TagIndex } from './event-table.js';
import { IdIndex, type IdIndexSnapshot } from './id-index.js';
import { COLUMN_NAMES, type ColumnName } from './table-columns.js';
import { TagValues } from './tag-values.js';
import type { TimeSnapshot } from './time-index.js';

// The table as the checkpoint holds it (checkpoint.ts): its arrays pushed as they are, with the
// metadata to put them back; and which of those arrays stay as they are while appends go on.

export interface TableSnapshot {
  rows: number;
  /** Absent in checkpoints written before cleanup existed: then every row is present. */
  present?: number;
  firstRow?: number;
  /** null: an id cleanup released. */
  aggregates: readonly (string | null)[];
  types: readonly (string | null)[];
  columns: Record<ColumnName, number[]>;
  /** Absent in checkpoints written before it existed: then derived from each stream's last event. */
  streamVersions?: number[];
  byAggregate: PostingSnapshot;
  byType: PostingSnapshot;
  byAggregateType: PostingSnapshot;
  compositeLookups: number;
  compositeHits: number;
  byTime: TimeSnapshot;
  tags: { key: string; values: (TagValue | null)[]; postings: PostingSnapshot }[];
  /** Absent in checkpoints written before the id index: such a checkpoint is not used. */
  ids?: IdIndexSnapshot;
}

/** Pushes every column and index array of `table` onto `out` (no copy); returns the metadata `restoreTable` needs. */
export function snapshotTable(table: EventTable, out: RawArray[]): TableSnapshot {
  const columns = {} as TableSnapshot['columns'];
  for (const name of COLUMN_NAMES) columns[name] = table[name].snapshot(out);
  out.push(Float64Array.from(table.compositeKeys.keys()), Uint32Array.from(table.compositeKeys.values()));
  return {
    rows: table.rows,
    present: table.present,
    firstRow: table.firstRow,
    aggregates: table.aggregates.toJSON(),
    types: table.types.toJSON(),
    columns,
    streamVersions: table.streamVersions.snapshot(out),
    byAggregate: table.byAggregate.snapshot(out),
    byType: table.byType.snapshot(out),
    byAggregateType: table.byAggregateType.snapshot(out),
    compositeLookups: table.compositeLookups,
    compositeHits: table.compositeHits,
    byTime: table.byTime.snapshot(out),
    tags: [...table.tags].map(([key, index]) => ({
      key,
      values: index.values.toJSON(),
      postings: index.postings.snapshot(out),
    })),
    ids: table.ids.snapshot(out),
  };
}

/** Fills `table`, new and empty, from a snapshot: `meta` and the arrays in the order they were pushed. */
export function restoreTable(table: EventTable, meta: TableSnapshot, arrays: ArrayCursor): void {
  table.rows = meta.rows;
  table.present = meta.present ?? meta.rows;
  table.firstRow = meta.firstRow ?? 0;
  table.aggregates.load(meta.aggregates);
  table.types.load(meta.types);
  for (const name of COLUMN_NAMES) table[name].restore(meta.columns[name], arrays);
  const keys = arrays.next(Float64Array);
  const values = arrays.next(Uint32Array);
  keys.forEach((key, i) => table.compositeKeys.set(key, values[i] as number));
  // Ids below the highest that no composite holds were emptied by cleanup: free for reuse.
  const held = new Set(values);
  const next = values.reduce((top, id) => Math.max(top, id + 1), 0);
  for (let id = 0; id < next; id++) if (!held.has(id)) table.compositeFree.push(id);
  if (meta.streamVersions !== undefined) table.streamVersions.restore(meta.streamVersions, arrays);
  table.byAggregate.restore(meta.byAggregate, arrays);
  if (meta.streamVersions === undefined) {
    // A checkpoint from before streamVersions: each stream's last event's version.
    for (let id = 0; id < table.aggregates.size; id++) {
      const count = table.byAggregate.count(id);
      if (count > 0) table.streamVersions.set(id, table.version.get(table.byAggregate.last(id)));
    }
  }
  table.byType.restore(meta.byType, arrays);
  table.byAggregateType.restore(meta.byAggregateType, arrays);
  table.compositeLookups = meta.compositeLookups;
  table.compositeHits = meta.compositeHits;
  table.byTime.restore(meta.byTime, arrays);
  for (const tag of meta.tags) {
    const index: TagIndex = { values: TagValues.from(tag.values), postings: new PostingIndex() };
    index.postings.restore(tag.postings, arrays);
    table.tags.set(tag.key, index);
  }
  // A checkpoint from before the id index cannot say which rows hold which ids: it is not used,
  // and the store is rebuilt from the log (checkpoint.ts readCheckpoint).
  if (meta.ids === undefined) throw new Error('the checkpoint has no id index');
  table.ids = IdIndex.restore(meta.ids, arrays);
}

/**
 * The snapshot's arrays that stay as they are while appends go on: the chunks of per-row columns
 * and links wholly below the row count, the full blocks of row lists, the time index's runs.
 * Everything else (per-key counts, the chunk or block rows are appended to, dictionaries) changes
 * in place, so a checkpoint written in the background copies it.
 */
export function appendStableArrays(table: EventTable): Set<RawArray> {
  const stable = new Set<RawArray>();
  for (const name of COLUMN_NAMES) table[name].fullChunksBelow(table.rows, stable);
  for (const postings of [table.byAggregate, table.byType, table.byAggregateType])
    postings.appendStableArrays(table.rows, stable);
  for (const index of table.tags.values()) index.postings.appendStableArrays(table.rows, stable);
  table.byTime.appendStableArrays(stable);
  table.ids.appendStableArrays(table.rows, stable);
  table.fieldColumns.appendStableArrays(stable);
  return stable;
}
