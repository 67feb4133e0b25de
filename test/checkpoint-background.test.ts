/**
 * The periodic checkpoint is written in the background while appends go on: it reads the column
 * chunks wholly below its row count in place and copies the rest. What lands must be the table
 * exactly as it was when the checkpoint began, whatever was appended while it was written: every
 * column value and every index list below that row, compared with the live table.
 */
import { existsSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock, openEventStore, type NewEvent } from '../src/index.js';
import type { PostingIndex } from '../src/storage/embedded/table/posting-index.js';
import { readCheckpoint } from '../src/storage/embedded/checkpoint.js';
import { CHUNK_ROWS } from '../src/storage/embedded/table/chunked-column.js';
import type { EventTable } from '../src/storage/embedded/table/event-table.js';
import { removeDir, tempDir, turnsUntil } from './support/helpers.js';
import { tableOf } from './support/internals.js';

const COLUMNS = ['timestamp', 'typeId', 'aggregateId', 'version', 'recordOffset', 'recordLength'] as const;

const batch = (from: number, n: number): NewEvent[] =>
  Array.from({ length: n }, (_, i) => ({
    aggregateId: `s${(from + i) % 997}`,
    type: `T${(from + i) % 5}`,
    tags: { user: `u${(from + i) % 313}` },
    payload: { n: from + i },
  }));

/**
 * The batch with every `every`-th event a minute late: the time index keeps late rows apart, in
 * sorted runs that merges replace (read in place by the checkpoint, like the full blocks of lists).
 */
const withLate = (events: NewEvent[], every: number): NewEvent[] =>
  events.map((event, i) => (i % every === 0 ? { ...event, timestamp: Date.now() - 60_000 } : event));

/** The rows of every key of `postings` below `end`, key by key. */
function listsBelow(postings: PostingIndex, end: number): number[][] {
  const lists: number[][] = [];
  for (let key = 0; key < postings.keySpace; key++) {
    const rows = postings.rows(key);
    const below: number[] = [];
    for (let i = 0; i < rows.length && rows.at(i) < end; i++) below.push(rows.at(i));
    lists.push(below);
  }
  return lists;
}

