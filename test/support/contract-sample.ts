/**
 * The sample the contract suites query (eight events over three orders), the time T0 its
 * timestamps count from, and the shape of a default id.
 */
import type { EventStore, NewEvent, StoredEvent } from '../../src/index.js';

export const HOUR = 3_600_000;
export const T0 = Date.UTC(2023, 5, 1);

export const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * The sample used by the query tests. Timestamps are out of append order on purpose; two events
 * share a timestamp; tag values of different types (1, '1', true) must not be confused.
 *
 *  seq agg type            time    tags                            version
 *   1  a1  ORDER.PLACED    +5h     region eu, tier 1, vip true     1
 *   2  a2  ORDER.PLACED    +1h     region us, tier 2               1
 *   3  a1  ORDER.PAID      +3h     region eu, tier '1'             2
 *   4  a3  ORDER.SHIPPED   +0      (none)                          1
 *   5  a1  ORDER.SHIPPED   +7h     region eu, vip false            3
 *   6  a2  ORDER.PAID      +2h     region us, tier 1               2
 *   7  a2  ORDER.SHIPPED   +1h     region apac                     3
 *   8  a1  ORDER.CLOSED    +4h30m  region eu, tier 1               4
 */
export function sampleEvents(): NewEvent[] {
  return [
    {
      aggregateId: 'a1',
      type: 'ORDER.PLACED',
      timestamp: T0 + 5 * HOUR,
      tags: { region: 'eu', tier: 1, vip: true },
      payload: { n: 1 },
    },
    {
      aggregateId: 'a2',
      type: 'ORDER.PLACED',
      timestamp: new Date(T0 + HOUR),
      tags: { region: 'us', tier: 2 },
      payload: { n: 2 },
    },
    {
      aggregateId: 'a1',
      type: 'ORDER.PAID',
      timestamp: new Date(T0 + 3 * HOUR).toISOString(),
      tags: { region: 'eu', tier: '1' },
      payload: { n: 3 },
    },
    { aggregateId: 'a3', type: 'ORDER.SHIPPED', timestamp: T0, payload: { n: 4 } },
    {
      aggregateId: 'a1',
      type: 'ORDER.SHIPPED',
      timestamp: T0 + 7 * HOUR,
      tags: { region: 'eu', vip: false },
      payload: { n: 5 },
    },
    {
      aggregateId: 'a2',
      type: 'ORDER.PAID',
      timestamp: T0 + 2 * HOUR,
      tags: { region: 'us', tier: 1 },
      payload: { n: 6 },
    },
    {
      aggregateId: 'a2',
      type: 'ORDER.SHIPPED',
      timestamp: T0 + HOUR,
      tags: { region: 'apac' },
      payload: { n: 7 },
    },
    {
      aggregateId: 'a1',
      type: 'ORDER.CLOSED',
      timestamp: T0 + 4.5 * HOUR,
      tags: { region: 'eu', tier: 1 },
      payload: { n: 8 },
    },
  ];
}

/** Appends the sample in three batches (3, 1 and 4 events); returns all stored events. */
export async function appendSample(store: EventStore): Promise<StoredEvent[]> {
  const events = sampleEvents();
  const stored = [
    ...(await store.append(events.slice(0, 3))),
    ...(await store.append(events[3]!)),
    ...(await store.append(events.slice(4))),
  ];
  return stored;
}

/** Runs every query the sample supports and returns the results, to compare a store before and after something. */
export async function sampleQueries(store: EventStore): Promise<unknown[]> {
  return [
    await store.read(),
    await store.getEvents('a1'),
    await store.getEvents('a2', { fromVersion: 2 }),
    await store.getEventsByType('ORDER.SHIPPED'),
    await store.getEventsByType('ORDER.PAID', { afterSequence: 3 }),
    await store.getEventsInRange(T0 + HOUR, T0 + 3 * HOUR),
    await store.queryEvents({ tags: { region: 'eu', tier: 1 } }),
    await store.queryEvents({ tags: { tier: '1' } }),
    await store.queryEvents({ aggregateId: ['a2', 'a3'], order: 'desc' }),
    await store.queryEvents({ type: ['ORDER.PAID', 'ORDER.CLOSED'], from: T0 + 2 * HOUR, to: T0 + 5 * HOUR }),
  ];
}
