import type { Command } from 'commander';
import type {
  AdvancedQueryBuilder,
  EventQuery,
  EventStore,
  QueryCriteria,
  StoredEvent,
} from '../../index.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { eventToJsonLine } from '../event-json.js';
import { writeWithBackpressure } from '../io.js';
import { addQueryOptions, readQuery, type QueryOptions } from '../query-options.js';
import { openWithRecordedPolicy } from '../store-dir.js';

interface QueryCommandOptions extends QueryOptions {
  dir: string;
  json?: boolean;
  includeArchived?: boolean;
}

/** Results go out in chunks of about this many characters, each written with backpressure. */
const CHUNK = 256 * 1024;

/** `includeArchived` results are fetched a page at a time (`queryEvents` returns arrays). */
const PAGE_SIZE = 10_000;

export function registerQuery(program: Command, ctx: CliContext): void {
  const command = program
    .command('query')
    .summary('print matching events as NDJSON')
    .description(
      'Print the events matching the query as NDJSON on stdout, one StoredEvent per line with the ' +
        'timestamp as an ISO-8601 string (with a `select` in --query, the selected fields). The query ' +
        'is given exactly as to `explain`: criteria flags, --criteria, --query (a query AST, for payload ' +
        'filters, or/not, ranges and other orders), or several of them (ANDed). Repeating --aggregate-id, ' +
        '--type or a --tag key accepts any of the values (OR). Like every read command it sees the ' +
        "events the application's reads see: the store's recorded retention policy (retention.json) " +
        'applies, so expired events are left out.',
    )
    .requiredOption('--dir <path>', 'store directory');
  addQueryOptions(command)
    .option('--json', 'print NDJSON (the default and only output format; accepted for symmetry)')
    .option(
      '--include-archived',
      "also the archived events (the policy's archive.dir), merged by sequence; criteria only, no --query",
    )
    // A leftover argument is most likely the criteria of the old `--json <criteria>`: say where it went.
    .allowExcessArguments(true)
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ tamma-events query --dir ./data --aggregate-id issue-42',
        '  $ tamma-events query --dir ./data --type WORKFLOW.FAILED --tag provider=openai --order desc --limit 10',
        '  $ tamma-events query --dir ./data --tag issueId:=1234 --from 2024-05-01 --to 2024-05-02',
        `  $ tamma-events query --dir ./data --criteria '{"type":["PR.OPENED","PR.MERGED"],"limit":100}'`,
        `  $ tamma-events query --dir ./data --query '{"kind":"gt","field":"payload.tokens","value":1000}'`,
        '  $ tamma-events query --dir ./data --query @big-runs.json --type WORKFLOW.COMPLETED',
        '  $ tamma-events query --dir ./data --type ORDER.PLACED --include-archived',
        '',
        'The query JSON format is described in docs/cli.md ("Query JSON").',
      ].join('\n'),
    )
    .action(async (options: QueryCommandOptions, self: Command) => {
      if (self.args.length > 0) {
        throw new UsageError(
          `unexpected argument ${JSON.stringify(self.args[0])}: criteria JSON goes in --criteria ` +
            '(a query AST in --query); --json takes no value, NDJSON is what query prints',
        );
      }
      const read = readQuery(options);
      if (options.includeArchived === true && read.hasAst) {
        throw new UsageError(
          '--include-archived takes criteria (flags or --criteria), not --query: archived events are ' +
            'read as queryEvents({...}, { includeArchived: true }) reads them',
        );
      }
      const { store } = await openWithRecordedPolicy(options.dir, { readOnly: true });
      try {
        if (options.includeArchived === true) await pageCriteria(store, read.criteria, ctx);
        else await streamQuery(store, read.query, ctx);
      } finally {
        await store.close();
      }
    });
}

/** A query with `select` returns partial rows: those go out as they are. */
function lineOf(row: unknown, query: EventQuery): string {
  return query.select === undefined ? eventToJsonLine(row as StoredEvent) : `${JSON.stringify(row)}\n`;
}

/**
 * Runs the AST through the query builder's stream, the library's own way to read a large result:
 * pages are read as output drains, so an unbounded query holds bounded memory (in sequence order).
 */
async function streamQuery(store: EventStore, query: EventQuery, ctx: CliContext): Promise<void> {
  let text = '';
  for await (const row of builderFor(store, query).executeStream()) {
    text += lineOf(row, query);
    if (text.length >= CHUNK) {
      await writeWithBackpressure(ctx.io.stdout, text);
      text = '';
    }
  }
  if (text !== '') await writeWithBackpressure(ctx.io.stdout, text);
}

/** The builder whose query is exactly `query` (the builder takes an AST only piece by piece). */
function builderFor(store: EventStore, query: EventQuery): AdvancedQueryBuilder {
  let builder: AdvancedQueryBuilder = store.query();
  if (query.filter.kind !== 'all') builder = builder.where(query.filter);
  for (const term of query.orderBy) builder = builder.orderBy(term.field, term.direction);
  if (query.select !== undefined) builder = builder.select(query.select);
  if (query.limit !== undefined) builder = builder.limit(query.limit);
  if (query.offset !== undefined) builder = builder.offset(query.offset);
  if (Object.keys(query.hints).length > 0) builder = builder.hint(query.hints);
  return builder;
}

/**
 * `--include-archived`: `queryEvents` with `includeArchived`, paged with `afterSequence` as the cursor
 * (it follows `order`), each page written with backpressure before the next is fetched.
 */
async function pageCriteria(store: EventStore, criteria: QueryCriteria, ctx: CliContext): Promise<void> {
  let remaining = criteria.limit ?? Number.POSITIVE_INFINITY;
  let cursor = criteria.afterSequence;
  while (remaining > 0) {
    const want = Math.min(PAGE_SIZE, remaining);
    const page = await store.queryEvents(
      cursor === undefined
        ? { ...criteria, limit: want }
        : { ...criteria, afterSequence: cursor, limit: want },
      { includeArchived: true },
    );
    if (page.length === 0) return;
    let text = '';
    for (const event of page) text += eventToJsonLine(event);
    await writeWithBackpressure(ctx.io.stdout, text);
    remaining -= page.length;
    if (page.length < want) return;
    cursor = (page[page.length - 1] as StoredEvent).sequence;
  }
}
