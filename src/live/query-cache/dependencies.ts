import type { StoredEvent } from '../../events/types.js';
import { compileRowFilter } from '../../analytics/stages/row-filter.js';
import type { EventQuery, FilterNode, Scalar } from '../../query/ast.js';
import type { KeyedRead } from './cache-key.js';

/**
 * What a cached answer depends on: which events could change it (arriving, coming back from the
 * archive, or disappearing), which streams, whether it reads live events or the archive, which
 * indexes its hints name. Every test here may say yes when the true answer is no (the entry is
 * dropped for nothing: a performance bug), never no when it is yes (a stale answer).
 */
export interface Dependencies {
  /** Whether this event, added or removed, could change the answer. */
  readonly touches: (event: StoredEvent) => boolean;
  /** The event types the answer can hold; undefined: any. The cache indexes entries by it. */
  readonly types: ReadonlySet<string> | undefined;
  /** The streams the answer can hold; undefined: any. The cache indexes entries by it when types say nothing. */
  readonly aggregates: ReadonlySet<string> | undefined;
  /** One tag the answer's events must hold, with its possible values (`key=value` texts); undefined: none. */
  readonly tagValues: ReadonlySet<string> | undefined;
  /** Whether deleting this stream could change the answer. */
  readonly touchesStream: (aggregateId: string) => boolean;
  /** Reads live events (retention hides them as the clock moves; commits add to them). */
  readonly live: boolean;
  /** Reads the archive (cleanup adds to it). */
  readonly archive: boolean;
  /** Indexes its hints name (useIndex, forceIndex), its join's included. */
  readonly indexes: ReadonlySet<string>;
  /** The filters over live events it reads: the retention probe reads the same events. */
  readonly liveFilters: readonly FilterNode[];
}

type Predicate = (event: StoredEvent) => boolean;

const ALWAYS: Predicate = () => true;

/** Fields whose row-filter reading is exactly the engine's (plain columns of every event). */
const EXACT_FIELDS = new Set(['sequence', 'id', 'aggregateId', 'type', 'timestamp', 'version']);

/** A tag equality, loosened to compare as text: a superset of the engine's test, whatever it coerces. */
function looseTagTest(field: string, values: readonly Scalar[]): Predicate {
  const key = field.slice('tags.'.length);
  const wanted = new Set(values.map((value) => String(value)));
  return (event) => {
    const value = event.tags[key];
    return value !== undefined && wanted.has(String(value));
  };
}

/**
 * A predicate that holds for every event the filter selects, and maybe for more: `not` and filters
 * on payloads or tag ranges say yes to everything, so no reading of a nested value can err short.
 */
function looseFilter(node: FilterNode): Predicate {
  switch (node.kind) {
    case 'all':
      return ALWAYS;
    case 'and': {
      const parts = node.filters.map(looseFilter).filter((part) => part !== ALWAYS);
      return parts.length === 0 ? ALWAYS : (event) => parts.every((part) => part(event));
    }
    case 'or': {
      const parts = node.filters.map(looseFilter);
      return parts.includes(ALWAYS) ? ALWAYS : (event) => parts.some((part) => part(event));
    }
    case 'not':
      return ALWAYS;
    default:
      if (node.field.startsWith('tags.')) {
        if (node.kind === 'eq') return looseTagTest(node.field, [node.value]);
        if (node.kind === 'in') return looseTagTest(node.field, node.values);
        return ALWAYS;
      }
      if (!EXACT_FIELDS.has(node.field)) return ALWAYS;
      return compileRowFilter(node) as Predicate;
  }
}

/** The first tag the filter pins to text values (eq / in at its top, or under and): `key=value` texts. */
function pinnedTag(node: FilterNode): Set<string> | undefined {
  if (node.kind === 'and') {
    for (const child of node.filters) {
      const found = pinnedTag(child);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  let values: readonly Scalar[];
  if (node.kind === 'eq') values = [node.value];
  else if (node.kind === 'in') values = node.values;
  else return undefined;
  if (!node.field.startsWith('tags.')) return undefined;
  const key = node.field.slice('tags.'.length);
  // Loosened as looseTagTest is: an event's tag is looked up by its text.
  return new Set(values.map((value) => `${key}=${String(value)}`));
}

/** The values of `field` the filter can select (eq / in under and / or); undefined: any. */
function valuesOf(node: FilterNode, field: string): Set<string> | undefined {
  switch (node.kind) {
    case 'eq':
      return node.field === field && typeof node.value === 'string' ? new Set([node.value]) : undefined;
    case 'in':
      return node.field === field && node.values.every((value) => typeof value === 'string')
        ? new Set(node.values as string[])
        : undefined;
    case 'and': {
      let narrowest: Set<string> | undefined;
      for (const child of node.filters) {
        const values = valuesOf(child, field);
        if (values !== undefined && (narrowest === undefined || values.size < narrowest.size))
          narrowest = values;
      }
      return narrowest;
    }
    case 'or': {
      const union = new Set<string>();
      for (const child of node.filters) {
        const values = valuesOf(child, field);
        if (values === undefined) return undefined;
        for (const value of values) union.add(value);
      }
      return union;
    }
    default:
      return undefined;
  }
}

function union(a: Set<string> | undefined, b: Set<string> | undefined): Set<string> | undefined {
  return a === undefined || b === undefined ? undefined : new Set([...a, ...b]);
}

/** The event queries a query reads: itself, and its join's right side. */
function readsOf(query: EventQuery): EventQuery[] {
  const right = query.analytics?.join?.right;
  return right === undefined ? [query] : [query, ...readsOf(right)];
}

export function dependenciesOf(read: KeyedRead): Dependencies {
  const reads = readsOf(read.query);
  const source = read.query.source ?? 'events';
  const live = source !== 'archive';
  const archive = source !== 'events' || read.archiveDir !== undefined;
  const tests = reads.map((query) => looseFilter(query.filter));
  const touches: Predicate = tests.includes(ALWAYS)
    ? ALWAYS
    : tests.length === 1
      ? (tests[0] as Predicate)
      : (event) => tests.some((test) => test(event));
  let types: Set<string> | undefined = valuesOf(reads[0]!.filter, 'type');
  let aggregates: Set<string> | undefined = valuesOf(reads[0]!.filter, 'aggregateId');
  for (const query of reads.slice(1)) {
    types = union(types, valuesOf(query.filter, 'type'));
    aggregates = union(aggregates, valuesOf(query.filter, 'aggregateId'));
  }
  // A join reads two filters: no one tag pins both.
  const tagValues = reads.length === 1 ? pinnedTag(reads[0]!.filter) : undefined;
  const indexes = new Set<string>();
  for (const query of reads) {
    for (const name of [...(query.hints?.useIndex ?? []), ...(query.hints?.forceIndex ?? [])])
      indexes.add(name);
  }
  return {
    touches,
    types,
    aggregates,
    tagValues,
    touchesStream: aggregates === undefined ? () => true : (aggregateId) => aggregates.has(aggregateId),
    live,
    archive,
    indexes,
    liveFilters: live ? reads.map((query) => query.filter) : [],
  };
}
