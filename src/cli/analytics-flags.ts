import {
  agg,
  f,
  type AggregateSpec,
  type BucketFill,
  type FilterNode,
  type RunningSpec,
  type Scalar,
  type TimeWindowSpec,
} from '../index.js';
import { describe } from '../support/describe.js';
import { UsageError } from './errors.js';

/**
 * The compact text forms of `analyze`'s flags. Each becomes exactly what the builder takes
 * (`agg.*` specs, filter nodes, order terms), so the store's own validation names a bad field.
 */

/** The `--agg` forms, for help text and error messages. */
export const AGG_SYNTAX = [
  'count | count:F | countDistinct:F',
  'sum|avg|min|max|stddev|variance|median|first|last:F',
  'percentile:F:P | approxPercentile:F:P',
  'corr:X:Y | histogram:F:BUCKETS',
  'moving:KIND:COLUMN[:P]:BUCKETS|all | cumulative:KIND:COLUMN[:P] | delta:COLUMN',
].join(', ');

const FIELD_KINDS = [
  'countDistinct',
  'sum',
  'avg',
  'min',
  'max',
  'stddev',
  'variance',
  'median',
  'first',
  'last',
] as const;

type FieldKind = (typeof FIELD_KINDS)[number];

const KINDS = [
  'count',
  ...FIELD_KINDS,
  'percentile',
  'approxPercentile',
  'corr',
  'histogram',
  'moving',
  'cumulative',
  'delta',
] as const;

/** Kind names match case-insensitively (`approxpercentile` is `approxPercentile`). */
function kindOf(text: string, arg: string): (typeof KINDS)[number] {
  const kind = KINDS.find((candidate) => candidate.toLowerCase() === text.toLowerCase());
  if (kind === undefined) {
    throw new UsageError(
      `--agg ${JSON.stringify(arg)}: unknown aggregate ${JSON.stringify(text)}; expected ${KINDS.join(', ')}`,
    );
  }
  return kind;
}

function numberPart(text: string | undefined, what: string, arg: string): number {
  const value = text === undefined || text.trim() === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(value)) {
    throw new UsageError(`--agg ${JSON.stringify(arg)}: ${what} must be a number, got ${describe(text)}`);
  }
  return value;
}

function arity(parts: readonly string[], counts: readonly number[], form: string, arg: string): void {
  if (!counts.includes(parts.length) || parts.some((part) => part === '')) {
    throw new UsageError(`--agg ${JSON.stringify(arg)}: expected ${form}`);
  }
}

/** `KIND:FIELD[:PARAM]` of an aggregate over event fields or (inside moving/cumulative) columns. */
function plainSpec(parts: readonly string[], arg: string): AggregateSpec {
  const [head = '', ...rest] = parts;
  const kind = kindOf(head, arg);
  switch (kind) {
    case 'count':
      arity(rest, [0, 1], 'count or count:FIELD', arg);
      return agg.count(rest[0]);
    case 'percentile':
    case 'approxPercentile':
      arity(rest, [2], `${kind}:FIELD:P (P from 0 to 1)`, arg);
      return agg[kind](rest[0] as string, numberPart(rest[1], 'P', arg));
    case 'corr':
      arity(rest, [2], 'corr:X:Y', arg);
      return agg.corr(rest[0] as string, rest[1] as string);
    case 'histogram':
      arity(rest, [2], 'histogram:FIELD:BUCKETS', arg);
      return agg.histogram(rest[0] as string, { buckets: numberPart(rest[1], 'BUCKETS', arg) });
    case 'moving':
    case 'cumulative':
    case 'delta':
      throw new UsageError(
        `--agg ${JSON.stringify(arg)}: ${kind} runs over another aggregate's output column; it cannot be nested`,
      );
    default:
      arity(rest, [1], `${kind}:FIELD`, arg);
      return agg[kind as FieldKind](rest[0] as string);
  }
}

/** The spec of one `--agg` value without its alias. */
export function parseAggregateSpec(text: string, arg = text): AggregateSpec | RunningSpec {
  const parts = text.split(':').map((part) => part.trim());
  const kind = kindOf(parts[0] ?? '', arg);
  if (kind === 'delta') {
    arity(parts.slice(1), [1], 'delta:COLUMN', arg);
    return agg.delta(parts[1] as string);
  }
  if (kind === 'cumulative') return agg.cumulative(plainSpec(parts.slice(1), arg));
  if (kind === 'moving') {
    const last = parts[parts.length - 1];
    if (parts.length < 4)
      throw new UsageError(`--agg ${JSON.stringify(arg)}: expected moving:KIND:COLUMN:BUCKETS`);
    const buckets = last === 'all' ? 'all' : numberPart(last, 'BUCKETS', arg);
    return agg.moving(plainSpec(parts.slice(1, -1), arg), { buckets });
  }
  return plainSpec(parts, arg);
}

/**
 * The alias an `--agg` without `ALIAS=` gets: the builder's sugar names (`count`, `avg(payload.delay)`),
 * and `kind(arguments)` for the rest.
 */
