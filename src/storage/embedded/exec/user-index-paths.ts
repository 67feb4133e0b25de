import {
  encodeKey,
  encodePart,
  isKeyPart,
  typeTag,
  type IndexKey,
  type KeyPart,
} from '../../../indexes/index-keys.js';
import type { UserIndex } from '../indexes/user-index.js';
import { lookupPath, type AccessPath } from './access-path.js';
import type { FilterNode } from '../../../query/ast.js';
import { canonicalJson } from '../../../query/canonical.js';
import { resolveField } from '../../../query/fields.js';
import { assertNever } from '../../../support/assert-never.js';

/** Most key combinations an `in` list (or several) may expand to before an index is not worth it. */
const MAX_COMBINATIONS = 4096;

interface Range {
  type: 'number' | 'string';
  low?: KeyPart;
  lowInclusive: boolean;
  high?: KeyPart;
  highInclusive: boolean;
}

/** What the query's top-level AND terms say about one field. */
interface Constraint {
  /** Equality (eq, in): the field is one of these. */
  values?: KeyPart[];
  range?: Range;
  /** Some term matches only events whose field holds a scalar (so it has a key part there). */
  scalar?: boolean;
}

function constraints(terms: readonly FilterNode[]): Map<string, Constraint> {
  const out = new Map<string, Constraint>();
  const of = (field: string) => {
    let constraint = out.get(field);
    if (constraint === undefined) out.set(field, (constraint = {}));
    return constraint;
  };
  for (const term of terms) {
    if (!('field' in term)) continue;
    const constraint = of(term.field);
    if (requiresScalar(term)) constraint.scalar = true;
    // Several terms on one field: any one of them bounds the rows; the filter re-checks them all.
    if (term.kind === 'eq' && isKeyPart(term.value)) constraint.values ??= [term.value];
    // `in` with a null matches null values, which no index holds: such a term cannot bound the rows.
    else if (term.kind === 'in' && term.values.every(isKeyPart)) constraint.values ??= [...term.values];
    else if (term.kind === 'between') {
      constraint.range ??= {
        type: typeof term.low as Range['type'],
        low: term.low as KeyPart,
        lowInclusive: true,
        high: term.high as KeyPart,
        highInclusive: true,
      };
    } else if (term.kind === 'lt' || term.kind === 'lte' || term.kind === 'gt' || term.kind === 'gte') {
      const value = term.value as KeyPart;
      const range = (constraint.range ??= {
        type: typeof value as Range['type'],
        lowInclusive: true,
        highInclusive: true,
      });
      if (typeof value !== range.type) continue;
      const inclusive = term.kind === 'gte' || term.kind === 'lte';
      if (term.kind === 'gt' || term.kind === 'gte') {
        if (range.low === undefined || value > range.low) {
          range.low = value;
          range.lowInclusive = inclusive;
        } else if (value === range.low) range.lowInclusive &&= inclusive;
      } else if (range.high === undefined || value < range.high) {
        range.high = value;
        range.highInclusive = inclusive;
      } else if (value === range.high) range.highInclusive &&= inclusive;
    }
  }
  return out;
}

/**
 * Whether a term matches only events whose field holds a string, number or boolean: a comparison
 * with a non-null operand, `in` without null, `prefix`; on a tag (tags hold only scalars), any
 * term that needs the tag present. Core fields always hold one.
 */
function requiresScalar(term: FilterNode & { field: string }): boolean {
  const ref = resolveField(term.field, 'filter.field');
  if (ref.kind === 'core') return true;
  switch (term.kind) {
    case 'eq':
      return term.value !== null;
    case 'in':
      return term.values.every(isKeyPart);
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
    case 'between':
    case 'prefix':
      return true;
    case 'ne':
    case 'exists':
      return ref.kind === 'tag';
    // Terms of these kinds have no field of their own.
    case 'all':
    case 'and':
    case 'or':
    case 'not':
      return false;
    default:
      return assertNever(term);
  }
}

/** Whether the query's terms include every term of the partial index's `where`. */
function implies(terms: readonly FilterNode[], where: FilterNode | undefined): boolean {
  if (where === undefined) return true;
  const have = new Set(terms.map(canonicalJson));
  const need = where.kind === 'and' ? where.filters : [where];
  return need.every((term) => have.has(canonicalJson(term)));
}

/** Every combination of one value per field (the cartesian product), or undefined past the cap. */
function combinations(lists: readonly KeyPart[][]): IndexKey[] | undefined {
  let total = 1;
  for (const list of lists) total *= list.length;
  if (total > MAX_COMBINATIONS) return undefined;
  let out: KeyPart[][] = [[]];
  for (const list of lists) out = out.flatMap((prefix) => list.map((value) => [...prefix, value]));
  return out;
}

const show = (value: KeyPart) => JSON.stringify(value);

function describeRange(field: string, range: Range): string {
  const low = range.low === undefined ? '' : `${range.lowInclusive ? '[' : '('}${show(range.low)}`;
  const high = range.high === undefined ? '' : `${show(range.high)}${range.highInclusive ? ']' : ')'}`;
  if (low && high) return `${field} in ${low}, ${high}`;
  return low
    ? `${field} ${range.lowInclusive ? '>=' : '>'} ${show(range.low as KeyPart)}`
    : `${field} ${range.highInclusive ? '<=' : '<'} ${show(range.high as KeyPart)}`;
}

