import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  exportRows,
  f,
  openEventStore,
  runPipeline,
  type EventQuery,
  type FilterNode,
  type PipelineRow,
  type PipelineStage,
  StorageError,
  UnsupportedError,
  ValidationError,
  type EventStore,
  type ExportFormat,
} from '../../../src/index.js';
import { runExport } from '../../../src/store/export-runner.js';
import { expectError, rejection } from '../../support/helpers.js';
import { expectedRows, readBack } from './read-back.js';

/** Bad options and unwritable values fail with coded errors, and leave no file behind. */

let root: string;
let store: EventStore;
let counter = 0;
const path = (ext = 'out'): string => join(root, `file-${++counter}.${ext}`);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tamma-export-errors-'));
  store = await openEventStore();
  await store.append([{ aggregateId: 'a', type: 'T', payload: { n: 1 } }]);
});
afterAll(async () => {
  await store.close();
  rmSync(root, { recursive: true, force: true });
});

describe('options are checked before the file is created', () => {
  const cases: [string, Record<string, unknown>, string, string][] = [
    ['an unknown format', { format: 'xlsx' }, 'format', 'expected one of csv, ndjson, parquet, arrow'],
    ['a missing format', { format: undefined }, 'format', 'unknown export format'],
    ['a target that is neither a path nor a stream', { to: 42 }, 'to', 'a file path or a Writable'],
    ['an empty path', { to: '' }, 'to', 'a file path or a Writable'],
    ['an unknown column type', { columns: [{ name: 'n', type: 'decimal' }] }, 'columns[0].type', 'float64'],
    ['a column named twice', { columns: [{ name: 'n' }, { name: 'n' }] }, 'columns[1].name', 'named twice'],
    ['no columns', { columns: [] }, 'columns', 'non-empty array'],
    ['a batch size of 0', { batchRows: 0 }, 'batchRows', 'positive integer'],
    ['an unknown option', { rowGroupSize: 10 }, 'rowGroupSize', 'not an export option'],
  ];
  for (const [what, change, at, fragment] of cases) {
    it(`${what}: INVALID_OPTION at ${at}, nothing written`, async () => {
      const to = path();
      const options = { format: 'csv', to, ...change } as never;
      const viaRows = await rejection(() => exportRows([{ n: 1 }], options));
      expectError(viaRows, ValidationError, 'INVALID_OPTION', fragment);
      expect((viaRows as ValidationError).path).toBe(at);
      const viaStore = await rejection(() => store.export(store.query(), options));
      expectError(viaStore, ValidationError, 'INVALID_OPTION', fragment);
      expect(existsSync(to)).toBe(false);
    });
  }

  it('a file in a directory that does not exist: INVALID_OPTION naming the path', async () => {
    const to = join(root, 'missing', 'x.csv');
    expectError(
      await rejection(() => exportRows([{ n: 1 }], { format: 'csv', to })),
      ValidationError,
      'INVALID_OPTION',
      to,
    );
  });

  it('a source that is no query: VALIDATION_FAILED, nothing written', async () => {
    const to = path();
    const error = await rejection(() => store.export(42 as never, { format: 'csv', to }));
    expectError(
      error,
      ValidationError,
      'VALIDATION_FAILED',
      'query builder',
      'EventQuery',
      'pipeline stages',
    );
    expect(existsSync(to)).toBe(false);
  });

  it('an invalid EventQuery is refused by query validation before the file is created', async () => {
    const to = path();
    const query = { kind: 'query', filter: { kind: 'eq', field: 'nope', value: 1 }, orderBy: [], hints: {} };
    expectError(
      await rejection(() => store.export(query as never, { format: 'csv', to })),
      ValidationError,
      'UNKNOWN_FIELD',
    );
    expect(existsSync(to)).toBe(false);
  });
});

