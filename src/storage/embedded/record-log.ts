/**
 * Where encoded frames live: segment files on disk, or Buffer chunks in memory. Offsets are global
 * byte positions in the log, stable for the life of the data; the table stores them per event.
 */
export interface RecordLog {
  /** Global offset just past the last frame. */
  readonly end: number;
  /** Appends a sealed frame; returns the frame's global offset. On failure the log is unchanged. */
  append(frame: Buffer): number;
  /** The bytes at [offset, offset + length), which must lie within one span (see spanEnd). */
  read(offset: number, length: number): Buffer;
  /** End of the contiguous stretch (segment file or memory chunk) holding `offset`: one read can't cross it. */
  spanEnd(offset: number): number;
  /** The file and local offset holding a global offset, for error messages. */
  locate(offset: number): { file: string; offset: number };
  /** Makes every appended frame durable. */
  sync(): Promise<void>;
  /** Bytes of records this log holds in memory (in-memory chunks; 0 on disk). */
  readonly memoryBytes: number;
  close(): void;

  // Cleanup (see retention/log-compaction.ts). A span is a segment file, or a memory chunk.
  /** The spans no longer appended to, in log order: [base, end). */
  sealedSpans(): { base: number; end: number }[];
  /** Base of the span appends go to, and whether it holds anything yet. */
  readonly activeSpan: { base: number; empty: boolean };
  /** Seals the span appends go to, so cleanup may rewrite it; later appends start a new one. */
  seal(): void;
  /**
   * Rewrites a sealed span at the same base: `write` is handed each new frame in order, and the
   * new contents replace the old atomically (on disk: a temporary file, fsync, rename) once `fill`
   * returns. Offsets in the span change; the caller re-points what refers to them.
   */
  rewriteSpan(base: number, fill: (write: (frame: Buffer) => void) => void): void;
  /** Deletes whole sealed spans from the front of the log. */
  dropSpans(bases: readonly number[]): void;
}
