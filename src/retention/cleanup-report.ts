/** What one cleanup run did (`store.cleanup()` resolves with it; `stats().cleanup.lastRun`). */
export interface CleanupReport {
  /** By the store's clock. */
  startedAt: string;
  durationMs: number;
  /** CPU time of cleanup's own slices (appends and queries run between them and are not counted). */
  cpuMs: number;
  /** Events looked at. */
  examined: number;
  /** Events removed: expired or of deleted streams. */
  removed: number;
  /** Of those, removed in place by the cut (the oldest events), without copying the table. */
  removedInPlace: number;
  /** Of those, archived first. */
  archived: number;
  /** Of those, of deleted streams (tombstoned). */
  tombstoned: number;
  /** Log bytes given back (disk for a durable store, memory for an in-memory one). */
  bytesFreed: number;
  /** Log segments (memory chunks) rewritten without the removed events, and dropped whole. */
  spansRewritten: number;
  spansDropped: number;
  /**
   * Archived events of deleted streams taken out of the archive's files (erasure; archive-erasure.ts):
   * events archived before their stream was deleted.
   */
  erasedFromArchive: number;
  /** Whether events for compaction were left to a later run (fewer than the threshold; see CleanupOptions). */
  deferred: boolean;
  /** The archive file written, if any. */
  archiveFile?: string;
}

export interface CleanupStats {
  runs: number;
  lastRun: CleanupReport | null;
  totals: Pick<CleanupReport, 'removed' | 'archived' | 'tombstoned' | 'bytesFreed' | 'cpuMs'>;
}

export function emptyCleanupStats(): CleanupStats {
  return {
    runs: 0,
    lastRun: null,
    totals: { removed: 0, archived: 0, tombstoned: 0, bytesFreed: 0, cpuMs: 0 },
  };
}
