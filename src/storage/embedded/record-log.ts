/**
 * Where encoded frames live: segment files on disk, or Buffer chunks in memory. Offsets are global
 * byte positions in the log, stable for the life of the data; the table stores them per event.
 */
export interface RecordLog {
  /** Global offset just past the last frame. */
  readonly end: number;
  /** Appends a sealed frame; returns the frame's global offset. On failure the log is unchanged. */
  append(frame: Buffer): number;
  /** The bytes at [offset, offset + length). The result may be a view into a cache: copy to keep it. */
  read(offset: number, length: number): Buffer;
  /** The file and local offset holding a global offset, for error messages. */
  locate(offset: number): { file: string; offset: number };
  /** Makes every appended frame durable. */
  sync(): Promise<void>;
  /** Bytes this log holds in memory (chunks, or cached blocks). */
  readonly memoryBytes: number;
  close(): void;
}
