export interface RestoreOptions {
  /** First sequence to restore (inclusive); default the archive's first. */
  fromSequence?: number;
  /** Last sequence to restore (inclusive); default the archive's last. */
  toSequence?: number;
  /**
   * For progress on long restores: called after each archive file is read (`phase` 'reading'), then,
   * when the restore goes below the store's last sequence, as the log is rebuilt ('rebuilding':
   * `events` of `totalEvents` written, the store's and the restored).
   */
  onProgress?: (progress: RestoreProgress) => void;
}

export interface RestoreProgress {
  phase: 'reading' | 'rebuilding';
  files: number;
  filesRead: number;
  events: number;
  totalEvents: number;
}

export interface RestoreReport {
  /** Events put back into the store. */
  restored: number;
  /** Archive files read. */
  files: number;
  /** First and last sequence restored; null when none was. */
  firstSequence: number | null;
  lastSequence: number | null;
  /** Archived events left out because the store holds them live already. */
  alreadyLive: number;
  /** Archived events left out because their stream is deleted: erasure is not undone. */
  ofDeletedStreams: number;
  /**
   * Restored events the retention policy in force hides at once (they are past its maxAge): they
   * stay in the archive, and the next cleanup removes them again without archiving them twice.
   */
  hiddenByRetention: number;
}
