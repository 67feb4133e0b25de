import type { Command } from 'commander';
import type { QueryCriteria, TagValue } from '../index.js';
import { UsageError } from './errors.js';
import { choiceArg, collect, integerArg, timeArg } from './option-parsers.js';
import { tagArg, type TagCriteria } from './tag-arg.js';

/** The `query` flags after commander parsed them; absent flags are undefined. */
export interface QueryFlags {
  aggregateId?: string[];
  type?: string[];
  from?: number | string;
  to?: number | string;
  tag?: TagCriteria;
  afterSequence?: number;
  limit?: number;
  order?: 'asc' | 'desc';
  json?: string;
}

/** The criteria flags of every command that takes a query (query-options.ts adds the JSON forms). */
export function addCriteriaOptions(command: Command): Command {
  return command
    .option('--aggregate-id <id>', 'events of this aggregate (repeatable)', collect)
    .option('--type <type>', 'events of this type (repeatable)', collect)
    .option('--from <time>', 'timestamp at or after this time (ISO-8601 or epoch ms)', timeArg)
    .option('--to <time>', 'timestamp before this time (ISO-8601 or epoch ms)', timeArg)
    .option(
      '--tag <key=value>',
      'tag equals a string; key:=json for a number, boolean or array (repeatable)',
      tagArg,
    )
    .option('--after-sequence <n>', 'events after this sequence (before it with --order desc)', integerArg(0))
    .option('--limit <n>', 'at most this many events', integerArg(0))
    .option('--order <order>', 'by sequence: asc or desc', choiceArg(['asc', 'desc'] as const));
}

type MutableCriteria = {
  -readonly [K in keyof QueryCriteria]: QueryCriteria[K];
};

function parseJsonCriteria(text: string, flag: string): MutableCriteria {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${flag} must be a JSON object of query criteria: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(
      `${flag} must be a JSON object of query criteria, e.g. '{"type":"WORKFLOW.COMPLETED","limit":10}'`,
    );
  }
  // Field checks are the store's job (one validator for every front end); it names the bad field.
  return { ...(parsed as MutableCriteria) };
}

/** One value stays a scalar, so the criteria read the way a user would have written them. */
function oneOrMany<T>(values: readonly T[]): T | T[] {
  return values.length === 1 ? (values[0] as T) : [...values];
}

/**
 * Merges the criteria JSON (`json`) with the flags; a flag replaces the same field of the JSON, tags
 * merge per key. `jsonFlag` is the name the JSON came in under, for the error message.
 */
export function buildCriteria(flags: QueryFlags, jsonFlag = '--json'): QueryCriteria {
  const criteria = flags.json === undefined ? {} : parseJsonCriteria(flags.json, jsonFlag);
  if (flags.aggregateId) criteria.aggregateId = oneOrMany(flags.aggregateId);
  if (flags.type) criteria.type = oneOrMany(flags.type);
  if (flags.from !== undefined) criteria.from = flags.from;
  if (flags.to !== undefined) criteria.to = flags.to;
  if (flags.afterSequence !== undefined) criteria.afterSequence = flags.afterSequence;
  if (flags.limit !== undefined) criteria.limit = flags.limit;
  if (flags.order !== undefined) criteria.order = flags.order;
  if (flags.tag) {
    const base = criteria.tags;
    const tags: Record<string, TagValue | readonly TagValue[]> =
      base !== null && typeof base === 'object' && !Array.isArray(base) ? { ...base } : {};
    for (const [key, values] of Object.entries(flags.tag)) tags[key] = oneOrMany(values);
    criteria.tags = tags;
  }
  return criteria;
}
