import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { EventQuery, QueryCriteria } from '../index.js';
import { UsageError } from './errors.js';
import { buildQuery } from './query-ast.js';
import { addCriteriaOptions, buildCriteria, type QueryFlags } from './query-criteria.js';

/**
 * The one query syntax of the CLI: every command that takes a query (`query`, `explain`) adds these
 * options with addQueryOptions and reads them with readQuery, so a query that one command accepts,
 * every other does, and means the same.
 */
export interface QueryOptions extends Omit<QueryFlags, 'json'> {
  /** QueryCriteria as JSON, or `@file`. */
  criteria?: string;
  /** An EventQuery or a filter node as JSON, or `@file`. */
  query?: string;
}

/** The query a command runs: the AST, and the criteria it came from (what `queryEvents` takes). */
export interface ReadQuery {
  query: EventQuery;
  criteria: QueryCriteria;
  /** Whether `--query` was given: the query is then more than criteria can say. */
  hasAst: boolean;
}

const CRITERIA_FLAGS = [
  'aggregateId',
  'type',
  'from',
  'to',
  'tag',
  'afterSequence',
  'limit',
  'order',
] as const satisfies readonly (keyof QueryOptions)[];

export function addQueryOptions(command: Command): Command {
  return addCriteriaOptions(command)
    .option(
      '--criteria <json>',
      'QueryCriteria as JSON, or @file.json; the criteria flags replace its fields (tags merge per key)',
    )
    .option(
      '--query <json>',
      'an EventQuery or a filter node as JSON, or @file.json; the criteria are ANDed to its filter, ' +
        '--limit and --order replace its own',
    );
}

/**
 * `@path` reads the JSON from a file (relative to the working directory, like any path on the
 * command line); anything else is the JSON itself.
 */
export function jsonArg(text: string, flag: string): string {
  if (!text.startsWith('@')) return text;
  const path = text.slice(1);
  if (path === '') throw new UsageError(`${flag} @ needs a file name, e.g. ${flag} @query.json`);
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${flag} ${text}: cannot read ${path}: ${(error as Error).message}`);
  }
}

/** Builds and checks the query before any store opens: bad input fails fast and touches nothing. */
export function readQuery(options: QueryOptions): ReadQuery {
  const { criteria: criteriaText, query: queryText } = options;
  // Only the criteria flags: the command's own options (`--json` for its output) are not criteria.
  const flags: QueryFlags = {};
  for (const key of CRITERIA_FLAGS)
    if (options[key] !== undefined) Object.assign(flags, { [key]: options[key] });
  if (criteriaText !== undefined) flags.json = jsonArg(criteriaText, '--criteria');
  const criteria = buildCriteria(flags, '--criteria');
  const ast = queryText === undefined ? undefined : jsonArg(queryText, '--query');
  return { query: buildQuery(criteria, ast), criteria, hasAst: ast !== undefined };
}
