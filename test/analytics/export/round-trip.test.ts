import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  agg,
  EVENT_COLUMNS,
  exportRows,
  openEventStore,
  type EventStore,
  type ExportColumn,
  type ExportFormat,
  type NewEvent,
  type StoredEvent,
} from '../../../src/index.js';
import { duckdbTypes } from './duckdb.js';
import { duckdbSource, expectedRows, readBack } from './read-back.js';

/**
 * Every format round-trips: what store.export and exportRows write, DuckDB (Arrow: apache-arrow)
 * reads back as the same rows with the same values, timestamps as timestamps.
 */

const FORMATS: readonly ExportFormat[] = ['csv', 'ndjson', 'parquet', 'arrow'];
let root: string;
let counter = 0;
const file = (format: string): string => join(root, `export-${++counter}.${format}`);

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tamma-export-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const asRecords = (events: readonly StoredEvent[]) => events as unknown as Record<string, unknown>[];

const T0 = Date.UTC(2025, 2, 30, 0, 59, 59, 999);

const SAMPLE: NewEvent[] = [
  {
    aggregateId: 'order-1',
    type: 'ORDER.PLACED',
    timestamp: T0,
    tags: { region: 'eu', priority: 2, rush: true },
    payload: { total: 42.5, items: [{ sku: 'a,b', qty: 1 }], note: 'say "hi"\nbye' },
    metadata: { user: 'ünïcødé ✓' },
  },
  { aggregateId: 'order-1', type: 'ORDER.PAID', timestamp: T0 + 1, payload: { total: -0.1 } },
  { aggregateId: 'order-2', type: 'ORDER.PLACED', timestamp: T0 + 86_400_000, payload: '' },
  { aggregateId: 'order-2', type: 'T', timestamp: 0, payload: null, tags: { empty: '' } },
];

describe('store.export round-trips through DuckDB', () => {
  let store: EventStore;
  let events: StoredEvent[];

  beforeAll(async () => {
    store = await openEventStore();
    await store.append(SAMPLE);
    events = await store.read();
  });
  afterAll(async () => {
    await store.close();
  });

  for (const format of FORMATS) {
    it(`${format}: every event, every column, the same values`, async () => {
      const to = file(format);
      const result = await store.export(store.query(), { format, to });
      expect(result.rows).toBe(events.length);
      expect(result.bytes).toBeGreaterThan(0);
      const back = await readBack(format, to, EVENT_COLUMNS);
      expect(back).toEqual(expectedRows(asRecords(events), EVENT_COLUMNS));
    });
  }

  it('Parquet columns are typed: BIGINT, VARCHAR, TIMESTAMP WITH TIME ZONE', async () => {
    const to = file('parquet');
    await store.export(store.query(), { format: 'parquet', to });
    expect(await duckdbTypes(`select * from ${duckdbSource('parquet', to, EVENT_COLUMNS)}`)).toEqual({
      sequence: 'BIGINT',
      id: 'VARCHAR',
      aggregateId: 'VARCHAR',
      version: 'BIGINT',
      type: 'VARCHAR',
      timestamp: 'TIMESTAMP WITH TIME ZONE',
      tags: 'VARCHAR',
      payload: 'VARCHAR',
      metadata: 'VARCHAR',
    });
  });

  it('DuckDB detects the CSV timestamp column as a timestamp by itself', async () => {
    const to = file('csv');
    await store.export(store.query(), { format: 'csv', to });
    const types = await duckdbTypes(`select * from read_csv('${to}')`);
    expect(types.timestamp).toBe('TIMESTAMP WITH TIME ZONE');
  });

  it('an EventQuery with select exports the selected fields, one column each, typed', async () => {
    const query = store
      .query()
      .where('type', 'eq', 'ORDER.PLACED')
      .select(['timestamp', 'aggregateId', 'payload.total', 'tags.region'])
      .toQuery();
    const columns: ExportColumn[] = [
      { name: 'timestamp', type: 'timestamp' },
      { name: 'aggregateId', type: 'utf8' },
      { name: 'payload.total', type: 'float64' },
      { name: 'tags.region', type: 'utf8' },
    ];
    const selected = await store
      .query()
      .where('type', 'eq', 'ORDER.PLACED')
      .select(query.select ?? [])
      .execute();
    for (const format of FORMATS) {
      const to = file(format);
      const result = await store.export(query, { format, to });
      expect(result.rows).toBe(2);
      expect(await readBack(format, to, columns)).toEqual(expectedRows(selected, columns));
    }
    const to = file('parquet');
    await store.export(query, { format: 'parquet', to });
    expect(await duckdbTypes(`select * from read_parquet('${to}')`)).toEqual({
      timestamp: 'TIMESTAMP WITH TIME ZONE',
      aggregateId: 'VARCHAR',
      'payload.total': 'DOUBLE',
      'tags.region': 'VARCHAR',
    });
  });

  it('an empty result writes a file with the columns and no rows', async () => {
    for (const format of FORMATS) {
      const to = file(format);
      const result = await store.export(store.query().where('type', 'eq', 'NONE'), { format, to });
      expect(result.rows).toBe(0);
      expect(await readBack(format, to, EVENT_COLUMNS)).toEqual([]);
    }
  });
});

