import { accumulatorFor, inputReader } from '../../analytics/accumulator-for.js';
import { gridOf } from '../../analytics/stages/bucket-rows.js';
import { groupKeyText, keyValue } from '../../analytics/stages/group-key.js';
import { readRowField } from '../../analytics/stages/read-row-field.js';
import { compileRowFilter } from '../../analytics/stages/row-filter.js';
import type { StoredEvent } from '../../events/types.js';
import type { AggregateSpec } from '../../query/aggregate-spec.js';
import type { EventQuery, FilterNode } from '../../query/ast.js';
import type { PipelineRow } from '../../query/analytics-ast.js';
import type { KeyedRead } from './cache-key.js';

/**
 * Brings a cached answer up to date with newly committed events instead of reading it again, where
 * that is exact: the new events are the only change (no retention that moves with appends or the
 * clock), the query's filter is one the row filter reads exactly as the engine does, and the answer
 * is either a group-by whose aggregates merge (count, count(field), integer sums, min, max; per
 * bucket and group, no new group), or a list of events in sequence order. A refresher returns the
 * new rows, or undefined when these events need a real read (the entry is then dropped).
 */
export type Refresher = (rows: readonly unknown[], events: readonly StoredEvent[]) => unknown[] | undefined;

/** Fields whose row-filter reading is exactly the engine's. */
const EXACT_FIELDS = new Set(['sequence', 'id', 'aggregateId', 'type', 'timestamp', 'version']);

/** The tag keys a filter reads, or undefined when it reads a field the row filter may read otherwise than the engine. */
function exactFilterTags(node: FilterNode, tags: Set<string>): Set<string> | undefined {
  switch (node.kind) {
    case 'all':
      return tags;
    case 'and':
    case 'or':
      for (const child of node.filters) if (exactFilterTags(child, tags) === undefined) return undefined;
      return tags;
    case 'not':
      return exactFilterTags(node.filter, tags);
    default:
      if (EXACT_FIELDS.has(node.field)) return tags;
      // A tag compared with text: exact when the event's tag is text too (checked per event).
      if (
        node.field.startsWith('tags.') &&
        (node.kind === 'eq' || node.kind === 'in' || node.kind === 'exists')
      ) {
        const values = node.kind === 'eq' ? [node.value] : node.kind === 'in' ? node.values : [];
        if (values.every((value) => typeof value === 'string')) return tags.add(node.field.slice(5));
      }
      return undefined;
  }
}

/** The new events the query selects, or undefined when one of them could be read otherwise by the engine. */
function selector(
  query: EventQuery,
): ((events: readonly StoredEvent[]) => StoredEvent[] | undefined) | undefined {
  const tags = exactFilterTags(query.filter, new Set());
  if (tags === undefined) return undefined;
  const test = compileRowFilter(query.filter);
  return (events) => {
    const out: StoredEvent[] = [];
    for (const event of events) {
      for (const key of tags) {
        const value = event.tags[key];
        if (value !== undefined && typeof value !== 'string') return undefined;
      }
      if (test(event)) out.push(event);
    }
    return out;
  };
}

type Merge = (old: unknown, added: unknown) => { value: unknown } | undefined;

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** How an aggregate's cached value takes the new events' own: undefined when it cannot exactly. */
function mergeOf(spec: AggregateSpec): Merge | undefined {
  switch (spec.kind) {
    case 'count':
      return (old, added) => (isNumber(old) && isNumber(added) ? { value: old + added } : undefined);
    case 'countField':
      return (old, added) => {
        const total = ((old as number | null) ?? 0) + ((added as number | null) ?? 0);
        return { value: total === 0 ? null : total };
      };
    case 'sum':
      // Integers add exactly in any order; fractions would round otherwise than the engine's pass.
      return (old, added) => {
        if (added === null) return { value: old };
        if (old === null) return { value: added };
        const total = (old as number) + (added as number);
        return Number.isSafeInteger(old) && Number.isSafeInteger(added) && Number.isSafeInteger(total)
          ? { value: total }
          : undefined;
      };
    case 'min':
    case 'max': {
      const pick = spec.kind === 'min' ? Math.min : Math.max;
      return (old, added) => {
        if (added === null || added === undefined) return { value: old };
        if (old === null || old === undefined) return { value: added };
        return isNumber(old) && isNumber(added) ? { value: pick(old, added) } : undefined;
      };
    }
    default:
      return undefined;
  }
}

