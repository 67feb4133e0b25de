import { afterEach, describe, expect, it } from 'vitest';
import {
  ManualClock,
  openEventStore,
  ValidationError,
  type EventStore,
  type OpenOptions,
} from '../../src/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readManifest } from '../../src/storage/embedded/retention/archive.js';
import { RetentionPolicy } from '../../src/retention/policy.js';
import { expectError, observe, rejection, removeDir, tempDir } from '../support/helpers.js';

const T0 = Date.UTC(2026, 0, 1);
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
/** The Unix milliseconds a UUIDv7 carries in its first 48 bits. */
const uuidTime = (id: string) => parseInt(id.replaceAll('-', '').slice(0, 12), 16);

const open: EventStore[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const store of open.splice(0)) await store.close().catch(() => undefined);
  for (const dir of dirs.splice(0)) await removeDir(dir);
});

async function storeAt(options: OpenOptions = {}): Promise<{ store: EventStore; clock: ManualClock }> {
  const clock = new ManualClock(T0);
  const store = await openEventStore({ clock, ...options });
  open.push(store);
  return { store, clock };
}

describe('events from the future', () => {
  it('accepts an event exactly futureTolerance ahead (default 5 minutes) and refuses one 1 ms further', async () => {
    const { store } = await storeAt();
    const [edge] = await store.append({ aggregateId: 'a', type: 'T', timestamp: T0 + 5 * MINUTE });
    expect(edge!.timestamp.getTime()).toBe(T0 + 5 * MINUTE);
    const error = await rejection(() =>
      store.append({ aggregateId: 'a', type: 'T', timestamp: T0 + 5 * MINUTE + 1 }),
    );
    expectError(
      error,
      ValidationError,
      'EVENT_IN_FUTURE',
      'events[0].timestamp',
      `${iso(T0 + 5 * MINUTE + 1)} is 300.001s ahead`,
      `store's clock (${iso(T0)})`,
      'futureTolerance 5m',
      "onFutureEvent: 'clamp'",
      "producer's clock",
    );
    expect((error as ValidationError).path).toBe('events[0].timestamp');
    expect(store.stats().lastSequence).toBe(1);
  });

  it('takes the tolerance as a duration string or milliseconds, 0 for none, false for no check', async () => {
    for (const [futureTolerance, ahead] of [
      ['30s', 30 * SECOND],
      [1500, 1500],
      [0, 0],
    ] as const) {
      const { store } = await storeAt({ futureTolerance });
      await store.append({ aggregateId: 'a', type: 'T', timestamp: T0 + ahead });
      expectError(
        await rejection(() => store.append({ aggregateId: 'a', type: 'T', timestamp: T0 + ahead + 1 })),
        ValidationError,
        'EVENT_IN_FUTURE',
      );
    }
    const { store } = await storeAt({ futureTolerance: false });
    const [far] = await store.append({ aggregateId: 'a', type: 'T', timestamp: Date.UTC(2100, 0, 1) });
    expect(far!.timestamp).toEqual(new Date(Date.UTC(2100, 0, 1)));
  });

  it('refuses the whole batch when one event is ahead: nothing is written', async () => {
    const { store } = await storeAt();
    await store.append({ aggregateId: 'a', type: 'T', timestamp: T0 - HOUR });
    const before = await observe(store);
    expectError(
      await rejection(() =>
        store.append([
          { aggregateId: 'a', type: 'T', timestamp: T0 },
          { aggregateId: 'b', type: 'U' },
          { aggregateId: 'c', type: 'V', timestamp: iso(T0 + DAY) },
        ]),
      ),
      ValidationError,
      'EVENT_IN_FUTURE',
      'events[2].timestamp',
      `${iso(T0 + DAY)} is 1d ahead`,
      'nothing of the batch was written',
    );
    expect(await observe(store)).toEqual(before);
    expect(store.stats().lastSequence).toBe(1);
    expect(await store.getEvents('b')).toEqual([]);
  });

  it('applies to appendToStream too, leaving the stream at its version', async () => {
    const { store } = await storeAt();
    await store.appendToStream('s', { type: 'A' });
    const before = await observe(store);
    expectError(
      await rejection(() =>
        store.appendToStream('s', [{ type: 'B' }, { type: 'C', timestamp: new Date(T0 + 36 * HOUR + 7) }], {
          expectedVersion: 1,
        }),
      ),
      ValidationError,
      'EVENT_IN_FUTURE',
      'events[1].timestamp',
      // Rounded when long: the milliseconds would only hide the size of the skew.
      'is about 1.5d ahead',
    );
    expect(await observe(store)).toEqual(before);
    const [next] = await store.appendToStream('s', { type: 'B' }, { expectedVersion: 1 });
    expect(next).toMatchObject({ version: 2, sequence: 2 });
  });

  it("with onFutureEvent: 'clamp' stores the store's time instead, and reads return it", async () => {
    const { store, clock } = await storeAt({ onFutureEvent: 'clamp' });
    clock.set(T0 + 10 * MINUTE);
    const now = T0 + 10 * MINUTE;
    const stored = await store.append([
      { aggregateId: 'a', type: 'T', timestamp: now + DAY },
      { aggregateId: 'a', type: 'T', timestamp: now + 5 * MINUTE },
      { aggregateId: 'a', type: 'T', timestamp: now + HOUR, id: 'mine' },
    ]);
    // Only events beyond the tolerance are clamped; a caller's id is kept, a generated one follows the time.
    expect(stored.map((e) => e.timestamp.getTime())).toEqual([now, now + 5 * MINUTE, now]);
    expect(uuidTime(stored[0]!.id)).toBe(now);
    expect(stored[2]!.id).toBe('mine');
    expect(await store.read()).toEqual(stored);
    expect(await store.getEventsInRange(now, now + 1)).toEqual([stored[0], stored[2]]);
    expect(await store.queryEvents({ from: now + HOUR })).toEqual([]);
  });

  it('clamped times are what an on-disk store keeps; reopening does not re-check stored events', async () => {
    const dir = await tempDir('tamma-skew-');
    dirs.push(dir);
    const clock = new ManualClock(T0);
    const writer = await openEventStore({ dir, clock, onFutureEvent: 'clamp' });
    const written = await writer.append([
      { aggregateId: 'a', type: 'T', timestamp: T0 + DAY },
      { aggregateId: 'a', type: 'T', timestamp: T0 + MINUTE },
    ]);
    await writer.close();
    // The clock moved back an hour: the second event is now ahead of it by more than the tolerance,
    // but it is stored, and opening replays the log without judging it again.
    clock.set(T0 - HOUR);
    const store = await openEventStore({ dir, clock });
    open.push(store);
    expect(await store.read()).toEqual(written);
    expect(written.map((e) => e.timestamp.getTime())).toEqual([T0, T0 + MINUTE]);
    expectError(
      await rejection(() => store.append({ aggregateId: 'a', type: 'T', timestamp: T0 })),
      ValidationError,
      'EVENT_IN_FUTURE',
    );
  });

  it('never applies to default timestamps, which are the clock itself', async () => {
    const { store } = await storeAt({ futureTolerance: 0 });
    const [event] = await store.append({ aggregateId: 'a', type: 'T' });
    expect(event!.timestamp.getTime()).toBe(T0);
  });
});

