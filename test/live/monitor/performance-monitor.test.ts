import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { ManualClock, openEventStore, ValidationError, type EventStore } from '../../../src/index.js';
import { expectError, removeDir, tempDir } from '../../support/helpers.js';

const T0 = Date.UTC(2025, 0, 1);
const DAY = 86_400_000;

let store: EventStore | undefined;
let dir: string | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
  if (dir !== undefined) await removeDir(dir);
  dir = undefined;
});

async function fill(target: EventStore, n = 60): Promise<void> {
  const events = Array.from({ length: n }, (_, i) => ({
    aggregateId: `order-${i % 6}`,
    type: i % 3 === 0 ? 'ORDER.PLACED' : 'ORDER.PAID',
    tags: { region: i % 2 === 0 ? 'eu' : 'us', n: i },
    payload: { total: i },
  }));
  for (let i = 0; i < events.length; i += 10) await target.append(events.slice(i, i + 10));
}

describe('store.monitor latency', () => {
  test('counts every call per method, and each query under its shape', async () => {
    const clock = new ManualClock(T0);
    store = await openEventStore({ clock });
    await fill(store);
    await store.appendToStream('order-99', [{ type: 'ORDER.PLACED' }], { expectedVersion: 'no_stream' });
    for (let i = 0; i < 5; i++) await store.getEvents(`order-${i}`);
    for (let i = 0; i < 4; i++) await store.getEventsByType('ORDER.PAID', { limit: 3 });
    await store.getEventsInRange(T0 - 1000, T0 + 1000);
    for (let i = 0; i < 3; i++) await store.queryEvents({ type: 'ORDER.PLACED', tags: { region: 'eu' } });
    await store.query().where('tags.n', 'gte', 10).limit(5).execute();
    await store.query().groupBy('type').count().execute();
    await store.read({ limit: 5 });
    await store.explain(store.query().where('type', 'eq', 'ORDER.PAID'));

    const { methods, shapes, window } = store.monitor.latency();
    expect(window).toBe('all');
    const counts = Object.fromEntries(Object.entries(methods).map(([m, s]) => [m, s.count]));
    expect(counts).toEqual({
      append: 6,
      appendToStream: 1,
      getEvents: 5,
      getEventsByType: 4,
      getEventsInRange: 1,
      queryEvents: 3,
      query: 1,
      analytics: 1,
      read: 1,
      explain: 1,
    });
    for (const summary of Object.values(methods).filter((s) => s.count > 0)) {
      expect(summary.p50).toBeGreaterThan(0);
      expect(summary.p50 as number).toBeLessThanOrEqual(summary.p95 as number);
      expect(summary.p95 as number).toBeLessThanOrEqual(summary.p99 as number);
      expect(summary.p99 as number).toBeLessThanOrEqual(summary.max as number);
    }
    // Shapes: the query engine's runs (explain without analyze runs nothing).
    const byShape = Object.fromEntries(shapes.map((s) => [s.fingerprint, s.count]));
    expect(byShape['and(eq(type),eq(tags.region))|||||||']).toBe(3);
    expect(byShape['eq(type)|||limit||||']).toBe(4);
    expect(Object.keys(byShape).some((f) => f.startsWith('analytics('))).toBe(true);
    expect(shapes.reduce((sum, s) => sum + s.count, 0)).toBe(4 + 1 + 3 + 1 + 1);
  });

  test('rolling windows follow the store clock', async () => {
    const clock = new ManualClock(T0);
    store = await openEventStore({ clock });
    await fill(store, 10);
    await store.getEvents('order-1');
    clock.advance(2 * 60_000);
    await store.getEvents('order-2');
    await store.getEvents('order-3');
    const count = (window: '1m' | '5m' | '1h' | 'all') =>
      store!.monitor.latency({ window }).methods.getEvents.count;
    expect([count('1m'), count('5m'), count('1h'), count('all')]).toEqual([2, 3, 3, 3]);
    clock.advance(10 * 60_000);
    expect([count('1m'), count('5m'), count('1h'), count('all')]).toEqual([0, 0, 3, 3]);
    expect(store.monitor.latency({ window: '5m' }).since).toBe(new Date(clock.now() - 300_000).toISOString());
  });

  test('a bad window or argument throws a coded ValidationError naming it', async () => {
    store = await openEventStore();
    const bad = (() => {
      try {
        store!.monitor.latency({ window: '2m' as never });
      } catch (error) {
        return error;
      }
    })();
    expectError(bad, ValidationError, 'VALIDATION_FAILED', 'options.window', '"2m"', "'5m'");
    const badId = (() => {
      try {
        store!.monitor.getQueryStats(42 as never);
      } catch (error) {
        return error;
      }
    })();
    expectError(badId, ValidationError, 'VALIDATION_FAILED', 'queryIdOrFingerprint', '42');
  });
});

