import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { ManualClock, f, openEventStore, type EventQuery, type EventStore } from '../../../src/index.js';
import { resolveMonitorOptions } from '../../../src/live/performance-monitor/monitor-options.js';
import { PerformanceMonitor } from '../../../src/live/performance-monitor/performance-monitor.js';
import type { ReadObservation } from '../../../src/store/hooks.js';
import { removeDir, tempDir, turnsUntil } from '../../support/helpers.js';

const T0 = Date.UTC(2025, 0, 1);
/** Shape `eq(type)` for value 1, `eq(aggregateId)` for any other. */
const query = (value: number): EventQuery => ({
  kind: 'query',
  filter: value === 1 ? f.eq('type', 'T') : f.eq('aggregateId', `a${value}`),
  orderBy: [],
  hints: {},
});

/**
 * The monitor as the store's hooks drive it, with the durations given: the slow-query rules are
 * about durations, which a real query cannot be made to take. No engine is attached, so this is
 * also the path of an engine that reports no query profiles (the shape is computed from the query).
 */
function monitorWith(options: object, clock = new ManualClock(T0)) {
  const monitor = new PerformanceMonitor(resolveMonitorOptions(options) as never, clock, undefined);
  const read = (durationMs: number, value = 1) => {
    const observation: ReadObservation = {
      call: { kind: 'query', method: 'queryEvents', query: query(value) },
      durationMs,
      startedAt: 0,
      rows: 1,
    };
    monitor.plugin!.afterRead!(observation);
  };
  return { monitor, read, clock };
}

describe('slow-query rules', () => {
  test('slowQueryMs: at or over it is slow, under it is not', () => {
    const { monitor, read } = monitorWith({ slowQueryMs: 20, outlierFactor: 0 });
    read(19.99);
    read(20);
    read(250);
    expect(monitor.getSlowQueries().map((e) => [e.executionTimeMs, e.reason, e.thresholdMs])).toEqual([
      [250, 'threshold', 20],
      [20, 'threshold', 20],
    ]);
    // No engine profile: the log still has the query_performance_log columns, and says it has no plan.
    expect(monitor.getSlowQueries()[0]).toMatchObject({
      fingerprint: 'eq(type)|||||||',
      indexesUsed: [],
      plan: null,
      phases: null,
      accessPath: null,
    });
  });

  test("outliers: outlierFactor × the shape's p99, once it has 100 calls, and not under outlierFloorMs", () => {
    const { monitor, read } = monitorWith({ slowQueryMs: 1000, outlierFactor: 10, outlierFloorMs: 1 });
    for (let i = 0; i < 99; i++) read(0.2);
    read(5); // the 100th call: too few to judge by
    expect(monitor.getSlowQueries()).toEqual([]);
    read(0.2);
    read(5); // the 102nd: p99 is 0.2 ms (the sample at rank 0.99 × 101), and 5 ms is 25 times it
    const [outlier] = monitor.getSlowQueries();
    expect(outlier).toMatchObject({ executionTimeMs: 5, reason: 'outlier' });
    expect(outlier!.thresholdMs).toBeCloseTo(2, 1); // 10 × p99 (0.2 ms, within 1%)
    read(1.5); // under 10 × p99
    read(0.9); // under the floor
    expect(monitor.getSlowQueries()).toHaveLength(1);
    // Another shape has its own p99 and its own count.
    read(50, 2); // its first call: too few to judge by
    expect(monitor.getSlowQueries()).toHaveLength(1);
    expect(monitor.getQueryStats('eq(aggregateId)|||||||')).toMatchObject({ calls: 1, slowQueries: 0 });
    expect(monitor.getQueryStats('eq(type)|||||||')).toMatchObject({ calls: 104, slowQueries: 1 });
  });

  test('outlierFactor 0 turns outliers off', () => {
    const { monitor, read } = monitorWith({ slowQueryMs: 1000, outlierFactor: 0 });
    for (let i = 0; i < 200; i++) read(0.2);
    read(500);
    expect(monitor.getSlowQueries()).toEqual([]);
  });
});

describe('the snapshot for tamma-events stats', () => {
  let store: EventStore | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
    if (dir !== undefined) await removeDir(dir);
  });

  test('is written every snapshotIntervalMs of the store clock while the store is used', async () => {
    dir = await tempDir();
    const clock = new ManualClock(T0);
    store = await openEventStore({ dir, clock, monitor: { snapshotIntervalMs: 10_000 } });
    const path = join(dir, 'monitor', 'snapshot.json');
    await store.append({ aggregateId: 'a', type: 'T' });
    await store.getEvents('a');
    expect(existsSync(path)).toBe(false); // not due yet
    clock.advance(10_000);
    await store.getEvents('a');
    await turnsUntil(() => existsSync(path));
    const snapshot = JSON.parse(readFileSync(path, 'utf8')) as {
      writtenAt: string;
      latency: { all: { methods: { getEvents: { count: number } } } };
    };
    expect(snapshot.writtenAt).toBe(new Date(T0 + 10_000).toISOString());
    expect(snapshot.latency.all.methods.getEvents.count).toBe(2);
  });
});
