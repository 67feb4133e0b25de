import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { formatBytes, formatFixed, formatInt } from '../format.js';
import { writeWithBackpressure } from '../io.js';
import { openWithRecordedPolicy } from '../store-dir.js';
import { renderPairs } from '../table.js';

interface CleanupCommandOptions {
  dir: string;
  json?: boolean;
}

export function registerCleanup(program: Command, ctx: CliContext): void {
  program
    .command('cleanup')
    .summary('remove expired and deleted events now')
    .description(
      'Run cleanup on the store in --dir under the retention policy the application last set ' +
        '(recorded in retention.json): archive (when the policy names an archive), then remove ' +
        'expired events and deleted streams, and give back their log space.',
    )
    .requiredOption('--dir <path>', 'store directory')
    .option('--json', 'print the cleanup report as JSON')
    .action(async (options: CleanupCommandOptions) => {
      const { store, retention } = await openWithRecordedPolicy(options.dir);
      try {
        let shown = '';
        const report = await store.cleanup({
          onProgress: ({ phase, done, total }) => {
            if (!ctx.io.isTTY) return;
            const line = `${phase} ${formatInt(done)}/${formatInt(total)}`;
            if (line !== shown) ctx.io.stderr.write(`\r${(shown = line)}`);
          },
        });
        if (ctx.io.isTTY && shown !== '') ctx.io.stderr.write('\n');
        const text = options.json
          ? JSON.stringify(report, null, 2)
          : renderPairs([
              [
                'policy',
                retention === undefined ? 'none recorded: nothing expires' : JSON.stringify(retention),
              ],
              ['examined', formatInt(report.examined)],
              ['removed', formatInt(report.removed)],
              ['  in place (the oldest)', formatInt(report.removedInPlace)],
              ['  archived', formatInt(report.archived)],
              ['  of deleted streams', formatInt(report.tombstoned)],
              ...(report.erasedFromArchive > 0
                ? [['erased from the archive', formatInt(report.erasedFromArchive)] as [string, string]]
                : []),
              ['space freed', formatBytes(report.bytesFreed)],
              [
                'segments',
                `${formatInt(report.spansRewritten)} rewritten, ${formatInt(report.spansDropped)} dropped`,
              ],
              ['took', `${formatFixed(report.durationMs, 1)} ms (cpu ${formatFixed(report.cpuMs, 1)} ms)`],
            ]);
        await writeWithBackpressure(ctx.io.stdout, `${text}\n`);
      } finally {
        await store.close();
      }
    });
}