function defaultAlias(text: string): string {
  const [kind = '', ...rest] = text.split(':').map((part) => part.trim());
  return rest.length === 0 ? kind : `${kind}(${rest.join(',')})`;
}

/** `--agg ALIAS=SPEC` (repeatable) → the aggregate map, in the order given. */
export function parseAggregates(values: readonly string[]): Record<string, AggregateSpec | RunningSpec> {
  const aggregates: Record<string, AggregateSpec | RunningSpec> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    const alias = eq === -1 ? defaultAlias(value) : value.slice(0, eq).trim();
    const text = eq === -1 ? value : value.slice(eq + 1);
    if (alias === '') throw new UsageError(`--agg ${JSON.stringify(value)}: the alias before = is empty`);
    if (Object.hasOwn(aggregates, alias)) {
      throw new UsageError(
        `--agg ${JSON.stringify(value)}: the alias ${JSON.stringify(alias)} is given twice`,
      );
    }
    aggregates[alias] = parseAggregateSpec(text, value);
  }
  return aggregates;
}

const HAVING = /^\s*([^<>=!\s][^<>=!]*?)\s*(>=|<=|!=|==|=|>|<)\s*(.*?)\s*$/;

/** A comparison's right side: JSON when it parses as a scalar (`100`, `true`, `null`, `"x"`), else the text. */
function scalarOf(text: string): Scalar | null {
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || ['number', 'string', 'boolean'].includes(typeof value))
      return value as Scalar | null;
  } catch {
    // Not JSON: a bare word such as FLIGHT.DELAYED is meant as a string.
  }
  return text;
}

/**
 * One `--having`: `COLUMN OP VALUE` with OP one of `>= <= > < = == !=`, or a filter node as JSON
 * (`{"kind":"gte","field":"n","value":100}`).
 */
export function parseHaving(text: string): FilterNode {
  if (text.trim().startsWith('{')) {
    try {
      return JSON.parse(text) as FilterNode;
    } catch (error) {
      throw new UsageError(
        `--having must be COLUMN OP VALUE or a filter node as JSON: ${(error as Error).message}`,
      );
    }
  }
  const match = HAVING.exec(text);
  if (match === null || match[3] === '' || /^[<>=!]/.test(match[3] ?? '')) {
    throw new UsageError(
      `--having ${JSON.stringify(text)}: expected COLUMN OP VALUE with OP one of >= <= > < = != (e.g. 'n>=100'), ` +
        'or a filter node as JSON',
    );
  }
  const [, field = '', op, right = ''] = match;
  const value = scalarOf(right);
  switch (op) {
    case '>=':
      return f.gte(field, value as Scalar);
    case '<=':
      return f.lte(field, value as Scalar);
    case '>':
      return f.gt(field, value as Scalar);
    case '<':
      return f.lt(field, value as Scalar);
    case '!=':
      return f.ne(field, value as Scalar);
    default:
      return f.eq(field, value as Scalar);
  }
}

/** `--order-by FIELD[:asc|desc]`, comma-separated or repeated. */
export function parseOrderBy(values: readonly string[]): { field: string; direction: 'asc' | 'desc' }[] {
  return values
    .flatMap((value) => value.split(','))
    .map((term) => {
      const [field = '', direction = 'asc', extra] = term.split(':').map((part) => part.trim());
      if (field === '' || extra !== undefined || (direction !== 'asc' && direction !== 'desc')) {
        throw new UsageError(`--order-by ${JSON.stringify(term)}: expected FIELD, FIELD:asc or FIELD:desc`);
      }
      return { field, direction };
    });
}

/** `--fill 0|null|previous`. */
export function parseFill(text: string): BucketFill {
  if (text === '0') return 0;
  if (text === 'null') return null;
  if (text === 'previous') return 'previous';
  throw new UsageError(`--fill ${JSON.stringify(text)}: expected 0, null or previous`);
}

/** A duration as ms (all digits) or text (`15m`), which the store checks. */
const duration = (text: string): number | string => (/^\d+$/.test(text) ? Number(text) : text);

/** `--window size=1h,every=15m` (hopping; size alone: tumbling) or `--window gap=30m` (sessions). */
export function parseWindow(text: string): TimeWindowSpec {
  const parts = new Map<string, string>();
  for (const pair of text.split(',')) {
    const [key = '', value = ''] = pair.split('=').map((part) => part.trim());
    if (!['size', 'every', 'gap'].includes(key) || value === '' || parts.has(key)) {
      throw new UsageError(
        `--window ${JSON.stringify(text)}: expected size=DURATION[,every=DURATION] or gap=DURATION (e.g. size=1h,every=15m)`,
      );
    }
    parts.set(key, value);
  }
  const gap = parts.get('gap');
  const size = parts.get('size');
  if (gap !== undefined && size === undefined && !parts.has('every')) return { gap: duration(gap) };
  if (size !== undefined && gap === undefined) {
    return { size: duration(size), every: duration(parts.get('every') ?? size) };
  }
  throw new UsageError(`--window ${JSON.stringify(text)}: give size (and every) or gap, not both`);
}
