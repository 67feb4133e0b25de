import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export interface NumberedLine {
  /** 1-based line number in the input, counting blank lines, so it matches an editor's. */
  number: number;
  text: string;
}

/** Bytes consumed from the input so far, for progress reporting. */
export interface ByteCounter {
  bytes: number;
}

/**
 * Yields the non-blank lines of `input` one at a time. readline's async iterator pauses the source
 * while the consumer awaits (an append), so memory stays bounded whatever the input size.
 */
export async function* readNdjsonLines(input: Readable, counter: ByteCounter): AsyncGenerator<NumberedLine> {
  input.on('data', (chunk: Buffer | string) => {
    counter.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
  });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let number = 0;
  try {
    for await (const raw of lines) {
      number++;
      // Editors on Windows save UTF-8 with a byte-order mark; JSON.parse would reject it.
      const text = number === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
      if (text.trim() === '') continue;
      yield { number, text };
    }
  } finally {
    lines.close();
  }
}
