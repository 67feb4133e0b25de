import { Command } from 'commander';
import { registerCleanup } from './commands/cleanup.js';
import { registerAnalyze } from './commands/analyze.js';
import { registerArchive } from './commands/archive.js';
import { registerExplain } from './commands/explain.js';
import { registerExport } from './commands/export.js';
import { registerIndex } from './commands/indexes.js';
import { registerIngest } from './commands/ingest.js';
import { registerQuery } from './commands/query.js';
import { registerRepair } from './commands/repair.js';
import { registerSlowQueries } from './commands/slow-queries.js';
import { registerStats } from './commands/stats.js';
import { registerSubscribe } from './commands/subscribe.js';
import { registerVerify } from './commands/verify.js';
import type { CliContext } from './context.js';
import { packageVersion } from './version.js';

function columnsOf(stream: unknown): number | undefined {
  const columns = (stream as { columns?: unknown }).columns;
  return typeof columns === 'number' && columns > 0 ? columns : undefined;
}

/**
 * A fresh commander program per run: commander keeps parsed state on the Command, so reusing one
 * across in-process runs (tests) would leak options from one run into the next.
 */
export function buildProgram(ctx: CliContext): Command {
  const { io } = ctx;
  const program = new Command('tamma-events')
    .description(
      'Tamma Events: an embedded event store. Ingest, query, explain, export, index, inspect, verify and repair a store directory; list, verify and restore an archive.',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--debug', 'print stack traces with errors')
    // Settings set before .command() are inherited by every subcommand.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      getOutHelpWidth: () => columnsOf(io.stdout) ?? 100,
      getErrHelpWidth: () => columnsOf(io.stderr) ?? 100,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      '\nExit status: 0 success, 1 operational failure (e.g. verify found damage), 2 bad usage or bad input.\n' +
        'Run `tamma-events <command> --help` for the options of a command.',
    );
  registerIngest(program, ctx);
  registerQuery(program, ctx);
  registerExplain(program, ctx);
  registerExport(program, ctx);
  registerIndex(program, ctx);
  registerStats(program, ctx);
  registerSlowQueries(program, ctx);
  registerCleanup(program, ctx);
  registerVerify(program, ctx);
  registerRepair(program, ctx);
  registerArchive(program, ctx);
  registerAnalyze(program, ctx);
  registerSubscribe(program, ctx);
  return program;
}
