// The events unique-ids.test.ts and id-writer.mjs both append: batch `b` is the same every time it
// is made, so appending it again is an exact retry.
import type { NewEvent } from '../../src/index.js';

export const T0 = Date.UTC(2026, 0, 1);

export function idBatch(b: number): NewEvent[] {
  return Array.from({ length: 1 + (b % 7) }, (_, i) => ({
    id: `b${b}-e${i}`,
    aggregateId: `agg-${(b + i) % 5}`,
    type: `T${b % 3}`,
    timestamp: T0 + b * 1000 + i,
    tags: { b, i },
    payload: { b, i, text: 'lorem ipsum '.repeat(4) },
  }));
}
