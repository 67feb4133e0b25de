import { open, rm, type FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { StorageError, ValidationError } from '../../errors.js';

/** Where an export's bytes go, counted; every write waits until the target can take more. */
export interface ByteSink {
  write(chunk: Uint8Array | string): Promise<void>;
  /** Bytes written so far. */
  readonly bytes: number;
  /** After the last write: closes a file the export opened (a caller's stream is left open). */
  close(): Promise<void>;
  /** After a failure: closes and removes a file the export created, so no partial file is left. */
  abort(): Promise<void>;
}

/** A file the export creates (or replaces). Opened only once the export's options are valid. */
export async function fileSink(path: string): Promise<ByteSink> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'w');
  } catch (error) {
    throw new ValidationError('to', `cannot create ${path}: ${(error as Error).message}`, 'INVALID_OPTION');
  }
  let bytes = 0;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  return {
    get bytes() {
      return bytes;
    },
    async write(chunk) {
      const data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      try {
        await handle.write(data);
      } catch (error) {
        throw new StorageError(`could not write the export to ${path}`, error);
      }
      bytes += data.byteLength;
    },
    close,
    async abort() {
      await close().catch(() => undefined);
      await rm(path, { force: true });
    },
  };
}

/**
 * A stream the caller owns (a file stream, a socket, stdout): written with backpressure (a full
 * buffer waits for `drain`), never ended by the export.
 */
export function streamSink(stream: Writable): ByteSink {
  let bytes = 0;
  return {
    get bytes() {
      return bytes;
    },
    async write(chunk) {
      const length = typeof chunk === 'string' ? Buffer.byteLength(chunk, 'utf8') : chunk.byteLength;
      await writeWithBackpressure(stream, chunk);
      bytes += length;
    },
    close: async () => undefined,
    abort: async () => undefined,
  };
}

async function writeWithBackpressure(stream: Writable, chunk: Uint8Array | string): Promise<void> {
  if (stream.destroyed || stream.writableEnded) throw closedStream();
  if (stream.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(new StorageError('the export stream failed', error));
    };
    const onClose = (): void => {
      cleanup();
      reject(closedStream());
    };
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

function closedStream(): StorageError {
  return new StorageError(
    'the export stream was closed before the export finished',
    new Error('stream closed'),
  );
}
