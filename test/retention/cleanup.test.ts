/**
 * Cleanup, case by case: each test here pins a way cleanup once went wrong (the property test in
 * cleanup.property.test.ts and the crash test in cleanup-crash.test.ts found them).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ManualClock,
  openEventStore,
  verifyStore,
  type AdvancedQueryBuilder,
  type EventStore,
  type NewEvent,
  type OpenOptions,
  type StoredEvent,
} from '../../src/index.js';
import type { CleanupReport } from '../../src/retention/cleanup-report.js';
import { TableCut } from '../../src/storage/embedded/table/table-cut.js';
import { archivedEvents } from '../support/archive-contents.js';
import { removeDir, tempDir } from '../support/helpers.js';
import { tableOf } from '../support/internals.js';

let dirs: string[] = [];
async function storeDir(): Promise<string> {
  const dir = await tempDir('tamma-cleanup-');
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs) await removeDir(dir);
  dirs = [];
});

const segmentSizes = (dir: string) =>
  Object.fromEntries(
    readdirSync(join(dir, 'log'))
      .filter((name) => name.endsWith('.seg'))
      .map((name) => [name, statSync(join(dir, 'log', name)).size]),
  );

/** Batches of the smallest events there are, every other one of a stream that will be deleted. */
function striped(batches: number, size: number): NewEvent[][] {
  let n = 0;
  return Array.from({ length: batches }, () =>
    Array.from({ length: size }, (_, i) => ({ id: `${n++}`, aggregateId: i % 2 ? 'd' : 'k', type: 'T' })),
  );
}

describe('a rewritten log span is never larger than it was', () => {
  // A span owns the log offsets up to the next span's base: one that grew would overlap it, its
  // last records would be read from the wrong segment, and the store would refuse to open.
  it('on disk: small events removed from between others', async () => {
    const dir = await storeDir();
    const options: OpenOptions = { dir, segmentSize: 4096, retention: { schedule: false } };
    const store = await openEventStore(options);
    for (const batch of striped(60, 7)) await store.append(batch);
    await store.deleteAggregate('d');
    const before = segmentSizes(dir);
    const report = await store.cleanup();
    expect(report).toMatchObject({ removed: 180, spansRewritten: Object.keys(before).length });
    for (const [name, size] of Object.entries(segmentSizes(dir)))
      expect(size, name).toBeLessThanOrEqual(before[name] ?? 0);
    // Appends after the cleanup go to a new segment, right after the old ones' offsets.
    await store.append({ id: 'after', aggregateId: 'k', type: 'T' });
    const kept = (await store.read()).map((e) => e.id);
    expect(kept).toHaveLength(241);
    expect(kept.slice(0, 4)).toEqual(['0', '2', '4', '6']);
    await store.close();
    const check = await verifyStore(dir);
    expect(check).toMatchObject({ ok: true, problems: [], events: 241, lastSequence: 421 });
    const again = await openEventStore(options);
    expect((await again.read()).map((e) => e.id)).toEqual(kept);
    expect((await again.getEvents('k')).map((e) => e.version)).toEqual(
      [...Array(241).keys()].map((v) => v + 1),
    );
    await again.close();
  });

  it('in memory: the rows at the end of a rewritten chunk still read right after later appends', async () => {
    const store = await openEventStore({ retention: { schedule: false } });
    for (const batch of striped(60, 7)) await store.append(batch);
    await store.deleteAggregate('d');
    await store.cleanup();
    await store.append(
      Array.from({ length: 5 }, (_, i) => ({ id: `late-${i}`, aggregateId: 'k', type: 'T' })),
    );
    // Read on their own, not in a window that starts lower in the chunk.
    const last = await store.read({ fromSequence: 418 });
    expect(last.map((e) => e.id)).toEqual(['417', '419', 'late-0', 'late-1', 'late-2', 'late-3', 'late-4']);
    expect((await store.getEvents('k', { fromVersion: 240, limit: 2 })).map((e) => e.id)).toEqual([
      '419',
      'late-0',
    ]);
    await store.close();
  });

  it('a batch larger than a rewritten frame may hold, with one event removed from its middle', async () => {
    const dir = await storeDir();
    const store = await openEventStore({ dir, retention: { schedule: false } });
    await store.append(
      Array.from({ length: 9000 }, (_, i) => ({
        id: `${i}`,
        aggregateId: i === 4500 ? 'd' : 'k',
        type: 'T',
      })),
    );
    await store.append({ aggregateId: 'k', type: 'T' });
    await store.deleteAggregate('d');
    const before = segmentSizes(dir);
    await store.cleanup();
    const after = segmentSizes(dir);
    const first = Object.keys(before)[0] as string;
    expect(after[first]).toBeLessThan(before[first] as number);
    await store.close();
    expect(await verifyStore(dir)).toMatchObject({ ok: true, events: 9000, lastSequence: 9001 });
    const again = await openEventStore({ dir });
    const all = await again.read();
    expect(all).toHaveLength(9000);
    expect(all[4500]).toMatchObject({ id: '4501', sequence: 4502 });
    await again.close();
  });
});

