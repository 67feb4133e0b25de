import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventToJsonLine } from '../../src/cli/event-json.js';
import { EVENT_COLUMNS, openEventStore, type StoredEvent } from '../../src/index.js';
import { cli } from '../support/cli.js';
import { expectedRows, readBack } from '../analytics/export/read-back.js';

/** `tamma-events export`: the query flags of `query`, a read-only store, every format, stdout. */

let root: string;
let dir: string;
let events: StoredEvent[];
const T0 = Date.UTC(2025, 0, 1);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tamma-cli-export-'));
  dir = join(root, 'store');
  const store = await openEventStore({ dir });
  try {
    await store.append(
      Array.from({ length: 50 }, (_, i) => ({
        aggregateId: `issue-${i % 5}`,
        type: i % 4 === 0 ? 'WORKFLOW.FAILED' : 'WORKFLOW.STEP',
        timestamp: T0 + i * 60_000,
        tags: { provider: i % 2 === 0 ? 'openai' : 'anthropic' },
        payload: { tokens: i * 10, note: i % 3 === 0 ? 'a,"b"\nc' : '' },
      })),
    );
    events = await store.read();
  } finally {
    await store.close();
  }
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('tamma-events export', () => {
  for (const format of ['parquet', 'arrow', 'csv', 'ndjson'] as const) {
    it(`--format ${format} with query flags writes the matching events, and a summary`, async () => {
      const out = join(root, `failed.${format}`);
      const result = await cli([
        'export',
        '--dir',
        dir,
        '--format',
        format,
        '--out',
        out,
        '--type',
        'WORKFLOW.FAILED',
      ]);
      expect(result.code, result.stderr).toBe(0);
      const failed = events.filter((event) => event.type === 'WORKFLOW.FAILED');
      expect(await readBack(format, out, EVENT_COLUMNS)).toEqual(
        expectedRows(failed as unknown as Record<string, unknown>[], EVENT_COLUMNS),
      );
      expect(result.stderr).toMatch(/exported\s+13 rows as/);
      expect(result.stderr).toContain('elapsed');
      expect(result.stdout).toBe('');
    });
  }

  it('--query with a select writes the selected fields; --limit applies', async () => {
    const out = join(root, 'selected.parquet');
    const query = JSON.stringify({
      kind: 'query',
      filter: { kind: 'gte', field: 'payload.tokens', value: 100 },
      select: ['timestamp', 'tags.provider', 'payload.tokens'],
      orderBy: [],
      hints: {},
    });
    const result = await cli([
      'export',
      '--dir',
      dir,
      '--format',
      'parquet',
      '--out',
      out,
      '--query',
      query,
      '--limit',
      '5',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const columns = [
      { name: 'timestamp', type: 'timestamp' },
      { name: 'tags.provider', type: 'utf8' },
      { name: 'payload.tokens', type: 'float64' },
    ] as const;
    expect(await readBack('parquet', out, columns)).toEqual(
      events.slice(10, 15).map((event) => ({
        timestamp: event.timestamp.getTime(),
        'tags.provider': event.tags.provider,
        'payload.tokens': (event.payload as { tokens: number }).tokens,
      })),
    );
  });

  it('--out - writes NDJSON to stdout as `query` prints it', async () => {
    const result = await cli([
      'export',
      '--dir',
      dir,
      '--format',
      'ndjson',
      '--out',
      '-',
      '--aggregate-id',
      'issue-2',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const query = await cli(['query', '--dir', dir, '--aggregate-id', 'issue-2']);
    expect(result.stdout).toBe(query.stdout);
    expect(result.stdout).toBe(
      events
        .filter((event) => event.aggregateId === 'issue-2')
        .map(eventToJsonLine)
        .join(''),
    );
  });

  it('shows progress on a terminal (stderr) and none when piped', async () => {
    const out = join(root, 'tty.csv');
    const tty = await cli(['export', '--dir', dir, '--format', 'csv', '--out', out], { isTTY: true });
    expect(tty.code, tty.stderr).toBe(0);
    expect(tty.stderr).toContain('exported');
  });

  it('bad usage exits 2 and writes nothing', async () => {
    const out = join(root, 'never.parquet');
    const badFormat = await cli(['export', '--dir', dir, '--format', 'xlsx', '--out', out]);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain('expected one of parquet, arrow, csv, ndjson');
    const badQuery = await cli([
      'export',
      '--dir',
      dir,
      '--format',
      'parquet',
      '--out',
      out,
      '--query',
      '{"kind":"eq"}',
    ]);
    expect(badQuery.code).toBe(2);
    const noStore = await cli(['export', '--dir', join(root, 'nope'), '--format', 'parquet', '--out', out]);
    expect(noStore.code).toBe(2);
    expect(noStore.stderr).toContain('does not exist');
    const missingOut = await cli(['export', '--dir', dir, '--format', 'parquet']);
    expect(missingOut.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });
});
