import { expect, test } from 'vitest';
import { ManualClock, openEventStore } from '../src/index.js';
import { removeDir, tempDir } from './support/helpers.js';

/**
 * `fsync: 'batch'` promises an fsync within `fsyncIntervalMs` of an acknowledged write. A tight
 * `await append()` loop resolves every append in a microtask, so neither the store's timer nor the
 * callback of an fsync already started ever runs: before the fix such a loop got one fsync in 3 s,
 * and every acknowledged write after it stayed unsynced. Time here is the store's clock, advanced
 * by the test: no sleeping.
 */
test("'batch': a tight await-append loop is fsync'ed every fsyncIntervalMs of the store's clock", async () => {
  const dir = await tempDir();
  try {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const interval = 10;
    const store = await openEventStore({ dir, fsync: 'batch', fsyncIntervalMs: interval, clock });
    const appends = 1000;
    const payload = { text: 'x'.repeat(100) };
    let frameBytes = 0;
    let mostUnsynced = 0;
    for (let i = 0; i < appends; i++) {
      clock.advance(1);
      const before = store.stats().storage!.logBytes;
      await store.append({ aggregateId: 'tight', type: 'T', payload });
      const storage = store.stats().storage!;
      // Every frame is the same size: the same event but for its (fixed-width) id and sequence.
      frameBytes = storage.logBytes - before;
      mostUnsynced = Math.max(mostUnsynced, storage.unsyncedBytes);
    }
    const { fsyncs, unsyncedBytes } = store.stats().storage!;
    // About one fsync per interval of the store's clock (before the fix: 1 in all). Not exactly:
    // the monotonic clock may add some if this loop runs slower than real time, and an fsync the
    // timer started while an append waited can be joined by the next one that asks (group commit).
    expect(fsyncs).toBeGreaterThanOrEqual(appends / interval / 2);
    expect(fsyncs).toBeLessThan(appends / 2);
    // When any append resolves, what is not yet on stable storage is at most the appends of the
    // last interval: none acknowledged longer ago.
    expect(mostUnsynced).toBeLessThanOrEqual(interval * frameBytes);
    expect(unsyncedBytes).toBeLessThanOrEqual(interval * frameBytes);
    await store.close();
  } finally {
    await removeDir(dir);
  }
});

test("'batch': unsyncedBytes is 0 after flush(), and under 'always' after each append", async () => {
  const dir = await tempDir();
  try {
    const store = await openEventStore({ dir, fsync: 'batch', fsyncIntervalMs: 60_000 });
    await store.append({ aggregateId: 'a', type: 'T' });
    expect(store.stats().storage!.unsyncedBytes).toBeGreaterThan(0);
    await store.flush();
    expect(store.stats().storage!.unsyncedBytes).toBe(0);
    await store.close();
    const always = await openEventStore({ dir, fsync: 'always' });
    await always.append({ aggregateId: 'a', type: 'T' });
    expect(always.stats().storage!.unsyncedBytes).toBe(0);
    await always.close();
  } finally {
    await removeDir(dir);
  }
});
