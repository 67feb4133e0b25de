import type { Command } from 'commander';
import { verifyStore } from '../../index.js';
import type { CliContext } from '../context.js';
import { EXIT_FAILURE } from '../errors.js';
import { writeWithBackpressure } from '../io.js';
import { renderVerifyReport } from '../render-verify.js';
import { requireExistingStore } from '../store-dir.js';

interface VerifyOptions {
  dir: string;
  json?: boolean;
}

export function registerVerify(program: Command, ctx: CliContext): void {
  program
    .command('verify')
    .summary('check every file of the store: log frames, checkpoint and metadata')
    .description(
      'Read the whole store in --dir and check every log frame (length, checksum, sequence order), the ' +
        'checkpoint, tombstones.log, indexes.json, store.json, log/start.json, retention.json and the ' +
        'archive manifest, without changing anything; report events a durable record proves were written ' +
        'but the log no longer holds. Exits 1 when the store would not open as it is.',
    )
    .requiredOption('--dir <path>', 'store directory')
    .option('--json', 'print the VerifyReport object as JSON')
    .action(async (options: VerifyOptions) => {
      requireExistingStore(options.dir);
      const report = await verifyStore(options.dir);
      const text = options.json ? JSON.stringify(report, null, 2) : renderVerifyReport(report);
      await writeWithBackpressure(ctx.io.stdout, `${text}\n`);
      if (!report.ok) ctx.exitCode = EXIT_FAILURE;
    });
}
