import { projectEvent } from '../../../../query/project-event.js';
import type { ResultRow } from '../../../../query/results.js';
import type { EventReader } from '../../table/event-reader.js';
import type { HydrateNode } from '../plan-nodes.js';
import { DONE, type Operator } from './operator.js';

/**
 * Hydrate's row phase: the rows selected below that the table still holds. A parallel scan, or a
 * stream between two pages, can outlast a slice of cleanup, and a row cleanup removed meanwhile
 * holds no event to read: it is left out, as its event was hidden when cleanup took it. The events
 * themselves are read by hydrateRows, a page at a time for a stream.
 */
export const hydrate: Operator<HydrateNode> = {
  async rows(node, run, demand) {
    const rows = await run.rows(node.child, demand);
    const { table, generation } = run;
    const present = table.generation === generation ? rows : rows.filter((row) => !table.isRemoved(row));
    run.count(node, present.length);
    return present;
  },
  async open(node, run, demand) {
    const source = await run.open(node.child, demand);
    const { table, generation } = run;
    let returned = 0;
    return {
      next(): number {
        for (let row = source.next(); row !== DONE; row = source.next()) {
          if (table.generation !== generation && table.isRemoved(row)) continue;
          returned++;
          return row;
        }
        return DONE;
      },
      close(): void {
        source.close();
        run.count(node, returned);
      },
    };
  },
};

/** The events of the rows, with only the node's `select` fields when it has them. */
export function hydrateRows(node: HydrateNode, reader: EventReader, rows: readonly number[]): ResultRow[] {
  const events = reader.events(rows);
  return node.select === undefined ? events : events.map((event) => projectEvent(event, node.select));
}
