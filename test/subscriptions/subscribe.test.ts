import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import {
  CorruptionError,
  f,
  ManualClock,
  openEventStore,
  ReadOnlyError,
  StoreClosedError,
  TammaError,
  ValidationError,
  type EventStore,
  type StoredEvent,
  type Subscription,
} from '../../src/index.js';
import { expectError, rejection, removeDir, tempDir, turnsUntil } from '../support/helpers.js';

const T0 = Date.UTC(2024, 0, 1);

/** Takes `count` events from a subscription (its iterator stays open). */
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

function events(count: number, type = 'TICK', aggregateId = 'a') {
  return Array.from({ length: count }, (_, i) => ({ aggregateId, type, payload: { i } }));
}

describe('subscribe', () => {
  let store: EventStore;
  const dirs: string[] = [];
  afterEach(async () => {
    await store?.close();
    for (const dir of dirs.splice(0)) await removeDir(dir);
  });

  test('on an empty store it turns live at once: onCaughtUp(0), then new events as they commit', async () => {
    store = await openEventStore({ clock: new ManualClock(T0) });
    const caughtUp: number[] = [];
    const sub = store.subscribe({ onCaughtUp: (sequence) => caughtUp.push(sequence) });
    const first = sub.next();
    await turnsUntil(() => caughtUp.length > 0);
    expect(caughtUp).toEqual([0]);
    expect(sub.live).toBe(true);
    await store.append(events(2));
    expect((await first).value?.sequence).toBe(1);
    expect(sequences(await take(sub, 1))).toEqual([2]);
    expect(caughtUp).toEqual([0]);
    expect(sub.position).toBe(2);
    expect(sub.lag()).toEqual({ events: 0, ms: 0 });
  });

  test('catches up from the log in pages, then goes live: onCaughtUp once every old event is out', async () => {
    store = await openEventStore({ clock: new ManualClock(T0) });
    await store.append(events(25));
    const caughtUp: { at: number; handedOut: number }[] = [];
    let handedOut = 0;
    const sub = store.subscribe({
      batchSize: 10,
      onCaughtUp: (sequence) => caughtUp.push({ at: sequence, handedOut }),
    });
    const got: number[] = [];
    for (const event of await take(sub, 25)) {
      got.push(event.sequence);
      handedOut++;
    }
    expect(got).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    const next = sub.next();
    await turnsUntil(() => caughtUp.length > 0);
    expect(caughtUp).toEqual([{ at: 25, handedOut: 25 }]);
    await store.append(events(1));
    expect((await next).value?.sequence).toBe(26);
  });

  test("after: a sequence starts after it; 'end' only delivers events appended from then on", async () => {
    store = await openEventStore({ clock: new ManualClock(T0) });
    await store.append(events(5));
    expect(sequences(await take(store.subscribe({ after: 3 }), 2))).toEqual([4, 5]);
    const fromEnd = store.subscribe({ after: 'end' });
    const pending = take(fromEnd, 2);
    await store.append(events(2));
    expect(sequences(await pending)).toEqual([6, 7]);
    // A position beyond the log waits for it.
    const ahead = store.subscribe({ after: 8 });
    const later = take(ahead, 1);
    await store.append(events(2));
    expect(sequences(await later)).toEqual([9]);
  });

  test('where: a filter node or criteria, with the semantics of queries, in catch-up and live', async () => {
    store = await openEventStore({ clock: new ManualClock(T0) });
    const mixed = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        aggregateId: `s${i % 3}`,
        type: i % 2 === 0 ? 'ORDER.PLACED' : 'ORDER.SHIPPED',
        tags: { region: i % 3 === 0 ? 'eu' : 'us' },
        payload: { total: i * 10 },
      }));
    await store.append(mixed(12));
    const criteria = { type: 'ORDER.PLACED', tags: { region: 'eu' } };
    const node = f.and(f.eq('type', 'ORDER.PLACED'), f.gte('payload.total', 50));
    const expected = async (filter: typeof criteria | typeof node, from: number) => {
      const query = 'kind' in filter ? store.query().where(filter).execute() : store.queryEvents(filter);
      return sequences((await query) as StoredEvent[]).filter((s) => s > from);
    };
    const byCriteria = store.subscribe({ where: criteria });
    const byNode = store.subscribe({ where: node, batchSize: 3 });
    const want1 = await expected(criteria, 0);
    const want2 = await expected(node, 0);
    expect(sequences(await take(byCriteria, want1.length))).toEqual(want1);
    expect(sequences(await take(byNode, want2.length))).toEqual(want2);
    // Live now: the same filters over new events.
    const live1 = take(byCriteria, 2);
    const live2 = take(byNode, 3);
    await store.append(mixed(12));
    expect(sequences(await live1)).toEqual(await expected(criteria, 12));
    expect(sequences(await live2)).toEqual(await expected(node, 12));
    // Filtered-out events count as passed: nothing pending means no lag.
    expect(byCriteria.position).toBeGreaterThan(12);
  });

  test('close(), break, an AbortSignal and the store closing end the iteration cleanly', async () => {
    store = await openEventStore({ clock: new ManualClock(T0) });
    await store.append(events(3));

    const closed = store.subscribe();
    const waiting = take(closed, 10);
    await turnsUntil(() => closed.live);
    await closed.close();
    expect(sequences(await waiting)).toEqual([1, 2, 3]);
    expect(closed.closed).toBe(true);

    let seen = 0;
    for await (const _ of store.subscribe()) if (++seen === 2) break;
    expect(seen).toBe(2);

    const controller = new AbortController();
    const aborted = store.subscribe({ signal: controller.signal });
    const abortedTake = take(aborted, 10);
    await turnsUntil(() => aborted.live);
    controller.abort();
    expect(sequences(await abortedTake)).toEqual([1, 2, 3]);
    const already = AbortSignal.abort();
    expect(await store.subscribe({ signal: already }).next()).toEqual({ done: true, value: undefined });

    const open = store.subscribe();
    const untilClose = take(open, 10);
    await turnsUntil(() => open.live);
    await store.close();
    expect(sequences(await untilClose)).toEqual([1, 2, 3]);
    expect(open.closed).toBe(true);
    expectError(await rejection(() => store.waitFor(1)), StoreClosedError, 'STORE_CLOSED');
    expect(() => store.subscribe()).toThrow(StoreClosedError);
  });

  test('a waitFor pending when the store closes rejects with STORE_CLOSED', async () => {
    store = await openEventStore({ clock: new ManualClock(T0) });
    const waiting = rejection(() => store.waitFor(5));
    await store.close();
    expectError(await waiting, StoreClosedError, 'STORE_CLOSED');
  });

  test('lag: events after the position and how long the oldest has waited, by the store clock', async () => {
    const clock = new ManualClock(T0);
    store = await openEventStore({ clock });
    const sub = store.subscribe();
    await take(sub, 0);
    await store.append(events(1));
    clock.advance(250);
    await store.append(events(3));
    clock.advance(100);
    expect(sub.lag()).toEqual({ events: 4, ms: 350 });
    await take(sub, 1);
    expect(sub.lag()).toEqual({ events: 3, ms: 100 });
    await take(sub, 3);
    expect(sub.lag()).toEqual({ events: 0, ms: 0 });
  });

  test('waitFor resolves when the store reaches the sequence; timeout rejects with WAIT_TIMEOUT', async () => {
    store = await openEventStore({ clock: new ManualClock(T0) });
    await store.append(events(2));
    await store.waitFor(2);
    let resolved = false;
    const waiting = store.waitFor(4).then(() => (resolved = true));
    await store.append(events(1));
    await turnsUntil(() => resolved, 20);
    expect(resolved).toBe(false);
    await store.append(events(1));
    await waiting;
    const error = await rejection(() => store.waitFor(10, { timeout: 1 }));
    expectError(error, TammaError, 'WAIT_TIMEOUT', 'waitFor(10)', 'sequence 4');
  });

  test('a named subscription: commit stores the position, a later subscribe resumes after it; waitFor({ name })', async () => {
    store = await openEventStore({ clock: new ManualClock(T0) });
    await store.append(events(5));
    const first = store.subscribe({ name: 'view' });
    expect(first.committed).toBe(0);
    const got = await take(first, 3);
    const waiting = store.waitFor(3, { name: 'view' });
    await first.commit(got[2]?.sequence);
    await waiting;
    expect(first.committed).toBe(3);
    expectError(
      (() => {
        try {
          store.subscribe({ name: 'view' });
        } catch (error) {
          return error;
        }
      })(),
      TammaError,
      'SUBSCRIPTION_ACTIVE',
      '"view"',
    );
    await first.close();
    expect(sequences(await take(store.subscribe({ name: 'view' }), 2))).toEqual([4, 5]);
    const [info] = store.subscriptions();
    expect(info).toMatchObject({ name: 'view', position: 3, active: true, lag: { events: 2 } });
    expect(info?.committedAt).toBe(new Date(T0).toISOString());
    expectError(
      await rejection(() => store.waitFor(5, { name: 'view', timeout: 1 })),
      TammaError,
      'WAIT_TIMEOUT',
      'subscription "view" has committed 3',
    );
  });

  test('named positions survive reopening a durable store', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    store = await openEventStore({ dir, clock: new ManualClock(T0) });
    await store.append(events(4));
    const sub = store.subscribe({ name: 'projection' });
    await take(sub, 2);
    await sub.commit();
    await store.close();
    store = await openEventStore({ dir, clock: new ManualClock(T0) });
    expect(store.subscriptions()).toMatchObject([{ name: 'projection', position: 2, active: false }]);
    expect(sequences(await take(store.subscribe({ name: 'projection' }), 2))).toEqual([3, 4]);
  });

  test('a read-only handle follows the writer: new events arrive live, a named subscription is refused', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    store = await openEventStore({ dir });
    await store.append(events(2));
    const reader = await openEventStore({ dir, readOnly: true, followIntervalMs: 0 });
    try {
      const sub = reader.subscribe();
      expect(sequences(await take(sub, 2))).toEqual([1, 2]);
      const next = take(sub, 2);
      await store.append(events(2));
      await reader.refresh();
      expect(sequences(await next)).toEqual([3, 4]);
      expect(() => reader.subscribe({ name: 'x' })).toThrow(ReadOnlyError);
    } finally {
      await reader.close();
    }
  });

  test("a read-only handle following a writer: waitFor (for the store, or for the writer's named projection) resolves once a refresh brings it", async () => {
    const dir = await tempDir();
    dirs.push(dir);
    store = await openEventStore({ dir });
    await store.append(events(1));
    const projection = store.subscribe({ name: 'view' });
    await take(projection, 1);
    await projection.commit();
    // The reader refreshes every 5 ms while a waitFor waits (its timer, not the test, waits).
    const reader = await openEventStore({ dir, readOnly: true, followIntervalMs: 5 });
    try {
      expect(reader.subscriptions()).toMatchObject([{ name: 'view', position: 1, active: false }]);
      const waiting = reader.waitFor(3, { timeout: 10_000 });
      // And the writer's projection, by name: its position files are read again at each refresh.
      const projected = reader.waitFor(3, { name: 'view', timeout: 10_000 });
      await store.append(events(2));
      await waiting;
      expect(reader.stats().lastSequence).toBe(3);
      await take(projection, 2);
      await projection.commit();
      await projected;
      expect(reader.subscriptions()).toMatchObject([{ name: 'view', position: 3 }]);
    } finally {
      await reader.close();
    }
  });

  test('a damaged position file refuses that name with CORRUPTION; a temporary file a crash left is removed', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    store = await openEventStore({ dir });
    const sub = store.subscribe({ name: 'good' });
    await sub.commit();
    await store.close();
    await writeFile(join(dir, 'subscriptions', 'bad.json'), '{"format":1,"name":"bad","posi');
    await writeFile(join(dir, 'subscriptions', 'good.json.tmp'), 'torn');
    store = await openEventStore({ dir });
    expect(existsSync(join(dir, 'subscriptions', 'good.json.tmp'))).toBe(false);
    expectError(
      (() => {
        try {
          store.subscribe({ name: 'bad' });
        } catch (error) {
          return error;
        }
      })(),
      CorruptionError,
      'CORRUPTION',
      'bad.json',
      'Delete the file',
    );
    expect(store.subscriptions().map((info) => info.name)).toEqual(['good']);
    expect(store.subscribe({ name: 'good' }).committed).toBe(0);
  });

  test('bad input: coded ValidationErrors naming the value', async () => {
    store = await openEventStore({ clock: new ManualClock(T0) });
    const thrown = (fn: () => unknown): unknown => {
      try {
        fn();
      } catch (error) {
        return error;
      }
      throw new Error('expected a throw');
    };
    const bad: [unknown, string, string][] = [
      ['nope', 'INVALID_OPTION', 'options: must be an object'],
      [
        { after: -1 },
        'INVALID_OPTION',
        "options.after: must be a sequence (a non-negative integer; 0 for the beginning) or 'end', got -1",
      ],
      [{ after: 'start' }, 'INVALID_OPTION', 'got "start"'],
      [{ batchSize: 0 }, 'INVALID_OPTION', 'options.batchSize: must be an integer from 1 to 10,000, got 0'],
      [{ name: '../x' }, 'INVALID_OPTION', 'options.name'],
      [{ name: '' }, 'INVALID_OPTION', 'options.name'],
      [{ signal: {} }, 'INVALID_OPTION', 'options.signal: must be an AbortSignal'],
      [{ onCaughtUp: 1 }, 'INVALID_OPTION', 'options.onCaughtUp: must be a function, got 1'],
      [{ buffer: { events: 0 } }, 'INVALID_OPTION', 'options.buffer.events'],
      [{ buffer: { size: 1 } }, 'INVALID_OPTION', 'options.buffer.size: is not a buffer option'],
      [{ from: 3 }, 'INVALID_OPTION', 'options.from: is not a subscribe option'],
      [{ where: 'ORDER.PLACED' }, 'VALIDATION_FAILED', 'where: must be a filter node'],
      [{ where: { kind: 'eq', field: 'colour', value: 1 } }, 'UNKNOWN_FIELD', 'colour'],
      [
        { where: { type: 'X', limit: 5 } },
        'VALIDATION_FAILED',
        'where.limit: does not apply to a subscription',
      ],
      [{ where: { typo: 'X' } }, 'VALIDATION_FAILED', 'criteria.typo'],
    ];
    for (const [options, code, fragment] of bad) {
      expectError(
        thrown(() => store.subscribe(options as never)),
        ValidationError,
        code,
        fragment,
      );
    }
    const sub = store.subscribe();
    expectError(
      await rejection(() => sub.commit()),
      ValidationError,
      'VALIDATION_FAILED',
      'named subscription',
    );
    const named = store.subscribe({ name: 'n' });
    expectError(
      await rejection(() => named.commit(7)),
      ValidationError,
      'VALIDATION_FAILED',
      "sequence: must be a sequence from 0 to the subscription's position (0)",
      'got 7',
    );
    expectError(
      await rejection(() => store.waitFor(-1)),
      ValidationError,
      'VALIDATION_FAILED',
      'sequence',
      'got -1',
    );
    expectError(
      await rejection(() => store.waitFor(1, { timeout: -5 })),
      ValidationError,
      'VALIDATION_FAILED',
      'options.timeout',
    );
    expectError(
      await rejection(() => store.waitFor(1, { name: 'other' })),
      ValidationError,
      'VALIDATION_FAILED',
      'no subscription named "other"',
      'known: n',
    );
    expectError(
      await rejection(() => store.waitFor(1, { nme: 'n' } as never)),
      ValidationError,
      'VALIDATION_FAILED',
      'options.nme',
    );
  });

  test('a callback that throws ends the subscription with its error', async () => {
    store = await openEventStore({ clock: new ManualClock(T0) });
    const sub = store.subscribe({
      onCaughtUp: () => {
        throw new Error('projection failed');
      },
    });
    await expect(sub.next()).rejects.toThrow('projection failed');
    expect(sub.closed).toBe(true);
    expect(await sub.next()).toEqual({ done: true, value: undefined });
  });
});
