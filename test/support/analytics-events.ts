import fc from 'fast-check';

/** A small analytics test event: a partition `p`, a `type`, and its time as epoch ms or a Date. */
export interface Ev {
  timestamp: number | Date;
  sequence: number;
  p: string;
  type: string;
}

/**
 * Small partitions, few types, timestamps colliding often (sequence breaks ties), some as Dates;
 * sequences unique, in an order unrelated to time (late events), `stride` apart.
 */
export function sequencedEvents(options: {
  maxTime: number;
  partitions: readonly string[];
  types: readonly string[];
  maxLength: number;
  stride: number;
}): fc.Arbitrary<Ev[]> {
  return fc
    .array(
      fc.record({
        t: fc.integer({ min: 0, max: options.maxTime }),
        p: fc.constantFrom(...options.partitions),
        type: fc.constantFrom(...options.types),
        asDate: fc.boolean(),
      }),
      { maxLength: options.maxLength },
    )
    .chain((raw) =>
      fc
        .shuffledSubarray(
          raw.map((_, i) => i * options.stride + 1),
          { minLength: raw.length, maxLength: raw.length },
        )
        .map((sequences) =>
          raw.map((r, i): Ev => ({
            timestamp: r.asDate ? new Date(r.t) : r.t,
            sequence: sequences[i] as number,
            p: r.p,
            type: r.type,
          })),
        ),
    );
}
