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
    .summary('move damaged log data aside so the store opens again')
    .description(
      'Repair the store in --dir, keeping every intact frame: damaged bytes are moved to files under ' +
        '<dir>/quarantine/ and the sequences they held are left as a gap (never reused), a missing or ' +
        'wrong log/start.json is rebuilt from the segments, and a damaged checkpoint is rebuilt. Prints ' +
        'exactly what was dropped. Asks for confirmation on a terminal; elsewhere --yes is required.',
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
        if (
          !(await confirm(
            io,
            'Move the damaged data aside? The events in it are dropped; every intact frame is kept.',
          ))
        ) {
          printErr(io, 'repair cancelled; nothing was changed');
          ctx.exitCode = EXIT_FAILURE;
          return;
        }
      }
      const repaired = await repairStore(options.dir);
      await writeWithBackpressure(io.stdout, `${renderRepairReport(repaired)}\n`);
    });
}
