import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CorruptionError,
  ManualClock,
  openEventStore,
  ValidationError,
  type EventStore,
  type QueryCriteria,
  type StoredEvent,
} from '../../src/index.js';
import { archiveFrames } from '../../src/storage/embedded/retention/archive.js';
import { flipFileByte, framesOf } from '../support/archive.js';
import { expectError, rejection, removeDir, tempDir } from '../support/helpers.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2024, 5, 1);

let dir: string;
let storeDir: string;
let archive: string;
let clock: ManualClock;
/** Sequences 1-12 in four batches of three: DEBUG.X ten days old in batches 0 and 2, ORDER.PLACED now in 1 and 3. */
let appended: StoredEvent[];
let store: EventStore;

const seqs = (events: readonly StoredEvent[]): number[] => events.map((e) => e.sequence);

beforeEach(async () => {
  dir = await tempDir('include-archived-');
  storeDir = join(dir, 'store');
  archive = join(dir, 'archive');
  clock = new ManualClock(T0);
  const writer = await openEventStore({ dir: storeDir, clock });
  appended = [];
  for (let b = 0; b < 4; b++) {
    const debug = b % 2 === 0;
    appended.push(
      ...(await writer.append(
        Array.from({ length: 3 }, (_, i) => ({
          aggregateId: `agg-${i}`,
          type: debug ? 'DEBUG.X' : 'ORDER.PLACED',
          timestamp: debug ? T0 - 10 * DAY + b * 1000 + i : T0 + b * 1000 + i,
          tags: { batch: b },
          payload: { b, i },
        })),
      )),
    );
  }
  await writer.close();
  // The expired DEBUG batches go to the archive; their live copies stay in the log, hidden.
  const frames = framesOf(storeDir);
  archiveFrames(archive, frames[0] as Buffer);
  archiveFrames(archive, frames[2] as Buffer);
  store = await openEventStore({
    dir: storeDir,
    clock,
    retention: { types: { 'DEBUG.*': '1d' }, archive: { dir: archive } },
  });
});

afterEach(async () => {
  await store.close();
  await removeDir(dir);
});

describe('queryEvents with includeArchived', () => {
  it('adds the archived events to the live ones, in sequence order', async () => {
    expect(seqs(await store.queryEvents())).toEqual([4, 5, 6, 10, 11, 12]);
    expect(await store.queryEvents({}, { includeArchived: true })).toEqual(appended);
    expect(await store.queryEvents({}, { includeArchived: false })).toEqual(await store.queryEvents());
    expect(seqs(await store.queryEvents({ type: 'DEBUG.X' }, { includeArchived: true }))).toEqual([
      1, 2, 3, 7, 8, 9,
    ]);
    expect(
      seqs(
        await store.queryEvents({ aggregateId: 'agg-1', tags: { batch: [0, 3] } }, { includeArchived: true }),
      ),
    ).toEqual([2, 11]);
    expect(
      seqs(await store.queryEvents({ from: T0 - 10 * DAY + 2000, to: T0 + 1002 }, { includeArchived: true })),
    ).toEqual([4, 5, 7, 8, 9]);
  });

  it('applies order, limit and afterSequence to the merged result', async () => {
    for (const order of ['asc', 'desc'] as const) {
      for (const limit of [undefined, 0, 1, 4, 20]) {
        for (const afterSequence of [undefined, 0, 3, 7, 12]) {
          const criteria: QueryCriteria = { order, limit, afterSequence };
          let expected = [...appended];
          if (order === 'desc') expected.reverse();
          if (afterSequence !== undefined) {
            expected = expected.filter((e) =>
              order === 'asc' ? e.sequence > afterSequence : e.sequence < afterSequence,
            );
          }
          if (limit !== undefined) expected = expected.slice(0, limit);
          expect(
            await store.queryEvents(criteria, { includeArchived: true }),
            JSON.stringify(criteria),
          ).toEqual(expected);
        }
      }
    }
  });

  it('returns an event both archived and still live once', async () => {
    await store.close();
    archiveFrames(archive, framesOf(storeDir)[3] as Buffer); // 10-12, still live
    store = await openEventStore({
      dir: storeDir,
      clock,
      retention: { types: { 'DEBUG.*': '1d' }, archive: { dir: archive } },
    });
    expect(await store.queryEvents({}, { includeArchived: true })).toEqual(appended);
    expect(seqs(await store.queryEvents({ order: 'desc', limit: 4 }, { includeArchived: true }))).toEqual([
      12, 11, 10, 9,
    ]);
  });

  it('reads the archive the policy in force names', async () => {
    store.setRetention({ types: { 'DEBUG.*': '1d' } });
    expectError(
      await rejection(() => store.queryEvents({}, { includeArchived: true })),
      ValidationError,
      'VALIDATION_FAILED',
      'options.includeArchived',
      'retention.archive.dir',
    );
    store.setRetention({ archive: { dir: join(dir, 'not-written-yet') } });
    // An archive nothing was written to yet holds nothing; every event is live again.
    expect(await store.queryEvents({}, { includeArchived: true })).toEqual(appended);
  });

  it('refuses bad options, naming them', async () => {
    expectError(
      await rejection(() => store.queryEvents({}, { includeArchived: 'yes' as never })),
      ValidationError,
      'VALIDATION_FAILED',
      'options.includeArchived',
    );
    expectError(
      await rejection(() => store.queryEvents({}, { archived: true } as never)),
      ValidationError,
      'VALIDATION_FAILED',
      'options.archived',
    );
  });

  it('reports a damaged archive file as a CorruptionError naming it', async () => {
    const file = join(archive, '00000002-00000000000000000007-00000000000000000009.tzf');
    flipFileByte(file, 20);
    const error = await rejection(() => store.queryEvents({}, { includeArchived: true }));
    expectError(error, CorruptionError, 'CORRUPTION', file);
    // Criteria that rule the damaged file out never read it.
    expect(seqs(await store.queryEvents({ afterSequence: 9 }, { includeArchived: true }))).toEqual([
      10, 11, 12,
    ]);
  });
});
