import type { Readable, Writable } from 'node:stream';
import { OutputClosedError } from './errors.js';
import { writeDrained } from '../support/write-drained.js';

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
export function writeWithBackpressure(stream: Writable, text: string): Promise<void> {
  // A consumer that goes away (`| head`) closes the stream without ever draining it.
  return writeDrained(stream, text, (cause) => new OutputClosedError(cause));
}

/** Writes one line to stderr; diagnostics are small, so backpressure does not matter there. */
export function printErr(io: CliIo, line: string): void {
  io.stderr.write(`${line}\n`);
}
