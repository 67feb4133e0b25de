import { elapsedTicker } from '../progress.js';
import type { Command } from 'commander';
import type {
  AnalyticsSpec,
  EventQuery,
  EventStore,
  FilterNode,
  FunnelReport,
  PipelineRow,
} from '../../index.js';
import { f } from '../../index.js';
import { analyticsBuilder, checkAnalyticsQuery } from '../analytics-builder.js';
import {
  AGG_SYNTAX,
  parseAggregates,
  parseFill,
  parseHaving,
  parseOrderBy,
  parseWindow,
} from '../analytics-flags.js';
import { parseAnalyzeJson, type AnalyzeInput } from '../analyze-input.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { writeWithBackpressure } from '../io.js';
import { choiceArg, collect } from '../option-parsers.js';
import { addQueryOptions, jsonArg, readQuery, type QueryOptions } from '../query-options.js';
import { renderExplanation } from '../render-explain.js';
import { ROW_FORMATS, writeRows, type RowFormat } from '../render-rows.js';
import { openWithRecordedPolicy } from '../store-dir.js';

interface AnalyzeOptions extends QueryOptions {
  dir: string;
  json?: string;
  groupBy?: string[];
  bucket?: string;
  timezone?: string;
  fill?: string;
  window?: string;
  agg?: string[];
  having?: string[];
  orderBy?: string[];
  source?: 'events' | 'archive' | 'all';
  format: RowFormat;
  explain?: boolean;
}

/** The flags that describe the analytics; --json says all of it itself. */
const ANALYTICS_FLAGS = {
  groupBy: '--group-by',
  bucket: '--bucket',
  timezone: '--timezone',
  fill: '--fill',
  window: '--window',
  agg: '--agg',
  having: '--having',
  orderBy: '--order-by',
  source: '--source',
} as const;

/** The query flags (the `query` command's): with --json the filter is part of the JSON. */
const QUERY_FLAGS = {
  aggregateId: '--aggregate-id',
  type: '--type',
  from: '--from',
  to: '--to',
  tag: '--tag',
  afterSequence: '--after-sequence',
  limit: '--limit',
  criteria: '--criteria',
  query: '--query',
} as const;

function given(options: AnalyzeOptions, flags: Record<string, string>): string[] {
  return Object.entries(flags)
    .filter(([key]) => options[key as keyof AnalyzeOptions] !== undefined)
    .map(([, flag]) => flag);
}

export function registerAnalyze(program: Command, ctx: CliContext): void {
  const command = program
    .command('analyze')
    .summary('group, aggregate, bucket, match patterns and run pipelines')
    .description(
      'Run an analytics query and print its rows: a group-by with aggregates over the events the ' +
        'query flags select (the flags of `query`), by time bucket and fields, with having, order ' +
        'and limit; or, with --json, a pipeline (a JSON array of stages, as store.analytics.pipeline ' +
        'takes), a query object with an `analytics` part, or a funnel. Read-only, like every read command ' +
        "it sees the events the application's reads see (the recorded retention policy applies).",
    )
    .requiredOption('--dir <path>', 'store directory');
  addQueryOptions(command)
    .option(
      '--json <json>',
      'a pipeline (JSON array of stages), a query object {"kind":"query",...,"analytics":{...}} or ' +
        '{"funnel":{...}}; or @file.json. Replaces the analytics and query flags',
    )
    .option('--group-by <fields>', 'group by these fields, comma-separated (repeatable)', collect)
    .option('--bucket <width>', 'group by time bucket too: 30s, 15m, 1h, 1d, 1w, 1mo, 1y (key `bucket`)')
    .option('--timezone <zone>', 'IANA zone for --bucket: days and longer follow local midnight')
    .option('--fill <fill>', 'empty buckets across the time range: 0, null or previous')
    .option('--window <spec>', 'hopping windows size=1h,every=15m, or session windows gap=30m')
    .option('--agg <[alias=]spec>', `an aggregate (repeatable; default count): ${AGG_SYNTAX}`, collect)
    .option(
      '--having <filter>',
      "keep rows where COLUMN OP VALUE ('n>=100'; OP >= <= > < = !=) or a filter as JSON; repeatable, ANDed",
      collect,
    )
    .option('--order-by <terms>', 'order rows by output columns: n:desc,type (repeatable)', collect)
    .option(
      '--source <source>',
      'events (default), archive or all',
      choiceArg(['events', 'archive', 'all'] as const),
    )
    .option('--format <format>', 'table, ndjson or csv', choiceArg(ROW_FORMATS), 'table')
    .option('--explain', 'print the EXPLAIN ANALYZE of the query instead of its rows')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ tamma-events analyze --dir ./data --bucket 1h --group-by type --agg n=count --order-by bucket,n:desc',
        '  $ tamma-events analyze --dir ./data --type WORKFLOW.COMPLETED --group-by tags.provider \\',
        '      --agg n=count --agg p95=percentile:payload.durationMs:0.95 --having "n>=10" --format csv',
        '  $ tamma-events analyze --dir ./data --bucket 1d --timezone Europe/Berlin --fill 0 \\',
        '      --from 2024-05-01 --to 2024-06-01 --agg n=count --agg avg7=moving:avg:n:7',
        `  $ tamma-events analyze --dir ./data --json '[{"match":{"kind":"eq","field":"type","value":"PR.MERGED"}},` +
          `{"group":{"by":["tags.repo"],"aggregates":{"n":{"kind":"count"}}}},{"sort":[{"field":"n","direction":"desc"}]}]'`,
        '  $ tamma-events analyze --dir ./data --json @pipeline.json --format ndjson',
        '',
        'The --agg, --having and --json forms are described in docs/cli.md ("Analyze").',
      ].join('\n'),
    )
    .action(async (options: AnalyzeOptions) => {
      const input = readInput(options);
      const { store } = await openWithRecordedPolicy(options.dir, { readOnly: true });
      let result: PipelineRow[] | string;
      const ticker = elapsedTicker(ctx.io, 'analyzing');
      try {
        result = await run(store, input, options);
      } finally {
        ticker.stop();
        await store.close();
      }
      if (typeof result === 'string') await writeWithBackpressure(ctx.io.stdout, result);
      else await writeRows(result, options.format, ctx.io.stdout);
    });
  // The shared query options as they read here: --limit counts output rows; --order (by sequence)
  // is refused for grouped rows, so it is not offered.
  for (const option of command.options) {
    if (option.long === '--limit') option.description = 'at most this many rows (after having and order)';
    if (option.long === '--order') option.hideHelp();
  }
}

