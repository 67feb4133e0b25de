import type { Command } from 'commander';
import type { Explanation } from '../../index.js';
import type { CliContext } from '../context.js';
import { writeWithBackpressure } from '../io.js';
import { addQueryOptions, readQuery, type QueryOptions } from '../query-options.js';
import { renderExplanation } from '../render-explain.js';
import { openWithRecordedPolicy } from '../store-dir.js';

interface ExplainOptions extends QueryOptions {
  dir: string;
  analyze?: boolean;
  json?: boolean;
}

export function registerExplain(program: Command, ctx: CliContext): void {
  const command = program
    .command('explain')
    .summary('show how a query would be answered')
    .description(
      'Print the plan the query planner picks for a query: the operator tree, its estimated cost and rows, ' +
        'the indexes it uses and every access path it weighed. The query is given exactly as to `query`: ' +
        'criteria flags, --criteria, --query (a query AST), or several of them (ANDed). With --analyze ' +
        'the query also runs, and actual rows and time are reported. Like every read command it sees ' +
        "the events the application's reads see: the store's recorded retention policy applies.",
    )
    .requiredOption('--dir <path>', 'store directory');
  addQueryOptions(command)
    .option('--analyze', 'run the query too, and report actual rows and time')
    .option('--json', 'print the Explanation object as JSON')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ tamma-events explain --dir ./data --type WORKFLOW.FAILED --tag provider=openai --limit 10',
        '  $ tamma-events explain --dir ./data --aggregate-id issue-42 --analyze',
        `  $ tamma-events explain --dir ./data --query '{"kind":"gt","field":"payload.tokens","value":1000}' --json`,
        `  $ tamma-events explain --dir ./data --query '{"kind":"query","filter":{"kind":"eq","field":"type",` +
          `"value":"PR.MERGED"},"orderBy":[{"field":"timestamp","direction":"desc"}],"limit":5}'`,
        '  $ tamma-events explain --dir ./data --query @slow-query.json --analyze',
      ].join('\n'),
    )
    .action(async (options: ExplainOptions) => {
      const { analyze, json } = options;
      const { query } = readQuery(options);
      const { store } = await openWithRecordedPolicy(options.dir, { readOnly: true });
      let explanation: Explanation;
      try {
        explanation = await store.explain(query, { analyze: analyze === true });
      } finally {
        await store.close();
      }
      const text = json ? JSON.stringify(explanation, null, 2) : renderExplanation(explanation);
      await writeWithBackpressure(ctx.io.stdout, `${text}\n`);
    });
}