describe('the background checkpoint', () => {
  it('holds the table as of its start while appends go on during its write', async () => {
    const dir = await tempDir('tamma-checkpoint-');
    try {
      // Past two column chunks, so most of the checkpoint is read in place.
      const every = 2 * CHUNK_ROWS + 1234;
      const store = await openEventStore({ dir, fsync: 'never', checkpointEvery: every });
      let appended = 0;
      while (appended < every) {
        const n = Math.min(5000, every - appended);
        await store.append(withLate(batch(appended, n), 7));
        appended += n;
      }
      // The append that crossed the line started the checkpoint; append more while it is written,
      // into the chunk it copied and on into new ones, and late ones, which make new time runs.
      expect(store.stats().storage!.lastCheckpointSequence).toBe(0);
      const landed = () => store.stats().storage!.lastCheckpointSequence > 0;
      await turnsUntil(landed, 10_000, async () => {
        await store.append(withLate(batch(appended, 50), 2));
        appended += 50;
      });
      expect(store.stats().storage!.lastCheckpointSequence).toBe(every);
      expect(appended).toBeGreaterThan(every);

      const loaded = readCheckpoint(dir, Infinity);
      if ('unusable' in loaded) throw new Error(`checkpoint unusable: ${loaded.unusable}`);
      const saved = loaded.table;
      const live = tableOf(store);
      expect(saved.rows).toBe(every);
      for (const name of COLUMNS) {
        for (let row = 0; row < every; row++) {
          if (saved[name].get(row) !== live[name].get(row))
            throw new Error(
              `${name}[${row}]: checkpoint ${saved[name].get(row)}, live ${live[name].get(row)}`,
            );
        }
      }
      for (const index of ['byAggregate', 'byType', 'byAggregateType'] as const)
        expect(listsBelow(saved[index], every)).toEqual(listsBelow(live[index], every));
      expect(listsBelow(saved.tags.get('user')!.postings, every)).toEqual(
        listsBelow(live.tags.get('user')!.postings, every),
      );
      const timeRows = (table: EventTable) =>
        [...table.byTime.range(0, Infinity)].filter((row) => row < every);
      expect(timeRows(saved)).toEqual(timeRows(live));
      expect(timeRows(saved)).toHaveLength(every);
      // Per-key counts change in place as appends go on: the checkpoint kept them as they were.
      expect(saved.byType.count(0)).toBe(Math.ceil(every / 5));
      expect(saved.aggregates.count).toBe(997);
      await store.close();
      const reopened = await openEventStore({ dir });
      expect(reopened.stats()).toMatchObject({ events: appended, lastSequence: appended });
      expect(await reopened.getEvents('s5')).toHaveLength(Math.ceil((appended - 5) / 997));
      await reopened.close();
    } finally {
      await removeDir(dir);
    }
  }, 60_000);

  it('is abandoned, not installed, when a cleanup starts while it is written', async () => {
    const dir = await tempDir('tamma-checkpoint-');
    try {
      const T0 = Date.UTC(2026, 0, 1);
      const clock = new ManualClock(T0);
      const every = CHUNK_ROWS + 500;
      const store = await openEventStore({
        dir,
        clock,
        fsync: 'never',
        checkpointEvery: every,
        retention: { maxAge: '1h', schedule: false },
      });
      let appended = 0;
      while (appended < every - 5000) {
        await store.append(batch(appended, 5000));
        appended += 5000;
      }
      const expired = appended;
      clock.advance(2 * 3_600_000);
      // This append crosses the line and starts the checkpoint; the cleanup, in the same turn,
      // cuts everything before it and so abandons it.
      await store.append(batch(appended, every - appended));
      appended = every;
      const cleanup = store.cleanup();
      const report = await cleanup;
      expect(report).toMatchObject({ removed: expired, removedInPlace: expired });
      await turnsUntil(() => false, 200);
      expect(store.stats().storage!.lastCheckpointSequence).toBe(0);
      expect(readdirSync(dir).filter((name) => name.startsWith('checkpoint'))).toEqual([]);
      // The chunks the cut let go serve these appends; then the next checkpoint lands whole.
      while (appended < 2 * every + 1000) {
        await store.append(batch(appended, 5000));
        appended += 5000;
      }
      await turnsUntil(() => store.stats().storage!.lastCheckpointSequence > 0);
      expect(store.stats().storage!.lastCheckpointSequence).toBeGreaterThan(every);
      expect(existsSync(join(dir, 'checkpoint.bin'))).toBe(true);
      const live = store.stats().events;
      await store.close();
      const reopened = await openEventStore({ dir, clock, retention: { maxAge: '1h', schedule: false } });
      expect(reopened.stats()).toMatchObject({ events: live, lastSequence: appended });
      expect((await reopened.read({ limit: 1 }))[0]?.sequence).toBe(expired + 1);
      await reopened.close();
    } finally {
      await removeDir(dir);
    }
  }, 60_000);

  it('that fails is reported, tried again checkpointEvery events later, and loses nothing', async () => {
    const dir = await tempDir('tamma-checkpoint-');
    try {
      const store = await openEventStore({ dir, fsync: 'never', checkpointEvery: 100 });
      // A directory where the checkpoint's temporary file goes: opening it for writing fails.
      const blocker = join(dir, 'checkpoint.bin.tmp');
      mkdirSync(blocker);
      await store.append(batch(0, 100));
      await turnsUntil(() => store.stats().storage!.checkpointError !== null);
      expect(store.stats().storage).toMatchObject({ lastCheckpointSequence: 0 });
      expect(store.stats().storage!.checkpointError).toMatch(/EISDIR|illegal operation on a directory/);
      // Not tried again at once: the 99 events after it start none (one would land at 199).
      await store.append(batch(100, 99));
      rmdirSync(blocker);
      await store.append(batch(199, 1));
      await turnsUntil(() => store.stats().storage!.lastCheckpointSequence > 0);
      expect(store.stats().storage).toMatchObject({ lastCheckpointSequence: 200, checkpointError: null });
      await store.close();
      const reopened = await openEventStore({ dir });
      expect(reopened.stats()).toMatchObject({ events: 200, lastSequence: 200 });
      await reopened.close();
    } finally {
      await removeDir(dir);
    }
  });
});
