import { afterEach, describe, expect, test } from 'vitest';
import {
  ManualClock,
  openEventStore,
  type EventStore,
  type SkippedEvents,
  type StoredEvent,
  type StorePlugin,
  type Subscription,
} from '../../src/index.js';
import { removeDir, tempDir, turnsUntil } from '../support/helpers.js';

const T0 = Date.UTC(2024, 0, 1);
const MiB = 1024 * 1024;

async function take<P>(sub: Subscription<P>, count: number): Promise<StoredEvent<P>[]> {
  const taken: StoredEvent<P>[] = [];
  while (taken.length < count) {
    const next = await sub.next();
    if (next.done === true) break;
    taken.push(next.value);
  }
  return taken;
}

const sequences = (events: readonly StoredEvent[]) => events.map((event) => event.sequence);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('a stalled consumer', () => {
  let store: EventStore;
  afterEach(() => store?.close());

  test.each([
    ['small events: the event bound holds', 200, 20_000],
    ['large events: the byte bound holds', 8_000, 2_000],
  ])('%s; once it resumes it gets every event exactly once', async (_, payloadBytes, total) => {
    store = await openEventStore({ clock: new ManualClock(T0) });
    const sub = store.subscribe();
    // The consumer takes one event, then stalls while the writer goes on.
    const first = sub.next();
    await turnsUntil(() => sub.live);
    const text = 'x'.repeat(payloadBytes);
    let mostEvents = 0;
    let mostBytes = 0;
    for (let at = 0; at < total; at += 100) {
      await store.append(
        Array.from({ length: 100 }, (_, i) => ({ aggregateId: `a${i % 7}`, type: 'T', payload: { text } })),
      );
      mostEvents = Math.max(mostEvents, sub.buffered.events);
      mostBytes = Math.max(mostBytes, sub.buffered.bytes);
    }
    expect(mostEvents).toBeLessThanOrEqual(1000);
    expect(mostBytes).toBeLessThanOrEqual(MiB);
    // It overflowed, dropped its buffer and now costs the store nothing until it reads again.
    expect(sub.overflows).toBeGreaterThanOrEqual(1);
    expect(sub.live).toBe(false);
    expect(sub.buffered).toEqual({ events: 0, bytes: 0 });
    expect(sub.lag().events).toBe(total - 1);

    expect((await first).value?.sequence).toBe(1);
    const rest = await take(sub, total - 1);
    expect(sequences(rest)).toEqual(range(2, total));
    await turnsUntil(() => sub.live);
    expect(sub.lag()).toEqual({ events: 0, ms: 0 });
  });
});

