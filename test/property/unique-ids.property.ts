/**
 * Event ids against a plain-JS oracle (a Map of id → stored event): random sequences of appends
 * whose ids come from a small pool, so ids repeat within batches, across batches, with the same
 * content (a retry) and with other content (a conflict), with and without a timestamp. On a durable
 * engine the store is also closed and reopened (sometimes without its checkpoint) between appends.
 *
 * `uniqueIdsProperties(factory)` runs this against one engine (runner: unique-ids.property.test.ts).
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  DuplicateEventIdError,
  ManualClock,
  ValidationError,
  type EventStore,
  type NewEvent,
  type StoredEvent,
} from '../../src/index.js';
import type { StoreFactory } from '../contract/factory.js';
import { rejection } from '../support/helpers.js';

const T0 = Date.UTC(2026, 0, 1);
const NOW = T0 + 3_600_000;

interface Spec {
  id: number;
  /** Picks type, payload and (when given) timestamp: the same variant is the same content. */
  variant: number;
  aggregate: number;
  timestamp: boolean;
}

type Command = { kind: 'append'; events: Spec[] } | { kind: 'reopen'; dropCheckpoint: boolean };

const specArb = fc.record({
  id: fc.integer({ min: 0, max: 5 }),
  variant: fc.integer({ min: 0, max: 1 }),
  aggregate: fc.integer({ min: 0, max: 1 }),
  timestamp: fc.boolean(),
});
const appendArb = fc.record({
  kind: fc.constant('append' as const),
  events: fc.array(specArb, { minLength: 1, maxLength: 4 }),
});
const reopenArb = fc.record({ kind: fc.constant('reopen' as const), dropCheckpoint: fc.boolean() });

function toEvent(spec: Spec): NewEvent {
  return {
    id: `id-${spec.id}`,
    aggregateId: `agg-${spec.aggregate}`,
    type: `T${spec.variant}`,
    payload: { variant: spec.variant, nested: { list: [spec.variant, 'x'] } },
    ...(spec.timestamp ? { timestamp: T0 + spec.variant * 1000 } : {}),
  };
}

/** The oracle: what the store holds, and what an append of `specs` must do to it. */
class Oracle {
  readonly events: StoredEvent[] = [];
  private readonly byId = new Map<string, StoredEvent>();
  private readonly versions = new Map<string, number>();

  append(
    specs: Spec[],
  ):
    | { error: 'in-batch' }
    | { error: 'conflict'; id: string; sequence: number; eventIndex: number }
    | StoredEvent[] {
    const events = specs.map(toEvent);
    if (new Set(events.map((e) => e.id)).size < events.length) return { error: 'in-batch' };
    for (const [i, event] of events.entries()) {
      const stored = this.byId.get(event.id!);
      if (stored === undefined) continue;
      const same =
        stored.aggregateId === event.aggregateId &&
        stored.type === event.type &&
        (event.timestamp === undefined || stored.timestamp.getTime() === event.timestamp);
      // Payload follows the type (both from the variant).
      if (!same) return { error: 'conflict', id: event.id!, sequence: stored.sequence, eventIndex: i };
    }
    return events.map((event) => {
      const known = this.byId.get(event.id!);
      if (known !== undefined) return known;
      const version = (this.versions.get(event.aggregateId) ?? 0) + 1;
      this.versions.set(event.aggregateId, version);
      const stored: StoredEvent = {
        sequence: this.events.length + 1,
        id: event.id!,
        aggregateId: event.aggregateId,
        version,
        type: event.type,
        timestamp: new Date((event.timestamp as number | undefined) ?? NOW),
        tags: {},
        payload: event.payload,
        metadata: {},
      };
      this.events.push(stored);
      this.byId.set(stored.id, stored);
      return stored;
    });
  }
}

async function run(factory: StoreFactory, commands: Command[]): Promise<void> {
  const ctx = await factory.open({ clock: new ManualClock(NOW) });
  let store: EventStore = ctx.store;
  const oracle = new Oracle();
  try {
    for (const command of commands) {
      if (command.kind === 'reopen') {
        await store.close();
        if (command.dropCheckpoint && factory.capabilities.checkpoints) await ctx.dropCheckpoint!();
        store = await ctx.reopen!({ clock: new ManualClock(NOW) });
        continue;
      }
      const expected = oracle.append(command.events);
      const events = command.events.map(toEvent);
      if ('error' in expected) {
        const error = await rejection(() => store.append(events));
        expect(error).toBeInstanceOf(ValidationError);
        expect(error).toMatchObject({ code: 'DUPLICATE_EVENT_ID' });
        if (expected.error === 'conflict') {
          expect(error).toBeInstanceOf(DuplicateEventIdError);
          expect(error).toMatchObject({
            id: expected.id,
            sequence: expected.sequence,
            eventIndex: expected.eventIndex,
          });
        }
      } else {
        expect(await store.append(events)).toEqual(expected);
      }
      expect(store.stats().lastSequence).toBe(oracle.events.length);
    }
    expect(await store.read()).toEqual(oracle.events);
  } finally {
    try {
      await store.close();
    } finally {
      await ctx.cleanup();
    }
  }
}

export function uniqueIdsProperties(factory: StoreFactory): void {
  describe(`event ids against a Map oracle: ${factory.name}`, () => {
    if (factory.capabilities.durable) {
      test('appends, and reopens between them (with and without the checkpoint)', async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.oneof({ arbitrary: appendArb, weight: 4 }, { arbitrary: reopenArb, weight: 1 }), {
              minLength: 1,
              maxLength: 15,
            }),
            (commands) => run(factory, commands),
          ),
          { numRuns: 20 },
        );
      });
    } else {
      test('appends', async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(appendArb, { minLength: 1, maxLength: 20 }), (commands) =>
            run(factory, commands),
          ),
          { numRuns: 150 },
        );
      });
    }
  });
}
