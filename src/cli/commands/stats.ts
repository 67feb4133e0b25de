import type { Command } from 'commander';
import type { StoreStats } from '../../index.js';
import type { CliContext } from '../context.js';
import { writeWithBackpressure } from '../io.js';
import { renderStats } from '../render-stats.js';
import { readSnapshot } from '../../live/performance-monitor/monitor-files.js';
import { renderMonitor } from '../render-monitor.js';
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
        "of the events the application's reads see under its recorded retention policy, as `query` prints. " +
        "Then the performance monitor's figures (latency percentiles per method and query shape, appends, " +
        'index use, the result cache) as the process using the store last wrote them.',
    )
    .requiredOption('--dir <path>', 'store directory')
    .option('--json', 'print the StoreStats object as JSON, with the monitor snapshot under `monitor`')
    .action(async (options: StatsOptions) => {
      const { store } = await openWithRecordedPolicy(options.dir, { readOnly: true });
      let stats: StoreStats;
      try {
        stats = store.stats();
      } finally {
        await store.close();
      }
      const monitor = await readSnapshot(options.dir);
      const text = options.json
        ? JSON.stringify({ ...stats, monitor: monitor ?? null }, null, 2)
        : `${renderStats(stats)}\n\n${renderMonitor(monitor)}`;
      await writeWithBackpressure(ctx.io.stdout, `${text}\n`);
    });
}
