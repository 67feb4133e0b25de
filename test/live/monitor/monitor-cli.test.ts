import { afterEach, describe, expect, test } from 'vitest';
import { ManualClock, openEventStore } from '../../../src/index.js';
import { cli } from '../../support/cli.js';
import { removeDir, tempDir } from '../../support/helpers.js';

const T0 = Date.UTC(2025, 0, 1);
let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await removeDir(dir);
  dir = undefined;
});

/** A store some process used: appends, reads and queries, every query logged as slow (threshold 0). */
async function usedStore(monitor: object = { slowQueryMs: 0 }): Promise<string> {
  const at = await tempDir();
  const store = await openEventStore({ dir: at, clock: new ManualClock(T0), monitor });
  await store.append(
    Array.from({ length: 30 }, (_, i) => ({ aggregateId: `a${i % 3}`, type: 'T', tags: { n: i } })),
  );
  for (let i = 0; i < 4; i++) await store.getEvents(`a${i % 3}`);
  for (let i = 0; i < 5; i++) await store.queryEvents({ tags: { n: i } }, {});
  await store.close();
  return at;
}

describe('tamma-events stats: the monitor section', () => {
  test('shows the percentiles the using process last wrote, and a placeholder for the cache', async () => {
    dir = await usedStore();
    const result = await cli(['stats', '--dir', dir]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^monitor\s+figures as of 2025-01-01T00:00:00.000Z/m);
    expect(result.stdout).toMatch(/^latency since open$/m);
    expect(result.stdout).toMatch(/^method\s+calls\s+p50\s+p95\s+p99\s+max$/m);
    expect(result.stdout).toMatch(/^getEvents\s+4\s+\S+ (µs|ms)/m);
    expect(result.stdout).toMatch(/^queryEvents\s+5\s/m);
    expect(result.stdout).toMatch(/^cache\s+no result cache connected$/m);
    expect(result.stdout).toMatch(/^queries\s+5: 100.0% by an index, 0 scans, 5 slow/m);
    const json = JSON.parse((await cli(['stats', '--dir', dir, '--json'])).stdout) as {
      events: number;
      monitor: { latency: { all: { methods: Record<string, { count: number }> } } };
    };
    expect(json.events).toBe(30);
    expect(json.monitor.latency.all.methods.getEvents!.count).toBe(4);
    expect(json.monitor.latency.all.methods.append!.count).toBe(1);
  });

  test('shows the result cache of a process that used one: its hits and misses', async () => {
    dir = await tempDir();
    const store = await openEventStore({ dir, clock: new ManualClock(T0), cache: true });
    await store.append([{ aggregateId: 'a', type: 'T' }]);
    for (let i = 0; i < 3; i++) await store.queryEvents({ type: 'T' });
    await store.close();
    const result = await cli(['stats', '--dir', dir]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^cache\s+2 hits, 1 misses, hit rate 66.7%$/m);
  });

  test('says there are no figures yet for a store no monitored process has used', async () => {
    dir = await usedStore();
    await removeDir(`${dir}/monitor`);
    const result = await cli(['stats', '--dir', dir]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^monitor: no figures yet/m);
  });
});

describe('tamma-events slow-queries', () => {
  test('prints the log newest first, filtered and limited; --json gives the entries; --plans the plans', async () => {
    dir = await usedStore();
    const table = await cli(['slow-queries', '--dir', dir]);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^time\s+took\s+rows\s+indexes\s+query id\s+shape$/);
    expect(lines).toHaveLength(2 + 5);
    expect(lines[2]).toMatch(/tags\.n\s+q\d+\s+eq\(tags\.n\)/);

    const json = await cli(['slow-queries', '--dir', dir, '--json', '--limit', '2']);
    const entries = json.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { queryText: string; queryId: string });
    expect(entries).toHaveLength(2);
    expect(entries.map((e) => JSON.parse(e.queryText).filter.value)).toEqual([4, 3]);

    const plans = await cli(['slow-queries', '--dir', dir, '--plans', '--limit', '1']);
    expect(plans.stdout).toMatch(/plan \S+ (µs|ms), index \S+ (µs|ms), scan 0\.0 µs, decode/);
    expect(plans.stdout).toMatch(/IndexLookup using tags\.n\s+\(rows=1 actual rows=1\)/);

    const none = await cli(['slow-queries', '--dir', dir, '--threshold-ms', '1e9']);
    expect(none.stdout.trim()).toBe('no slow queries logged');
    const bad = await cli(['slow-queries', '--dir', dir, '--limit', '0']);
    expect(bad.code).toBe(2);
  });

  test('refuses a directory that is not a store', async () => {
    dir = await tempDir();
    const result = await cli(['slow-queries', '--dir', dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/not an event store/);
  });
});