describe('a query that outlasts a slice of cleanup', () => {
  // A stream hydrates page by page, and cleanup's slices run in between: a row chosen before the
  // table swap may hold no event after it.
  const queries: [string, (store: EventStore) => AdvancedQueryBuilder][] = [
    ['by type, rows chosen up front', (store) => store.query().where('type', 'eq', 'T')],
    ['in sequence order, rows chosen page by page', (store) => store.query()],
    ['with an offset, page by page', (store) => store.query().offset(7)],
  ];
  for (const [title, query] of queries) {
    it(`streams only rows cleanup left: ${title}`, async () => {
      const store = await openEventStore({ retention: { schedule: false } });
      await store.append(
        Array.from({ length: 3000 }, (_, i) => ({ id: `e${i}`, aggregateId: i % 2 ? 'd' : 'a', type: 'T' })),
      );
      await store.deleteAggregate('d');
      const expected = (await query(store).execute()).map((row) => (row as StoredEvent).id);
      const seen: string[] = [];
      let cleanup: Promise<CleanupReport> | undefined;
      for await (const row of query(store).hint({ batchSize: 10 }).executeStream()) {
        seen.push((row as StoredEvent).id);
        cleanup ??= store.cleanup({ sliceRows: 100 });
      }
      expect((await cleanup)?.removed).toBe(1500);
      expect(seen).toEqual(expected);
      await store.close();
    });
  }
});

describe('the cut: the oldest events removed in place', () => {
  const T0 = Date.parse('2026-01-01T00:00:00Z');
  /** 600 events a second apart, 100 streams of 6 (s0..s99, each within 6 s), 32 KiB segments. */
  async function expiredInOrder(dir: string) {
    const clock = new ManualClock(T0);
    const options: OpenOptions = {
      dir,
      clock,
      segmentSize: 32 * 1024,
      retention: { maxAge: '5m', schedule: false },
    };
    const store = await openEventStore(options);
    for (let i = 0; i < 600; i++) {
      clock.set(T0 + i * 1000);
      await store.append({
        id: `e${i}`,
        aggregateId: `s${Math.floor(i / 6)}`,
        type: 'T',
        payload: { pad: 'x'.repeat(100) },
      });
    }
    await store.checkpoint(); // a checkpoint from before the cut: reopening must apply the cut to it
    clock.set(T0 + 599_000 + 1); // 5 min after the last: events 0..299 have expired
    return { store, clock, options };
  }

  it('removes them without rewriting the log; reopening keeps them removed, also with no policy', async () => {
    const dir = await storeDir();
    const { store, clock, options } = await expiredInOrder(dir);
    const report = await store.cleanup();
    expect(report).toMatchObject({ removed: 300, removedInPlace: 300, spansRewritten: 0 });
    expect(report.spansDropped).toBeGreaterThan(0);
    const live = (await store.queryEvents({})).map((e) => e.id);
    expect(live).toEqual(Array.from({ length: 300 }, (_, i) => `e${i + 300}`));
    // s49 (events 294..299) is gone whole: its next event starts again at version 1.
    expect((await store.append({ aggregateId: 's49', type: 'T' }))[0]).toMatchObject({
      sequence: 601,
      version: 1,
    });
    await store.close();
    expect((await verifyStore(dir)).events).toBe(301);
    for (const retention of [options.retention, { schedule: false as const }]) {
      const reopened = await openEventStore({ ...options, clock, retention });
      expect((await reopened.queryEvents({})).map((e) => e.id)).toEqual([...live, expect.any(String)]);
      expect(await reopened.getEvents('s10')).toEqual([]);
      expect(reopened.stats()).toMatchObject({ events: 301, lastSequence: 601 });
      await reopened.close();
    }
  });

  for (const snapshot of [false, true]) {
    it(`reopens with an index the checkpoint from before the cut ${snapshot ? 'holds' : 'holds no snapshot of'}`, async () => {
      // The cut's rows were in segments cleanup dropped: building an index over them at open read
      // the log at an offset before its start, and the store would not open. A snapshot still holds
      // them: the cut applies to it.
      const dir = await storeDir();
      const { store, clock, options } = await expiredInOrder(dir);
      const index = () => store.indexes.createIndex({ name: 'by_pad', fields: ['payload.pad'] });
      if (snapshot) {
        await index();
        await store.checkpoint();
      }
      expect(await store.cleanup()).toMatchObject({ removedInPlace: 300 });
      if (!snapshot) await index();
      await store.close();
      const reopened = await openEventStore({ ...options, clock });
      const rows = await reopened
        .query()
        .where('payload.pad', 'eq', 'x'.repeat(100))
        .hint({ forceIndex: ['by_pad'] })
        .execute();
      expect(rows.map((row) => (row as StoredEvent).id)).toEqual(
        Array.from({ length: 300 }, (_, i) => `e${i + 300}`),
      );
      await reopened.close();
    });
  }

  it('streams only rows the cut left while its steps run', async () => {
    const dir = await storeDir();
    const { store } = await expiredInOrder(dir);
    const expected = (await store.query().execute()).map((row) => (row as StoredEvent).id);
    const seen: string[] = [];
    let cleanup: Promise<CleanupReport> | undefined;
    for await (const row of store.query().where('type', 'eq', 'T').hint({ batchSize: 7 }).executeStream()) {
      seen.push((row as StoredEvent).id);
      cleanup ??= store.cleanup({ sliceRows: 10 });
    }
    expect((await cleanup)?.removedInPlace).toBe(300);
    expect(seen).toEqual(expected);
    await store.close();
  });

  it('keeps the dictionaries at the size of the window: ids of streams gone are reused', async () => {
    const clock = new ManualClock(T0);
    const store = await openEventStore({ clock, retention: { maxAge: '1m', schedule: false } });
    const sizes: number[] = [];
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 500; i++)
        await store.append({ aggregateId: `r${round}-${i}`, type: 'T', tags: { request: `q${round}-${i}` } });
      clock.advance(120_000);
      expect(await store.cleanup()).toMatchObject({ removed: 500, removedInPlace: 500 });
      sizes.push(store.stats().memory.dictionaries);
    }
    expect(store.stats().aggregates).toBe(0);
    // Every round interns 500 new streams and tag values; without reuse the dictionaries would grow 6x.
    expect(Math.max(...sizes)).toBeLessThanOrEqual((sizes[0] as number) * 1.2);
    await store.close();
  });
});

