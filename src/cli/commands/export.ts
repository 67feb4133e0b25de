import type { Command } from 'commander';
import { StorageError, type ExportFormat, type ExportResult } from '../../index.js';
import type { CliContext } from '../context.js';
import { OutputClosedError, UsageError } from '../errors.js';
import { formatBytes, formatDuration, formatRate, plural } from '../format.js';
import { choiceArg, integerArg } from '../option-parsers.js';
import { createProgress } from '../progress.js';
import { addQueryOptions, readQuery, type QueryOptions } from '../query-options.js';
import { openWithRecordedPolicy } from '../store-dir.js';
import { renderPairs } from '../table.js';

interface ExportCommandOptions extends QueryOptions {
  dir: string;
  format: ExportFormat;
  out: string;
  batchRows?: number;
}

const FORMATS = ['parquet', 'arrow', 'csv', 'ndjson'] as const satisfies readonly ExportFormat[];

export function registerExport(program: Command, ctx: CliContext): void {
  const command = program
    .command('export')
    .summary('write matching events to a Parquet, Arrow, CSV or NDJSON file')
    .description(
      'Write the events matching the query to a file, streamed a batch at a time (constant memory ' +
        'whatever the size): Parquet and Arrow with typed columns (sequence and version BIGINT, timestamp ' +
        'a UTC timestamp, tags/payload/metadata as JSON text), CSV with a header, NDJSON as `query` ' +
        'prints events. With a `select` in --query, one column per selected field. The query is given ' +
        'exactly as to `query` and `explain`. The store is opened read-only, so the application may keep ' +
        'writing. Progress (on a terminal) and a summary go to stderr.',
    )
    .requiredOption('--dir <path>', 'store directory')
    .requiredOption('--format <format>', 'parquet, arrow, csv or ndjson', choiceArg(FORMATS))
    .requiredOption('--out <file>', 'the file to write (replaced if it exists); - for stdout');
  addQueryOptions(command)
    .option(
      '--batch-rows <n>',
      'rows per batch (an Arrow record batch; a Parquet row group holds 8); default 16384',
      integerArg(1),
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ tamma-events export --dir ./data --format parquet --out events.parquet',
        '  $ tamma-events export --dir ./data --format csv --out failed.csv --type WORKFLOW.FAILED --from 2024-05-01',
        `  $ tamma-events export --dir ./data --format arrow --out tokens.arrow --query '{"kind":"query","filter":{"kind":"gt","field":"payload.tokens","value":1000},"select":["timestamp","tags.provider","payload.tokens"],"orderBy":[],"hints":{}}'`,
        '  $ tamma-events export --dir ./data --format ndjson --out - --aggregate-id issue-42 | jq .type',
        '',
        "Read back with DuckDB: SELECT * FROM read_parquet('events.parquet'); for CSV, read_csv('failed.csv',",
        'allow_quoted_nulls = false) keeps empty strings apart from nulls. See docs/export.md.',
      ].join('\n'),
    )
    .action(async (options: ExportCommandOptions) => {
      // Checked before the store opens: a bad query or output fails fast and touches nothing.
      const { query } = readQuery(options);
      if (options.out === '') throw new UsageError('--out needs a file name, or - for stdout');
      const toStdout = options.out === '-';
      const { store } = await openWithRecordedPolicy(options.dir, { readOnly: true });
      const progress = createProgress(ctx.io, `export ${options.format}`, undefined);
      const started = performance.now();
      let result: ExportResult;
      try {
        result = await store.export(query, {
          format: options.format,
          to: toStdout ? ctx.io.stdout : options.out,
          ...(options.batchRows === undefined ? {} : { batchRows: options.batchRows }),
          onProgress: ({ rows, bytes }) => progress.update(bytes, rows),
        });
      } catch (error) {
        // stdout went away (`| head`): the consumer has what it wanted.
        if (toStdout && error instanceof StorageError && ctx.io.stdout.destroyed)
          throw new OutputClosedError(error);
        throw error;
      } finally {
        progress.stop();
        await store.close();
      }
      const elapsed = performance.now() - started;
      const summary: [string, string][] = [
        [
          'exported',
          `${plural(result.rows, 'row')} as ${options.format} to ${toStdout ? 'stdout' : options.out}`,
        ],
        ['size', formatBytes(result.bytes)],
        ['elapsed', `${formatDuration(elapsed)} (${formatRate(result.rows, elapsed, 'rows')})`],
      ];
      ctx.io.stderr.write(`${renderPairs(summary)}\n`);
    });
}