/** Checks and builds what to run before any store opens: bad input fails fast and touches nothing. */
function readInput(options: AnalyzeOptions): AnalyzeInput {
  if (options.json !== undefined) {
    const mixed = [...given(options, ANALYTICS_FLAGS), ...given(options, QUERY_FLAGS)];
    if (mixed.length > 0) {
      throw new UsageError(
        `--json says the whole query; drop ${mixed.join(', ')} (put the filter in a "match" stage or the query's "filter")`,
      );
    }
    const input = parseAnalyzeJson(jsonArg(options.json, '--json'));
    if (options.explain === true && input.kind !== 'query') {
      throw new UsageError(
        `--explain takes a query (the flags, or --json '{"kind":"query",...}'), not a ${input.kind}: ` +
          'a pipeline or funnel runs its later stages in memory, over the rows of its first query',
      );
    }
    if (input.kind === 'query') checkAnalyticsQuery(input.query);
    return input;
  }
  const query = queryOfFlags(options);
  checkAnalyticsQuery(query);
  return { kind: 'query', query };
}

/** The EventQuery the flags describe: the query flags' filter and limit, then the analytics. */
function queryOfFlags(options: AnalyzeOptions): EventQuery {
  if (options.order !== undefined) {
    throw new UsageError(
      '--order orders events by sequence; analyze orders its rows with --order-by COLUMN[:desc]',
    );
  }
  if (options.bucket === undefined) {
    if (options.timezone !== undefined)
      throw new UsageError('--timezone applies to --bucket; add --bucket WIDTH');
    if (options.fill !== undefined) throw new UsageError('--fill applies to --bucket; add --bucket WIDTH');
  }
  const { query } = readQuery(options);
  const groupBy = (options.groupBy ?? []).flatMap((list) => list.split(',')).map((field) => field.trim());
  if (groupBy.includes(''))
    throw new UsageError(`--group-by ${JSON.stringify(options.groupBy?.join(','))}: a field is empty`);
  const having = (options.having ?? []).map(parseHaving);
  const analytics: AnalyticsSpec = {
    ...(options.bucket === undefined
      ? {}
      : {
          bucket: {
            width: options.bucket,
            ...(options.timezone === undefined ? {} : { timezone: options.timezone }),
            ...(options.fill === undefined ? {} : { fill: parseFill(options.fill) }),
          },
        }),
    ...(options.window === undefined ? {} : { window: parseWindow(options.window) }),
    groupBy,
    aggregates: parseAggregates(options.agg ?? ['count']),
    ...(having.length === 0
      ? {}
      : { having: having.length === 1 ? (having[0] as FilterNode) : f.and(...having) }),
  };
  return {
    ...query,
    orderBy: parseOrderBy(options.orderBy ?? []),
    ...(options.source === undefined ? {} : { source: options.source }),
    analytics,
  };
}

/** The rows, or with --explain the EXPLAIN ANALYZE text. */
async function run(
  store: EventStore,
  input: AnalyzeInput,
  options: AnalyzeOptions,
): Promise<PipelineRow[] | string> {
  if (input.kind === 'query') {
    const builder = analyticsBuilder(store, input.query);
    if (options.explain === true) {
      return `${renderExplanation(await store.explain(builder, { analyze: true }))}\n`;
    }
    return (await builder.execute()) as PipelineRow[];
  }
  if (input.kind === 'pipeline') return store.analytics.pipeline(input.stages);
  return funnelRows(await store.analytics.funnel(input.funnel));
}

/** A funnel as rows: one per step, and with breakdownBy one per value and step (`breakdown` first). */
function funnelRows(report: FunnelReport): PipelineRow[] {
  if (report.breakdown === undefined) return report.steps.map((step) => ({ ...step }));
  return report.breakdown.flatMap(({ value, steps }) => steps.map((step) => ({ breakdown: value, ...step })));
}
