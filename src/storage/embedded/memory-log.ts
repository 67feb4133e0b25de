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
        bytes: Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, frame.length)),
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

  get memoryBytes(): number {
    let total = 0;
    for (const chunk of this.chunks) total += chunk.bytes.length;
    return total;
  }

  close(): void {
    this.chunks.length = 0;
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

  async dropSpans(bases: readonly number[]): Promise<void> {
    const dropped = new Set(bases);
    const kept = this.chunks.filter((chunk) => !dropped.has(chunk.base));
    this.sealedCount -= this.chunks.length - kept.length;
    this.chunks.splice(0, this.chunks.length, ...kept);
  }
}
