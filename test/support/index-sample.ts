/**
 * What the user-index tests share (test/contract/*index*.contract.ts and the embedded engine's own
 * test/indexes/index-manager.test.ts): the orders they index, the reference a query through an
 * index is compared with, and what EXPLAIN says.
 */
import type {
  AdvancedQueryBuilder,
  EventStore,
  ExplainNode,
  NewEvent,
  StoredEvent,
} from '../../src/index.js';
import { sequences } from './helpers.js';

/** The time the index tests' ManualClock starts at. */
export const INDEX_T0 = Date.UTC(2025, 0, 1);

/** The built-in indexes listIndexes and getIndexSize always show. */
export const BUILT_INS = ['sequence', 'aggregate', 'type', 'aggregate+type', 'timestamp'];

/** An order: tenant t<n % 3>, amount n % 100, status by n % 4, and an email unique per n. */
export function order(n: number, extra: Partial<NewEvent> = {}): NewEvent {
  return {
    aggregateId: `order-${n % 7}`,
    type: n % 5 === 0 ? 'OrderCancelled' : 'OrderPlaced',
    tags: { tenant: `t${n % 3}` },
    payload: { amount: n % 100, status: ['new', 'paid', 'shipped', 'void'][n % 4], email: `u${n}@x` },
    ...extra,
  };
}

export const orders = (from: number, count: number): NewEvent[] =>
  Array.from({ length: count }, (_, i) => order(from + i));

/** Every query's rows by a forced scan: the reference for what an index must return. */
export async function byScan(query: AdvancedQueryBuilder): Promise<number[]> {
  return sequences((await query.hint({ forceIndex: ['scan'] }).execute()) as StoredEvent[]);
}

export async function byIndex(query: AdvancedQueryBuilder, index: string): Promise<number[]> {
  return sequences((await query.hint({ forceIndex: [index] }).execute()) as StoredEvent[]);
}

/** The indexes EXPLAIN weighed for a query. */
export async function considered(store: EventStore, query: AdvancedQueryBuilder): Promise<string[]> {
  return (await store.explain(query)).considered.map((path) => path.index);
}

/** The access operator at the bottom of a plan. */
export function accessNode(plan: ExplainNode): ExplainNode {
  let node = plan;
  while (node.children[0] !== undefined) node = node.children[0];
  return node;
}

/**
 * The sequences of the events at `positions` of an append's result: the rows a query must return,
 * whatever numbers the engine gave them.
 */
export const at = (appended: readonly StoredEvent[], ...positions: number[]): number[] =>
  positions.map((position) => appended[position]!.sequence);

/** Every store.indexes call, on the indexes the after-close tests create (by_amount): each must refuse on a closed store. */
export function indexCalls(store: EventStore): (() => Promise<unknown>)[] {
  return [
    () => store.indexes.createIndex({ name: 'by_type', fields: ['type'] }),
    () => store.indexes.dropIndex('by_amount'),
    () => store.indexes.rebuildIndex('by_amount'),
    () => store.indexes.listIndexes(),
    () => store.indexes.analyzeIndex('by_amount'),
    () => store.indexes.getIndexUsage(),
    () => store.indexes.getIndexSize(),
  ];
}