/** Key ids of a btree: keys starting with `prefix`, whose next field (when ranged) is in range. */
function seek(
  index: UserIndex,
  prefix: IndexKey,
  range: Range | undefined,
  enough?: (id: number) => boolean,
): number[] {
  const head = encodeKey(prefix);
  // Keys that continue past an encoded prefix go on with a field tag (\u0001-\u0003): \u0004 ends them all.
  const after = (encoded: string) => `${encoded}\u0004`;
  if (range === undefined) return index.idsBetween(head, after(head), () => true, enough);
  const tag = typeTag(range.type);
  const from = head + (range.low === undefined ? tag : encodePart(range.low));
  const excluded = range.low !== undefined && !range.lowInclusive ? head + encodePart(range.low) : undefined;
  const to =
    range.high === undefined
      ? head + String.fromCharCode(tag.charCodeAt(0) + 1)
      : range.highInclusive
        ? after(head + encodePart(range.high))
        : head + encodePart(range.high);
  return index.idsBetween(
    from,
    to,
    excluded === undefined ? () => true : (key) => !key.startsWith(excluded),
    enough,
  );
}

/** The access path a user-defined index offers this query, if it can serve it. */
function pathFor(
  index: UserIndex,
  terms: readonly FilterNode[],
  byField: Map<string, Constraint>,
  perRow: number,
  /** Rows of the best path so far: past it, counting this one's rows stops (it cannot win). */
  bound: number,
): AccessPath | undefined {
  const { definition } = index;
  if (!implies(terms, definition.where)) return undefined;
  const fields = definition.fields;
  let prefix = 0;
  while (prefix < fields.length && byField.get(fields[prefix] as string)?.values !== undefined) prefix++;
  const lists = fields.slice(0, prefix).map((field) => byField.get(field)?.values as KeyPart[]);
  const conditions = fields.slice(0, prefix).map((field, i) => {
    const values = lists[i] as KeyPart[];
    return values.length === 1
      ? `${field} = ${show(values[0] as KeyPart)}`
      : `${field} in (${values.map(show).join(', ')})`;
  });
  const range = prefix < fields.length ? byField.get(fields[prefix] as string)?.range : undefined;
  // An event with no scalar in a field after those the seek bounds is not in the index, yet the
  // query may match it: unless the index holds none such, a term must rule each of them out.
  for (let j = prefix + (range === undefined ? 0 : 1); j < fields.length; j++) {
    if (index.gapsAt(j) > 0 && byField.get(fields[j] as string)?.scalar !== true) return undefined;
  }
  let ids: number[];
  if (definition.type === 'hash' || prefix === fields.length) {
    if (prefix < fields.length) return undefined;
    const keys = combinations(lists);
    if (keys === undefined) return undefined;
    ids = index.idsOf(keys);
  } else {
    if (prefix === 0 && range === undefined) return undefined;
    const prefixes = combinations(lists);
    if (prefixes === undefined) return undefined;
    const idsFor = (enough?: (id: number) => boolean) => [
      ...new Set(prefixes.flatMap((keyPrefix) => seek(index, keyPrefix, range, enough))),
    ];
    let counted = 0;
    ids = idsFor((id) => (counted += index.countOf([id])) > bound);
    if (range !== undefined) conditions.push(describeRange(fields[prefix] as string, range));
    if (counted > bound) {
      // Stopped early: its size is only known to exceed the best path's, so it is costed at that.
      return lookupPath(
        index.name,
        `${conditions.join(' and ')} (over ${bound} rows: not counted further)`,
        counted,
        () => index.rowsOf(idsFor()),
        perRow,
        fields.slice(0, conditions.length),
      );
    }
  }
  return lookupPath(
    index.name,
    conditions.join(' and '),
    index.countOf(ids),
    () => index.rowsOf(ids),
    perRow,
    fields.slice(0, conditions.length),
  );
}

/** Paths from every ready user-defined index that can serve the query's top-level AND terms. */
export function userIndexPaths(
  indexes: readonly UserIndex[],
  terms: readonly FilterNode[],
  perRow: number,
  /**
   * Rows of the best path found so far (the built-in ones): indexes that cannot beat it stop
   * counting. Infinity counts every path exactly.
   */
  bound = Infinity,
): AccessPath[] {
  if (indexes.length === 0) return [];
  const byField = constraints(terms);
  // The indexes constraining the most fields first: they set a low bound for the rest.
  const constrained = (index: UserIndex) =>
    index.definition.fields.filter((field) => byField.has(field)).length;
  const ordered = [...indexes].sort((a, b) => constrained(b) - constrained(a));
  const paths: AccessPath[] = [];
  let best = bound;
  for (const index of ordered) {
    const path = pathFor(index, terms, byField, perRow, best);
    if (path === undefined) continue;
    paths.push(path);
    // An infinite bound asks for exact counts (hints name indexes): nothing tightens it then.
    if (bound !== Infinity) best = Math.min(best, path.estimatedRows);
  }
  return paths;
}