describe('the cleanup threshold', () => {
  it('defers compaction until enough can go, but never the cut nor a deleted stream', async () => {
    const { ManualClock } = await import('../../src/index.js');
    const T0 = Date.parse('2026-01-01T00:00:00Z');
    const clock = new ManualClock(T0);
    const store = await openEventStore({
      clock,
      retention: { maxAge: '1h', types: { 'DEBUG.*': '30m' }, schedule: false },
    });
    try {
      // 100 events, a minute apart, every fifth a DEBUG one: after 70 minutes the first 10 have
      // expired (the front: cut), and so have the DEBUG events among the next 30 (past the front).
      for (let i = 0; i < 100; i++) {
        const type = i % 5 === 4 ? 'DEBUG.trace' : 'T';
        await store.append({ aggregateId: `s${i % 4}`, type, timestamp: clock.now() });
        clock.advance(60_000);
      }
      clock.set(T0 + 70 * 60_000);
      const debugPast = (from: number, to: number) =>
        Array.from({ length: to - from }, (_, k) => from + k).filter((i) => i % 5 === 4).length;
      const hiddenPast = debugPast(10, 40); // 6: below the 0.2 threshold of 100
      expect(store.stats().events).toBe(100 - 10 - hiddenPast);
      const first = await store.cleanup({ threshold: 0.2 });
      expect(first).toMatchObject({ examined: 100, removed: 10, removedInPlace: 10, deferred: true });
      expect(store.stats().events).toBe(100 - 10 - hiddenPast);
      const [oldest] = await store.queryEvents({ limit: 1 });
      expect(oldest?.sequence).toBe(11);

      await store.deleteAggregate('s3');
      const erased = await store.cleanup({ threshold: 0.2 });
      // Erasure does not wait: s3's 22 remaining events go, and the deferred DEBUG ones with them.
      const s3Left = Array.from({ length: 90 }, (_, k) => k + 10).filter((i) => i % 4 === 3).length;
      const debugNotS3 = Array.from({ length: 30 }, (_, k) => k + 10).filter(
        (i) => i % 5 === 4 && i % 4 !== 3,
      ).length;
      expect(erased).toMatchObject({ deferred: false, removed: s3Left + debugNotS3, tombstoned: s3Left });
      clock.advance(10 * 60_000);
      const now = await store.cleanup();
      // 10 more at the front, minus s3's and the DEBUG ones already gone; and 10 more DEBUG past it.
      expect(now.deferred).toBe(false);
      expect(store.stats().events).toBe(
        Array.from({ length: 100 }, (_, i) => i).filter(
          (i) => i >= 20 && i % 4 !== 3 && !(i % 5 === 4 && i < 50),
        ).length,
      );
      await expect(store.cleanup({ threshold: 2 })).rejects.toThrow(
        /options.threshold: must be a share from 0 to 1, got 2/,
      );
    } finally {
      await store.close();
    }
  });
});