// EVENT_EXPIRED itself, for any engine, is in test/contract/retention.contract.ts; here, what the
// embedded engine's archive holds of an expired event it took.
describe('events already past retention on arrival', () => {
  const retention = { maxAge: '30d', types: { 'DEBUG.*': '1h', 'AUDIT.*': 'forever' } };

  it("with onExpired: 'archive' takes the batch, hides the expired event, and the next cleanup archives it", async () => {
    const archiveDir = mkdtempSync(join(tmpdir(), 'tamma-arrival-archive-'));
    const { store } = await storeAt({
      retention: { ...retention, archive: { dir: archiveDir }, onExpired: 'archive', schedule: false },
    });
    const [late, fresh] = await store.append([
      { aggregateId: 'a', type: 'DEBUG.X', timestamp: T0 - 2 * HOUR },
      { aggregateId: 'a', type: 'DEBUG.X', timestamp: T0 },
    ]);
    expect((await store.read()).map((event) => event.sequence)).toEqual([fresh?.sequence]);
    const report = await store.cleanup();
    expect(report).toMatchObject({ removed: 1, archived: 1 });
    const manifest = readManifest(archiveDir);
    expect(manifest).toMatchObject([
      { firstSequence: late?.sequence, lastSequence: late?.sequence, events: 1 },
    ]);
    rmSync(archiveDir, { recursive: true, force: true });
  });
});

describe('options are checked at the door', () => {
  it.each([
    [{ futureTolerance: 'soon' }, 'futureTolerance', '"soon"'],
    [{ futureTolerance: '5 minutes' }, 'futureTolerance', '"5 minutes"'],
    [{ futureTolerance: -1 }, 'futureTolerance', '-1'],
    [{ futureTolerance: Infinity }, 'futureTolerance', 'Infinity'],
    [{ futureTolerance: true }, 'futureTolerance', 'true'],
    [{ onFutureEvent: 'drop' }, 'onFutureEvent', '"drop"'],
    [{ retention: { onExpired: 'drop' } }, 'retention.onExpired', '"drop"'],
    [{ retention: { onExpired: 'archive' } }, 'retention.onExpired', 'retention.archive'],
    [{ retention: { archive: { dir: '' } } }, 'retention.archive.dir', 'must be a directory path'],
    [{ retention: { archive: './archive' } }, 'retention.archive', '"./archive"'],
    [{ retention: { archive: { dir: 'a', keep: 1 } } }, 'retention.archive.keep', 'unknown option'],
  ])('%j names %s and the value', async (options, path, value) => {
    const error = await rejection(() => openEventStore(options as OpenOptions));
    expectError(error, ValidationError, 'INVALID_OPTION', value);
    expect((error as ValidationError).path).toBe(path);
  });

  it('a policy exposes where it archives, and its onExpired', () => {
    const policy = RetentionPolicy.from({ archive: { dir: './cold' }, onExpired: 'archive' });
    expect(policy.archiveDir).toBe('./cold');
    expect(policy.onExpired).toBe('archive');
    expect(RetentionPolicy.from({ maxAge: '1d' })).toMatchObject({
      archiveDir: undefined,
      onExpired: 'reject',
    });
  });
});
