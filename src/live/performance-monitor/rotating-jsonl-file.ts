import { appendFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Lines waiting for the file at most: past it a burst is dropped (and counted) rather than held. */
const MAX_PENDING = 10_000;

/**
 * A JSON Lines file that rotates by size: `name.jsonl` is written until the next line would take it
 * past `maxBytes`; it then becomes `name.1.jsonl` (the older ones shift to .2, .3 …, the oldest
 * beyond `keep` is deleted) and a new `name.jsonl` starts. So the disk it takes is bounded by
 * (keep + 1) × maxBytes. Lines are written in order, one write at a time, off the caller's path;
 * memory is bounded by MAX_PENDING lines.
 */
export class RotatingJsonlFile {
  private pending: string[] = [];
  private writing: Promise<void> | undefined;
  private size: number | undefined;
  /** Lines dropped because the queue was full, or because a write failed. */
  dropped = 0;
  lastError: string | null = null;

  constructor(
    readonly path: string,
    private readonly maxBytes: number,
    private readonly keep: number,
  ) {}

  /** Queues one value as a line; resolves nothing: `flush()` waits for the file. */
  write(value: unknown): void {
    if (this.pending.length >= MAX_PENDING) {
      this.dropped++;
      return;
    }
    this.pending.push(`${JSON.stringify(value)}\n`);
    this.writing ??= this.drain();
  }

  /** Resolves once every queued line is written (or dropped after an error). */
  async flush(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const lines = this.pending;
        this.pending = [];
        try {
          await this.append(lines);
        } catch (error) {
          this.dropped += lines.length;
          this.lastError = error instanceof Error ? error.message : String(error);
        }
      }
    } finally {
      this.writing = undefined;
    }
  }

  private async append(lines: string[]): Promise<void> {
    if (this.size === undefined) {
      await mkdir(dirname(this.path), { recursive: true });
      this.size = await stat(this.path).then(
        (info) => info.size,
        () => 0,
      );
    }
    let chunk = '';
    let chunkBytes = 0;
    for (const line of lines) {
      const bytes = Buffer.byteLength(line);
      if (this.size + chunkBytes + bytes > this.maxBytes && this.size + chunkBytes > 0) {
        if (chunk.length > 0) await appendFile(this.path, chunk);
        await this.rotate();
        chunk = '';
        chunkBytes = 0;
      }
      chunk += line;
      chunkBytes += bytes;
    }
    if (chunk.length > 0) await appendFile(this.path, chunk);
    this.size += chunkBytes;
  }

  private async rotate(): Promise<void> {
    if (this.keep === 0) {
      await rm(this.path, { force: true });
    } else {
      await rm(rotatedPath(this.path, this.keep), { force: true });
      for (let n = this.keep - 1; n >= 1; n--) {
        await rename(rotatedPath(this.path, n), rotatedPath(this.path, n + 1)).catch(ignoreMissing);
      }
      await rename(this.path, rotatedPath(this.path, 1)).catch(ignoreMissing);
    }
    this.size = 0;
  }
}

/** `dir/name.jsonl` → `dir/name.<n>.jsonl`. */
export function rotatedPath(path: string, n: number): string {
  const name = basename(path, '.jsonl');
  return join(dirname(path), `${name}.${n}.jsonl`);
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}
