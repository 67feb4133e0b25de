import { CommanderError } from 'commander';
import type { CliContext } from './context.js';
import { exitCodeFor, formatError, OutputClosedError } from './errors.js';
import type { CliIo } from './io.js';
import { buildProgram } from './program.js';

export type { CliIo } from './io.js';

/**
 * Runs the CLI on `argv` (without the node and script paths) and resolves to the exit status,
 * never calling process.exit, so tests run it in-process with their own streams.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const ctx: CliContext = { io, exitCode: 0 };
  // Read directly rather than from commander: errors can happen before or while options are parsed.
  const debug = argv.includes('--debug');
  const program = buildProgram(ctx);
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return exitCodeFor(new CommanderError(2, 'commander.help', '(outputHelp)'));
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (error) {
    // Commander has already printed its own message (usage errors, --help, --version).
    if (!(error instanceof CommanderError) && !(error instanceof OutputClosedError)) {
      io.stderr.write(`${formatError(error, debug)}\n`);
    }
    return exitCodeFor(error);
  }
}
