import { ValidationError } from '../../../errors.js';
import type { CreateIndexOptions } from '../../../indexes/index-types.js';
import { describe } from '../../../support/describe.js';
import { toView, type EventView } from '../exec/event-view.js';
import type { EventReader } from '../table/event-reader.js';
import type { EventTable } from '../table/event-table.js';
import { uniqueBuildViolation } from './unique-keys.js';
import type { UserIndex } from './user-index.js';

// How a user-defined index learns the rows the table holds already: a build (IndexManager runs it
// online, slice by slice), a restore's catch-up, and opening from an older checkpoint.

/** Rows an online build indexes between two yields to the event loop: a few ms of work. */
export const SLICE_ROWS = 8192;

/** Indexes rows [index.indexedRows, end): events read from columns, or decoded when the index needs records. */
export function indexRowsUpTo(index: UserIndex, table: EventTable, reader: EventReader, end: number): void {
  while (index.indexedRows < end) {
    const start = index.indexedRows;
    const stop = Math.min(end, start + SLICE_ROWS);
    // Rows cleanup removed hold no event: they are passed over, with no key.
    const rows: number[] = [];
    for (let row = start; row < stop; row++) if (!table.isRemoved(row)) rows.push(row);
    const views = viewsOf(table, reader, rows, index.needsRecord);
    let next = 0;
    for (let row = start; row < stop; row++) {
      if (rows[next] !== row) {
        index.add(row, undefined);
        continue;
      }
      const key = index.keyOf(views[next++] as EventView);
      if (typeof key === 'object' && index.definition.unique) {
        const held = index.firstRowOf(key);
        if (held !== undefined) throw uniqueBuildViolation(index, key, held, row);
      }
      index.add(row, key);
    }
  }
}

/** Checks createIndex's and rebuildIndex's options at the door, as the definition is. */
export function buildOptions(options: unknown): CreateIndexOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ValidationError('options', `must be an object, got ${describe(options)}`, 'INVALID_OPTION');
  }
  for (const key of Object.keys(options)) {
    if (key !== 'onProgress')
      throw new ValidationError(`options.${key}`, 'unknown option; expected onProgress', 'INVALID_OPTION');
  }
  const { onProgress } = options as CreateIndexOptions;
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new ValidationError(
      'options.onProgress',
      `must be a function, got ${describe(onProgress)}`,
      'INVALID_OPTION',
    );
  }
  return options as CreateIndexOptions;
}

function viewsOf(
  table: EventTable,
  reader: EventReader,
  rows: readonly number[],
  needsRecord: boolean,
): EventView[] {
  if (needsRecord) {
    return reader.events(rows as number[]).map(toView);
  }
  return rows.map((row) => ({
    sequence: row + 1,
    id: '',
    aggregateId: table.aggregates.valueOf(table.aggregateId.get(row)),
    version: table.version.get(row),
    type: table.types.valueOf(table.typeId.get(row)),
    timestamp: table.timestamp.get(row),
    tags: {},
    payload: null,
  }));
}
