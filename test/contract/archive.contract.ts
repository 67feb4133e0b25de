/**
 * The archive, for engines with the `archive` capability: cleanup archives what it removes under a
 * policy naming an archive; queryEvents with includeArchived merges the archive into the live
 * events by sequence; restoreArchive brings archived events back with their ids, sequences,
 * versions and contents (into a new store, after the last sequence, or between the live events),
 * never those of a deleted stream. (The archive's files, and restores that rebuild the embedded
 * engine's log, are in test/retention/.)
 */
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { ManualClock, ValidationError } from '../../src/index.js';
import { expectError, rejection, removeDir, tempDir } from '../support/helpers.js';
import type { ContractContext, StoreFactory } from './factory.js';
import { requires } from './requires.js';
import { archiveRetention, fillArchiveSample } from '../support/archive-sample.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const HOUR = 3_600_000;

export function archiveSuite(factory: StoreFactory): void {
  requires(factory, 'archive').describe('archived events come back', () => {
    const dirs: string[] = [];
    const opened: ContractContext[] = [];

    afterEach(async () => {
      for (const ctx of opened.splice(0)) await ctx.cleanup();
      await Promise.all(dirs.splice(0).map(removeDir));
    });

    async function fresh(name: string): Promise<string> {
      const dir = await tempDir(`tamma-restore-${name}-`);
      dirs.push(dir);
      return dir;
    }

    /**
     * A store with a policy archiving to `archive` (if given): events expire after an hour, KEEP.x
     * ones never. A durable store rolls 4 KiB segments, so a restore between its events crosses many.
     */
    async function open(clock: ManualClock, archive?: string): Promise<ContractContext> {
      const ctx = await factory.open({
        clock,
        ...(factory.capabilities.durable ? { segmentSize: 4096 } : {}),
        ...archiveRetention(archive),
      });
      opened.push(ctx);
      return ctx;
    }

    /**
     * A store with an archive, filled; `wait` on, a cleanup archives what expired: after half an
     * hour the first half, after two hours all (KEEP.x events stay).
     */
    async function cleanedAfter(wait = HOUR / 2) {
      const clock = new ManualClock(T0);
      const archive = join(await fresh('archive'), 'a');
      const ctx = await open(clock, archive);
      const store = ctx.store;
      const appended = await fillArchiveSample(store, clock);
      clock.advance(wait);
      const cleaned = await store.cleanup();
      return { clock, archive, ctx, store, appended, cleaned };
    }

    it('into a new store with their sequence numbers, ids, versions and contents', async () => {
      const clock = new ManualClock(T0);
      const archive = join(await fresh('archive'), 'a');
      const source = (await open(clock, archive)).store;
      const appended = await fillArchiveSample(source, clock);
      clock.advance(2 * HOUR);
      const report = await source.cleanup();
      const kept = appended.filter((event) => event.type === 'KEEP.x');
      const gone = appended.filter((event) => event.type !== 'KEEP.x');
      expect(report).toMatchObject({ removed: gone.length, archived: gone.length });
      expect(await source.read()).toEqual(kept);

      const target = (await open(clock)).store;
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

    it('by sequence range, also below what the store holds', async () => {
      const clock = new ManualClock(T0);
      const archive = join(await fresh('archive'), 'a');
      const source = (await open(clock, archive)).store;
      const appended = await fillArchiveSample(source, clock);
      clock.advance(2 * HOUR);
      await source.cleanup();
      const gone = appended.filter((event) => event.type !== 'KEEP.x');

      const target = (await open(clock)).store;
      const middle = gone.slice(10, 20);
      await target.restoreArchive(archive, {
        fromSequence: middle[0]?.sequence,
        toSequence: middle.at(-1)?.sequence,
      });
      expect(await target.read()).toEqual(middle);
      await target.restoreArchive(archive, { fromSequence: (middle.at(-1)?.sequence ?? 0) + 1 });
      expect(await target.read()).toEqual(gone.slice(10));
      // Below the store's last sequence: the log is rebuilt with them in place.
      expect(await target.restoreArchive(archive)).toMatchObject({
        restored: 10,
        alreadyLive: gone.length - 10,
      });
      expect(await target.read()).toEqual(gone);
    });

    requires(factory, 'erasure').test(
      'reads through to the archive with includeArchived, but never a deleted stream',
      async () => {
        const { store, appended } = await cleanedAfter(2 * HOUR);
        expect(await store.queryEvents({}, { includeArchived: true })).toEqual(appended);
        await store.deleteAggregate('s2');
        const report = await store.cleanup();
        expect(report.tombstoned).toBe(
          appended.filter((e) => e.aggregateId === 's2' && e.type === 'KEEP.x').length,
        );
        // Erased, not archived (how the embedded engine's archive file is rewritten without the
        // stream: test/retention/restore.test.ts).
        expect(report.erasedFromArchive).toBeGreaterThan(0);
        expect(await store.queryEvents({}, { includeArchived: true })).toEqual(
          appended.filter((event) => event.aggregateId !== 's2'),
        );
      },
    );

    it('back between the live events of the store they came from', async () => {
      // The first half expires; every stream goes on, so versions go on too.
      const { clock, archive, ctx, store, appended, cleaned } = await cleanedAfter();
      // A longer maxAge from here on, so nothing more expires and the restored events stay visible.
      store.setRetention({ maxAge: '30d', archive: { dir: archive }, schedule: false });
      const kept = await store.read();
      expect(kept.length).toBe(appended.length - cleaned.removed);
      expect(cleaned.removed).toBeGreaterThan(20);
      const later = await fillArchiveSample(store, clock);
      const report = await store.restoreArchive(archive);
      // The events cleanup took: every one expired, the first (KEEP.x) aside, up to half an hour in.
      const stayed = new Set(kept.map((event) => event.id));
      const taken = appended.filter((event) => !stayed.has(event.id));
      expect(report).toMatchObject({
        restored: appended.length - kept.length,
        alreadyLive: 0,
        ofDeletedStreams: 0,
        hiddenByRetention: 0,
        firstSequence: taken[0]?.sequence,
        lastSequence: taken.at(-1)?.sequence,
      });
      const all = [...appended, ...later];
      expect(await store.read()).toEqual(all);
      expect(await store.getEvents('s1')).toEqual(all.filter((event) => event.aggregateId === 's1'));
      expect(await store.queryEvents({ type: 'T', limit: 5 })).toEqual(
        all.filter((event) => event.type === 'T').slice(0, 5),
      );
      expect(store.stats()).toMatchObject({ events: all.length, lastSequence: later.at(-1)?.sequence });
      // Read through to the archive, each event comes once.
      expect(await store.queryEvents({}, { includeArchived: true })).toEqual(all);
      // Appends go on after the last sequence.
      const [next] = await store.append({ aggregateId: 's1', type: 'T' });
      expect(next).toMatchObject({ sequence: (later.at(-1)?.sequence ?? 0) + 1, version: 41 });
      expect(store.stats().events).toBe(all.length + 1);
      // Restoring again finds every event live already.
      expect(await store.restoreArchive(archive)).toMatchObject({
        restored: 0,
        alreadyLive: report.restored,
      });

      if (ctx.reopen) {
        await store.close();
        const reopened = await ctx.reopen({ segmentSize: 4096 });
        expect(await reopened.read()).toEqual([...all, next]);
      }
    });

    it('keeps the cleanup counts across a restore between live events', async () => {
      const clock = new ManualClock(T0);
      const archive = join(await fresh('archive'), 'a');
      const store = (await open(clock, archive)).store;
      await fillArchiveSample(store, clock);
      clock.advance(HOUR / 2);
      const cleaned = await store.cleanup();
      const before = store.stats().cleanup;
      expect(before).toMatchObject({ runs: 1, totals: { removed: cleaned.removed } });
      // Restored between the events cleanup left.
      expect(await store.restoreArchive(archive)).toMatchObject({ restored: cleaned.removed });
      expect(store.stats().cleanup).toMatchObject({
        runs: 1,
        lastRun: before.lastRun,
        totals: before.totals,
      });
    });

    requires(factory, 'erasure').test(
      "leaves out deleted streams, and refuses what would break a stream's versions",
      async () => {
        const { archive, store, appended } = await cleanedAfter(2 * HOUR);
        await store.deleteAggregate('s0');
        store.setRetention({ maxAge: '30d', archive: { dir: archive }, schedule: false });
        const gone = appended.filter((event) => event.type !== 'KEEP.x');
        const report = await store.restoreArchive(archive);
        const ofS0 = gone.filter((event) => event.aggregateId === 's0').length;
        expect(report).toMatchObject({ restored: gone.length - ofS0, ofDeletedStreams: ofS0 });
        expect(await store.read()).toEqual(appended.filter((event) => event.aggregateId !== 's0'));

        // A stream cleanup emptied starts again at version 1: its archived events cannot come back.
        const clock2 = new ManualClock(T0);
        const archive2 = join(await fresh('archive'), 'b');
        const other = (await open(clock2, archive2)).store;
        await other.append({ aggregateId: 'x', type: 'T', timestamp: clock2.now() });
        await other.append({ aggregateId: 'y', type: 'KEEP.x', timestamp: clock2.now() });
        clock2.advance(2 * HOUR);
        await other.cleanup();
        const [restarted] = await other.append({ aggregateId: 'x', type: 'T', timestamp: clock2.now() });
        expect(restarted?.version).toBe(1);
        const before = await other.read();
        expectError(
          await rejection(() => other.restoreArchive(archive2)),
          ValidationError,
          'VALIDATION_FAILED',
          'stream "x"',
        );
        expect(await other.read()).toEqual(before);
        const [after] = await other.append({ aggregateId: 'x', type: 'T', timestamp: clock2.now() });
        expect(after?.version).toBe(2);
      },
    );

    requires(factory, 'userIndexes').test('keeps user indexes across a restore into the middle', async () => {
      const clock = new ManualClock(T0);
      const archive = join(await fresh('archive'), 'a');
      const store = (await open(clock, archive)).store;
      await store.indexes.createIndex({ name: 'by_n', fields: ['tags.n'] });
      const appended = await fillArchiveSample(store, clock);
      clock.advance(HOUR / 2);
      await store.cleanup();
      store.setRetention({ maxAge: '30d', archive: { dir: archive }, schedule: false });
      const query = () => store.query().where('tags.n', 'lt', 10).orderBy('sequence');
      expect((await query().execute()).length).toBeLessThan(10);
      await store.restoreArchive(archive);
      expect((await store.indexes.listIndexes()).map((index) => index.name)).toContain('by_n');
      expect((await store.explain(query())).considered.map((path) => path.index)).toContain('by_n');
      // Read through the index alone: it holds the restored events.
      expect(
        await query()
          .hint({ forceIndex: ['by_n'] })
          .execute(),
      ).toEqual(appended.slice(0, 10));
      expect(await query().execute()).toEqual(appended.slice(0, 10));
    });

    it('refuses bad arguments with an error naming them, and changes nothing', async () => {
      const { archive, store } = await cleanedAfter();
      const before = await store.read();
      const cases: [() => Promise<unknown>, string][] = [
        [() => store.restoreArchive(join(archive, 'nope')), 'holds no archive'],
        [() => store.restoreArchive(archive, { fromSequence: 0 }), 'options.fromSequence'],
        [
          () => store.restoreArchive(archive, { fromSequence: 9, toSequence: 3 }),
          'must not be below fromSequence (9)',
        ],
        [() => store.restoreArchive(archive, { toSequence: 1.5 }), 'options.toSequence'],
        [() => store.restoreArchive(archive, { onProgress: 'yes' as never }), 'options.onProgress'],
      ];
      for (const [call, message] of cases) {
        expectError(await rejection(call), ValidationError, 'VALIDATION_FAILED', message);
      }
      expect(await store.read()).toEqual(before);
    });

    requires(factory, 'durable').test(
      'a stream whose newest events expired before its older ones keeps counting versions, and gets them back',
      async () => {
        const clock = new ManualClock(T0);
        const archive = join(await fresh('archive'), 'a');
        const ctx = await open(clock, archive);
        let store = ctx.store;
        const first = await store.appendToStream('w', [
          { type: 'KEEP.x', timestamp: clock.now() },
          { type: 'T', timestamp: clock.now() },
          { type: 'T', timestamp: clock.now() },
        ]);
        clock.advance(2 * HOUR);
        expect(await store.cleanup()).toMatchObject({ removed: 2, archived: 2 });
        expect((await store.getEvents('w')).map((event) => event.version)).toEqual([1]);
        // The stream's version is still 3: the next event is 4, and expecting 1 is a conflict.
        await expect(store.appendToStream('w', { type: 'T' }, { expectedVersion: 1 })).rejects.toThrow(
          /stream "w" is at version 3/,
        );
        const [fourth] = await store.appendToStream('w', { type: 'T' }, { expectedVersion: 3 });
        expect(fourth?.version).toBe(4);
        // Also after a restart, and after a compaction.
        await store.close();
        store = await ctx.reopen!();
        const [fifth] = await store.append({ aggregateId: 'w', type: 'KEEP.x' });
        expect(fifth?.version).toBe(5);
        clock.advance(2 * HOUR);
        await store.cleanup();
        const [sixth] = await store.append({ aggregateId: 'w', type: 'KEEP.x' });
        expect(sixth?.version).toBe(6);

        // So the archived versions 2 and 3 come back in their place.
        store.setRetention({ maxAge: '30d', archive: { dir: archive }, schedule: false });
        await store.restoreArchive(archive);
        expect((await store.getEvents('w')).map((event) => event.version)).toEqual([1, 2, 3, 4, 5, 6]);
        expect((await store.getEvents('w')).slice(0, 3)).toEqual(first);
        const [seventh] = await store.append({ aggregateId: 'w', type: 'T' });
        expect(seventh?.version).toBe(7);
      },
    );
  });
}
