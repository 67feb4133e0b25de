import type { Clock } from '../../events/clock.js';
import { ReadOnlyError } from '../../errors.js';
import type { RetentionPolicy } from '../../retention/policy.js';
import type { WriteGate } from '../../support/write-gate.js';
import { toView } from './exec/event-view.js';
import { QueryEngine } from './exec/query-engine.js';
import { IndexAdvisor } from './indexes/index-advisor.js';
import { IndexManager } from './indexes/index-manager.js';
import { Statistics } from './indexes/statistics.js';
import type { RecordLog } from './log/record-log.js';
import type { SegmentLog } from './log/segment-log.js';
import type { Tombstones } from './retention/tombstones.js';
import { Visibility } from './retention/visibility.js';
import { EventReader } from './table/event-reader.js';
import type { EventTable } from './table/event-table.js';

/**
 * Everything the embedded engine builds over one table and its log. A restore into the middle of
 * the store (or a read-only follower loading afresh) builds a new table and log, wires a new set of
 * parts over them, and swaps that one reference: queries that started on the old parts finish
 * there.
 */
export interface EngineParts {
  readonly table: EventTable;
  readonly log: RecordLog;
  /** The same log when it is on disk; undefined in memory. */
  readonly diskLog: SegmentLog | undefined;
  readonly reader: EventReader;
  readonly queries: QueryEngine;
  readonly tombstones: Tombstones;
  readonly visibility: Visibility;
}

export interface WireOptions {
  table: EventTable;
  log: RecordLog;
  diskLog: SegmentLog | undefined;
  dir: string | undefined;
  clock: Clock;
  policy: RetentionPolicy;
  tombstones: Tombstones;
  /** The engine's index manager: moved onto the new table, or made anew when absent. */
  indexes?: IndexManager;
  writes: WriteGate;
  /** Set for a read-only handle: index writes refuse. */
  readOnly: boolean;
}

/** Builds the readers, statistics, indexes, visibility and query engine over a table and its log. */
export function wireParts(options: WireOptions): { parts: EngineParts; indexes: IndexManager } {
  const { table, log, dir, clock } = options;
  const reader = new EventReader(table, log);
  table.fieldColumns.attach(log);
  const statistics = new Statistics(table, (rows) => reader.events(rows).map(toView));
  let indexes = options.indexes;
  if (indexes === undefined) {
    indexes = new IndexManager(table, reader, clock, dir, statistics, options.writes);
  } else {
    indexes.rebind(table, reader, statistics);
  }
  if (options.readOnly && dir !== undefined)
    indexes.refuseWrites(() => new ReadOnlyError('changing indexes', dir));
  const visibility = new Visibility(table, options.tombstones, clock, options.policy);
  const queries = new QueryEngine(table, reader, indexes, statistics, visibility, clock);
  const manager = indexes;
  manager.attachAdvisor(
    new IndexAdvisor(
      queries.monitor,
      (query) => queries.plan(query, true).plan,
      statistics,
      table,
      () => manager.usable(),
    ),
  );
  queries.onQuery = () => manager.afterQuery();
  return {
    parts: {
      table,
      log,
      diskLog: options.diskLog,
      reader,
      queries,
      tombstones: options.tombstones,
      visibility,
    },
    indexes,
  };
}
