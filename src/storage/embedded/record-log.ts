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
}
