import type { Clock } from '../../../events/clock.js';
import type { ColumnFilter } from '../exec/column-filter.js';
import { ColumnScan, tableChunks } from '../exec/column-scan.js';
import type { EventTable } from '../table/event-table.js';
import type { RetentionPolicy } from '../../../retention/policy.js';
import type { Tombstones } from './tombstones.js';
import { visibleRowsFilter } from './visibility-filter.js';

/**
 * Which rows reads may see: none of a deleted stream, and none the retention policy has expired, by
 * event time against the store's clock (or past `maxEvents`, oldest sequence first). Expiry needs no
 * write: an event disappears from every read, query and count the moment the clock passes its
 * deadline; physical removal (cleanup) comes later and changes nothing visible.
 */
export class Visibility {
  constructor(
    private readonly table: EventTable,
    private readonly tombstones: Tombstones,
    private readonly clock: Clock,
    public policy: RetentionPolicy,
  ) {}

  /**
   * A test for hidden rows as of now, or undefined when nothing can be hidden (the common case,
   * which keeps reads free of the check). Made per query: the deadlines move with the clock.
   * A row cleanup removed (recordLength 0) holds no event: hidden too.
   */
  hidden(): ((row: number) => boolean) | undefined {
    const { table, policy } = this;
    const tombstoned = this.tombstones.active ? this.tombstones.isDeleted : undefined;
    // Rows cleanup removed hold no event: readers must step over them. (Rows a cleanup removes
    // while a query runs are left out by the query engine, which sees the table's generation move.)
    const holes = table.hasHoles;
    const removed = (row: number) => holes && table.isRemoved(row);
    if (!policy.active) {
      if (tombstoned === undefined) return holes ? removed : undefined;
      return holes ? (row) => tombstoned(row) || removed(row) : tombstoned;
    }
    const { cutoff, firstKept } = this.deadlines();
    return (row) =>
      row < firstKept ||
      table.timestamp.get(row) < (cutoff[table.typeId.get(row)] as number) ||
      removed(row) ||
      (tombstoned !== undefined && tombstoned(row));
  }

  /**
   * The rows hidden() leaves visible, as a filter on columns for the vectorized scan (see
   * visibility-filter.ts); undefined exactly when hidden() is. Made per query, like hidden().
   */
  columnFilter(): ColumnFilter | undefined {
    const { table, tombstones, policy } = this;
    if (!policy.active && !tombstones.active && !table.hasHoles) return undefined;
    const { cutoff, firstKept } = policy.active ? this.deadlines() : { firstKept: 0, cutoff: undefined };
    return visibleRowsFilter({
      // Rows below firstRow are cut (a cleanup's cut frees their chunks only at its end).
      firstKept: Math.max(firstKept, table.firstRow),
      cutoff,
      deleted: tombstones.active ? tombstones.aggregateIds() : [],
      aggregates: table.aggregates.size,
      holes: table.hasHoles,
    });
  }

  /**
   * The policy's deadlines as of now: per type id, the event time below which its events have
   * expired (-Infinity for types kept forever), and the first row `maxEvents` keeps.
   */
  private deadlines(): { cutoff: Float64Array; firstKept: number } {
    const { table, policy } = this;
    const now = this.clock.now();
    const cutoff = new Float64Array(table.types.size);
    for (let id = 0; id < cutoff.length; id++) cutoff[id] = now - policy.maxAgeOf(table.types.valueOf(id));
    const firstKept = policy.maxEvents === Infinity ? 0 : Math.max(0, table.rows - policy.maxEvents);
    return { cutoff, firstKept };
  }

  /**
   * Events reads can see: O(1) with tombstones alone; with a policy, one vectorized pass over the
   * columns the visibility filter reads (stats() calls this, and monitoring calls stats() often).
   */
  liveEvents(): number {
    const { table } = this;
    if (!this.policy.active) return table.present - this.tombstones.deletedEvents;
    const visible = this.columnFilter() as ColumnFilter;
    return new ColumnScan(visible, tableChunks(table)).count(table.firstRow, table.rows);
  }
}
