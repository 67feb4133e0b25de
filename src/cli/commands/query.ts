import type { Command } from 'commander';
import type { EventStore, QueryCriteria } from '../../index.js';
import type { CliContext } from '../context.js';
import { eventToJsonLine } from '../event-json.js';
import { writeWithBackpressure } from '../io.js';
import { addCriteriaOptions, buildCriteria, type QueryFlags } from '../query-criteria.js';
import { openForReading } from '../store-dir.js';

interface QueryOptions extends QueryFlags {
  dir: string;
}

/** Results are fetched a page at a time, so an unbounded query streams instead of loading every event. */
const PAGE_SIZE = 10_000;

export function registerQuery(program: Command, ctx: CliContext): void {
  const command = program
    .command('query')
    .summary('print matching events as NDJSON')
    .description(
      'Print the events matching every given criterion (AND) as NDJSON on stdout, one StoredEvent per ' +
        'line with the timestamp as an ISO-8601 string. Repeating --aggregate-id, --type or a --tag key ' +
        'accepts any of the values (OR).',
    )
    .requiredOption('--dir <path>', 'store directory');
  addCriteriaOptions(command)
    .option('--json <criteria>', 'a QueryCriteria object as JSON; flags override its fields')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ tamma-events query --dir ./data --aggregate-id issue-42',
        '  $ tamma-events query --dir ./data --type WORKFLOW.FAILED --tag provider=openai --order desc --limit 10',
        '  $ tamma-events query --dir ./data --tag issueId:=1234 --from 2024-05-01 --to 2024-05-02',
        `  $ tamma-events query --dir ./data --json '{"type":["PR.OPENED","PR.MERGED"],"limit":100}'`,
      ].join('\n'),
    )
    .action(async (options: QueryOptions) => {
      const criteria = buildCriteria(options);
      const store = await openForReading(options.dir);
      try {
        await streamQuery(store, criteria, ctx);
      } finally {
        await store.close();
      }
    });
}

/**
 * Pages through the result with `afterSequence` as the cursor (it follows `order`), writing each page
 * with backpressure before fetching the next.
 */
async function streamQuery(store: EventStore, criteria: QueryCriteria, ctx: CliContext): Promise<void> {
  let remaining = criteria.limit ?? Number.POSITIVE_INFINITY;
  let cursor = criteria.afterSequence;
  while (remaining > 0) {
    const want = Math.min(PAGE_SIZE, remaining);
    const page = await store.queryEvents(
      cursor === undefined
        ? { ...criteria, limit: want }
        : { ...criteria, afterSequence: cursor, limit: want },
    );
    if (page.length === 0) return;
    let text = '';
    for (const event of page) text += eventToJsonLine(event);
    await writeWithBackpressure(ctx.io.stdout, text);
    remaining -= page.length;
    if (page.length < want) return;
    cursor = (page[page.length - 1] as { sequence: number }).sequence;
  }
}
