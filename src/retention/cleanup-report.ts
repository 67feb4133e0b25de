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

export interface CleanupOptions {
  /** Rows decided, copied or checked per slice; the event loop runs between slices. */
  sliceRows?: number;
  /**
   * Compact nothing unless the events it would remove are at least this share (0..1) of the
   * events, or some belong to a deleted stream (erasure does not wait). The cut is not held back.
   * Default 0: remove whatever reads leave out. Scheduled runs use the policy's `cleanupThreshold`
   * (default 0.2): compaction costs time in the events that stay, so waiting until a fifth can go
   * bounds that cost per event removed.
   */
  threshold?: number;
  /** Called after each slice: which phase, and how far through it. */
  onProgress?: (progress: CleanupProgress) => void;
}

export interface CleanupProgress {
  phase: 'deciding' | 'compacting' | 'rewriting';
  done: number;
  total: number;
}