function groupRefresher(query: EventQuery): Refresher | undefined {
  const analytics = query.analytics;
  if (analytics === undefined || analytics.aggregates === undefined) return undefined;
  const { join, pattern, window, having, funnel, bucket, groupBy = [], aggregates, ...rest } = analytics;
  if (join || pattern || window || having || funnel || Object.keys(rest).length > 0) return undefined;
  if (bucket !== undefined && (bucket.fill !== undefined || bucket.timezone !== undefined)) return undefined;
  if (query.orderBy.length > 0 || query.limit !== undefined || query.offset !== undefined) return undefined;
  const select = selector(query);
  if (select === undefined) return undefined;
  const parts: { alias: string; spec: AggregateSpec; merge: Merge }[] = [];
  for (const [alias, spec] of Object.entries(aggregates)) {
    if (!('kind' in spec)) return undefined;
    const merge = mergeOf(spec as AggregateSpec);
    if (merge === undefined) return undefined;
    parts.push({ alias, spec: spec as AggregateSpec, merge });
  }
  const grid = bucket === undefined ? undefined : gridOf(bucket);
  const bucketField = bucket?.field ?? 'timestamp';
  const keys = [...(bucket === undefined ? [] : ['bucket']), ...groupBy];
  const keyOfEvent = (event: StoredEvent): string => {
    const values: unknown[] = [];
    if (grid !== undefined) {
      const ms = readRowField(event, bucketField);
      values.push(typeof ms === 'number' && Number.isFinite(ms) ? grid.start(ms) : null);
    }
    for (const field of groupBy) values.push(keyValue(readRowField(event, field)));
    return groupKeyText(values);
  };
  return (rows, events) => {
    const selected = select(events);
    if (selected === undefined) return undefined;
    if (selected.length === 0) return rows as unknown[];
    const at = new Map<string, number>();
    rows.forEach((row, i) => at.set(groupKeyText(keys.map((name) => (row as PipelineRow)[name])), i));
    const added = new Map<number, StoredEvent[]>();
    for (const event of selected) {
      const row = at.get(keyOfEvent(event));
      // A new group: where the engine puts it is the engine's business. Read again.
      if (row === undefined) return undefined;
      const list = added.get(row);
      if (list === undefined) added.set(row, [event]);
      else list.push(event);
    }
    const next = [...rows] as unknown[];
    for (const [row, list] of added) {
      const updated: PipelineRow = { ...(rows[row] as PipelineRow) };
      for (const { alias, spec, merge } of parts) {
        const accumulator = accumulatorFor(spec);
        const input = inputReader(spec);
        let state = accumulator.init();
        for (const event of list) state = accumulator.add(state, input(event), event);
        const merged = merge(updated[alias], accumulator.result(state));
        if (merged === undefined) return undefined;
        updated[alias] = merged.value;
      }
      next[row] = updated;
    }
    return next;
  };
}

/** A list of whole events in sequence order (ascending or descending), from the first: new events go at one end. */
function listRefresher(query: EventQuery): Refresher | undefined {
  if (query.analytics !== undefined || query.select !== undefined || (query.offset ?? 0) !== 0)
    return undefined;
  if (query.after !== undefined) return undefined;
  const [order, ...more] = query.orderBy;
  if (more.length > 0 || (order !== undefined && order.field !== 'sequence')) return undefined;
  const descending = order?.direction === 'desc';
  const limit = query.limit ?? Infinity;
  const select = selector(query);
  if (select === undefined) return undefined;
  return (rows, events) => {
    const selected = select(events);
    if (selected === undefined) return undefined;
    if (selected.length === 0) return rows as unknown[];
    // The appender holds the committed events: the cache keeps copies of its own, of those it keeps.
    const copy = (events: readonly StoredEvent[]) => events.map((event) => structuredClone(event));
    if (descending) {
      const newest = copy(selected.slice(-Math.min(limit, selected.length))).reverse();
      return [...newest, ...rows].slice(0, limit);
    }
    if (rows.length >= limit) return rows as unknown[];
    return [...rows, ...copy(selected.slice(0, limit - rows.length))];
  };
}

/** The refresher for a read, or undefined when its answer is read again after any change. */
export function refresherFor(read: KeyedRead): Refresher | undefined {
  if (read.shape !== 'rows' || read.archiveDir !== undefined) return undefined;
  const { query } = read;
  if ((query.source ?? 'events') !== 'events') return undefined;
  if (query.hints?.useIndex !== undefined || query.hints?.forceIndex !== undefined) return undefined;
  return query.analytics === undefined ? listRefresher(query) : groupRefresher(query);
}