describe('pipelines', () => {
  it('without store.analytics: UNSUPPORTED, nothing written', async () => {
    const to = path();
    const error = await rejection(() =>
      runExport([{ limit: 1 }], { format: 'csv', to }, { stream: () => [] as never, analytics: undefined }),
    );
    expectError(error, UnsupportedError, 'UNSUPPORTED', 'store.analytics.pipeline');
    expect(existsSync(to)).toBe(false);
  });

  it('with a pipeline runner (runPipeline over the store): its rows are written, columns from the first batch', async () => {
    // What store.analytics.pipeline will be: the row stages reading this store's events.
    const flows = await openEventStore();
    try {
      const T0 = Date.UTC(2025, 0, 1);
      await flows.append([
        {
          aggregateId: 'w1',
          type: 'WORKFLOW.STARTED',
          timestamp: T0,
          tags: { issueId: '1', provider: 'github' },
        },
        { aggregateId: 'w1', type: 'WORKFLOW.COMPLETED', timestamp: T0 + 2000, tags: { issueId: '1' } },
        {
          aggregateId: 'w2',
          type: 'WORKFLOW.STARTED',
          timestamp: T0,
          tags: { issueId: '2', provider: 'gitlab' },
        },
        { aggregateId: 'w2', type: 'WORKFLOW.COMPLETED', timestamp: T0 + 5000, tags: { issueId: '2' } },
      ]);
      const context = {
        readEvents: async (match: FilterNode | EventQuery) =>
          (await flows
            .query()
            .where(match as FilterNode)
            .execute()) as unknown as PipelineRow[],
        now: () => Date.now(),
      };
      const stages: PipelineStage[] = [
        { match: f.in('type', ['WORKFLOW.STARTED', 'WORKFLOW.COMPLETED']) },
        {
          pattern: {
            partitionBy: 'tags.issueId',
            steps: [
              { name: 'started', where: f.eq('type', 'WORKFLOW.STARTED') },
              { name: 'completed', where: f.eq('type', 'WORKFLOW.COMPLETED') },
            ],
            within: '1d',
          },
        },
        { project: { provider: 'started.tags.provider', ms: 'durationMs' } },
        { group: { by: ['provider'], aggregates: { p50: { kind: 'percentile', field: 'ms', p: 0.5 } } } },
        { sort: [{ field: 'provider', direction: 'asc' }] },
      ];
      const expected = await runPipeline(stages, context);
      expect(expected).toEqual([
        { provider: 'github', p50: 2000 },
        { provider: 'gitlab', p50: 5000 },
      ]);
      let asked: unknown;
      const to = path('parquet');
      const result = await runExport(
        stages,
        { format: 'parquet', to },
        {
          stream: () => [] as never,
          analytics: {
            pipeline: (given) => {
              asked = given;
              return runPipeline(given, context);
            },
          },
        },
      );
      expect(asked).toBe(stages);
      expect(result.rows).toBe(2);
      const columns = [
        { name: 'provider', type: 'utf8' },
        { name: 'p50', type: 'float64' },
      ] as const;
      expect(await readBack('parquet', to, columns)).toEqual(expectedRows(expected, columns));
    } finally {
      await flows.close();
    }
  });
});