describe('exportRows: aggregate rows (plain records)', () => {
  const rows = [
    { bucket: new Date(T0), type: 'A', n: 3, avg: 1.5, ok: true, top: { k: 'v' } },
    { bucket: new Date(T0 + 3_600_000), type: 'B', n: 0, avg: null, ok: false, top: [1, 'x'] },
    { bucket: new Date(T0 + 7_200_000), type: null, n: -7, avg: -0.25, ok: null },
  ];
  const columns: ExportColumn[] = [
    { name: 'bucket', type: 'timestamp' },
    { name: 'type', type: 'utf8' },
    { name: 'n', type: 'float64' },
    { name: 'avg', type: 'float64' },
    { name: 'ok', type: 'bool' },
    { name: 'top', type: 'json' },
  ];

  for (const format of FORMATS) {
    it(`${format}: columns and types inferred from the first batch`, async () => {
      const to = file(format);
      expect(await exportRows(rows, { format, to })).toMatchObject({ rows: 3 });
      expect(await readBack(format, to, columns)).toEqual(expectedRows(rows, columns));
    });
  }

  it('a number column declared as a timestamp (epoch ms bucket keys) is written as a timestamp', async () => {
    const buckets = [
      { bucket: T0, n: 1 },
      { bucket: T0 + 60_000, n: 2 },
    ];
    const declared: ExportColumn[] = [
      { name: 'bucket', type: 'timestamp' },
      { name: 'n', type: 'float64' },
    ];
    const to = file('parquet');
    await exportRows(buckets, { format: 'parquet', to, columns: declared });
    expect(await readBack('parquet', to, declared)).toEqual(expectedRows(buckets, declared));
  });
});

/** Text that CSV and JSON must quote or escape, and text from anywhere in Unicode. */
const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom(
    '',
    ',',
    '"',
    '""',
    '\n',
    '\r\n',
    'a,"b"\nc',
    ' lead',
    'NULL',
    'null',
    '\\N',
    'true',
    '1e5',
  ),
);

const newEvent: fc.Arbitrary<NewEvent> = fc.record(
  {
    aggregateId: fc.oneof(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
      fc.constantFrom('a,b', 'q"', 'x\ny'),
    ),
    type: fc.oneof(
      fc.constantFrom('T', 'ORDER.PLACED', 'true', '12'),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
    ),
    timestamp: fc.integer({ min: 0, max: Date.UTC(2025, 0, 1) }),
    tags: fc.dictionary(
      fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 5 }),
      fc.oneof(text, fc.integer({ min: -1e6, max: 1e6 }), fc.boolean()),
      { maxKeys: 3 },
    ),
    payload: fc.oneof(
      fc.jsonValue({ maxDepth: 3, stringUnit: 'grapheme' }),
      fc.record({
        n: fc.double({ noNaN: true, noDefaultInfinity: true }),
        s: text,
        nested: fc.record({ deep: fc.array(fc.integer({ min: -5, max: 5 })) }),
      }),
    ),
    metadata: fc.dictionary(fc.string({ maxLength: 4 }), text, { maxKeys: 2 }),
  },
  { requiredKeys: ['aggregateId', 'type', 'timestamp'] },
);

describe('property: random events export and read back equal, in every format', () => {
  it('store.export → DuckDB (Arrow: apache-arrow) → the same rows', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(newEvent, { maxLength: 25 }),
        fc.constantFrom(...FORMATS),
        async (batch, format) => {
          const store = await openEventStore();
          try {
            await store.append(batch);
            const events = await store.read();
            const to = file(format);
            const result = await store.export(store.query(), { format, to });
            expect(result.rows).toBe(events.length);
            expect(await readBack(format, to, EVENT_COLUMNS)).toEqual(
              expectedRows(asRecords(events), EVENT_COLUMNS),
            );
          } finally {
            await store.close();
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('store.export of an analytics query (group-by through the builder)', () => {
  it('streams the aggregate rows; columns and types come from the first batch', async () => {
    const store = await openEventStore();
    try {
      await store.append(SAMPLE);
      const query = store
        .query()
        .groupBy(['type'])
        .aggregate({ n: agg.count(), total: agg.sum('payload.total') })
        .orderBy('type');
      const rows = (await query.execute()) as Record<string, unknown>[];
      expect(rows.length).toBe(3);
      const columns: ExportColumn[] = [
        { name: 'type', type: 'utf8' },
        { name: 'n', type: 'float64' },
        { name: 'total', type: 'float64' },
      ];
      for (const format of FORMATS) {
        const to = file(format);
        expect((await store.export(query, { format, to })).rows).toBe(3);
        expect(await readBack(format, to, columns)).toEqual(expectedRows(rows, columns));
      }
    } finally {
      await store.close();
    }
  });
});
