import type { ChunkedColumn } from '../../table/chunked-column.js';
import type { EventTable } from '../../table/event-table.js';
import type { ScanColumn } from '../column-filter.js';
import type { ChunkArray, ChunkKey, ChunkReader } from './chunk-sources.js';

/** The column a chunk key names: one of the table's, or a field column's numbers or codes. */
export function chunkColumnOf(table: EventTable, key: ChunkKey): ChunkedColumn<ChunkArray> {
  const mark = key.lastIndexOf('#');
  if (mark < 0) return table[key as ScanColumn];
  const column = table.fieldColumn(key.slice(0, mark));
  return key.endsWith('#numbers') ? column.numbers : column.codes;
}

/**
 * The table's chunks read by key, as a worker reads the ones it was sent. A field column is looked
 * up once per key (fieldColumn brings it up to the table's rows, which costs a call per lookup).
 */
export function tableChunks(table: EventTable): ChunkReader {
  const columns = new Map<ChunkKey, ChunkedColumn<ChunkArray>>();
  return {
    chunk(key, index) {
      let column = columns.get(key);
      if (column === undefined) columns.set(key, (column = chunkColumnOf(table, key)));
      return column.chunk(index);
    },
  };
}
