import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, test } from 'vitest';
import { ManualClock, openEventStore, ValidationError, type EventStore } from '../../../src/index.js';
import { expectError } from '../../support/helpers.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A parser for the Prometheus text format (0.0.4), strict about what it accepts: every sample line
 * must belong to a family announced by # HELP and # TYPE, names and labels must be well formed.
 */
function parseExposition(text: string): {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: Sample[];
} {
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      (meta[1] === 'HELP' ? help : types).set(meta[2]!, meta[3]!);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (sample[2] ?? '').match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? []) {
      const at = pair.indexOf('=');
      labels[pair.slice(0, at)] = JSON.parse(pair.slice(at + 1)) as string;
    }
    const value = sample[3] === '+Inf' ? Infinity : Number(sample[3]);
    if (Number.isNaN(value)) throw new Error(`not a number: ${line}`);
    const name = sample[1]!;
    const family = [...types.keys()].find(
      (f) =>
        name === f || (types.get(f) === 'histogram' && /^(.*)_(bucket|sum|count)$/.exec(name)?.[1] === f),
    );
    if (family === undefined) throw new Error(`sample of no announced family: ${line}`);
    samples.push({ name, labels, value });
  }
  return { types, help, samples };
}

const pick = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
const one = (samples: Sample[], name: string, labels: Record<string, string> = {}): number => {
  const found = pick(samples, name, labels);
  expect(found, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
  return found[0]!.value;
};

let store: EventStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

describe('store.monitor.metrics()', () => {
  test('tamma_* families with their types, base units and values', async () => {
    store = await openEventStore({
      clock: new ManualClock(Date.UTC(2025, 0, 1)),
      monitor: { slowQueryMs: 1e9 },
    });
    for (let i = 0; i < 5; i++) {
      await store.append(
        Array.from({ length: 20 }, (_, j) => ({
          aggregateId: `s${j % 4}`,
          type: j % 2 ? 'A' : 'B',
          tags: { n: j },
        })),
      );
    }
    for (let i = 0; i < 7; i++) await store.getEvents(`s${i % 4}`);
    for (let i = 0; i < 3; i++) await store.getEventsByType('A', { limit: 2 });
    await store.query().where('payload.x', 'ne', 1).execute(); // a scan
    await expect(store.getEventsInRange(5, 1)).rejects.toThrow(ValidationError); // refused before the read
    store.monitor.setSources({
      cache: async () => ({ hits: 42, misses: 8 }),
      subscriptions: () => [
        { name: 'projector', lagEvents: 12 },
        { name: 'mailer', lagEvents: 0 },
      ],
    });

    const { types, help, samples } = parseExposition(await store.monitor.metrics());
    expect(Object.fromEntries(types)).toMatchObject({
      tamma_query_duration_seconds: 'histogram',
      tamma_query_shape_duration_seconds: 'histogram',
      tamma_append_duration_seconds: 'histogram',
      tamma_queries_total: 'counter',
      tamma_query_errors_total: 'counter',
      tamma_slow_queries_total: 'counter',
      tamma_appends_total: 'counter',
      tamma_events_appended_total: 'counter',
      tamma_index_lookups_total: 'counter',
      tamma_table_scans_total: 'counter',
      tamma_index_size_bytes: 'gauge',
      tamma_cache_requests_total: 'counter',
      tamma_subscription_lag_events: 'gauge',
      tamma_cleanup_runs_total: 'counter',
      tamma_cleanup_events_removed_total: 'counter',
      tamma_cleanup_bytes_freed_total: 'counter',
      tamma_cleanup_duration_seconds_total: 'counter',
      tamma_cleanup_cpu_seconds_total: 'counter',
    });
    for (const name of types.keys()) {
      expect(name).toMatch(/^tamma_/);
      expect(help.get(name)?.length).toBeGreaterThan(0);
      // Base units: seconds and bytes, never ms or KiB.
      expect(name).not.toMatch(/_(ms|milliseconds|microseconds|kb|kib|mb)(_|$)/);
      if (types.get(name) === 'counter') expect(name).toMatch(/_total$/);
    }

    // The duration histogram: buckets from 10 µs, cumulative, +Inf = _count = the method's calls.
    const buckets = pick(samples, 'tamma_query_duration_seconds_bucket', { method: 'getEvents' });
    const bounds = buckets.map((b) => (b.labels.le === '+Inf' ? Infinity : Number(b.labels.le)));
    expect(bounds[0]).toBe(0.00001);
    expect(bounds.at(-1)).toBe(Infinity);
    expect(bounds).toEqual([...bounds].sort((a, b) => a - b));
    const counts = buckets.map((b) => b.value);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts.at(-1)).toBe(7);
    expect(one(samples, 'tamma_query_duration_seconds_count', { method: 'getEvents' })).toBe(7);
    // _sum in seconds: the monitor's mean (ms) × count / 1000.
    const getEvents = store.monitor.latency().methods.getEvents;
    expect(one(samples, 'tamma_query_duration_seconds_sum', { method: 'getEvents' })).toBeCloseTo(
      ((getEvents.mean as number) * getEvents.count) / 1000,
      9,
    );
    expect(one(samples, 'tamma_queries_total', { method: 'getEvents' })).toBe(7);
    expect(one(samples, 'tamma_queries_total', { method: 'getEventsByType' })).toBe(3);
    expect(one(samples, 'tamma_queries_total', { method: 'query' })).toBe(1);
    expect(one(samples, 'tamma_appends_total', { method: 'append' })).toBe(5);
    expect(one(samples, 'tamma_events_appended_total')).toBe(100);
    expect(one(samples, 'tamma_append_duration_seconds_count', { method: 'append' })).toBe(5);
    expect(one(samples, 'tamma_index_lookups_total', { index: 'type' })).toBe(3);
    expect(one(samples, 'tamma_table_scans_total')).toBe(1);
    expect(one(samples, 'tamma_slow_queries_total')).toBe(0);
    expect(one(samples, 'tamma_index_size_bytes', { index: 'type' })).toBeGreaterThan(0);
    expect(one(samples, 'tamma_cache_requests_total', { result: 'hit' })).toBe(42);
    expect(one(samples, 'tamma_cache_requests_total', { result: 'miss' })).toBe(8);
    expect(one(samples, 'tamma_subscription_lag_events', { subscription: 'projector' })).toBe(12);
    expect(one(samples, 'tamma_subscription_lag_events', { subscription: 'mailer' })).toBe(0);
    expect(one(samples, 'tamma_cleanup_runs_total')).toBe(0);
  });

  test('without a cache or subscriptions, their families have no series', async () => {
    store = await openEventStore();
    const { samples } = parseExposition(await store.monitor.metrics());
    expect(pick(samples, 'tamma_cache_requests_total')).toEqual([]);
    expect(pick(samples, 'tamma_subscription_lag_events')).toEqual([]);
  });

  test('query shapes are bounded: the 50 most frequent, the rest under shape="other"', async () => {
    store = await openEventStore({ monitor: { maxShapes: 70 } });
    await store.append(
      Array.from({ length: 10 }, (_, i) => ({ aggregateId: 'a', type: 'T', tags: { n: i } })),
    );
    // 80 shapes (a different select each); shape k runs k + 1 times, so the most frequent are known.
    for (let k = 0; k < 80; k++) {
      const select = ['sequence', ...Array.from({ length: k % 8 }, (_, j) => `tags.f${j}`), `payload.p${k}`];
      for (let r = 0; r <= k % 3; r++) await store.query().select(select).limit(1).execute();
    }
    const { samples } = parseExposition(await store.monitor.metrics());
    const counts = pick(samples, 'tamma_query_shape_duration_seconds_count');
    expect(counts).toHaveLength(51);
    const other = one(samples, 'tamma_query_shape_duration_seconds_count', { shape: 'other' });
    const total = counts.reduce((sum, s) => sum + s.value, 0);
    expect(total).toBe(store.monitor.latency().methods.query.count);
    expect(other).toBeGreaterThan(0);
    // The monitor itself tracks maxShapes shapes one by one; the 10 past it count as `other`.
    const shapes = store.monitor.latency().shapes;
    expect(shapes.filter((s) => s.fingerprint !== 'other')).toHaveLength(70);
    expect(shapes.find((s) => s.fingerprint === 'other')!.count).toBeGreaterThan(0);
  });

  test('the registry merges into an application registry with Registry.merge', async () => {
    store = await openEventStore();
    await store.append({ aggregateId: 'a', type: 'T' });
    const app = new Registry();
    new Counter({ name: 'app_requests_total', help: 'requests', registers: [app] }).inc(3);
    const merged = Registry.merge([app, store.monitor.registry]);
    const { samples } = parseExposition(await merged.metrics());
    expect(one(samples, 'app_requests_total')).toBe(3);
    expect(one(samples, 'tamma_events_appended_total')).toBe(1);
  });
});

