import type { RecordLog } from '../log/record-log.js';
import type { EmptiedIds, EventTable } from '../table/event-table.js';
import type { TableCut } from '../table/table-cut.js';

/**
 * What cleanup (cleanup.ts) needs of the store it cleans: the store implements it, so the retention
 * mechanics reach the table, the log and the store's bookkeeping without importing the store.
 */
export interface CleanupHost {
  readonly table: EventTable;
  readonly log: RecordLog;
  /** The store directory; undefined for an in-memory store. */
  readonly dir: string | undefined;
  archiveDir(): string | undefined;
  /**
   * Which sequences' events `archiveDir` holds already (restored events keep their archive copy;
   * archived-copies.ts), or undefined when none: those are removed without archiving them again.
   */
  inArchive(archiveDir: string): ((sequence: number) => boolean) | undefined;
  /** The store's clock, for the report. */
  now(): number;
  /** The rows reads leave out as of now, or undefined when none can be. */
  hidden(): ((row: number) => boolean) | undefined;
  /** Whether the row's stream is deleted (for the report). */
  tombstoned(row: number): boolean;
  /** After the table swap: the store re-points what held dictionary ids or rows. */
  afterCompaction(): void;
  /** The deleted streams (deleteAggregate), by name. */
  deletedStreams(): readonly string[];
  /** An erasure renamed archive files (archive-erasure.ts): the record of restored copies follows. */
  archiveRenamed(archiveDir: string, renames: ReadonlyMap<string, string>): void;
  /** The cut: removes every row below `floor` in place, in steps (TableCut). */
  beginCut(floor: number): TableCut;
  /** After the cut's last step: the store re-counts deleted streams and cuts the user indexes. */
  finishCut(cut: TableCut, floor: number): void;
  /** Releases up to `budget` of the ids a cut emptied; true once none is left. */
  releaseEmptied(emptied: EmptiedIds, budget: number): boolean;
  /** Writes a checkpoint; the fsyncs may run off the main thread. */
  writeCheckpoint(): Promise<void>;
  discardCheckpoint(): void;
  /** Whether the store is closing: cleanup stops at the next slice. */
  readonly closing: boolean;
}
