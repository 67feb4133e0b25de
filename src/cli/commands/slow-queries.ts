import type { Command } from 'commander';
import { readSlowQueryLog } from '../../live/performance-monitor/monitor-files.js';
import type { CliContext } from '../context.js';
import { writeWithBackpressure } from '../io.js';
import { integerArg, numberArg } from '../option-parsers.js';
import { renderSlowQueries } from '../render-monitor.js';
import { requireExistingStore } from '../store-dir.js';

interface SlowQueriesOptions {
  dir: string;
  limit: number;
  thresholdMs?: number;
  plans?: boolean;
  json?: boolean;
}

export function registerSlowQueries(program: Command, ctx: CliContext): void {
  program
    .command('slow-queries')
    .summary("print the store's slow-query log")
    .description(
      'Print the slow queries the performance monitor logged in --dir (monitor/slow-queries.jsonl and its ' +
        'rotated files), newest first: time, duration, rows, indexes used, query id and shape; with --plans, ' +
        'each query with where its time went and its plan with estimated and actual rows. Reads the files ' +
        'only: works while the application has the store open.',
    )
    .requiredOption('--dir <path>', 'store directory')
    .option('--limit <n>', 'most entries to print', integerArg(1), 20)
    .option('--threshold-ms <ms>', 'only queries at least this slow', numberArg(0))
    .option('--plans', 'print each query with its phases and plan')
    .option('--json', 'print the entries as JSON Lines (the log as written), newest first')
    .action(async (options: SlowQueriesOptions) => {
      requireExistingStore(options.dir);
      const { entries, badLines } = await readSlowQueryLog(options.dir);
      const shown = entries
        .filter((entry) => entry.executionTimeMs >= (options.thresholdMs ?? 0))
        .reverse()
        .slice(0, options.limit);
      const text = options.json
        ? shown.map((entry) => JSON.stringify(entry)).join('\n')
        : renderSlowQueries(shown, options.plans === true);
      if (text.length > 0) await writeWithBackpressure(ctx.io.stdout, `${text}\n`);
      if (badLines > 0) {
        await writeWithBackpressure(
          ctx.io.stderr,
          `note: ${badLines} line${badLines === 1 ? '' : 's'} of the log did not parse (cut short) and ${badLines === 1 ? 'was' : 'were'} left out\n`,
        );
      }
    });
}
