import type { Writable } from 'node:stream';

/**
 * Writes a chunk and, when the stream's buffer is full, waits for `drain`, so a producer never runs
 * ahead of a slow consumer. A stream that is closed, fails or goes away before draining (`| head`)
 * rejects with the caller's own error: `failed(cause)`, where cause is the stream's error, or
 * undefined when it was closed.
 */
export async function writeDrained(
  stream: Writable,
  chunk: Uint8Array | string,
  failed: (cause?: Error) => Error,
): Promise<void> {
  if (stream.destroyed || stream.writableEnded) throw failed();
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
      reject(failed(error));
    };
    const onClose = (): void => {
      cleanup();
      reject(failed());
    };
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}