describe('events the store no longer shows', () => {
  let store: EventStore;
  const dirs: string[] = [];
  afterEach(async () => {
    await store?.close();
    for (const dir of dirs.splice(0)) await removeDir(dir);
  });

  test('a deleted stream is not delivered, from the log or from the live buffer, and counts as skipped', async () => {
    store = await openEventStore({ clock: new ManualClock(T0) });
    const interleaved = ['a', 'x', 'a', 'x', 'a'].map((aggregateId) => ({ aggregateId, type: 'T' }));
    await store.append(interleaved);
    await store.deleteAggregate('x');
    const skips: SkippedEvents[] = [];
    const sub = store.subscribe({ onSkipped: (skip) => skips.push(skip) });
    expect(sequences(await take(sub, 3))).toEqual([1, 3, 5]);
    expect(skips).toEqual([
      { from: 2, to: 2, count: 1 },
      { from: 4, to: 4, count: 1 },
    ]);
    expect(sub.skipped).toBe(2);

    // Live: events of a stream buffered, then the stream deleted before the consumer takes them.
    await turnsUntil(() => sub.live);
    await store.append([
      { aggregateId: 'y', type: 'T' },
      { aggregateId: 'b', type: 'T' },
      { aggregateId: 'y', type: 'T' },
    ]);
    expect(sub.buffered.events).toBe(3);
    await store.deleteAggregate('y');
    const next = take(sub, 2);
    await store.append({ aggregateId: 'b', type: 'T' });
    expect(sequences(await next)).toEqual([7, 9]);
    expect(sub.skipped).toBe(4);
  });

  test('a deletion while catching up: neither a page read before it nor a read in flight hands the stream out', async () => {
    // A plugin holds the answer of the next global read once asked to, until released: a deletion
    // then lands while that read is "in flight".
    let holdNext = false;
    let holding = false;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const holdRead: StorePlugin = {
      name: 'hold-read',
      async aroundRead(call, next) {
        const result = await next();
        if (call.kind === 'global' && holdNext) {
          holdNext = false;
          holding = true;
          await held;
        }
        return result;
      },
    };
    store = await openEventStore({ clock: new ManualClock(T0), plugins: [holdRead] });
    const streams = ['a', 'x', 'a', 'x', 'a', 'x', 'a', 'x', 'a', 'a', 'a', 'a'];
    await store.append(streams.map((aggregateId) => ({ aggregateId, type: 'T' })));
    const sub = store.subscribe({ batchSize: 4 });
    // The first page (1-4) is read; the consumer takes one event, three wait in the page.
    expect(sequences(await take(sub, 1))).toEqual([1]);
    await store.deleteAggregate('x');
    expect(sequences(await take(sub, 4))).toEqual([3, 5, 7, 9]);
    // The next read (10-12) is held while stream a is deleted; its answer must not be used.
    holdNext = true;
    const rest = take(sub, 2);
    await turnsUntil(() => holding);
    expect(holding).toBe(true);
    await store.append([{ aggregateId: 'b', type: 'T' }]);
    await store.deleteAggregate('a');
    release();
    await store.append([{ aggregateId: 'b', type: 'T' }]);
    expect(sequences(await rest)).toEqual([13, 14]);
    expect(sub.skipped).toBe(4 + 3);
  });

  test('expired by retention: hidden events are not delivered; trailing hidden ones are skipped too', async () => {
    const clock = new ManualClock(T0);
    store = await openEventStore({ clock, retention: { types: { DEBUG: '1h' }, schedule: false } });
    await store.append([
      { aggregateId: 'a', type: 'DEBUG' },
      { aggregateId: 'a', type: 'KEEP' },
      { aggregateId: 'a', type: 'DEBUG' },
    ]);
    clock.advance(2 * 3_600_000);
    const caughtUp: number[] = [];
    const sub = store.subscribe({ onCaughtUp: (sequence) => caughtUp.push(sequence) });
    expect(sequences(await take(sub, 1))).toEqual([2]);
    const next = sub.next();
    await turnsUntil(() => caughtUp.length > 0);
    // It knows it saw the whole log, up to 3, though 3 is hidden.
    expect(caughtUp).toEqual([3]);
    expect(sub.skipped).toBe(2);
    expect(sub.position).toBe(3);
    await store.append({ aggregateId: 'a', type: 'KEEP' });
    expect((await next).value?.sequence).toBe(4);
  });

  test('a named subscription behind a cleanup cut goes on from the first event still held and says how many it skipped', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    const clock = new ManualClock(T0);
    store = await openEventStore({ dir, clock, retention: { maxEvents: 10, schedule: false } });
    await store.append(Array.from({ length: 5 }, () => ({ aggregateId: 'a', type: 'T' })));
    const sub = store.subscribe({ name: 'slow-view' });
    await take(sub, 2);
    await sub.commit();
    await sub.close();
    await store.append(Array.from({ length: 25 }, () => ({ aggregateId: 'a', type: 'T' })));
    const report = await store.cleanup();
    expect(report.removed).toBeGreaterThan(0);
    await store.close();

    store = await openEventStore({ dir, clock, retention: { maxEvents: 10, schedule: false } });
    const skips: SkippedEvents[] = [];
    const resumed = store.subscribe({ name: 'slow-view', onSkipped: (skip) => skips.push(skip) });
    expect(sequences(await take(resumed, 10))).toEqual(range(21, 30));
    expect(skips).toEqual([{ from: 3, to: 20, count: 18 }]);
    expect(resumed.skipped).toBe(18);
  });
});
