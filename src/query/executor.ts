import type { StoredEvent } from '../events/types.js';
import type { EventTable } from '../table/event-table.js';
import type { DecodedBody } from '../storage/embedded/record-codec.js';
import type { OrderTerm } from './ast.js';
import { fieldGetter } from './compile-filter.js';
import { ownTag, readPath, resolveField } from './fields.js';
import type { ParallelScanPool } from './parallel-scan.js';
import { CHECK_EVERY, type QueryGuard } from './query-guard.js';
import type { QueryPlan } from './query-optimizer.js';
import { collectParallel, collectVectorized } from './vectorized-select.js';

/** What one execution saw: for EXPLAIN ANALYZE and the query monitor. */
export interface ExecutionCounts {
  /** Rows the access path produced. */
  examined: number;
  /** Rows that passed the filter. */
  matched: number;
}

/**
 * Runs a plan's row phase: candidate rows from the access path, the filter, then order, offset
 * and limit. With the access path already in the requested (sequence) order, it stops as soon as
 * offset + limit rows matched (top-k for free); any other order collects and sorts matching rows.
 * A vectorized plan checks its column terms a window of rows at a time (vectorized-select.ts), on
 * the pool's workers when the plan is parallel. Returns row numbers; hydrating them is the caller's
 * (so a stream can hydrate page by page).
 */
export async function selectRows(
  plan: QueryPlan,
  table: EventTable,
  body: (row: number) => DecodedBody,
  guard: QueryGuard,
  pool: ParallelScanPool,
  counts: ExecutionCounts = { examined: 0, matched: 0 },
): Promise<number[]> {
  const { query, vectorized } = plan;
  const offset = query.offset ?? 0;
  const wanted = query.limit === undefined ? Infinity : offset + query.limit;
  if (wanted === 0) return [];
  const limit = plan.sorted ? wanted : Infinity;
  const out =
    vectorized === undefined
      ? collectPerRow(plan, guard, counts, limit)
      : vectorized.workers > 0
        ? await collectParallel(plan, vectorized, pool, guard, counts, limit)
        : collectVectorized(plan, vectorized, table, guard, counts, limit);
  if (!plan.sorted) sortRows(out, query.orderBy, table, body);
  return out.slice(offset, wanted);
}

/** The access path's rows that pass the whole filter, one predicate call a row, up to `limit`. */
function collectPerRow(plan: QueryPlan, guard: QueryGuard, counts: ExecutionCounts, limit: number): number[] {
  const { predicate } = plan;
  const rows = plan.access.rows();
  const out: number[] = [];
  const visit = (row: number): boolean => {
    if (++counts.examined % CHECK_EVERY === 0) guard.check();
    if (!predicate(row)) return false;
    counts.matched++;
    out.push(row);
    return out.length >= limit;
  };
  if (plan.descending) {
    for (let i = rows.length - 1; i >= 0; i--) if (visit(rows.at(i))) break;
  } else {
    for (let i = 0; i < rows.length; i++) if (visit(rows.at(i))) break;
  }
  return out;
}

type SortValue = string | number | boolean | null | undefined;

function sortValue(
  term: OrderTerm,
  table: EventTable,
  body: (row: number) => DecodedBody,
): (row: number) => SortValue {
  const get = fieldGetter(resolveField(term.field, 'orderBy.field'), table, body);
  // Objects and arrays have no order: they sort as missing.
  return (row) => {
    const value = get(row);
    return value === null || typeof value !== 'object' ? (value as SortValue) : undefined;
  };
}

const TYPE_RANK: Record<string, number> = { boolean: 0, number: 1, string: 2 };

/** Missing values (undefined and null alike) sort last; values of different types sort boolean < number < string. */
function compareValues(a: SortValue, b: SortValue): number {
  const missingA = a === undefined || a === null;
  const missingB = b === undefined || b === null;
  if (missingA || missingB) return missingA === missingB ? 0 : missingA ? 1 : -1;
  if (a === b) return 0;
  if (typeof a !== typeof b) return (TYPE_RANK[typeof a] as number) - (TYPE_RANK[typeof b] as number);
  return a < b ? -1 : 1;
}

/** Sorts rows by the terms; ascending sequence breaks ties, so results are deterministic. */
function sortRows(
  rows: number[],
  order: readonly OrderTerm[],
  table: EventTable,
  body: (row: number) => DecodedBody,
): void {
  const getters = order.map((term) => sortValue(term, table, body));
  const keys = rows.map((row) => getters.map((get) => get(row)));
  const index = rows.map((_, i) => i);
  index.sort((x, y) => {
    const kx = keys[x] as SortValue[];
    const ky = keys[y] as SortValue[];
    for (let t = 0; t < order.length; t++) {
      const missingX = kx[t] === undefined || kx[t] === null;
      const missingY = ky[t] === undefined || ky[t] === null;
      let c = compareValues(kx[t], ky[t]);
      // Missing values stay last whichever the direction.
      if (c !== 0 && !(missingX || missingY) && order[t]?.direction === 'desc') c = -c;
      if (c !== 0) return c;
    }
    return (rows[x] as number) - (rows[y] as number);
  });
  const sorted = index.map((i) => rows[i] as number);
  for (let i = 0; i < rows.length; i++) rows[i] = sorted[i] as number;
}

/** Keeps only the selected fields; names are kept as given (`payload.order.total`). */
export function project(event: StoredEvent, select: readonly string[] | undefined): Record<string, unknown> {
  if (select === undefined) return event as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of select) {
    const ref = resolveField(field, 'select');
    out[field] =
      ref.kind === 'core'
        ? event[ref.name]
        : ref.kind === 'tag'
          ? ownTag(event.tags, ref.key)
          : readPath(event.payload, ref.path);
  }
  return out;
}
