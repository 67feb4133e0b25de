import type { Command } from 'commander';
import type { Explanation } from '../../index.js';
import type { CliContext } from '../context.js';
import { writeWithBackpressure } from '../io.js';
import { buildExplainQuery } from '../query-ast.js';
import { addCriteriaOptions, buildCriteria, type QueryFlags } from '../query-criteria.js';
import { renderExplanation } from '../render-explain.js';
import { openForReading } from '../store-dir.js';

interface ExplainOptions extends Omit<QueryFlags, 'json'> {
  dir: string;
  criteria?: string;
  query?: string;
  analyze?: boolean;
  json?: boolean;
}

export function registerExplain(program: Command, ctx: CliContext): void {
  const command = program
    .command('explain')
    .summary('show how a query would be answered')
    .description(
      'Print the plan the query planner picks for a query: the operator tree, its estimated cost and rows, ' +
        'the indexes it uses and every access path it weighed. The query is given with the flags of ' +
        '`query` (and --criteria for its --json), or as a query AST with --query, or both (ANDed). ' +
        'With --analyze the query also runs, and actual rows and time are reported.',
    )
    .requiredOption('--dir <path>', 'store directory');
  addCriteriaOptions(command)
    .option('--criteria <json>', "a QueryCriteria object as JSON (query's --json); flags override its fields")
    .option(
      '--query <json>',
      'an EventQuery or a filter node as JSON; criteria flags are ANDed to its filter, --limit and --order replace its own',
    )
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
      ].join('\n'),
    )
    .action(async (options: ExplainOptions) => {
      const { criteria, query: queryText, analyze, json, ...flags } = options;
      // Built and checked before the store opens: bad input fails fast and touches nothing.
      const query = buildExplainQuery(
        buildCriteria(criteria === undefined ? flags : { ...flags, json: criteria }, '--criteria'),
        queryText,
      );
      const store = await openForReading(options.dir);
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
