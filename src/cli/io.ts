import type { Readable, Writable } from 'node:stream';
import { OutputClosedError } from './errors.js';

/**
 * The streams the CLI talks to. Injected rather than taken from `process` so tests run the whole
 * CLI in-process and read what it printed.
 */
export interface CliIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  /** An interactive terminal: progress bars are drawn and confirmations may be asked. */
  isTTY: boolean;
}

/**
 * Writes `text` and waits for `drain` when the stream's buffer is full, so a large query piped into
 * a slow consumer holds bounded memory instead of buffering the whole result.
 */
export async function writeWithBackpressure(stream: Writable, text: string): Promise<void> {
  if (stream.destroyed || stream.writableEnded) throw new OutputClosedError();
  if (stream.write(text)) return;
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
      reject(new OutputClosedError(error));
    };
    // A consumer that goes away (`| head`) closes the stream without ever draining it.
    const onClose = (): void => {
      cleanup();
      reject(new OutputClosedError());
    };
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

/** Writes one line to stderr; diagnostics are small, so backpressure does not matter there. */
export function printErr(io: CliIo, line: string): void {
  io.stderr.write(`${line}\n`);
}