describe('closing while a cleanup runs', () => {
  // Cleanup stops at its next slice once the store is closing: whatever step that is, reopening
  // finds each event exactly once, in the store or in the archive.
  for (const archive of [true, false]) {
    it(`${archive ? 'with' : 'without'} an archive: at every slice, nothing lost or twice`, async () => {
      const T0 = Date.UTC(2026, 2, 1);
      // Until the cleanup is done before the close: through deciding, archiving, compacting and
      // rewriting. Every early turn, then ever sparser (the later steps take hundreds of turns).
      for (let turns = 0, done = false; !done; turns += Math.max(3, Math.floor(turns / 6))) {
        const dir = await storeDir();
        const archiveDir = join(dir, 'archive');
        const clock = new ManualClock(T0);
        const options: OpenOptions = {
          dir: join(dir, 'store'),
          clock,
          segmentSize: 4096,
          retention: {
            maxAge: '1h',
            schedule: false,
            ...(archive ? { archive: { dir: archiveDir } } : {}),
          },
        };
        const store = await openEventStore(options);
        const ids: string[] = [];
        // The deleted stream's events: erased, neither kept nor archived.
        let erased = 0;
        for (let b = 0; b < 30; b++) {
          clock.set(T0 + b * 5 * 60_000);
          const stored = await store.append(
            Array.from({ length: 5 }, (_, i) => ({
              aggregateId: `s${(b + i) % 4}`,
              type: 'T',
              payload: { pad: 'x'.repeat(60) },
            })),
          );
          ids.push(...stored.map((e) => e.id));
          erased += stored.filter((e) => e.aggregateId === 's3').length;
        }
        await store.deleteAggregate('s3');
        clock.set(T0 + 180 * 60_000);
        let closing = false;
        const running = store.cleanup({ sliceRows: 3 }).finally(() => {
          done = !closing;
        });
        for (let t = 0; t < turns; t++) await new Promise((resolve) => setImmediate(resolve));
        closing = true;
        await store.close();
        await running;
        expect((await verifyStore(join(dir, 'store'))).problems, `after ${turns} turns`).toEqual([]);

        const again = await openEventStore({ ...options, retention: { schedule: false } });
        const live = (await again.read()).map((e) => e.id);
        const archived = archivedEvents(archiveDir).map((e) => e.id);
        const once = [...live, ...archived];
        expect(new Set(once).size, `after ${turns} turns: twice`).toBe(once.length);
        // Nothing lost but what was deleted (hidden still) or expired without an archive.
        const missing = ids.filter((id) => !once.includes(id));
        for (const id of missing) {
          const index = ids.indexOf(id);
          const b = Math.floor(index / 5);
          const expired = T0 + b * 5 * 60_000 < T0 + 120 * 60_000;
          const inDeleted = (b + (index % 5)) % 4 === 3;
          expect(inDeleted || (!archive && expired), `after ${turns} turns: ${id} lost`).toBe(true);
        }
        await again.close();
        // The policy back: a second cleanup finishes the job.
        const last = await openEventStore(options);
        await last.cleanup();
        const kept = (await last.read()).map((e) => e.id);
        const finalArchive = archivedEvents(archiveDir).map((e) => e.id);
        expect(kept.length + (archive ? finalArchive.length : 0), `after ${turns} turns`).toBe(
          archive ? ids.length - erased : kept.length,
        );
        expect(new Set([...kept, ...finalArchive]).size).toBe(kept.length + finalArchive.length);
        await last.close();
        expect((await verifyStore(join(dir, 'store'))).problems).toEqual([]);
      }
    });
  }
});

