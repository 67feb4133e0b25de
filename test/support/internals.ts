import type { EventStore } from '../../src/index.js';
import type { EmbeddedEngine } from '../../src/storage/embedded/embedded-engine.js';
import type { EventTable } from '../../src/storage/embedded/table/event-table.js';

/**
 * The embedded engine's table under a store, for tests that compare what it holds with what a
 * checkpoint or a scan saw. Not an API: the facade keeps its engine private.
 */
export function tableOf(store: EventStore): EventTable {
  return (store as unknown as { engine: EmbeddedEngine }).engine.parts.table;
}
