import {
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, openEventStore } from '../src/index.js';
import { archiveFrames, type ArchiveEntry } from '../src/storage/embedded/retention/archive.js';
import { flipFileByte, framesOf } from './support/archive.js';
import { cli, type CliResult } from './support/cli.js';

function ndjsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function event(aggregateId: string, type: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ aggregateId, type, ...extra });
}

let root: string;
let counter = 0;

/** A fresh path under the suite's temp root; the store itself is created by the command under test. */
function freshDir(): string {
  return join(root, `store-${++counter}`);
}

function writeInput(lines: string[]): string {
  const file = join(root, `input-${++counter}.ndjson`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const GOOD = [
  event('issue-1', 'WORKFLOW.STARTED', {
    tags: { issueId: 1, provider: 'openai' },
    timestamp: '2025-01-01T00:00:00Z',
    payload: { n: 1 },
  }),
  event('issue-1', 'CODE.GENERATED.SUCCESS', {
    tags: { issueId: 1, provider: 'openai' },
    timestamp: '2025-01-01T00:05:00Z',
  }),
  '',
  event('issue-2', 'WORKFLOW.STARTED', {
    tags: { issueId: 2, provider: 'anthropic' },
    timestamp: '2025-01-02T00:00:00Z',
  }),
  event('issue-2', 'WORKFLOW.COMPLETED', {
    tags: { issueId: 2, provider: 'anthropic' },
    timestamp: '2025-01-02T03:00:00Z',
  }),
  event('workflow-nightly-1', 'WORKFLOW.STARTED', {
    tags: { provider: 'anthropic', draft: true },
    timestamp: '2025-01-03T00:00:00Z',
  }),
];

/** A store with GOOD ingested in batches of 2 (three frames in the log). */
let queryDir: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tamma-cli-'));
  queryDir = freshDir();
  const result = await cli(['ingest', '--dir', queryDir, '--batch-size', '2', writeInput(GOOD)]);
  expect(result.code, result.stderr).toBe(0);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('ingest', () => {
  it('writes every event of a good file in batches and summarises on stderr', async () => {
    const dir = freshDir();
    const result = await cli(['ingest', '--dir', dir, '--batch-size', '2', writeInput(GOOD)]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/written\s+5 events in 3 batches/);
    expect(result.stderr).toMatch(/skipped\s+0 bad lines/);
    expect(result.stderr).toMatch(/last seq\s+5/);

    const query = await cli(['query', '--dir', dir]);
    const events = ndjsonLines(query.stdout);
    expect(events.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5]);
    expect(events[0]).toMatchObject({
      aggregateId: 'issue-1',
      version: 1,
      type: 'WORKFLOW.STARTED',
      timestamp: '2025-01-01T00:00:00.000Z',
      tags: { issueId: 1, provider: 'openai' },
      payload: { n: 1 },
      metadata: {},
    });
  });

  it('ingesting a file again writes nothing: events with ids are stored once (resumes a partial ingest)', async () => {
    const dir = freshDir();
    const lines = GOOD.filter((line) => line !== '').map((line, i) =>
      JSON.stringify({ id: `evt-${i}`, ...(JSON.parse(line) as object) }),
    );
    const file = writeInput(lines);
    const partial = await cli(['ingest', '--dir', dir, writeInput(lines.slice(0, 2))]);
    expect(partial.stderr).toMatch(/written\s+2 events in 1 batch/);
    // Run again over the whole file: the first two are there already, the rest are written.
    const resumed = await cli(['ingest', '--dir', dir, '--batch-size', '3', file]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/written\s+3 events in 2 batches/);
    expect(resumed.stderr).toMatch(/already stored\s+2 events/);
    const again = await cli(['ingest', '--dir', dir, file]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/written\s+0 events in 0 batches/);
    expect(again.stderr).toMatch(/already stored\s+5 events/);
    expect(again.stderr).toMatch(/last seq\s+5/);
    const stored = ndjsonLines((await cli(['query', '--dir', dir])).stdout);
    expect(stored.map((e) => e.id)).toEqual(['evt-0', 'evt-1', 'evt-2', 'evt-3', 'evt-4']);

    // The same id with other content is a bad line, and nothing of its batch is written.
    const changed = JSON.stringify({ ...(JSON.parse(lines[1] as string) as object), payload: { n: 99 } });
    const conflict = await cli(['ingest', '--dir', dir, writeInput([changed])]);
    expect(conflict.code).toBe(2);
    expect(conflict.stderr).toMatch(
      /line 1: .*"evt-1" is already stored, as sequence 2, with a different payload/,
    );
  });

  it('reads NDJSON from stdin with -', async () => {
    const dir = freshDir();
    const result = await cli(['ingest', '--dir', dir, '-'], { stdin: `${GOOD.join('\n')}\n` });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/written\s+5 events in 1 batch\b/);
  });

  const WITH_BAD_LINES = [
    event('a-1', 'T.ONE'), // line 1
    event('a-1', 'T.TWO'), // line 2
    event('a-2', 'T.ONE'), // line 3
    '{"aggregateId": "a-3", "type": ', // line 4: not JSON
    event('a-3', 'T.ONE'), // line 5
    JSON.stringify({ aggregateId: 'a-3' }), // line 6: no type
    event('a-4', 'T.ONE'), // line 7
    event('a-4', 'T.TWO', { tags: { nested: { no: 1 } } }), // line 8: bad tag value
    event('a-5', 'T.ONE'), // line 9
  ];

  it('stops at the first batch with bad lines, reports all of them, and writes nothing of that batch', async () => {
    const dir = freshDir();
    const result = await cli(['ingest', '--dir', dir, '--batch-size', '3', writeInput(WITH_BAD_LINES)]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^line 4: not valid JSON/m);
    expect(result.stderr).toMatch(/^line 6: type: must be a non-empty string/m);
    expect(result.stderr).not.toMatch(/^line 8:/m); // a later batch: never reached
    expect(result.stderr).toMatch(/error: 2 bad lines in lines 4-6 .*--from-line 4.* \[INVALID_INPUT\]/);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace without --debug

    const events = ndjsonLines((await cli(['query', '--dir', dir])).stdout);
    expect(events.map((e) => e.aggregateId)).toEqual(['a-1', 'a-1', 'a-2']); // batch 1 only
  });

  it('resumes with --from-line after the bad lines are fixed', async () => {
    const dir = freshDir();
    await cli(['ingest', '--dir', dir, '--batch-size', '3', writeInput(WITH_BAD_LINES)]);
    const fixed = [...WITH_BAD_LINES];
    fixed[3] = event('a-3', 'T.ZERO');
    fixed[5] = event('a-3', 'T.TWO');
    fixed[7] = event('a-4', 'T.TWO');
    const result = await cli([
      'ingest',
      '--dir',
      dir,
      '--batch-size',
      '3',
      '--from-line',
      '4',
      writeInput(fixed),
    ]);
    expect(result.code, result.stderr).toBe(0);
    const events = ndjsonLines((await cli(['query', '--dir', dir])).stdout);
    expect(events).toHaveLength(9);
    expect(events.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('with --skip-invalid drops and reports bad lines and writes the rest', async () => {
    const dir = freshDir();
    const result = await cli([
      'ingest',
      '--dir',
      dir,
      '--batch-size',
      '3',
      '--skip-invalid',
      writeInput(WITH_BAD_LINES),
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^line 4: not valid JSON/m);
    expect(result.stderr).toMatch(/^line 6: type: must be a non-empty string/m);
    expect(result.stderr).toMatch(/^line 8: tags\.nested: must be a string, a finite number or a boolean/m);
    expect(result.stderr).toMatch(/written\s+6 events in 3 batches/);
    expect(result.stderr).toMatch(/skipped\s+3 bad lines/);
    const events = ndjsonLines((await cli(['query', '--dir', dir])).stdout);
    expect(events.map((e) => `${e.aggregateId}/${e.type}`)).toEqual([
      'a-1/T.ONE',
      'a-1/T.TWO',
      'a-2/T.ONE',
      'a-3/T.ONE',
      'a-4/T.ONE',
      'a-5/T.ONE',
    ]);
  });

  it('maps a rejection only the store can see (a duplicate id in the batch) back to its line', async () => {
    const lines = [event('d-1', 'T', { id: 'same' }), event('d-2', 'T'), event('d-3', 'T', { id: 'same' })];
    const strict = await cli(['ingest', '--dir', freshDir(), writeInput(lines)]);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toMatch(/^line 3: id: duplicates the id of line 1/m);

    const dir = freshDir();
    const lenient = await cli(['ingest', '--dir', dir, '--skip-invalid', writeInput(lines)]);
    expect(lenient.code, lenient.stderr).toBe(0);
    expect(lenient.stderr).toMatch(/^line 3: id: duplicates/m);
    expect(ndjsonLines((await cli(['query', '--dir', dir])).stdout).map((e) => e.aggregateId)).toEqual([
      'd-1',
      'd-2',
    ]);
  });

  it('refuses a line whose strings hold a lone surrogate (no UTF-8 form), exit 2, naming the line and field', async () => {
    // JSON escapes make lone surrogates: before the fix they were stored as U+FFFD and ingest exited 0.
    const lines = [event('s-1', 'T'), '{"aggregateId":"s-2","type":"T","payload":{"text":"a\\ud800b"}}'];
    const dir = freshDir();
    const result = await cli(['ingest', '--dir', dir, writeInput(lines)]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/^line 2: payload\.text: must be well-formed Unicode.*lone surrogate/m);
    expect(ndjsonLines((await cli(['query', '--dir', dir])).stdout)).toEqual([]);
  });

  it('ingests the output of query into another store (sequence and version dropped, ids kept)', async () => {
    const exported = await cli(['query', '--dir', queryDir, '--type', 'WORKFLOW.STARTED']);
    const dir = freshDir();
    const result = await cli(['ingest', '--dir', dir, '-'], { stdin: exported.stdout });
    expect(result.code, result.stderr).toBe(0);
    const copy = ndjsonLines((await cli(['query', '--dir', dir])).stdout);
    const original = ndjsonLines(exported.stdout);
    expect(copy.map((e) => e.sequence)).toEqual([1, 2, 3]);
    expect(copy.map(({ sequence: _s, version: _v, ...rest }) => rest)).toEqual(
      original.map(({ sequence: _s, version: _v, ...rest }) => rest),
    );
  });

  it('draws progress when on a terminal without disturbing the result', async () => {
    const dir = freshDir();
    const result = await cli(['ingest', '--dir', dir, '--batch-size', '1', writeInput(GOOD)], {
      isTTY: true,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/written\s+5 events in 5 batches/);
  });

  it('does not create a store in a directory that holds other files', async () => {
    const dir = freshDir();
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'not an event store');
    const result = await cli(['ingest', '--dir', dir, writeInput(GOOD)]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/neither an event store nor empty/);
    expect(readdirSync(dir)).toEqual(['notes.txt']);
  });

  it('refuses lines from the future like bad lines; --future-tolerance lets them in', async () => {
    // Ingest runs on the system clock: two days ahead of it is in the future whenever this runs.
    const ahead = new Date(Date.now() + 2 * 86_400_000).toISOString();
    const lines = [event('f-1', 'T'), event('f-2', 'T', { timestamp: ahead })];
    const strict = await cli(['ingest', '--dir', freshDir(), writeInput(lines)]);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toMatch(/^line 2: timestamp: .* ahead of the store's clock .*futureTolerance 5m/m);

    const dir = freshDir();
    const raised = await cli(['ingest', '--dir', dir, '--future-tolerance', '3d', writeInput(lines)]);
    expect(raised.code, raised.stderr).toBe(0);
    const off = await cli(['ingest', '--dir', dir, '--future-tolerance', 'off', writeInput(lines)]);
    expect(off.code, off.stderr).toBe(0);
    expect(ndjsonLines((await cli(['query', '--dir', dir])).stdout).map((e) => e.timestamp)).toContain(ahead);

    const bad = await cli(['ingest', '--dir', freshDir(), '--future-tolerance', 'soon', writeInput(lines)]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--future-tolerance.*'soon' is invalid/);
  });

  it('refuses a missing input file and a bad --batch-size with exit 2', async () => {
    const missing = await cli(['ingest', '--dir', freshDir(), join(root, 'nope.ndjson')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: cannot read .*nope\.ndjson.*\[USAGE\]/m);
    const batch = await cli(['ingest', '--dir', freshDir(), '--batch-size', '0', writeInput(GOOD)]);
    expect(batch.code).toBe(2);
    expect(batch.stderr).toMatch(/--batch-size/);
  });
});

describe('query', () => {
  const sequences = async (args: string[]): Promise<unknown[]> => {
    const result = await cli(['query', '--dir', queryDir, ...args]);
    expect(result.code, result.stderr).toBe(0);
    return ndjsonLines(result.stdout).map((e) => e.sequence);
  };

  it('filters by each flag', async () => {
    expect(await sequences(['--aggregate-id', 'issue-2'])).toEqual([3, 4]);
    expect(await sequences(['--aggregate-id', 'issue-1', '--aggregate-id', 'workflow-nightly-1'])).toEqual([
      1, 2, 5,
    ]);
    expect(await sequences(['--type', 'WORKFLOW.STARTED'])).toEqual([1, 3, 5]);
    expect(await sequences(['--type', 'WORKFLOW.STARTED', '--type', 'WORKFLOW.COMPLETED'])).toEqual([
      1, 3, 4, 5,
    ]);
    expect(await sequences(['--from', '2025-01-02T00:00:00Z', '--to', '2025-01-03T00:00:00Z'])).toEqual([
      3, 4,
    ]);
    expect(await sequences(['--from', String(Date.parse('2025-01-02T03:00:00Z'))])).toEqual([4, 5]);
    expect(await sequences(['--after-sequence', '3'])).toEqual([4, 5]);
    expect(await sequences(['--limit', '2'])).toEqual([1, 2]);
    expect(await sequences(['--order', 'desc', '--limit', '2'])).toEqual([5, 4]);
    expect(await sequences(['--order', 'desc', '--after-sequence', '3'])).toEqual([2, 1]);
  });

  it('matches tags as strings with key=value and as JSON with key:=json', async () => {
    expect(await sequences(['--tag', 'provider=anthropic'])).toEqual([3, 4, 5]);
    expect(await sequences(['--tag', 'provider=anthropic', '--tag', 'provider=openai'])).toEqual([
      1, 2, 3, 4, 5,
    ]);
    expect(await sequences(['--tag', 'issueId:=2'])).toEqual([3, 4]);
    expect(await sequences(['--tag', 'issueId=2'])).toEqual([]); // the string "2" is not the number 2
    expect(await sequences(['--tag', 'issueId:=[1,2]', '--type', 'WORKFLOW.STARTED'])).toEqual([1, 3]);
    expect(await sequences(['--tag', 'draft:=true'])).toEqual([5]);
  });

  it('takes criteria as --criteria, with flags replacing its fields', async () => {
    expect(
      await sequences(['--criteria', '{"type":"WORKFLOW.STARTED","tags":{"provider":"anthropic"}}']),
    ).toEqual([3, 5]);
    expect(
      await sequences([
        '--criteria',
        '{"type":"WORKFLOW.STARTED","limit":1}',
        '--type',
        'WORKFLOW.COMPLETED',
      ]),
    ).toEqual([4]);
    expect(
      await sequences(['--criteria', '{"tags":{"provider":"anthropic"}}', '--tag', 'issueId:=2', '--json']),
    ).toEqual([3, 4]);
  });

  it('reports bad criteria with exit 2', async () => {
    const notJson = await cli(['query', '--dir', queryDir, '--criteria', '{type:']);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/^error: --criteria must be a JSON object/m);
    const unknownField = await cli(['query', '--dir', queryDir, '--criteria', '{"bogus":1}']);
    expect(unknownField.code).toBe(2);
    expect(unknownField.stderr).toMatch(/criteria\.bogus.*\[VALIDATION_FAILED\]/);
    const badLimit = await cli(['query', '--dir', queryDir, '--limit', 'ten']);
    expect(badLimit.code).toBe(2);
    const badTag = await cli(['query', '--dir', queryDir, '--tag', 'provider']);
    expect(badTag.code).toBe(2);
    expect(badTag.stderr).toMatch(/key=value/);
    const badOrder = await cli(['query', '--dir', queryDir, '--order', 'sideways']);
    expect(badOrder.code).toBe(2);
  });

  it('refuses a directory that holds no store instead of creating one', async () => {
    const dir = freshDir();
    const result = await cli(['query', '--dir', dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/does not exist/);
    expect(readdirSync(root)).not.toContain(dir.split('/').at(-1));
  });

  it('pages through results larger than one page, in both orders', async () => {
    const dir = freshDir();
    const total = 10_050;
    const lines = Array.from({ length: total }, (_, i) => event(`p-${i % 7}`, 'PAGE.TEST', { timestamp: i }));
    const ingest = await cli(['ingest', '--dir', dir, '--batch-size', '5000', writeInput(lines)]);
    expect(ingest.code, ingest.stderr).toBe(0);
    const asc = ndjsonLines((await cli(['query', '--dir', dir])).stdout).map((e) => e.sequence as number);
    expect(asc).toHaveLength(total);
    expect(asc.every((s, i) => s === i + 1)).toBe(true);
    const desc = ndjsonLines(
      (await cli(['query', '--dir', dir, '--order', 'desc', '--limit', '10020'])).stdout,
    );
    expect(desc).toHaveLength(10_020);
    expect(desc[0]?.sequence).toBe(total);
    expect(desc.at(-1)?.sequence).toBe(31);
  });
});

describe('stats', () => {
  it('prints StoreStats as JSON with --json', async () => {
    const result = await cli(['stats', '--dir', queryDir, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const stats = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(stats).toMatchObject({ events: 5, aggregates: 3, types: 3, lastSequence: 5 });
  });

  it('prints a readable summary by default', async () => {
    const result = await cli(['stats', '--dir', queryDir]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^events\s+5$/m);
    expect(result.stdout).toMatch(/^index\s+keys\s+entries/m);
  });
});

describe('cleanup', () => {
  it('runs under the policy the application last set, archives, and stats shows policy and result', async () => {
    const dir = freshDir();
    const archive = join(root, `archive-${++counter}`);
    const ingest = await cli(['ingest', '--dir', dir, writeInput(GOOD)]);
    expect(ingest.code, ingest.stderr).toBe(0);
    // The application sets its policy: everything before 2025-01-02 is past a 1-day maxAge.
    const clock = new ManualClock(Date.parse('2025-01-03T00:00:00Z'));
    const store = await openEventStore({
      dir,
      clock,
      retention: { maxAge: '1d', archive: { dir: archive }, schedule: false },
    });
    await store.close();

    const before = await cli(['stats', '--dir', dir]);
    expect(before.stdout).toMatch(/^retention\s+maxAge 1d, archive .*archive-/m);
    const cleanup = await cli(['cleanup', '--dir', dir, '--json']);
    expect(cleanup.code, cleanup.stderr).toBe(0);
    // The CLI runs on the system clock: every GOOD event (2025) is past a day old by now.
    // All five are the oldest events: removed in place, no segment rewritten.
    expect(JSON.parse(cleanup.stdout)).toMatchObject({
      examined: 5,
      removed: 5,
      removedInPlace: 5,
      archived: 5,
      spansRewritten: 0,
    });
    const after = await cli(['stats', '--dir', dir, '--json']);
    expect(JSON.parse(after.stdout)).toMatchObject({ events: 0, lastSequence: 5 });
    const verify = await cli(['verify', '--dir', dir]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it('with no recorded policy removes nothing and says so', async () => {
    const dir = freshDir();
    expect((await cli(['ingest', '--dir', dir, writeInput(GOOD)])).code).toBe(0);
    const result = await cli(['cleanup', '--dir', dir]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^policy\s+none recorded: nothing expires$/m);
    expect(result.stdout).toMatch(/^removed\s+0$/m);
    expect(result.stdout).toMatch(/^ {2}in place \(the oldest\)\s+0$/m);
  });

  it('refuses a directory that holds no store', async () => {
    const result = await cli(['cleanup', '--dir', join(root, 'no-store-here')]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/no-store-here/);
  });
});

/**
 * 200 events for the planner: WORKFLOW.FAILED is 1 event in 20 (an index is cheaper than a scan),
 * WORKFLOW.STEP the other 19 (a scan is cheaper); payload.tokens is unique, tags.tenant has 4 values.
 */
const PLANNER_EVENTS = Array.from({ length: 200 }, (_, i) =>
  event(`issue-${i % 20}`, i % 20 === 0 ? 'WORKFLOW.FAILED' : 'WORKFLOW.STEP', {
    timestamp: Date.UTC(2025, 0, 1) + i * 60_000,
    tags: { provider: i % 2 === 0 ? 'openai' : 'anthropic', tenant: `t${i % 4}` },
    payload: { tokens: i * 10 },
  }),
);

async function plannerStore(): Promise<string> {
  const dir = freshDir();
  const result = await cli(['ingest', '--dir', dir, writeInput(PLANNER_EVENTS)]);
  expect(result.code, result.stderr).toBe(0);
  return dir;
}

describe('explain', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await plannerStore();
  });

  const explain = async (args: string[]): Promise<CliResult> => {
    const result = await cli(['explain', '--dir', dir, ...args]);
    expect(result.code, result.stderr).toBe(0);
    return result;
  };

  it('uses the type index for a selective query and a scan for an unselective one', async () => {
    const selective = await explain(['--type', 'WORKFLOW.FAILED']);
    expect(selective.stdout).toMatch(/^-> IndexLookup using type {2}\(rows=10\)$/m);
    expect(selective.stdout).toMatch(/^indexes used\s+type$/m);
    expect(selective.stdout).toMatch(/^estimated cost\s+2\.00$/m);
    expect(selective.stdout).toMatch(/^ {2}\* {2}type\s+type in \("WORKFLOW\.FAILED"\)\s+10\s+2\.00$/m);
    expect(selective.stdout).toMatch(/^ {5}scan\s+all rows\s+200\s+11\.00$/m);

    const unselective = await explain(['--type', 'WORKFLOW.STEP']);
    expect(unselective.stdout).toMatch(/^-> Scan {2}\(rows=200\)$/m);
    expect(unselective.stdout).toMatch(/^indexes used\s+none \(full scan\)$/m);
    expect(unselective.stdout).toMatch(/^ {5}type\s+type in \("WORKFLOW\.STEP"\)\s+190\s+20\.00$/m);
  });

  it('prints the Explanation as JSON with --json', async () => {
    const result = await explain(['--type', 'WORKFLOW.FAILED', '--limit', '3', '--json']);
    const explanation = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(explanation).toMatchObject({
      estimatedCost: 2,
      estimatedRows: 3,
      indexesUsed: ['type'],
      plan: { operator: 'Limit', children: [{ operator: 'Filter' }] },
      considered: [
        { index: 'type', condition: 'type in ("WORKFLOW.FAILED")', estimatedRows: 10, cost: 2 },
        { index: 'scan', estimatedRows: 200 },
      ],
    });
    expect(explanation.executionTimeMs).toBeUndefined();
    expect(explanation.text).toMatch(/^Limit/);
  });

  it('runs the query with --analyze and reports actual rows', async () => {
    const text = await explain(['--type', 'WORKFLOW.STEP', '--tag', 'tenant=t1', '--analyze']);
    // tenant t1 is every 4th event, none of them failed ones (those are every 20th from 0).
    const filter = /^Filter {2}\(rows=(\d+) actual rows=50 removed by filter=0 time=[\d.]+ ms\)$/m.exec(
      text.stdout,
    );
    // The estimate assumes the type and the tag independent: within 2x of the actual 50.
    expect(Number(filter?.[1])).toBeGreaterThanOrEqual(25);
    expect(Number(filter?.[1])).toBeLessThanOrEqual(100);
    expect(text.stdout).toMatch(/^execution time\s+\S+/m);
    const json = JSON.parse((await explain(['--aggregate-id', 'issue-3', '--analyze', '--json'])).stdout) as {
      plan: { actualRows: number };
      executionTimeMs: number;
    };
    expect(json.plan.actualRows).toBe(10);
    expect(json.executionTimeMs).toBeGreaterThanOrEqual(0);
  });

  it('takes a query AST or a filter with --query, ANDed with the criteria flags', async () => {
    const filter = await explain([
      '--query',
      '{"kind":"gte","field":"payload.tokens","value":1500}',
      '--analyze',
      '--json',
    ]);
    expect(JSON.parse(filter.stdout)).toMatchObject({ plan: { operator: 'Filter', actualRows: 50 } });

    const query = JSON.stringify({
      kind: 'query',
      filter: { kind: 'eq', field: 'tags.provider', value: 'openai' },
      orderBy: [{ field: 'timestamp', direction: 'desc' }],
      limit: 100,
    });
    const merged = JSON.parse(
      (await explain(['--query', query, '--type', 'WORKFLOW.FAILED', '--limit', '2', '--analyze', '--json']))
        .stdout,
    ) as { plan: Record<string, unknown>; indexesUsed: string[] };
    expect(merged.indexesUsed).toEqual(['type']);
    expect(merged.plan).toMatchObject({
      operator: 'Limit',
      detail: 'offset 0, limit 2',
      actualRows: 2,
      children: [{ operator: 'Sort', detail: 'timestamp desc', actualRows: 10 }],
    });

    const criteria = await explain(['--criteria', '{"type":"WORKFLOW.FAILED"}', '--json']);
    expect(JSON.parse(criteria.stdout)).toMatchObject({ indexesUsed: ['type'] });
  });

  it('reports a bad query with exit 2, naming the bad value', async () => {
    const bad = async (args: string[], message: RegExp): Promise<void> => {
      const result = await cli(['explain', '--dir', dir, ...args]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(message);
    };
    await bad(['--query', '{"kind":'], /^error: --query must be JSON: .*\[USAGE\]$/m);
    await bad(['--query', '[1]'], /^error: --query must be a JSON object.*got \[1\]/m);
    await bad(
      ['--query', '{"kind":"eq","field":"bogus","value":1}'],
      /^error: filter\.field: unknown field "bogus".*\[UNKNOWN_FIELD\]$/m,
    );
    await bad(
      ['--query', '{"kind":"and","filters":[{"kind":"all"},{"kind":"lt","field":"sequence","value":"x"}]}'],
      /^error: filter\.and\[1\]\.value: sequence compares with a number, got "x" \[INVALID_OPERAND\]$/m,
    );
    await bad(['--query', '{"kind":"almost"}'], /filter\.kind: unknown filter kind "almost"/);
    await bad(
      ['--query', '{"kind":"query","filter":{"kind":"all"},"limt":3}'],
      /^error: limt: is not an EventQuery field/m,
    );
    await bad(['--query', '{"filter":{"kind":"all"}}'], /needs "kind":"query"/);
    await bad(['--criteria', '{"bogus":1}'], /^error: criteria\.bogus: is not a criteria field/m);
    await bad(['--criteria', 'nope'], /^error: --criteria must be a JSON object of query criteria/m);
    await bad(['--limit', 'x'], /--limit/);
    const missing = await cli(['explain', '--dir', freshDir(), '--type', 'X']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/does not exist/);
  });
});

describe('index', () => {
  const ok = async (args: string[], options: { isTTY?: boolean } = {}): Promise<CliResult> => {
    const result = await cli(['index', ...args], options);
    expect(result.code, result.stderr).toBe(0);
    return result;
  };

  it('create, list, analyze, explain and drop round-trip across invocations', async () => {
    const dir = await plannerStore();
    const created = await ok(['create', '--dir', dir, '--name', 'by_tokens', '--fields', 'payload.tokens']);
    expect(created.stdout).toMatch(/^created index by_tokens: btree on payload\.tokens$/m);
    expect(created.stdout).toMatch(/^ {2}entries\s+200 \(100\.0% of events\)$/m);
    expect(created.stdout).toMatch(/^ {2}distinct keys\s+200$/m);

    const list = await ok(['list', '--dir', dir]);
    expect(list.stdout).toMatch(
      /^index\s+kind\s+type\s+fields\s+unique\s+state\s+entries\s+keys\s+bytes\s+where$/m,
    );
    expect(list.stdout).toMatch(/^type\s+built-in\s+postings\s+type\s+no\s+ready\s+200\s+2\s/m);
    expect(list.stdout).toMatch(/^by_tokens\s+user\s+btree\s+payload\.tokens\s+no\s+ready\s+200\s+200\s/m);
    expect(list.stdout).toMatch(/^\d+ indexes \(1 user-defined\), .+ in all$/m);

    const analyze = await ok(['analyze', '--dir', dir, '--name', 'by_tokens']);
    expect(analyze.stdout).toMatch(/^index by_tokens: btree on payload\.tokens$/m);
    expect(analyze.stdout).toMatch(/^ {2}entries\s+200$/m);
    expect(analyze.stdout).toMatch(/^ {2}distinct keys\s+200$/m);
    expect(analyze.stdout).toMatch(/^ {2}bytes\s+[\d.]+ (B|KiB|MiB)$/m);
    expect(analyze.stdout).toMatch(/^ {2}coverage\s+100\.0% of events/m);
    expect(analyze.stdout).toMatch(/^ {2}selectivity\s+0\.500% of events per key/m);
    expect(analyze.stdout).toMatch(/^top keys \(10 keys with the most events\):$/m);
    expect(analyze.stdout).toMatch(/^histogram /m);
    expect(analyze.stdout).toMatch(/^ {2}0\s+190\s+20\s+20$/m); // first bucket: tokens 0..190, 20 events
    const json = JSON.parse(
      (await ok(['analyze', '--dir', dir, '--name', 'by_tokens', '--json'])).stdout,
    ) as {
      histogram: unknown[];
      topKeys: { key: unknown[]; rows: number }[];
    };
    expect(json).toMatchObject({
      name: 'by_tokens',
      rows: 200,
      entries: 200,
      distinctKeys: 200,
      coverage: 1,
    });
    expect(json.histogram).toHaveLength(10);
    expect(json.topKeys[0]).toEqual({ key: [0], rows: 1 });

    const range = ['--query', '{"kind":"between","field":"payload.tokens","low":100,"high":200}'];
    const explained = await cli(['explain', '--dir', dir, ...range, '--analyze']);
    expect(explained.stdout).toMatch(/^-> IndexLookup using by_tokens {2}\(rows=11 actual rows=11\)$/m);

    // Appends after the build are indexed too, and the index outlives the process that made it.
    expect((await cli(['ingest', '--dir', dir, writeInput(PLANNER_EVENTS.slice(0, 5))])).code).toBe(0);
    const grown = JSON.parse(
      (await ok(['analyze', '--dir', dir, '--name', 'by_tokens', '--json'])).stdout,
    ) as {
      entries: number;
    };
    expect(grown.entries).toBe(205);

    const dropped = await ok(['drop', '--dir', dir, '--name', 'by_tokens']);
    expect(dropped.stdout).toBe('dropped index by_tokens\n');
    expect((await ok(['list', '--dir', dir])).stdout).not.toMatch(/by_tokens/);
    const fallback = await cli(['explain', '--dir', dir, ...range]);
    expect(fallback.stdout).toMatch(/^-> Scan /m);
  });

  it('creates hash, partial and unique indexes and prints them as JSON', async () => {
    const dir = await plannerStore();
    const where = '{"kind":"eq","field":"type","value":"WORKFLOW.STEP"}';
    const hash = await ok([
      'create',
      '--dir',
      dir,
      '--name',
      'steps_by_tenant',
      '--fields',
      'tags.tenant, tags.provider',
      '--type',
      'hash',
      '--where',
      where,
      '--json',
    ]);
    expect(JSON.parse(hash.stdout)).toMatchObject({
      name: 'steps_by_tenant',
      fields: ['tags.tenant', 'tags.provider'],
      type: 'hash',
      unique: false,
      where: { kind: 'eq', field: 'type', value: 'WORKFLOW.STEP' },
      entries: 190,
      distinctKeys: 4,
    });
    const unique = await ok([
      'create',
      '--dir',
      dir,
      '--name',
      'by_tokens',
      '--fields',
      'payload.tokens',
      '--unique',
    ]);
    expect(unique.stdout).toMatch(/^created index by_tokens: btree on payload\.tokens, unique$/m);

    const list = await ok(['list', '--dir', dir]);
    expect(list.stdout).toMatch(
      /^steps_by_tenant\s+user\s+hash\s+tags\.tenant, tags\.provider\s+no\s+ready\s+190\s+4\s+.+\s+type = "WORKFLOW\.STEP"$/m,
    );
    expect(list.stdout).toMatch(/^by_tokens\s+user\s+btree\s+payload\.tokens\s+yes\s/m);
    const listed = JSON.parse((await ok(['list', '--dir', dir, '--json'])).stdout) as {
      indexes: { name: string; builtIn: boolean }[];
      totalBytes: number;
    };
    expect(listed.indexes.filter((index) => !index.builtIn).map((index) => index.name)).toEqual([
      'steps_by_tenant',
      'by_tokens',
    ]);
    expect(listed.totalBytes).toBeGreaterThan(0);

    const analyze = await ok(['analyze', '--dir', dir, '--name', 'steps_by_tenant']);
    expect(analyze.stdout).toMatch(/^ {2}coverage\s+95\.0% of events/m);
    expect(analyze.stdout).toMatch(/^ {2}\("t1", "anthropic"\)\s+50$/m);
    expect(analyze.stdout).not.toMatch(/histogram/); // hash indexes keep no key order

    // The unique index now guards appends: a batch repeating a key is refused whole.
    const duplicate = await cli(['ingest', '--dir', dir, writeInput([PLANNER_EVENTS[7] as string])]);
    expect(duplicate.code).not.toBe(0);
    expect(duplicate.stderr).toMatch(/by_tokens/);

    const usage = await ok(['usage', '--dir', dir]);
    expect(usage.stdout).toMatch(/^index\s+kind\s+uses\s+last used$/m);
    expect(usage.stdout).toMatch(/^steps_by_tenant\s+user\s+0\s+never$/m);
    expect(usage.stdout).toMatch(/^type\s+built-in\s+0\s+never$/m);
    const usageJson = JSON.parse((await ok(['usage', '--dir', dir, '--json'])).stdout) as { name: string }[];
    expect(usageJson.map((use) => use.name)).toContain('by_tokens');
  });

  it('draws progress on a terminal without disturbing the result', async () => {
    const dir = await plannerStore();
    const result = await ok(['create', '--dir', dir, '--name', 'by_time', '--fields', 'timestamp'], {
      isTTY: true,
    });
    expect(result.stdout).toMatch(/^created index by_time/m);
  });

  it('reports bad input with a clear error and a non-zero exit, and changes nothing', async () => {
    const dir = await plannerStore();
    await ok(['create', '--dir', dir, '--name', 'by_tokens', '--fields', 'payload.tokens']);
    const catalog = readFileSync(join(dir, 'indexes.json'), 'utf8');
    const fails = async (args: string[], code: number, message: RegExp): Promise<void> => {
      const result = await cli(['index', ...args]);
      expect(result.code, result.stderr).toBe(code);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    };
    const create = ['create', '--dir', dir, '--name'];
    await fails(
      [...create, 'x', '--fields', 'bogus'],
      2,
      /^error: definition\.fields\[0\]: unknown field "bogus".*\[UNKNOWN_FIELD\]$/m,
    );
    await fails([...create, 'x', '--fields', 'type,type'], 2, /definition\.fields: names a field twice/);
    await fails(
      [...create, 'x', '--fields', 'type,,tags.a'],
      2,
      /'--fields <fields>' argument 'type,,tags\.a' is invalid/,
    );
    await fails([...create, '9x', '--fields', 'type'], 2, /^error: definition\.name: .*got "9x"/m);
    await fails([...create, 'type', '--fields', 'type'], 2, /"type" is a built-in index name/);
    await fails(
      [...create, 'by_tokens', '--fields', 'type'],
      2,
      /^error: an index named "by_tokens" already exists.*\[INDEX_EXISTS\]$/m,
    );
    await fails(
      [...create, 'x', '--fields', 'type', '--type', 'tree'],
      2,
      /'--type <type>' argument 'tree' is invalid/,
    );
    await fails(
      [...create, 'x', '--fields', 'type', '--where', '{"kind":'],
      2,
      /^error: --where must be a JSON filter node: .*\[USAGE\]$/m,
    );
    await fails(
      [...create, 'x', '--fields', 'type', '--where', '"type"'],
      2,
      /^error: --where must be a JSON filter node, e\.g\..*got "type"/m,
    );
    await fails(
      [...create, 'x', '--fields', 'type', '--where', '{"kind":"eq","field":"tags.a","value":null}'],
      2,
      /^error: definition\.where\.value: tags hold strings.*\[INVALID_OPERAND\]$/m,
    );
    await fails(
      [...create, 'x', '--fields', 'aggregateId', '--unique'],
      1,
      /^error: cannot build unique index x: sequences 1 and 21 both have aggregateId = "issue-0" \[UNIQUE_VIOLATION\]$/m,
    );
    await fails(
      ['drop', '--dir', dir, '--name', 'nope'],
      2,
      /^error: no index named "nope"; user-defined indexes: by_tokens \[INDEX_NOT_FOUND\]$/m,
    );
    await fails(
      ['drop', '--dir', dir, '--name', 'type'],
      2,
      /^error: "type" is a built-in index; only user-defined indexes can be dropped/m,
    );
    await fails(['analyze', '--dir', dir, '--name', 'nope'], 2, /no index named "nope"/);
    await fails(['analyze', '--dir', dir, '--name', 'tags.tenant'], 2, /"tags\.tenant" is a built-in index/);
    await fails(['drop', '--dir', dir], 2, /required option '--name <name>'/);
    await fails(['create', '--dir', freshDir(), '--name', 'x', '--fields', 'type'], 2, /does not exist/);

    expect(readFileSync(join(dir, 'indexes.json'), 'utf8')).toBe(catalog);
    const list = await ok(['list', '--dir', dir, '--json']);
    const names = (JSON.parse(list.stdout) as { indexes: { name: string; builtIn: boolean }[] }).indexes
      .filter((index) => !index.builtIn)
      .map((index) => index.name);
    expect(names).toEqual(['by_tokens']);

    const bare = await cli(['index']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/Usage: tamma-events index/);
  });
});

/** Flips one byte of the first log segment, inside the first frame. */
function corruptFirstFrame(dir: string): void {
  const segment = readdirSync(join(dir, 'log'))
    .filter((name) => name.endsWith('.seg'))
    .sort()[0];
  if (segment === undefined) throw new Error('no segment');
  const fd = openSync(join(dir, 'log', segment), 'r+');
  try {
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, 40);
    byte[0] = (byte[0] ?? 0) ^ 0xff;
    writeSync(fd, byte, 0, 1, 40);
  } finally {
    closeSync(fd);
  }
}

describe('verify and repair', () => {
  let dir: string;

  beforeAll(async () => {
    dir = freshDir();
    const result = await cli(['ingest', '--dir', dir, '--batch-size', '2', writeInput(GOOD)]);
    expect(result.code, result.stderr).toBe(0);
  });

  it('verify passes on a healthy store', async () => {
    const result = await cli(['verify', '--dir', dir]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/: OK$/m);
    const json = await cli(['verify', '--dir', dir, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: true,
      frames: 3,
      events: 5,
      lastSequence: 5,
      problems: [],
    });
  });

  it('repair has nothing to do on a healthy store', async () => {
    const result = await cli(['repair', '--dir', dir]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/nothing to repair/);
  });

  it('verify exits 1 on a corrupted frame, and the store refuses to open', async () => {
    corruptFirstFrame(dir);
    const result = await cli(['verify', '--dir', dir]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/DAMAGED/);
    expect(result.stdout).toMatch(/corrupt-frame/);
    expect(result.stdout).toMatch(/tamma-events repair --dir/);
    const json = JSON.parse((await cli(['verify', '--dir', dir, '--json'])).stdout) as {
      ok: boolean;
      problems: { kind: string }[];
    };
    expect(json.ok).toBe(false);
    expect(json.problems.map((p) => p.kind)).toContain('corrupt-frame');

    // Whatever the engine throws, the CLI reports a failure (1) in one line, without a stack.
    const query = await cli(['query', '--dir', dir]);
    expect(query.code).toBe(1);
    expect(query.stderr).toMatch(/^error: /);
    expect(query.stderr).not.toMatch(/\n\s+at /);
  });

  // Open checks every frame's CRC (verifyOnOpen), including those the checkpoint covers.
  it('a read of a damaged frame reports [CORRUPTION] even when a checkpoint covers it', async () => {
    const query = await cli(['query', '--dir', dir]);
    expect(query.stderr).toMatch(/^error: corrupt data in .* \[CORRUPTION\]$/m);
  });

  it('a store that does not open for damage reports [CORRUPTION] with exit 1', async () => {
    const damaged = freshDir();
    await cli(['ingest', '--dir', damaged, '--batch-size', '2', writeInput(GOOD)]);
    corruptFirstFrame(damaged);
    // Without a checkpoint, opening replays the whole log and finds the damage.
    rmSync(join(damaged, 'checkpoint.bin'));
    const query = await cli(['query', '--dir', damaged]);
    expect(query.code).toBe(1);
    expect(query.stderr).toMatch(/^error: corrupt data in .*verify.*repair.* \[CORRUPTION\]$/m);
  });

  it('repair without --yes refuses when not on a terminal, and asks on one', async () => {
    const refused = await cli(['repair', '--dir', dir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/pass --yes/);
    const declined = await cli(['repair', '--dir', dir], { isTTY: true, stdin: 'n\n' });
    expect(declined.code).toBe(1);
    expect(declined.stderr).toMatch(/\[y\/N\]/);
    expect(declined.stderr).toMatch(/nothing was changed/);
    expect((await cli(['verify', '--dir', dir])).code).toBe(1);
  });

  it('repair --yes moves the damaged frame aside, keeps the others, and reports what it dropped', async () => {
    const result = await cli(['repair', '--dir', dir, '--yes']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/damaged .*00000000000000000000\.seg .* 1\.\.2 .*quarantine/);
    expect(result.stdout).toMatch(/kept 3 events, last sequence 5/);
    expect((await cli(['verify', '--dir', dir])).code).toBe(0);
    const stats = JSON.parse((await cli(['stats', '--dir', dir, '--json'])).stdout) as { events: number };
    expect(stats.events).toBe(3);
  });

  it('verify refuses a directory that is not a store', async () => {
    const result = await cli(['verify', '--dir', freshDir()]);
    expect(result.code).toBe(2);
  });
});

describe('archive', () => {
  /** queryDir's frames (sequences 1-2, 3-4, 5) archived with a gap: 1-2 in one file, 5 in another. */
  let archive: string;
  let entries: ArchiveEntry[];
  /** What `query` prints for every event of queryDir, by sequence. */
  let queried: Map<number, string>;

  /** A fresh archive of queryDir's frames, one file per group of frame numbers. */
  function archiveOf(...groups: number[][]): { dir: string; entries: ArchiveEntry[] } {
    const dir = join(root, `archive-${++counter}`);
    const frames = framesOf(queryDir);
    return {
      dir,
      entries: groups.map((group) => archiveFrames(dir, Buffer.concat(group.map((i) => frames[i]!)))),
    };
  }

  const linesOf = (text: string): string[] => text.split('\n').filter((line) => line !== '');
  const expectedLines = (...sequences: number[]): string[] => sequences.map((s) => queried.get(s)!);

  beforeAll(async () => {
    ({ dir: archive, entries } = archiveOf([0], [2]));
    const query = await cli(['query', '--dir', queryDir]);
    queried = new Map(
      linesOf(query.stdout).map((line) => [(JSON.parse(line) as { sequence: number }).sequence, line]),
    );
    expect(queried.size).toBe(5);
  });

  it('list prints the files with sequences, events, time range and bytes', async () => {
    const result = await cli(['archive', 'list', archive]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^archive ${archive}: 2 files, 3 events, \\d+ B$`, 'm'));
    expect(result.stdout).toMatch(/file\s+sequences\s+events\s+time range\s+bytes/);
    expect(result.stdout).toMatch(
      /00000001-00000000000000000001-00000000000000000002\.tzf\s+1-2\s+2\s+2025-01-01T00:00:00\.000Z \.\. 2025-01-01T00:05:00\.000Z\s+\d+ B/,
    );
    expect(result.stdout).toMatch(
      /00000002-00000000000000000005-00000000000000000005\.tzf\s+5-5\s+1\s+2025-01-03T00:00:00\.000Z \.\. 2025-01-03T00:00:00\.000Z/,
    );
    const json = await cli(['archive', 'list', archive, '--json']);
    expect(JSON.parse(json.stdout)).toEqual({
      dir: archive,
      files: entries,
      events: 3,
      bytes: entries[0]!.bytes + entries[1]!.bytes,
    });
  });

  it('verify passes on an intact archive', async () => {
    const result = await cli(['archive', 'verify', archive]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^verify .*: OK$/m);
    expect(result.stdout).toMatch(/files\s+2/);
    expect(result.stdout).toMatch(/events\s+3/);
    const json = await cli(['archive', 'verify', archive, '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ ok: true, files: 2, events: 3, problems: [] });
  });

  it('verify exits 1 naming each damaged or missing file and its problem', async () => {
    const {
      dir,
      entries: [first, second, third],
    } = archiveOf([0], [1], [2]);
    flipFileByte(join(dir, first!.file), 25);
    rmSync(join(dir, third!.file));
    const result = await cli(['archive', 'verify', dir]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/: DAMAGED$/m);
    expect(result.stdout).toMatch(/events\s+2 \(in the intact files\)/);
    expect(result.stdout).toMatch(
      new RegExp(`${first!.file}\\s+the archive file does not match its manifest entry`),
    );
    expect(result.stdout).toMatch(new RegExp(`${third!.file}\\s+missing`));
    expect(result.stdout).not.toContain(second!.file);
    const json = JSON.parse((await cli(['archive', 'verify', dir, '--json'])).stdout) as {
      problems: unknown[];
    };
    expect(json.problems).toHaveLength(2);

    writeFileSync(join(dir, 'manifest.json'), '{ torn');
    const manifest = await cli(['archive', 'verify', dir]);
    expect(manifest.code).toBe(1);
    expect(manifest.stdout).toMatch(/manifest\.json\s+the archive manifest is unreadable/);
  });

  it('restore writes the events as NDJSON in the shape query prints', async () => {
    const result = await cli(['archive', 'restore', archive, '--ndjson', '-']);
    expect(result.code, result.stderr).toBe(0);
    expect(linesOf(result.stdout)).toEqual(expectedLines(1, 2, 5));
    expect(result.stderr).toMatch(/restored\s+3 events from 2 files \(of 2\)/);
    expect(result.stderr).toMatch(/written to\s+stdout/);

    const file = join(root, `restored-${++counter}.ndjson`);
    const toFile = await cli(['archive', 'restore', archive, '--ndjson', file]);
    expect(toFile.code, toFile.stderr).toBe(0);
    expect(toFile.stdout).toBe('');
    expect(readFileSync(file, 'utf8')).toBe(result.stdout);
    // Never over an existing file.
    const again = await cli(['archive', 'restore', archive, '--ndjson', file]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists; restore does not overwrite/);
    expect(readFileSync(file, 'utf8')).toBe(result.stdout);
  });

  it('restore keeps to sequence and time bounds, reading only the files that can hold them', async () => {
    const {
      dir,
      entries: [, middle],
    } = archiveOf([0], [1], [2]);
    const restore = async (...flags: string[]) => {
      const result = await cli(['archive', 'restore', dir, '--ndjson', '-', ...flags]);
      expect(result.code, result.stderr).toBe(0);
      return linesOf(result.stdout);
    };
    expect(await restore('--from-sequence', '2', '--to-sequence', '4')).toEqual(expectedLines(2, 3, 4));
    expect(await restore('--from', '2025-01-02', '--to', '2025-01-03')).toEqual(expectedLines(3, 4));
    expect(await restore('--from', String(Date.UTC(2025, 0, 1, 0, 5)))).toEqual(expectedLines(2, 3, 4, 5));
    expect(await restore('--from-sequence', '6')).toEqual([]);
    flipFileByte(join(dir, middle!.file), 25);
    expect(await restore('--to-sequence', '2')).toEqual(expectedLines(1, 2));
    const summary = await cli(['archive', 'restore', dir, '--ndjson', '-', '--from-sequence', '5']);
    expect(summary.stderr).toMatch(/restored\s+1 event from 1 file \(of 3\)/);
  });

  it('restore stops at a damaged file with [CORRUPTION] naming it, and removes its partial output', async () => {
    const {
      dir,
      entries: [, second],
    } = archiveOf([0], [1], [2]);
    flipFileByte(join(dir, second!.file), 25);
    const stdout = await cli(['archive', 'restore', dir, '--ndjson', '-']);
    expect(stdout.code).toBe(1);
    expect(stdout.stderr).toMatch(
      new RegExp(`^error: corrupt data in .*${second!.file}.*archive verify.*\\[CORRUPTION\\]$`, 'm'),
    );
    // What came before the damage was written: stdout cannot be taken back.
    expect(linesOf(stdout.stdout)).toEqual(expectedLines(1, 2));

    const file = join(root, `partial-${++counter}.ndjson`);
    const toFile = await cli(['archive', 'restore', dir, '--ndjson', file]);
    expect(toFile.code).toBe(1);
    expect(toFile.stderr).toMatch(/removed the partial output/);
    expect(readdirSync(root)).not.toContain(file.split('/').at(-1));
  });

  it('restored events ingest into another store with their ids', async () => {
    const restored = await cli(['archive', 'restore', archive, '--ndjson', '-']);
    const copy = freshDir();
    const ingest = await cli(['ingest', '--dir', copy, '-'], { stdin: restored.stdout });
    expect(ingest.code, ingest.stderr).toBe(0);
    const events = ndjsonLines((await cli(['query', '--dir', copy])).stdout);
    expect(events.map((e) => e.id)).toEqual(ndjsonLines(restored.stdout).map((e) => e.id));
  });

  it('restore --into puts the events back into a store with their sequences and ids', async () => {
    const target = freshDir();
    const result = await cli(['archive', 'restore', archive, '--into', target]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^restored\s+3 events from 2 files$/m);
    expect(linesOf((await cli(['query', '--dir', target])).stdout)).toEqual(expectedLines(1, 2, 5));
    // Again: every event is there already, and the summary says so.
    const again = await cli(['archive', 'restore', archive, '--into', target]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/^restored\s+0 events from 2 files$/m);
    expect(again.stderr).toMatch(/^left out\s+3 events the store holds already$/m);
    // Into the middle: a store holding only sequence 5 gets 1 and 2 back before it.
    const later = freshDir();
    expect((await cli(['archive', 'restore', archive, '--into', later, '--from-sequence', '5'])).code).toBe(
      0,
    );
    const middle = await cli(['archive', 'restore', archive, '--into', later]);
    expect(middle.code, middle.stderr).toBe(0);
    expect(middle.stderr).toMatch(/^restored\s+2 events from 2 files$/m);
    expect(middle.stderr).toMatch(/^sequences\s+1-2$/m);
    expect(middle.stderr).toMatch(/^left out\s+1 event the store holds already$/m);
    expect(linesOf((await cli(['query', '--dir', later])).stdout)).toEqual(expectedLines(1, 2, 5));
    const both = await cli(['archive', 'restore', archive, '--into', target, '--ndjson', '-']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/exactly one of --into <storeDir> and --ndjson/);
  });

  it('draws progress on a terminal without disturbing the output', async () => {
    const result = await cli(['archive', 'restore', archive, '--ndjson', '-'], { isTTY: true });
    expect(result.code, result.stderr).toBe(0);
    expect(linesOf(result.stdout)).toEqual(expectedLines(1, 2, 5));
  });

  it('reports bad usage with exit 2', async () => {
    const missing = await cli(['archive', 'list', join(root, 'no-such-archive')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/archive directory .*no-such-archive does not exist/);
    const notArchive = await cli(['archive', 'verify', queryDir]);
    expect(notArchive.code).toBe(2);
    expect(notArchive.stderr).toMatch(/is not an archive \(no manifest\.json in it\)/);
    const noOutput = await cli(['archive', 'restore', archive]);
    expect(noOutput.code).toBe(2);
    expect(noOutput.stderr).toMatch(/--ndjson/);
    const reversed = await cli([
      'archive',
      'restore',
      archive,
      '--ndjson',
      '-',
      '--from-sequence',
      '5',
      '--to-sequence',
      '2',
    ]);
    expect(reversed.code).toBe(2);
    expect(reversed.stderr).toMatch(/--to-sequence 2 is below --from-sequence 5/);
    const badTime = await cli(['archive', 'restore', archive, '--ndjson', '-', '--from', 'yesterday']);
    expect(badTime.code).toBe(2);
    const badSequence = await cli(['archive', 'restore', archive, '--ndjson', '-', '--from-sequence', '-1']);
    expect(badSequence.code).toBe(2);
    expect(badSequence.stdout).toBe('');
  });
});

describe('usage', () => {
  it.each(['ingest', 'query', 'explain', 'stats', 'verify', 'repair'])(
    '%s --help prints usage and exits 0',
    async (command) => {
      const result = await cli([command, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Usage: tamma-events ${command}`);
      expect(result.stdout).toContain('--dir <path>');
    },
  );

  it.each(['create', 'list', 'drop', 'analyze', 'usage'])(
    'index %s --help prints usage and exits 0',
    async (command) => {
      const result = await cli(['index', command, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Usage: tamma-events index ${command}`);
      expect(result.stdout).toContain('--dir <path>');
    },
  );

  it.each(['list', 'verify', 'restore'])('archive %s --help prints usage and exits 0', async (command) => {
    const result = await cli(['archive', command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: tamma-events archive ${command} [options] <archiveDir>`);
  });

  it('--help and --version exit 0', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Commands:[\s\S]*ingest[\s\S]*repair/);
    const version = await cli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('exits 2 on an unknown command, an unknown flag, a missing --dir or no arguments', async () => {
    const unknownCommand = await cli(['frobnicate']);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toMatch(/^error: unknown command 'frobnicate'/m);
    const unknownFlag = await cli(['stats', '--dir', queryDir, '--bogus']);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toMatch(/^error: unknown option '--bogus'/m);
    const missingDir = await cli(['stats']);
    expect(missingDir.code).toBe(2);
    expect(missingDir.stderr).toMatch(/--dir/);
    const nothing = await cli([]);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(/Usage: tamma-events/);
  });

  it('prints a stack trace only with --debug', async () => {
    const dir = freshDir();
    const plain = await cli(['query', '--dir', dir]);
    expect(plain.stderr).not.toMatch(/\n\s+at /);
    const debug = await cli(['query', '--dir', dir, '--debug']);
    expect(debug.code).toBe(2);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });
});
