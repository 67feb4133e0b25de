import type { CliIo } from './io.js';

/** What every command gets: the streams, and where it leaves its exit status. */
export interface CliContext {
  io: CliIo;
  /** Set by a command that finished but failed (e.g. `verify` found damage); errors set it via runCli. */
  exitCode: number;
}
