import type { Command } from 'commander';
import type { EventQuery } from '../../index.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { eventToJsonLine } from '../event-json.js';
import { writeWithBackpressure } from '../io.js';
import { integerArg } from '../option-parsers.js';
import { addQueryOptions, readQuery, type QueryOptions } from '../query-options.js';
import { openWithRecordedPolicy } from '../store-dir.js';

interface SubscribeCommandOptions extends QueryOptions {
  dir: string;
  after: number | 'end';
  pollMs: number;
  untilCaughtUp?: boolean;
}

function afterArg(value: string): number | 'end' {
  if (value.trim() === 'end') return 'end';
  return integerArg(0)(value);
}

/** A subscription delivers whole events in sequence order: the parts of a query that say otherwise do not apply. */
function filterOf(query: EventQuery): EventQuery['filter'] {
  if (query.orderBy.length > 0)
    throw new UsageError('subscribe prints events in sequence order; leave out --order and orderBy');
  if (query.select !== undefined) throw new UsageError('subscribe prints whole events; leave out select');
  if (query.offset !== undefined || query.after !== undefined || query.analytics !== undefined) {
    throw new UsageError('subscribe takes a filter: leave out offset, after and analytics in --query');
  }
  return query.filter;
}

export function registerSubscribe(program: Command, ctx: CliContext): void {
  const command = program
    .command('subscribe')
    .summary('tail the store as NDJSON: the events after --after, then new ones as they are appended')
    .description(
      'Print the events after --after (default 0: from the beginning; `end`: only new ones) as NDJSON, ' +
        'one StoredEvent per line in sequence order, then follow the store and print each new matching ' +
        'event as the application appends it, until interrupted (Ctrl-C), --limit events were printed, or ' +
        'with --until-caught-up once it has printed every event already there. The store is opened ' +
        "read-only, so this works while the application holds it; it checks for the writer's appends " +
        'every --poll-ms. The filter is given as to `query` (criteria flags, --criteria, --query); ' +
        "the store's recorded retention policy applies, so expired events are left out.",
    )
    .requiredOption('--dir <path>', 'store directory')
    .option('--after <sequence|end>', "start after this sequence, or 'end' for only new events", afterArg, 0);
  addQueryOptions(command)
    .option(
      '--poll-ms <n>',
      "how often to look for the writer's new appends, in milliseconds",
      integerArg(1),
      200,
    )
    .option('--until-caught-up', 'exit once every event already in the store was printed')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ tamma-events subscribe --dir ./data --after end',
        '  $ tamma-events subscribe --dir ./data --type ORDER.PLACED --tag region=eu',
        `  $ tamma-events subscribe --dir ./data --after 1200 --query '{"kind":"gt","field":"payload.total","value":100}'`,
        '  $ tamma-events subscribe --dir ./data --until-caught-up --type WORKFLOW.FAILED > failed.ndjson',
      ].join('\n'),
    )
    .action(async (options: SubscribeCommandOptions) => {
      const read = readQuery(options);
      const where = filterOf(read.query);
      const limit = read.query.limit;
      if (limit === 0) return;
      const { store } = await openWithRecordedPolicy(options.dir, {
        readOnly: true,
        followIntervalMs: options.pollMs,
      });
      try {
        const sub = store.subscribe({
          after: options.after,
          where,
          ...(options.untilCaughtUp === true ? { onCaughtUp: () => void sub.close() } : {}),
        });
        let printed = 0;
        for await (const event of sub) {
          await writeWithBackpressure(ctx.io.stdout, eventToJsonLine(event));
          if (++printed === limit) break;
        }
      } finally {
        await store.close();
      }
    });
}
