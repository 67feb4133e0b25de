import { Readable, Writable } from 'node:stream';
import { runCli } from '../../src/cli/run.js';

/** A Writable that keeps what was written, standing in for stdout/stderr. */
class Capture extends Writable {
  text = '';

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in this process, as `tamma-events ...argv` would, and returns what it printed. */
export async function cli(
  argv: string[],
  options: { stdin?: string; isTTY?: boolean } = {},
): Promise<CliResult> {
  const stdout = new Capture();
  const stderr = new Capture();
  const stdin = Readable.from(options.stdin === undefined ? [] : [options.stdin]);
  const code = await runCli(argv, { stdin, stdout, stderr, isTTY: options.isTTY ?? false });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