describe('slow queries', () => {
  test('a query over slowQueryMs is logged with the query_performance_log columns, its plan and phases', async () => {
    store = await openEventStore({ clock: new ManualClock(T0), monitor: { slowQueryMs: 0 } });
    await fill(store);
    const builder = store.query().where('tags.n', 'in', [1, 2, 3, 4, 5]).limit(4);
    const rows = await builder.execute({ queryId: 'dash-1' });
    const explained = await builder.explain();
    await store.queryEvents({ tags: { region: 'us' } });
    const [last, first] = store.monitor.getSlowQueries();
    expect(first).toMatchObject({
      queryId: 'dash-1',
      rowsReturned: rows.length,
      indexesUsed: ['tags.n'],
      createdAt: new Date(T0).toISOString(),
      fingerprint: explained.fingerprint,
      reason: 'threshold',
      thresholdMs: 0,
      accessPath: 'tags.n',
    });
    expect(explained.indexesUsed).toEqual(['tags.n']);
    expect(JSON.parse(first!.queryText)).toMatchObject({
      filter: { kind: 'in', field: 'tags.n', values: [1, 2, 3, 4, 5] },
      limit: 4,
    });
    expect(first!.executionTimeMs).toBeGreaterThan(0);
    const { planMs, indexMs, scanMs, decodeMs } = first!.phases!;
    expect(scanMs).toBe(0);
    expect(planMs).toBeGreaterThan(0);
    expect(indexMs).toBeGreaterThan(0);
    // Four rows: their decoding is within the row search (no clock reading spent on it).
    expect(decodeMs).toBe(0);
    // The phases are within the call's time (the rest: handing the answer back).
    expect(planMs + indexMs + decodeMs).toBeLessThanOrEqual(first!.executionTimeMs);
    // The plan: estimated and actual rows per node, as EXPLAIN ANALYZE shows them.
    expect(first!.plan!.root.operator).toBe('Limit');
    expect(first!.plan!.root.actualRows).toBe(4);
    const lookup = first!.plan!.root.children[0]!.children[0]!;
    expect(lookup).toMatchObject({
      operator: 'IndexLookup',
      index: 'tags.n',
      estimatedRows: 5,
      actualRows: 4,
    });
    expect(first!.plan!.text).toContain('actual rows=4');
    expect(last!.queryId).not.toBe('dash-1');
    expect(last!.indexesUsed).toEqual(['tags.region']);

    // getQueryStats by the query's id and by its fingerprint.
    const byId = store.monitor.getQueryStats('dash-1');
    expect(byId).toMatchObject({
      queryId: 'dash-1',
      fingerprint: explained.fingerprint,
      calls: 1,
      slowQueries: 1,
    });
    expect(byId!.slowQuery).toEqual(first);
    const byShape = store.monitor.getQueryStats(explained.fingerprint!);
    expect(byShape).toMatchObject({ queryId: null, calls: 1, rowsReturned: 4, accessPaths: { 'tags.n': 1 } });
    expect(byShape!.latency.all.count).toBe(1);
    expect(store.monitor.getQueryStats('no such query')).toBeNull();
  });

  test('a scan of many rows: its time split between scan and decode', async () => {
    store = await openEventStore({ monitor: { slowQueryMs: 0 } });
    await fill(store, 100);
    await store.query().where('payload.total', 'gte', 0).execute();
    const [entry] = store.monitor.getSlowQueries();
    expect(entry).toMatchObject({
      accessPath: 'scan',
      indexesUsed: [],
      rowsReturned: 100,
      rowsExamined: 100,
    });
    expect(entry!.phases!.indexMs).toBe(0);
    expect(entry!.phases!.scanMs).toBeGreaterThan(0);
    expect(entry!.phases!.decodeMs).toBeGreaterThan(0);
    expect(entry!.plan!.text).toMatch(/Scan .*actual rows=100/);
  });

  test('getSlowQueries filters by thresholdMs and limit, newest first; memory holds slowQueryLogSize entries', async () => {
    store = await openEventStore({ monitor: { slowQueryMs: 0, slowQueryLogSize: 5 } });
    await fill(store);
    for (let i = 0; i < 12; i++) await store.queryEvents({ tags: { n: i } }, {});
    const all = store.monitor.getSlowQueries({ limit: 100 });
    expect(all).toHaveLength(5);
    expect(all.map((e) => JSON.parse(e.queryText).filter.value)).toEqual([11, 10, 9, 8, 7]);
    expect(store.monitor.getSlowQueries({ limit: 2 })).toHaveLength(2);
    const slowest = Math.max(...all.map((e) => e.executionTimeMs));
    expect(store.monitor.getSlowQueries({ thresholdMs: slowest }).length).toBeGreaterThanOrEqual(1);
    expect(store.monitor.getSlowQueries({ thresholdMs: slowest + 1 })).toEqual([]);
    for (const [filter, path] of [
      [{ limit: 0 }, 'filter.limit'],
      [{ thresholdMs: -1 }, 'filter.thresholdMs'],
      ['all', 'filter'],
    ] as const) {
      let error: unknown;
      try {
        store.monitor.getSlowQueries(filter as never);
      } catch (caught) {
        error = caught;
      }
      expectError(error, ValidationError, 'VALIDATION_FAILED', path);
    }
  });

  test('fast queries under the default threshold are not logged', async () => {
    store = await openEventStore();
    await fill(store);
    for (let i = 0; i < 20; i++) await store.getEventsByType('ORDER.PLACED', { limit: 1 });
    expect(store.monitor.getSlowQueries()).toEqual([]);
  });

  test('a durable store writes the log to rotated JSONL files: bounded in size and count', async () => {
    dir = await tempDir();
    const maxBytes = 8 * 1024;
    store = await openEventStore({
      dir,
      clock: new ManualClock(T0),
      monitor: { slowQueryMs: 0, slowQueryFileBytes: maxBytes, slowQueryFiles: 2, snapshotIntervalMs: 0 },
    });
    await fill(store);
    for (let i = 0; i < 200; i++) await store.queryEvents({ tags: { n: i % 60 } });
    expect(store.monitor.slowQueryFile).toBe(join(dir, 'monitor', 'slow-queries.jsonl'));
    await store.close();
    store = undefined;
    const files = readdirSync(join(dir, 'monitor'))
      .filter((f) => f.startsWith('slow-queries'))
      .sort();
    expect(files).toEqual(['slow-queries.1.jsonl', 'slow-queries.2.jsonl', 'slow-queries.jsonl']);
    const lines: unknown[] = [];
    for (const file of ['slow-queries.2.jsonl', 'slow-queries.1.jsonl', 'slow-queries.jsonl']) {
      const path = join(dir, 'monitor', file);
      expect(statSync(path).size).toBeLessThanOrEqual(maxBytes);
      for (const line of readFileSync(path, 'utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    }
    // The newest entries are kept, oldest file first, in order.
    const values = lines.map((entry) => JSON.parse((entry as { queryText: string }).queryText).filter.value);
    expect(values.at(-1)).toBe(199 % 60);
    expect(values.length).toBeLessThan(200);
    const ids = lines.map((entry) => Number((entry as { queryId: string }).queryId.slice(1)));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(existsSync(join(dir, 'monitor', 'snapshot.json'))).toBe(true);
  });
});

describe('analyzeIndexUsage', () => {
  test('per index and day, unused indexes, and the success metrics as figures', async () => {
    const clock = new ManualClock(T0 + 3_600_000);
    store = await openEventStore({ clock, monitor: { slowQueryMs: 1e9 } });
    await fill(store);
    await store.indexes.createIndex({ name: 'by_total', fields: ['payload.total'] });
    await store.indexes.createIndex({ name: 'never_used', fields: ['payload.other'] });
    for (let i = 0; i < 6; i++) await store.query().where('payload.total', 'eq', i).execute();
    for (let i = 0; i < 2; i++) await store.queryEvents({ type: 'ORDER.PLACED' });
    // A scan: no index serves a `ne` on a payload field.
    await store.query().where('payload.x', 'ne', 1).execute();
    clock.advance(DAY);
    await store.query().where('payload.total', 'eq', 7).execute();

    const report = await store.monitor.analyzeIndexUsage();
    const day1 = new Date(T0).toISOString().slice(0, 10);
    const day2 = new Date(T0 + DAY).toISOString().slice(0, 10);
    const row = (index: string, date: string) =>
      report.days.find((r) => r.indexName === index && r.statsDate === date);
    expect(row('by_total', day1)).toMatchObject({ usageCount: 6, tableName: 'events' });
    expect(row('by_total', day2)).toMatchObject({
      usageCount: 1,
      lastUsed: new Date(T0 + DAY + 3_600_000).toISOString(),
    });
    expect(row('type', day1)).toMatchObject({ usageCount: 2 });
    expect(row('never_used', day2)).toMatchObject({ usageCount: 0, lastUsed: null });
    expect(row('never_used', day2)!.sizeBytes).toBeGreaterThanOrEqual(0);
    expect(row('by_total', day2)!.sizeBytes).toBeGreaterThan(0);
    expect(report.unused).toEqual(['never_used']);
    expect(report.indexes.find((i) => i.name === 'by_total')).toMatchObject({
      usageCount: 7,
      builtIn: false,
    });
    expect(report.queries).toEqual({ total: 10, indexed: 9, scans: 1, slow: 0 });
    expect(report.successMetrics).toEqual({ indexServedShare: 0.9, slowQueryShare: 0, cacheHitRate: null });

    store.monitor.setSources({ cache: () => ({ hits: 7, misses: 3 }) });
    expect((await store.monitor.analyzeIndexUsage()).successMetrics.cacheHitRate).toBeCloseTo(0.7, 12);
  });
});

describe('cleanup effectiveness and append throughput', () => {
  test('cleanup runs are summed from their reports', async () => {
    const clock = new ManualClock(T0);
    store = await openEventStore({ clock, retention: { maxAge: '1d' } });
    await fill(store, 30);
    clock.advance(2 * DAY);
    await store.append({ aggregateId: 'fresh', type: 'T' });
    const report = await store.cleanup();
    const effect = store.monitor.cleanupEffectiveness();
    expect(effect).toMatchObject({
      runs: 1,
      eventsRemoved: report.removed,
      bytesFreed: report.bytesFreed,
      totalDurationMs: report.durationMs,
      totalCpuMs: report.cpuMs,
    });
    expect(report.removed).toBe(30);
    expect(effect.lastRun).toMatchObject({ startedAt: report.startedAt, eventsRemoved: 30 });
    expect(effect.cpuShare).toBe(report.durationMs > 0 ? report.cpuMs / report.durationMs : null);
  });

  test('events per second over a window, by the store clock', async () => {
    const clock = new ManualClock(T0);
    store = await openEventStore({ clock });
    await fill(store, 100);
    clock.advance(30_000);
    const minute = store.monitor.appendThroughput({ window: '1m' });
    expect(minute).toMatchObject({ window: '1m', appends: 10, events: 100 });
    expect(minute.eventsPerSecond).toBeCloseTo(100 / 30, 9);
    clock.advance(60_000);
    expect(store.monitor.appendThroughput({ window: '1m' }).events).toBe(0);
    expect(store.monitor.appendThroughput().events).toBe(100);
  });
});
