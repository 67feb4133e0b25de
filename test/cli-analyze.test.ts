import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAggregates, parseHaving, parseOrderBy, parseWindow } from '../src/cli/analytics-flags.js';
import { agg, exportRows, f, openEventStore, type EventStore, type PipelineStage } from '../src/index.js';
import { cli } from './support/cli.js';

/**
 * `analyze` prints what the library's analytics return: a group-by from flags is the builder's
 * query, `--json` a pipeline, a query object or a funnel; formats are table, ndjson and csv; bad
 * input is a coded error with exit status 2 before any store opens.
 */

async function ok(argv: string[]): Promise<string> {
  const result = await cli(argv);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

const lines = (stdout: string): unknown[] =>
  stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown);

/** Rows as `--format ndjson` prints them (Dates as ISO text). */
const asJson = (rows: readonly unknown[]): unknown[] =>
  rows.map((row) => JSON.parse(JSON.stringify(row)) as unknown);

const T0 = Date.UTC(2025, 0, 1);
const MINUTE = 60_000;
const PROVIDERS = ['openai', 'anthropic', 'local'];
let root: string;
let dir: string;

async function withStore<T>(use: (store: EventStore) => Promise<T>): Promise<T> {
  const store = await openEventStore({ dir, readOnly: true });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tamma-cli-analyze-'));
  dir = join(root, 'store');
  const store = await openEventStore({ dir });
  // 40 issues over ~3 hours: each STARTED, then COMPLETED (every fourth one FAILED) some minutes later.
  const events = [];
  for (let i = 0; i < 40; i++) {
    const start = T0 + i * 5 * MINUTE;
    const tags = { issueId: `i${i}`, provider: PROVIDERS[i % 3] as string };
    events.push({ aggregateId: `issue-${i}`, type: 'WORKFLOW.STARTED', timestamp: start, tags, payload: {} });
    events.push({
      aggregateId: `issue-${i}`,
      type: i % 4 === 3 ? 'WORKFLOW.FAILED' : 'WORKFLOW.COMPLETED',
      timestamp: start + (i % 7) * MINUTE + 1000,
      tags,
      payload: { durationMs: (i % 7) * MINUTE + 1000, note: i === 5 ? 'a "quoted", text' : `run ${i}` },
    });
  }
  await store.append(events);
  await store.close();
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('analyze from flags', () => {
  it('group-by with aggregates, having, order and limit: the builder query’s rows', async () => {
    const expected = await withStore((store) =>
      store
        .query()
        .where(f.eq('type', 'WORKFLOW.COMPLETED'))
        .groupBy(['tags.provider'])
        .aggregate({
          n: agg.count(),
          p95: agg.percentile('payload.durationMs', 0.95),
          'avg(payload.durationMs)': agg.avg('payload.durationMs'),
        })
        .having(f.gte('n', 10))
        .orderBy('n', 'desc')
        .limit(2)
        .execute(),
    );
    expect(expected.length).toBe(2);
    const printed = await ok([
      'analyze',
      '--dir',
      dir,
      '--type',
      'WORKFLOW.COMPLETED',
      '--group-by',
      'tags.provider',
      '--agg',
      'n=count',
      '--agg',
      'p95=percentile:payload.durationMs:0.95',
      '--agg',
      'avg:payload.durationMs',
      '--having',
      'n>=10',
      '--order-by',
      'n:desc',
      '--limit',
      '2',
      '--format',
      'ndjson',
    ]);
    expect(lines(printed)).toEqual(asJson(expected));
  });

  it('time buckets by type, with a time zone and fill, and running aggregates over them', async () => {
    const expected = await withStore((store) =>
      store
        .query()
        .where(f.and(f.gte('timestamp', T0), f.lt('timestamp', T0 + 6 * 3_600_000)))
        .timeBucket('1h', { timezone: 'Asia/Kolkata', fill: 0 })
        .aggregate({
          n: agg.count(),
          total: agg.cumulative({ kind: 'sum', field: 'n' }),
          avg2: agg.moving({ kind: 'avg', field: 'n' }, { buckets: 2 }),
          change: agg.delta('n'),
        })
        .orderBy('bucket')
        .execute(),
    );
    // The range covers 6 buckets; the events fill the first 4 (Kolkata hours start at :30 UTC).
    expect(expected.length).toBe(7);
    const rows = lines(
      await ok([
        'analyze',
        '--dir',
        dir,
        '--from',
        String(T0),
        '--to',
        new Date(T0 + 6 * 3_600_000).toISOString(),
        '--bucket',
        '1h',
        '--timezone',
        'Asia/Kolkata',
        '--fill',
        '0',
        '--agg',
        'n=count',
        '--agg',
        'total=cumulative:sum:n',
        '--agg',
        'avg2=moving:avg:n:2',
        '--agg',
        'change=delta:n',
        '--order-by',
        'bucket',
        '--format',
        'ndjson',
      ]),
    );
    expect(rows).toEqual(asJson(expected));

    // Per type and hour, the table shows the bucket as an instant and counts right-aligned.
    const table = await ok([
      'analyze',
      '--dir',
      dir,
      '--bucket',
      '1h',
      '--group-by',
      'type',
      '--order-by',
      'bucket,type',
    ]);
    const [header, rule, first] = table.split('\n');
    expect(header).toMatch(/^bucket\s+type\s+count$/);
    expect(rule).toMatch(/^-+ {2}-+ {2}-+$/);
    expect(first).toMatch(/^2025-01-01T00:00:00\.000Z {2}WORKFLOW\.COMPLETED\s+\d+$/);
    expect(table).toMatch(/\(\d+ rows\)\n$/);
  });

  it('hopping windows and the default aggregate', async () => {
    const expected = await withStore((store) =>
      store
        .query()
        .where(f.eq('type', 'WORKFLOW.STARTED'))
        .timeWindow({ size: '1h', every: '30m' })
        .aggregate({ count: agg.count() })
        .orderBy('windowStart')
        .execute(),
    );
    const printed = await ok([
      'analyze',
      '--dir',
      dir,
      '--type',
      'WORKFLOW.STARTED',
      '--window',
      'size=1h,every=30m',
      '--order-by',
      'windowStart',
      '--format',
      'ndjson',
    ]);
    expect(lines(printed)).toEqual(asJson(expected));
  });

  it('a --query filter over payload fields, ANDed with the criteria flags, then grouped', async () => {
    const filter = f.gte('payload.durationMs', 3 * MINUTE);
    const expected = await withStore((store) =>
      store
        .query()
        .where(f.and(f.eq('tags.provider', 'openai'), filter))
        .groupBy(['type'])
        .aggregate({ n: agg.count(), 'max(payload.durationMs)': agg.max('payload.durationMs') })
        .orderBy('type')
        .execute(),
    );
    expect(expected.length).toBe(2);
    const printed = await ok([
      'analyze',
      '--dir',
      dir,
      '--tag',
      'provider=openai',
      '--query',
      JSON.stringify(filter),
      '--group-by',
      'type',
      '--agg',
      'n=count',
      '--agg',
      'max:payload.durationMs',
      '--order-by',
      'type',
      '--format',
      'ndjson',
    ]);
    expect(lines(printed)).toEqual(asJson(expected));
  });

  it('--explain prints EXPLAIN ANALYZE with actual rows and time', async () => {
    const text = await ok(['analyze', '--dir', dir, '--group-by', 'type', '--agg', 'n=count', '--explain']);
    expect(text).toContain('execution time');
    expect(text).toMatch(/actual/i);
    expect(text).toMatch(/Aggregate|Group/);
  });
});

describe('analyze --json', () => {
  const pipeline: PipelineStage[] = [
    { match: f.in('type', ['WORKFLOW.STARTED', 'WORKFLOW.COMPLETED']) },
    {
      join: {
        right: f.eq('type', 'WORKFLOW.COMPLETED'),
        on: 'tags.issueId',
        as: 'done',
      },
    },
    { match: f.eq('type', 'WORKFLOW.STARTED') },
    { project: { provider: 'tags.provider', ms: { sub: ['done.timestamp', 'timestamp'] } } },
    {
      group: {
        by: ['provider'],
        aggregates: {
          n: { kind: 'count' },
          p50: { kind: 'percentile', field: 'ms', p: 0.5 },
          p95: { kind: 'percentile', field: 'ms', p: 0.95 },
        },
      },
    },
    { sort: [{ field: 'provider', direction: 'asc' }] },
  ];

  it('a pipeline: the rows of store.analytics.pipeline, from text or a file, in every format', async () => {
    const expected = await withStore((store) => store.analytics.pipeline(pipeline));
    expect(expected.map((row) => row.provider)).toEqual(['anthropic', 'local', 'openai']);
    const text = JSON.stringify(pipeline);
    expect(lines(await ok(['analyze', '--dir', dir, '--json', text, '--format', 'ndjson']))).toEqual(
      asJson(expected),
    );
    const file = join(root, 'pipeline.json');
    writeFileSync(file, text);
    const csv = await ok(['analyze', '--dir', dir, '--json', `@${file}`, '--format', 'csv']);
    expect(csv).toBe(
      'provider,n,p50,p95\n' +
        expected.map((row) => `${[row.provider, row.n, row.p50, row.p95].join(',')}\n`).join(''),
    );
  });

  it('csv is the export writer’s: commas and quotes quoted, nulls empty, objects as JSON', async () => {
    const stages = [
      { match: f.eq('aggregateId', 'issue-5') },
      { project: { type: 'type', note: 'payload.note', missing: 'payload.nothing', tags: 'tags' } },
    ];
    const csv = await ok(['analyze', '--dir', dir, '--json', JSON.stringify(stages), '--format', 'csv']);
    expect(csv).toBe(
      'type,note,missing,tags\n' +
        'WORKFLOW.STARTED,,,"{""issueId"":""i5"",""provider"":""local""}"\n' +
        'WORKFLOW.COMPLETED,"a ""quoted"", text",,"{""issueId"":""i5"",""provider"":""local""}"\n',
    );
    // The same text as `export --format csv` writes for these rows.
    const exported = new PassThrough();
    let text = '';
    exported.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const rows = await withStore((store) => store.analytics.pipeline(stages as PipelineStage[]));
    await exportRows(rows, { format: 'csv', to: exported });
    expect(csv).toBe(text);
  });

  it('a pattern: whole events in ndjson, `#sequence TYPE` in the table', async () => {
    const pattern = {
      partitionBy: 'tags.issueId',
      steps: [
        { name: 'started', where: f.eq('type', 'WORKFLOW.STARTED') },
        { name: 'failed', where: f.eq('type', 'WORKFLOW.FAILED') },
      ],
      within: '1h',
    };
    const expected = await withStore((store) => store.query().pattern(pattern).limit(3).execute());
    expect(expected.length).toBe(3);
    const query = JSON.stringify({ kind: 'query', analytics: { pattern }, limit: 3 });
    expect(lines(await ok(['analyze', '--dir', dir, '--json', query, '--format', 'ndjson']))).toEqual(
      asJson(expected),
    );
    const table = (await ok(['analyze', '--dir', dir, '--json', query])).split('\n');
    expect(table[0]).toMatch(/^partition\s+started\s+failed\s+start\s+end\s+durationMs$/);
    expect(table[2]).toMatch(/^i3\s+#7 WORKFLOW\.STARTED\s+#8 WORKFLOW\.FAILED\s+2025-01-01T00:15:00\.000Z /);
  });

  it('a query object with analytics, and a funnel', async () => {
    const query = {
      kind: 'query',
      filter: f.eq('type', 'WORKFLOW.STARTED'),
      analytics: { groupBy: ['tags.provider'], aggregates: { n: { kind: 'count' } } },
      orderBy: [{ field: 'tags.provider', direction: 'asc' }],
    };
    expect(
      lines(await ok(['analyze', '--dir', dir, '--json', JSON.stringify(query), '--format', 'ndjson'])),
    ).toEqual([
      { 'tags.provider': 'anthropic', n: 13 },
      { 'tags.provider': 'local', n: 13 },
      { 'tags.provider': 'openai', n: 14 },
    ]);
    const explained = await ok(['analyze', '--dir', dir, '--json', JSON.stringify(query), '--explain']);
    expect(explained).toContain('execution time');

    const funnel = {
      partitionBy: 'tags.issueId',
      steps: [f.eq('type', 'WORKFLOW.STARTED'), f.eq('type', 'WORKFLOW.COMPLETED')],
      within: '10m',
    };
    const expected = await withStore((store) => store.analytics.funnel(funnel));
    const rows = lines(
      await ok(['analyze', '--dir', dir, '--json', JSON.stringify({ funnel }), '--format', 'ndjson']),
    );
    expect(rows).toEqual(asJson(expected.steps));
    expect(rows[1]).toMatchObject({ step: 1, count: 30 });
  });
});

describe('analyze refuses bad input with a coded error and exit status 2', () => {
  const cases: [string, string[], string, string][] = [
    ['an unknown aggregate', ['--agg', 'n=mode:payload.x'], 'USAGE', 'unknown aggregate "mode"'],
    ['a percentile without p', ['--agg', 'p=percentile:payload.x'], 'USAGE', 'percentile:FIELD:P'],
    ['a p outside [0, 1]', ['--agg', 'p=percentile:payload.x:2'], 'INVALID_OPERAND', 'from 0 to 1'],
    ['a bad field', ['--group-by', 'nope'], 'UNKNOWN_FIELD', 'nope'],
    ['a bad having', ['--having', 'n>>3'], 'USAGE', 'COLUMN OP VALUE'],
    ['a bad order', ['--order-by', 'n:up'], 'USAGE', 'FIELD:desc'],
    ['a bad width', ['--bucket', '1.5h'], 'INVALID_OPTION', '1.5h'],
    ['a bad fill', ['--bucket', '1h', '--fill', 'zero'], 'USAGE', '0, null or previous'],
    ['a zone without a bucket', ['--timezone', 'UTC'], 'USAGE', '--bucket'],
    ['an unknown zone', ['--bucket', '1d', '--timezone', 'Mars/Olympus'], 'INVALID_OPTION', 'Mars/Olympus'],
    ['a bad window', ['--window', 'size=1h,gap=2m'], 'USAGE', 'not both'],
    ['--order', ['--order', 'desc'], 'USAGE', '--order-by'],
    ['JSON that is not JSON', ['--json', '[{'], 'USAGE', '--json must be JSON'],
    ['JSON of the wrong shape', ['--json', '42'], 'USAGE', 'a pipeline'],
    ['a bad stage', ['--json', '[{"group":{"by":["type"]}}]'], 'INVALID_OPTION', 'aggregates'],
    ['--json with flags', ['--json', '[]', '--group-by', 'type'], 'USAGE', '--group-by'],
    ['--source archive without an archive', ['--source', 'archive'], 'VALIDATION_FAILED', 'no archive'],
    [
      'a query object with a part it would drop',
      ['--json', '{"kind":"query","after":"x"}'],
      'USAGE',
      '"after"',
    ],
    [
      'a funnel inside a query object',
      ['--json', '{"kind":"query","analytics":{"funnel":{}}}'],
      'USAGE',
      '{"funnel":{...}}',
    ],
    ['--explain of a pipeline', ['--json', '[]', '--explain'], 'USAGE', '--explain takes a query'],
  ];
  it.each(cases)('%s', async (_name, args, code, fragment) => {
    const result = await cli(['analyze', '--dir', dir, ...args]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`[${code}]`);
    expect(result.stderr).toContain(fragment);
  });

  it('a missing store directory, and a bad --format', async () => {
    const missing = await cli(['analyze', '--dir', join(root, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('[USAGE]');
    // A bad query is named before any store opens (here there is none to open).
    const early = await cli(['analyze', '--dir', join(root, 'nope'), '--group-by', 'nope']);
    expect(early.code).toBe(2);
    expect(early.stderr).toContain('[UNKNOWN_FIELD]');
    const earlyJson = await cli([
      'analyze',
      '--dir',
      join(root, 'nope'),
      '--json',
      '{"kind":"query","analytics":{"groupBy":["tags."]}}',
    ]);
    expect(earlyJson.code).toBe(2);
    expect(earlyJson.stderr).not.toContain('does not exist');
    const format = await cli(['analyze', '--dir', dir, '--format', 'xml']);
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('table, ndjson, csv');
  });
});

describe('the compact flag syntax', () => {
  it('--agg covers every aggregate kind but custom, with the builder’s names by default', () => {
    expect(
      parseAggregates([
        'count',
        'c=count:payload.x',
        'u=countDistinct:tags.user',
        'sum:payload.x',
        'a=avg:payload.x',
        'lo=min:payload.x',
        'hi=max:payload.x',
        'sd=stddev:payload.x',
        'var=variance:payload.x',
        'med=median:payload.x',
        'p95=percentile:payload.x:0.95',
        'ap=approxpercentile:payload.x:0.5',
        'f=first:payload.x',
        'l=last:payload.x',
        'r=corr:payload.x:payload.y',
        'h=histogram:payload.x:10',
        'm=moving:avg:n:3',
        'mp=moving:percentile:n:0.5:all',
        't=cumulative:sum:n',
        'd=delta:n',
      ]),
    ).toEqual({
      count: agg.count(),
      c: agg.count('payload.x'),
      u: agg.countDistinct('tags.user'),
      'sum(payload.x)': agg.sum('payload.x'),
      a: agg.avg('payload.x'),
      lo: agg.min('payload.x'),
      hi: agg.max('payload.x'),
      sd: agg.stddev('payload.x'),
      var: agg.variance('payload.x'),
      med: agg.median('payload.x'),
      p95: agg.percentile('payload.x', 0.95),
      ap: agg.approxPercentile('payload.x', 0.5),
      f: agg.first('payload.x'),
      l: agg.last('payload.x'),
      r: agg.corr('payload.x', 'payload.y'),
      h: agg.histogram('payload.x', { buckets: 10 }),
      m: agg.moving({ kind: 'avg', field: 'n' }, { buckets: 3 }),
      mp: agg.moving({ kind: 'percentile', field: 'n', p: 0.5 }, { buckets: 'all' }),
      t: agg.cumulative({ kind: 'sum', field: 'n' }),
      d: agg.delta('n'),
    });
  });

  it('--having, --order-by and --window', () => {
    expect(parseHaving('n>=100')).toEqual(f.gte('n', 100));
    expect(parseHaving(' type = WORKFLOW.FAILED ')).toEqual(f.eq('type', 'WORKFLOW.FAILED'));
    expect(parseHaving('p95 < 1.5')).toEqual(f.lt('p95', 1.5));
    expect(parseHaving('tags.provider!="42"')).toEqual(f.ne('tags.provider', '42'));
    expect(parseHaving('{"kind":"exists","field":"p95"}')).toEqual(f.exists('p95'));
    expect(parseOrderBy(['bucket,n:desc', 'type:asc'])).toEqual([
      { field: 'bucket', direction: 'asc' },
      { field: 'n', direction: 'desc' },
      { field: 'type', direction: 'asc' },
    ]);
    expect(parseWindow('size=1h,every=15m')).toEqual({ size: '1h', every: '15m' });
    expect(parseWindow('size=3600000')).toEqual({ size: 3_600_000, every: 3_600_000 });
    expect(parseWindow('gap=30m')).toEqual({ gap: '30m' });
  });
});
