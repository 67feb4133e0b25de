/** Shared helpers for the planner tests: fixtures, forced-scan comparison, plan-cache deltas. */
import { expect } from 'vitest';
import type {
  AdvancedQueryBuilder,
  EventStore,
  PlanCacheStats,
  ResultRow,
  StoredEvent,
} from '../../src/index.js';

export const T0 = Date.UTC(2025, 0, 1);
export const SECOND = 1000;

export const seqs = (rows: readonly ResultRow[]): number[] => (rows as StoredEvent[]).map((e) => e.sequence);

/** Appends `count` events made by `make`, in batches. */
export async function fill(
  store: EventStore,
  count: number,
  make: (i: number) => Parameters<EventStore['append']>[0] & object,
  from = 0,
): Promise<void> {
  const BATCH = 5000;
  for (let i = from; i < from + count; i += BATCH) {
    const n = Math.min(BATCH, from + count - i);
    await store.append(Array.from({ length: n }, (_, j) => make(i + j)) as never);
  }
}

/** Runs the query as planned and with a forced scan; asserts both return the same rows; returns them. */
export async function sameAsScan(query: AdvancedQueryBuilder): Promise<number[]> {
  const scanned = seqs(await query.hint({ forceIndex: ['scan'] }).execute());
  const planned = seqs(await query.execute());
  expect(planned).toEqual(scanned);
  return planned;
}

/** Plan-cache counters after `fn`, minus before. */
export async function cacheDelta(store: EventStore, fn: () => Promise<unknown>): Promise<PlanCacheStats> {
  const before = store.stats().planCache;
  await fn();
  const after = store.stats().planCache;
  return {
    entries: after.entries - before.entries,
    hits: after.hits - before.hits,
    misses: after.misses - before.misses,
    invalidations: after.invalidations - before.invalidations,
  };
}

/** How often the planner has used each index, built-in or not. */
export async function usage(store: EventStore): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const { name, uses } of await store.indexes.getIndexUsage()) out[name] = uses;
  return out;
}
