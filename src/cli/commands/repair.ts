import type { Command } from 'commander';
import { repairStore, verifyStore } from '../../index.js';
import type { CliContext } from '../context.js';
import { EXIT_FAILURE, UsageError } from '../errors.js';
import { printErr, writeWithBackpressure } from '../io.js';
import { confirm } from '../prompt.js';
import { renderProblems, renderRepairReport } from '../render-verify.js';
import { requireExistingStore } from '../store-dir.js';

interface RepairOptions {
  dir: string;
  yes?: boolean;
}

export function registerRepair(program: Command, ctx: CliContext): void {
  program
    .command('repair')
    .summary('truncate a damaged log so the store opens again')
    .description(
      'Truncate the log of the store in --dir at the first damaged frame, dropping that frame and every ' +
        'later one (their events are lost), and discard a damaged checkpoint. Prints what was dropped. ' +
        'Asks for confirmation on a terminal; elsewhere --yes is required. Back up the directory first if ' +
        'the dropped events matter.',
    )
    .requiredOption('--dir <path>', 'store directory')
    .option('--yes', 'repair without asking')
    .action(async (options: RepairOptions) => {
      const { io } = ctx;
      requireExistingStore(options.dir);
      // Look before cutting: a healthy store needs no confirmation and no repair.
      const report = await verifyStore(options.dir);
      if (report.problems.length === 0) {
        await writeWithBackpressure(
          io.stdout,
          `repair ${options.dir}: no problems found, nothing to repair\n`,
        );
        return;
      }
      if (!options.yes) {
        if (!io.isTTY) {
          throw new UsageError(
            `verify found ${report.problems.length} problem(s) in ${options.dir}; repair drops data, ` +
              'so pass --yes to confirm when not running on a terminal',
          );
        }
        printErr(io, `problems in ${options.dir}:\n${renderProblems(report.problems)}`);
        if (!(await confirm(io, 'Truncate the log at the damage? Events from there on are lost.'))) {
          printErr(io, 'repair cancelled; nothing was changed');
          ctx.exitCode = EXIT_FAILURE;
          return;
        }
      }
      const repaired = await repairStore(options.dir);
      await writeWithBackpressure(io.stdout, `${renderRepairReport(repaired)}\n`);
    });
}
