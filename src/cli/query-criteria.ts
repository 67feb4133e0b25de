import type { QueryCriteria, TagValue } from '../index.js';
import { UsageError } from './errors.js';
import type { TagCriteria } from './tag-arg.js';

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

type MutableCriteria = {
  -readonly [K in keyof QueryCriteria]: QueryCriteria[K];
};

function parseJsonCriteria(text: string): MutableCriteria {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--json must be a JSON object of query criteria: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(
      '--json must be a JSON object of query criteria, e.g. \'{"type":"WORKFLOW.COMPLETED","limit":10}\'',
    );
  }
  // Field checks are the store's job (one validator for every front end); it names the bad field.
  return { ...(parsed as MutableCriteria) };
}

/** One value stays a scalar, so the criteria read the way a user would have written them. */
function oneOrMany<T>(values: readonly T[]): T | T[] {
  return values.length === 1 ? (values[0] as T) : [...values];
}

/** Merges `--json` with the flags; a flag replaces the same field of `--json`, tags merge per key. */
export function buildCriteria(flags: QueryFlags): QueryCriteria {
  const criteria = flags.json === undefined ? {} : parseJsonCriteria(flags.json);
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
