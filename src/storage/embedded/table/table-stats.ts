import type { IndexStats } from '../../store-stats.js';
import type { PostingIndex } from './posting-index.js';
import type { EventTable } from './event-table.js';

// What the table's columns, dictionaries and built-in indexes hold and cost, for store.stats() and
// listIndexes (the table's getters of the same names call these).

export function columnBytesOf(table: EventTable): number {
  return (
    table.timestamp.bytes +
    table.typeId.bytes +
    table.aggregateId.bytes +
    table.version.bytes +
    table.recordOffset.bytes +
    table.recordLength.bytes
  );
}

export function dictionaryBytesOf(table: EventTable): number {
  let total = table.aggregates.bytes + table.types.bytes + table.compositeKeys.size * 40;
  for (const index of table.tags.values()) total += index.values.bytes;
  return total;
}

export function indexBytesOf(table: EventTable): number {
  let total = table.byAggregate.bytes + table.byType.bytes + table.byAggregateType.bytes + table.byTime.bytes;
  for (const index of table.tags.values()) total += index.postings.bytes;
  return total + table.ids.bytes;
}

/** Per-index statistics; the sequence index's lookups are counted by the store's read(). */
export function indexStatsOf(
  table: EventTable,
  sequenceLookups: number,
  sequenceHits: number,
): Record<string, IndexStats> {
  const stats = (
    keys: number,
    entries: number,
    bytes: number,
    lookups: number,
    hits: number,
  ): IndexStats => ({
    keys,
    entries,
    bytes,
    lookups,
    hits,
    hitRate: lookups === 0 ? 0 : hits / lookups,
  });
  const fromPostings = (p: PostingIndex) => stats(p.keys, p.entries, p.bytes, p.lookups, p.hits);
  const result: Record<string, IndexStats> = {
    sequence: stats(
      table.present,
      table.present,
      table.recordOffset.bytes + table.recordLength.bytes,
      sequenceLookups,
      sequenceHits,
    ),
    aggregate: fromPostings(table.byAggregate),
    type: fromPostings(table.byType),
    'aggregate+type': stats(
      table.compositeKeys.size,
      table.byAggregateType.entries,
      table.byAggregateType.bytes,
      table.compositeLookups,
      table.compositeHits,
    ),
    timestamp: stats(
      table.byTime.hours.size,
      table.byTime.entries,
      table.byTime.bytes,
      table.byTime.lookups,
      table.byTime.hits,
    ),
  };
  for (const [key, index] of table.tags) result[`tags.${key}`] = fromPostings(index.postings);
  result.id = stats(table.present, table.ids.entries, table.ids.bytes, 0, 0);
  return result;
}
