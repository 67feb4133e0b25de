/** The sample the erasure tests delete streams from: six interleaved streams of ten events. */
import type { EventStore, StoredEvent } from '../../src/index.js';

export const T0 = Date.UTC(2026, 0, 1);

export const seqs = (rows: readonly unknown[]) => (rows as StoredEvent[]).map((event) => event.sequence);

/** 60 events over streams s0..s5 (10 each, interleaved), types A and B, tag k. */
export async function fill(store: EventStore): Promise<void> {
  await store.append(
    Array.from({ length: 60 }, (_, i) => ({
      aggregateId: `s${i % 6}`,
      type: i % 2 ? 'A' : 'B',
      timestamp: T0 + i * 1000,
      tags: { k: `v${i % 3}` },
      payload: { n: i },
    })),
  );
}

/** The sequences still visible once the `deleted` streams are erased. */
export const live = (deleted: Set<string>) =>
  Array.from({ length: 60 }, (_, i) => i)
    .filter((i) => !deleted.has(`s${i % 6}`))
    .map((i) => i + 1);
