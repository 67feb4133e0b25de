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
  /**
   * The same bytes, for a caller that reads much in turn and keeps none of it: on disk they are read
   * into `scratch(length)` (a buffer the caller reuses) and a view of it is returned; in memory, a
   * view of the log, and `scratch` is not called. Either way nothing is allocated per read.
   */
  readInto(offset: number, length: number, scratch: (length: number) => Buffer): Buffer;
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
   * Starts rewriting a sealed span at the same base: the new frames go to the writer, in order and
   * over as many event-loop turns as the caller likes (reads keep using the old contents), and
   * `commit` replaces the old contents atomically (on disk: fsync, rename). Offsets in the span
   * change at `commit`; the caller re-points what refers to them in the same synchronous step.
   */
  beginRewrite(base: number): SpanWriter;
  /** Deletes whole sealed spans from the front of the log: gone from reads at once, files unlinked after. */
  dropSpans(bases: readonly number[]): Promise<void>;
}

/** A span's new contents, being written (see RecordLog.beginRewrite). */
export interface SpanWriter {
  /** The writer may hold on to `frame` until commit: pass a buffer that is not reused. */
  write(frame: Buffer): void;
  /** Bytes written so far. */
  readonly size: number;
  /** Makes the new contents durable (on disk: an fsync, off the main thread). */
  flush(): Promise<void>;
  /**
   * Puts the flushed contents in place of the old (on disk: a rename), at once; the promise is the
   * rest, off the main thread (on disk: the directory's fsync, closing the old file).
   */
  commit(): Promise<void>;
  /** Gives up: the old contents stay. */
  abort(): void;
}
