import { indexByBase } from './by-base.js';
import type { RecordLog, SpanWriter } from './record-log.js';

const CHUNK_BYTES = 16 * 1024 * 1024;

interface Chunk {
  base: number;
  bytes: Buffer;
  used: number;
}

/** The log of an in-memory store: frames packed into 16 MiB Buffers, outside the JS heap. */
export class MemoryLog implements RecordLog {
  private readonly chunks: Chunk[] = [];
  private total = 0;
  /** Chunks before this index take no more appends (sealed for cleanup). */
  private sealedCount = 0;
  /**
   * Chunk memory that cleanup dropped, for the next chunks to reuse (see dropSpans). Freeing a
   * 16 MiB Buffer and allocating the next makes glibc raise its mmap threshold and serve later ones
   * from the brk heap, which fragments and never shrinks: RSS climbed and swung by a cleanup's worth.
   */
  private spare: Buffer[] = [];

  get end(): number {
    return this.total;
  }

  append(frame: Buffer): number {
    let chunk = this.chunks[this.chunks.length - 1];
    if (
      chunk === undefined ||
      this.sealedCount === this.chunks.length ||
      chunk.used + frame.length > chunk.bytes.length
    ) {
      chunk = {
        base: this.total,
        bytes:
          frame.length <= CHUNK_BYTES
            ? (this.spare.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES))
            : Buffer.allocUnsafeSlow(frame.length),
        used: 0,
      };
      this.chunks.push(chunk);
    }
    const offset = this.total;
    frame.copy(chunk.bytes, chunk.used);
    chunk.used += frame.length;
    this.total += frame.length;
    return offset;
  }

  read(offset: number, length: number): Buffer {
    const chunk = this.chunkOf(offset);
    const local = offset - chunk.base;
    return chunk.bytes.subarray(local, local + length);
  }

  readInto(offset: number, length: number): Buffer {
    return this.read(offset, length);
  }

  spanEnd(offset: number): number {
    const chunk = this.chunkOf(offset);
    return chunk.base + chunk.used;
  }

  private chunkOf(offset: number): Chunk {
    return this.chunks[indexByBase(this.chunks, offset)] as Chunk;
  }

  locate(offset: number): { file: string; offset: number } {
    return { file: 'the in-memory log', offset };
  }

  async sync(): Promise<void> {}

  /** Includes the spare chunks: memory the log holds, though no records are in it. */
  get memoryBytes(): number {
    let total = 0;
    for (const chunk of this.chunks) total += chunk.bytes.length;
    for (const bytes of this.spare) total += bytes.length;
    return total;
  }

  close(): void {
    this.chunks.length = 0;
    this.spare = [];
  }

  sealedSpans(): { base: number; end: number }[] {
    const count = Math.max(this.sealedCount, this.chunks.length - 1);
    return this.chunks.slice(0, count).map((chunk) => ({ base: chunk.base, end: chunk.base + chunk.used }));
  }

  get activeSpan(): { base: number; empty: boolean } {
    const last = this.chunks[this.chunks.length - 1];
    return last === undefined || this.sealedCount === this.chunks.length
      ? { base: this.total, empty: true }
      : { base: last.base, empty: last.used === 0 };
  }

  seal(): void {
    this.sealedCount = this.chunks.length;
  }

  beginRewrite(base: number): SpanWriter {
    const chunk = this.chunks.find((c) => c.base === base);
    if (chunk === undefined) throw new RangeError(`no memory chunk at ${base}`);
    const frames: Buffer[] = [];
    let size = 0;
    return {
      write: (frame) => {
        frames.push(frame); // copied once, into the new chunk, at commit
        size += frame.length;
      },
      get size() {
        return size;
      },
      flush: async () => {},
      commit: async () => {
        // An exact-size chunk: the rest of the 16 MiB is what cleanup gives back.
        chunk.bytes = Buffer.concat(frames);
        chunk.used = chunk.bytes.length;
      },
      abort: () => {
        frames.length = 0;
      },
    };
  }

  /**
   * Keeps the dropped chunks' memory for the appends that follow, at most as many chunks as this
   * drop freed: under a steady ingest that is what is appended before the next cleanup, so the log
   * allocates nothing once warm; spares a slower ingest left unused are let go. Reusing the memory
   * is safe because no view into a chunk outlives a synchronous step: EventReader decodes each
   * record right after reading it (strings and msgpack values are copies; payloads are JSON only,
   * so there is no binary value to hand out as a view), and cleanup, the one reader that keeps a
   * view across event-loop turns (RecordWindow), is also what drops chunks, after its reads.
   */
  async dropSpans(bases: readonly number[]): Promise<void> {
    const dropped = new Set(bases);
    const kept: Chunk[] = [];
    const freed: Buffer[] = [];
    for (const chunk of this.chunks) {
      if (!dropped.has(chunk.base)) kept.push(chunk);
      else if (chunk.bytes.length === CHUNK_BYTES) freed.push(chunk.bytes);
    }
    const count = this.chunks.length - kept.length;
    this.sealedCount -= count;
    this.chunks.splice(0, this.chunks.length, ...kept);
    const spare = [...this.spare, ...freed];
    this.spare = spare.slice(Math.max(0, spare.length - count));
  }
}