describe('the cleanup schedule', () => {
  it('follows the policy: hourly by default, any cron expression, none with false', async () => {
    const store = await openEventStore({ retention: { maxAge: '1d' } });
    try {
      const hourly = store.stats().cleanup.nextRunAt;
      expect(hourly).not.toBeNull();
      const next = new Date(hourly as string);
      // Hourly at minute 0, within the next hour.
      expect([next.getMinutes(), next.getSeconds()]).toEqual([0, 0]);
      expect(next.getTime() - Date.now()).toBeLessThanOrEqual(3_600_000);
      store.setRetention({ maxAge: '1d', schedule: '30 2 * * *' });
      const daily = new Date(store.stats().cleanup.nextRunAt as string);
      expect([daily.getHours(), daily.getMinutes()]).toEqual([2, 30]);
      store.setRetention({ maxAge: '1d', schedule: false });
      expect(store.stats().cleanup.nextRunAt).toBeNull();
      expect(() => store.setRetention({ schedule: 'hourly' })).toThrow(
        /retention.schedule: must be a cron expression/,
      );
      expect(store.stats().cleanup.nextRunAt).toBeNull();
    } finally {
      await store.close();
    }
  });
});

describe('scans after a cut', () => {
  const T0 = Date.UTC(2026, 0, 1);

  /** 3,000 events a second apart, of 7 streams, under a maxAge of an hour: none has expired yet. */
  async function threeThousandSeconds(): Promise<{ store: EventStore; clock: ManualClock }> {
    const clock = new ManualClock(T0);
    const store = await openEventStore({ clock, retention: { maxAge: '1h', schedule: false } });
    for (let batch = 0; batch < 30; batch++) {
      const events: NewEvent[] = Array.from({ length: 100 }, (_, i) => ({
        aggregateId: `s${(batch * 100 + i) % 7}`,
        type: 'T',
        timestamp: T0 + (batch * 100 + i) * 1000,
        payload: { n: batch * 100 + i },
      }));
      clock.set(T0 + (batch * 100 + 99) * 1000);
      await store.append(events);
    }
    return { store, clock };
  }

  it('walk only the rows that stay: serial and parallel, full and sequence-bounded', async () => {
    const { store, clock } = await threeThousandSeconds();
    try {
      // After an hour and 40 minutes the first 2,400 have expired.
      clock.set(T0 + 100 * 60_000);
      expect(await store.cleanup()).toMatchObject({ removed: 2400, removedInPlace: 2400 });
      const query = store.query().where('version', 'gte', 1);
      for (const parallel of [false, true]) {
        const explained = await store.explain(query.hint({ parallel, forceIndex: ['scan'] }), {
          analyze: true,
        });
        // The scan starts at the table's first row: 600 rows, not the 3,000 ever appended.
        expect(explained.plan.children[0]).toMatchObject({ estimatedRows: 600, actualRows: 600 });
        const rows = await query.hint({ parallel, forceIndex: ['scan'] }).execute();
        expect(rows.map((row) => row.sequence)).toEqual(Array.from({ length: 600 }, (_, i) => 2401 + i));
      }
      // A sequence bound below the first row is cut to it.
      const bounded = await store.explain(store.query().where('sequence', 'gt', 100), { analyze: true });
      expect(bounded.considered.find((path) => path.index === 'sequence')).toMatchObject({
        estimatedRows: 600,
      });
      expect(await store.query().where('sequence', 'gt', 100).limit(1).execute()).toMatchObject([
        { sequence: 2401 },
      ]);
    } finally {
      await store.close();
    }
  });

  it('a parallel scan that a cut overtakes still fills its page, so its cursor goes on', async () => {
    const { store } = await threeThousandSeconds();
    try {
      // With and without a term the workers cannot check (payload), which runs on the rows they
      // return; each cut removes events the query saw as live when it began (a cleanup's clock is later).
      for (const [floor, query] of [
        [1200, store.query().where('version', 'gte', 1)],
        [2400, store.query().where('version', 'gte', 1).where('payload.n', 'gte', 0)],
      ] as const) {
        const sequences = (await query.execute()).map((row) => row.sequence as number);
        const expected = sequences.filter((sequence) => sequence > floor).slice(0, 100);
        // executePage() hands the scan's ranges to the workers before it first waits; the cut lands now,
        // before any answer is taken. The workers hold the chunks as they were sent.
        const paging = query
          .hint({ parallel: true, forceIndex: ['scan'] })
          .limit(100)
          .executePage();
        const cut = new TableCut(tableOf(store), floor);
        while (!cut.step(1 << 20));
        const page = await paging;
        expect(page.rows.map((row) => row.sequence)).toEqual(expected);
        expect(page.cursor).toBeDefined();
      }
    } finally {
      await store.close();
    }
  });
});
