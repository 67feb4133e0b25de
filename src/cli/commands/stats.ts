import type { Command } from 'commander';
import type { StoreStats } from '../../index.js';
import type { CliContext } from '../context.js';
import { writeWithBackpressure } from '../io.js';
import { renderStats } from '../render-stats.js';
import { openWithRecordedPolicy } from '../store-dir.js';

interface StatsOptions {
  dir: string;
  json?: boolean;
}

export function registerStats(program: Command, ctx: CliContext): void {
  program
    .command('stats')
    .summary('print store statistics')
    .description(
      'Print event counts, storage, memory and per-index statistics of the store in --dir. Counts are ' +
        "of the events the application's reads see under its recorded retention policy, as `query` prints.",
    )
    .requiredOption('--dir <path>', 'store directory')
    .option('--json', 'print the StoreStats object as JSON')
    .action(async (options: StatsOptions) => {
      const { store } = await openWithRecordedPolicy(options.dir, { readOnly: true });
      let stats: StoreStats;
      try {
        stats = store.stats();
      } finally {
        await store.close();
      }
      const text = options.json ? JSON.stringify(stats, null, 2) : renderStats(stats);
      await writeWithBackpressure(ctx.io.stdout, `${text}\n`);
    });
}
