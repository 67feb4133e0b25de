import fc from 'fast-check';
import type { StoredEvent } from '../../../src/events/types.js';

/**
 * Stored events for the row-stage tests: few types and origins (so groups repeat), timestamps in a
 * small range colliding often and unrelated to sequence (late events), tags and payload fields
 * sometimes missing, `delay` sometimes a string (skipped by numeric aggregates).
 */
export function storedEvents(
  options: { maxLength?: number; maxTime?: number } = {},
): fc.Arbitrary<StoredEvent[]> {
  const maxTime = options.maxTime ?? 10_000;
  return fc
    .array(
      fc.record({
        t: fc.integer({ min: 0, max: maxTime }),
        type: fc.constantFrom('A', 'B', 'C'),
        origin: fc.option(fc.constantFrom('ORD', 'SFO', 'JFK'), { nil: undefined }),
        delay: fc.option(fc.oneof(fc.integer({ min: -50, max: 500 }), fc.constant('late')), {
          nil: undefined,
        }),
        aggregateId: fc.constantFrom('w1', 'w2', 'w3'),
      }),
      { maxLength: options.maxLength ?? 40 },
    )
    .chain((raw) =>
      fc
        .shuffledSubarray(
          raw.map((_, i) => i + 1),
          { minLength: raw.length, maxLength: raw.length },
        )
        .map((sequences) =>
          raw.map((r, i): StoredEvent => ({
            sequence: sequences[i]!,
            id: `e${sequences[i]}`,
            aggregateId: r.aggregateId,
            version: 1,
            type: r.type,
            timestamp: new Date(r.t),
            tags: r.origin === undefined ? {} : { origin: r.origin },
            payload: r.delay === undefined ? {} : { delay: r.delay },
            metadata: {},
          })),
        ),
    );
}

export const finite = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);