describe('a value the file cannot hold fails the export (EXPORT_SCHEMA_MISMATCH), and the file is removed', () => {
  const formats: ExportFormat[] = ['csv', 'ndjson', 'parquet', 'arrow'];
  // Batches of 2: the columns and types are decided on rows 0 and 1.
  const laterString = [{ n: 1 }, { n: 2 }, { n: 'three' }];
  const laterKey = [{ n: 1 }, { n: 2 }, { n: 3, extra: true }];
  for (const format of formats) {
    it(`${format}: a string in a column inferred as float64, named by row and column`, async () => {
      const to = path(format);
      const error = await rejection(() => exportRows(laterString, { format, to, batchRows: 2 }));
      expectError(error, ValidationError, 'EXPORT_SCHEMA_MISMATCH', '"three"', 'float64', 'columns');
      expect((error as ValidationError).path).toBe('rows[2].n');
      expect(existsSync(to)).toBe(false);
    });

    it(`${format}: a key the first batch did not have`, async () => {
      const to = path(format);
      const error = await rejection(() => exportRows(laterKey, { format, to, batchRows: 2 }));
      expectError(error, ValidationError, 'EXPORT_SCHEMA_MISMATCH', '"extra"', 'first batch');
      expect((error as ValidationError).path).toBe('rows[2].extra');
      expect(existsSync(to)).toBe(false);
    });

    it(`${format}: a lone surrogate, which UTF-8 cannot encode`, async () => {
      const error = await rejection(() =>
        exportRows([{ s: 'ok' }, { s: 'bad \ud800' }], { format, to: path(format) }),
      );
      expectError(error, ValidationError, 'EXPORT_SCHEMA_MISMATCH', 'lone UTF-16 surrogate');
    });
  }

  it('a declared utf8 column keeps any later value as text', async () => {
    const rows = [{ v: 'a' }, { v: 2 }, { v: true }, { v: { k: [1] } }, { v: null }];
    const to = path('parquet');
    await exportRows(rows, { format: 'parquet', to, columns: [{ name: 'v', type: 'utf8' }] });
    expect((await readBack('parquet', to, [{ name: 'v', type: 'utf8' }])).map((row) => row.v)).toEqual([
      'a',
      '2',
      'true',
      '{"k":[1]}',
      null,
    ]);
  });

  it('values of several kinds in the first batch make a json column: nothing is lost', async () => {
    const rows = [{ v: 'a' }, { v: 2 }, { v: [true] }];
    const to = path('csv');
    await exportRows(rows, { format: 'csv', to });
    expect(await readBack('csv', to, [{ name: 'v', type: 'json' }])).toEqual(rows);
  });

  it('NaN in NDJSON, which JSON cannot write (Parquet can)', async () => {
    const rows = [{ x: 1 }, { x: Number.NaN }];
    const error = await rejection(() => exportRows(rows, { format: 'ndjson', to: path('ndjson') }));
    expectError(error, ValidationError, 'EXPORT_SCHEMA_MISMATCH', 'NaN');
    const to = path('parquet');
    await exportRows(rows, { format: 'parquet', to });
    expect((await readBack('parquet', to, [{ name: 'x', type: 'float64' }])).map((row) => row.x)).toEqual([
      1,
      Number.NaN,
    ]);
  });

  it('a row that is not an object', async () => {
    const error = await rejection(() => exportRows([{ a: 1 }, 7] as never, { format: 'csv', to: path() }));
    expectError(error, ValidationError, 'VALIDATION_FAILED', 'must be an object');
    expect((error as ValidationError).path).toBe('rows[1]');
  });
});

describe('streams', () => {
  it('a caller stream is written with backpressure and left open; bytes are counted', async () => {
    const chunks: Buffer[] = [];
    const sink = new Writable({
      highWaterMark: 16,
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        setImmediate(callback);
      },
    });
    const rows = Array.from({ length: 1000 }, (_, i) => ({ i, s: `row ${i}` }));
    const result = await exportRows(rows, { format: 'ndjson', to: sink, batchRows: 100 });
    const text = Buffer.concat(chunks).toString('utf8');
    expect(result).toEqual({ rows: 1000, bytes: Buffer.byteLength(text) });
    expect(
      text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as unknown),
    ).toEqual(rows);
    expect(sink.writableEnded).toBe(false);
  });

  it('a stream destroyed during the export: a StorageError, not a hang', async () => {
    const sink = new Writable({
      highWaterMark: 1,
      // The consumer never takes the first chunk and goes away: the export waits for a drain that
      // never comes, until the close.
      write() {
        setImmediate(() => sink.destroy());
      },
    });
    const rows = Array.from({ length: 100 }, (_, i) => ({ i }));
    expect(
      await rejection(() => exportRows(rows, { format: 'csv', to: sink, batchRows: 10 })),
    ).toBeInstanceOf(StorageError);
  });
});
