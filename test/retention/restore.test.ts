import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ManualClock,
  openEventStore,
  ValidationError,
  type EventStore,
  type StoredEvent,
} from '../../src/index.js';
import { readManifest } from '../../src/retention/archive.js';
import { expectError, rejection, removeDir, tempDir } from '../support/helpers.js';

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
    ...(archive === undefined
      ? {}
      : {
          retention: {
            maxAge: '1h',
            types: { 'KEEP.*': 'forever' },
            archive: { dir: archive },
            schedule: false,
          },
        }),
  });
  stores.push(store);
  return store;
}

/** 60 events a minute apart over three streams; every fifth is KEEP.x (never expires). */
async function fill(store: EventStore, clock: ManualClock): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for (let i = 0; i < 60; i++) {
    const [event] = await store.append({
      aggregateId: `s${i % 3}`,
      type: i % 5 === 0 ? 'KEEP.x' : 'T',
      timestamp: clock.now(),
      tags: { n: i },
      payload: { i, text: 'x'.repeat(40) },
    });
    out.push(event as StoredEvent);
    clock.advance(60_000);
  }
  return out;
}

describe('archived events come back', () => {
  it('into a new store with their sequence numbers, ids, versions and contents', async () => {
    const clock = new ManualClock(T0);
    const archive = join(await fresh('archive'), 'a');
    const source = await open(await fresh('source'), clock, archive);
    const appended = await fill(source, clock);
    clock.advance(2 * HOUR);
    const report = await source.cleanup();
    const kept = appended.filter((event) => event.type === 'KEEP.x');
    const gone = appended.filter((event) => event.type !== 'KEEP.x');
    expect(report).toMatchObject({ removed: gone.length, archived: gone.length });
    expect(await source.read()).toEqual(kept);

    const target = await open(await fresh('target'), clock);
    const restored = await target.restoreArchive(archive);
    expect(restored).toMatchObject({ restored: gone.length, files: 1 });
    expect(await target.read()).toEqual(gone);
    // Versions come back as they were: s1's stream has gaps where its KEEP events stayed behind.
    expect(await target.getEvents('s1')).toEqual(gone.filter((event) => event.aggregateId === 's1'));
    expect(target.stats()).toMatchObject({ events: gone.length, lastSequence: gone.at(-1)?.sequence });
    // Appends continue after the last restored sequence.
    const [next] = await target.append({ aggregateId: 'new', type: 'T' });
    expect(next?.sequence).toBe((gone.at(-1)?.sequence ?? 0) + 1);
  });

  it('by sequence range, and refuses to go below what the store holds', async () => {
    const clock = new ManualClock(T0);
    const archive = join(await fresh('archive'), 'a');
    const source = await open(undefined, clock, archive);
    const appended = await fill(source, clock);
    clock.advance(2 * HOUR);
    await source.cleanup();
    const gone = appended.filter((event) => event.type !== 'KEEP.x');

    const target = await open(undefined, clock);
    const middle = gone.slice(10, 20);
    await target.restoreArchive(archive, {
      fromSequence: middle[0]?.sequence,
      toSequence: middle.at(-1)?.sequence,
    });
    expect(await target.read()).toEqual(middle);
    expectError(
      await rejection(() => target.restoreArchive(archive)),
      ValidationError,
      'VALIDATION_FAILED',
      `already reaches sequence ${middle.at(-1)?.sequence}`,
    );
    expect(await target.read()).toEqual(middle);
    await target.restoreArchive(archive, { fromSequence: (middle.at(-1)?.sequence ?? 0) + 1 });
    expect(await target.read()).toEqual(gone.slice(10));
  });

  it('reads through to the archive with includeArchived, but never a deleted stream', async () => {
    const clock = new ManualClock(T0);
    const archive = join(await fresh('archive'), 'a');
    const store = await open(await fresh('store'), clock, archive);
    const appended = await fill(store, clock);
    clock.advance(2 * HOUR);
    await store.cleanup();
    expect(await store.queryEvents({}, { includeArchived: true })).toEqual(appended);
    await store.deleteAggregate('s2');
    const report = await store.cleanup();
    expect(report.tombstoned).toBe(
      appended.filter((e) => e.aggregateId === 's2' && e.type === 'KEEP.x').length,
    );
    expect(readManifest(archive)).toHaveLength(2);
    expect(await store.queryEvents({}, { includeArchived: true })).toEqual(
      appended.filter((event) => event.aggregateId !== 's2'),
    );
  });
});
