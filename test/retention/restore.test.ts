/**
 * Restores in the embedded engine: what its archive files hold after an erasure or a second
 * cleanup, the log rebuilt around restored events while reads and appends go on, and events larger
 * than a rebuilt frame. (What any engine with an archive does is in test/contract/archive.contract.ts.)
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, openEventStore, type EventStore, type StoredEvent } from '../../src/index.js';
import { readManifest } from '../../src/storage/embedded/retention/archive.js';
import { removeDir, tempDir } from '../support/helpers.js';
import { archiveRetention, fillArchiveSample } from '../support/archive-sample.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const HOUR = 3_600_000;
const dirs: string[] = [];
const stores: EventStore[] = [];

afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close().catch(() => undefined)));
  await Promise.all(dirs.splice(0).map(removeDir));
});

async function fresh(name: string): Promise<string> {
  const dir = await tempDir(`tamma-restore-${name}-`);
  dirs.push(dir);
  return dir;
}

async function open(dir: string | undefined, clock: ManualClock, archive?: string): Promise<EventStore> {
  const store = await openEventStore({
    ...(dir === undefined ? {} : { dir, segmentSize: 4096 }),
    clock,
    ...archiveRetention(archive),
  });
  stores.push(store);
  return store;
}

/**
 * A store (on disk unless `dir` is undefined) with an archive, filled; `wait` on, a cleanup archives
 * what expired: after half an hour the first half, after two hours all (KEEP.x events stay).
 */
async function cleanedAfter(dir: string | undefined, wait = HOUR / 2) {
  const clock = new ManualClock(T0);
  const archive = join(await fresh('archive'), 'a');
  const store = await open(dir, clock, archive);
  const appended = await fillArchiveSample(store, clock);
  clock.advance(wait);
  const cleaned = await store.cleanup();
  return { clock, archive, store, appended, cleaned };
}

describe('archived events come back', () => {
  it('erasing an archived stream rewrites the archive file it is in, adding none', async () => {
    const { archive, store, appended } = await cleanedAfter(await fresh('store'), 2 * HOUR);
    expect(readManifest(archive)).toHaveLength(1);
    await store.deleteAggregate('s2');
    const report = await store.cleanup();
    // Erased, not archived: the archive's one file is rewritten without the stream.
    expect(readManifest(archive)).toHaveLength(1);
    expect(report.erasedFromArchive).toBe(
      appended.filter((e) => e.aggregateId === 's2' && e.type !== 'KEEP.x').length,
    );
  });

  it('does not archive a restored event twice when it expires again', async () => {
    const { clock, archive, store, appended } = await cleanedAfter(await fresh('store'));
    const later = await fillArchiveSample(store, clock);
    const archived = readManifest(archive).reduce((total, entry) => total + entry.events, 0);
    const before = await store.read();

    // Under the same policy the restored events are past their maxAge: hidden at once, and said so.
    const report = await store.restoreArchive(archive);
    expect(report).toMatchObject({ restored: archived, hiddenByRetention: archived });
    expect(await store.read()).toEqual(before);
    // The cleanup removes the restored events and those that expired meanwhile; it archives only these.
    const again = await store.cleanup();
    expect(again.removed - again.archived).toBe(archived);
    expect(readManifest(archive).reduce((total, entry) => total + entry.events, 0)).toBe(
      archived + again.archived,
    );
    expect(await store.queryEvents({}, { includeArchived: true })).toEqual([...appended, ...later]);
  });

  it('serves reads while it rebuilds the log, and appends wait for it', async () => {
    const { clock, archive, store, appended } = await cleanedAfter(await fresh('store'));
    store.setRetention({ maxAge: '30d', archive: { dir: archive }, schedule: false });
    const before = await store.read();
    const phases = new Set<string>();
    // While the log is rebuilt (the first progress call of that phase): an append, an index, a read.
    let during:
      | {
          appending: Promise<StoredEvent[]>;
          indexing: Promise<unknown>;
          reading: Promise<StoredEvent[]>;
          events: number;
        }
      | undefined;
    const restoring = store.restoreArchive(archive, {
      onProgress: ({ phase }) => {
        phases.add(phase);
        if (phase !== 'rebuilding' || during !== undefined) return;
        during = {
          appending: store.append({ aggregateId: 's1', type: 'T', timestamp: clock.now() }),
          indexing: store.indexes.createIndex({ name: 'by_n', fields: ['tags.n'] }),
          reading: store.read(),
          events: store.stats().events,
        };
      },
    });
    await restoring;
    if (during === undefined) throw new Error('no rebuilding progress was reported');
    const { appending, indexing, reading } = during;
    expect(await reading).toEqual(before);
    expect(during.events).toBe(before.length);
    const [late] = await appending;
    expect([...phases]).toEqual(['reading', 'rebuilding']);
    // The append waited for the restore: it comes after every sequence, with the stream's next version.
    expect(late).toMatchObject({ sequence: appended.length + 1, version: 21 });
    expect(await store.read()).toEqual([...appended, late]);
    // So did the index: built after it, over every event.
    await indexing;
    const small = store
      .query()
      .where('tags.n', 'lt', 5)
      .orderBy('sequence')
      .hint({ forceIndex: ['by_n'] });
    expect(await small.execute()).toEqual(appended.slice(0, 5));
  });

  it('restores an event larger than a rebuilt frame holds, between others', async () => {
    const clock = new ManualClock(T0);
    const archive = join(await fresh('archive'), 'a');
    const store = await openEventStore({
      dir: await fresh('store'),
      clock,
      maxEventSize: 8 * 1024 * 1024,
      retention: { maxAge: '1h', archive: { dir: archive }, schedule: false },
    });
    stores.push(store);
    const big = 'y'.repeat(5 * 1024 * 1024);
    const appended: StoredEvent[] = [];
    for (let i = 0; i < 6; i++) {
      const [event] = await store.append({
        aggregateId: 'b',
        type: 'T',
        timestamp: clock.now(),
        payload: { i, text: i % 2 === 1 ? big : 'small' },
      });
      appended.push(event as StoredEvent);
      clock.advance(20 * 60_000);
    }
    // The first three (one big) expire and are archived.
    expect(await store.cleanup()).toMatchObject({ removed: 3, archived: 3 });
    store.setRetention({ maxAge: '30d', archive: { dir: archive }, schedule: false });
    expect(await store.restoreArchive(archive)).toMatchObject({ restored: 3 });
    expect(await store.read()).toEqual(appended);
  });
});