describe('the monitor option', () => {
  test('monitor: false turns it off: no figures, nothing on the hot path', async () => {
    store = await openEventStore({ monitor: false });
    await store.append({ aggregateId: 'a', type: 'T' });
    await store.getEvents('a');
    expect(store.monitor.enabled).toBe(false);
    expect(store.monitor.latency().methods.getEvents.count).toBe(0);
    expect(store.stats().plugins).toBeUndefined();
  });

  test('bad settings throw INVALID_OPTION naming the setting, the value and what is expected', async () => {
    const cases: [unknown, string, string][] = [
      ['yes', 'monitor', '"yes"'],
      [{ slowQueryMs: -1 }, 'monitor.slowQueryMs', '-1'],
      [{ slowQueryMs: '100' }, 'monitor.slowQueryMs', '"100"'],
      [{ outlierFactor: 0.5 }, 'monitor.outlierFactor', '0.5'],
      [{ maxShapes: 1.5 }, 'monitor.maxShapes', 'whole number'],
      [{ slowQueryFileBytes: 10 }, 'monitor.slowQueryFileBytes', '1024'],
      [{ slowQueryMS: 5 }, 'monitor.slowQueryMS', 'slowQueryMs'],
    ];
    for (const [monitor, path, fragment] of cases) {
      let error: unknown;
      try {
        await openEventStore({ monitor: monitor as never });
      } catch (caught) {
        error = caught;
      }
      expectError(error, ValidationError, 'INVALID_OPTION', path, fragment);
    }
  });

  test('setSources checks what it is given', async () => {
    store = await openEventStore();
    let error: unknown;
    try {
      store.monitor.setSources({ cache: 42 } as never);
    } catch (caught) {
      error = caught;
    }
    expectError(error, ValidationError, 'VALIDATION_FAILED', 'sources.cache', '42');
  });
});
