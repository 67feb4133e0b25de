import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EVENT_COLUMNS,
  openEventStore,
  type AdvancedQueryBuilder,
  type EventStore,
  type NewEvent,
  type ReadObservation,
} from '../../../src/index.js';

/**
 * An export of whole events to Parquet, Arrow or NDJSON takes the events as columns from the engine
 * (StorageEngine.exportEvents: tags and payloads transcoded from their stored bytes to JSON text).
 * Declaring the nine event columns in `columns` takes the other path (every StoredEvent flattened,
 * JSON.stringify), so the two files of one query must hold the very same values, text for text.
 */

let root: string;
let counter = 0;
const file = (): string => join(root, `events-${++counter}`);

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tamma-event-columns-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** The rows of an Arrow file with every value as it is stored (JSON columns as their text). */
function arrowRows(path: string): unknown[] {
  const table = tableFromIPC(readFileSync(path));
  return table
    .toArray()
    .map((row) => JSON.stringify(row.toJSON(), (_, v) => (typeof v === 'bigint' ? `${v}n` : v)));
}

/**
 * Exports `query` both ways, as Arrow and as NDJSON, and returns the two Arrow files' rows; the two
 * NDJSON files must be the same bytes.
 */
async function bothWays(
  store: EventStore,
  query: AdvancedQueryBuilder,
  batchRows?: number,
): Promise<{ fast: unknown[]; objects: unknown[]; rows: number }> {
  const fastPath = file();
  const objectPath = file();
  const options = batchRows === undefined ? {} : { batchRows };
  const result = await store.export(query, { format: 'arrow', to: fastPath, ...options });
  await store.export(query, { format: 'arrow', to: objectPath, columns: EVENT_COLUMNS, ...options });
  const fastLines = file();
  const objectLines = file();
  const lines = await store.export(query, { format: 'ndjson', to: fastLines, ...options });
  await store.export(query, { format: 'ndjson', to: objectLines, columns: EVENT_COLUMNS, ...options });
  expect(lines.rows).toBe(result.rows);
  expect(readFileSync(fastLines, 'utf8')).toBe(readFileSync(objectLines, 'utf8'));
  return { fast: arrowRows(fastPath), objects: arrowRows(objectPath), rows: result.rows };
}

const TRICKY: NewEvent[] = [
  {
    aggregateId: 'ünï-1',
    type: 'T\u0001"\\',
    timestamp: -86_400_001,
    tags: { region: 'eu', n: -2.5, big: 2 ** 40, rush: true, off: false, ü: 'ñ\n"' },
    payload: {
      a: 3,
      s: 'tab\t quote" slash\\ ctl\u001f del\u007f emoji 😀 ✓ line\u2028',
      floats: [0.1, 0.30000000000000004, -1234.56, 1e-7, 1.5e-6, 1e21, 123456.789, 2 ** 31, -(2 ** 31) - 1],
      ints: [0, -1, 127, 128, -33, 255, 65_535, 65_536, 2 ** 32, 2 ** 53 - 1, -(2 ** 53) + 1],
      nested: { deep: [[[]], {}, [null, true, false, '']] },
    },
    metadata: { user: 'ünïcødé', n: 3 },
  },
  // Digit keys come first in a JavaScript object, whatever order they were written in.
  {
    aggregateId: 'a',
    type: 'P',
    timestamp: 0,
    tags: { b: 1, '7': 'digits' },
    payload: { b: 1, '10': 1, '2': 2 },
  },
  { aggregateId: 'a', type: 'P', timestamp: 1, payload: null },
  { aggregateId: 'a', type: 'P', timestamp: 2, payload: '' },
  { aggregateId: 'a', type: 'P', timestamp: 3, payload: false },
  { aggregateId: 'a', type: 'P', timestamp: 4, payload: -0.5 },
  { aggregateId: 'a', type: 'P', timestamp: 5, payload: [1, 'x', { '0': 'zero', k: 'v' }] },
  { aggregateId: 'a', type: 'P', timestamp: 6, payload: { long: 'x'.repeat(70_000), key: 'y'.repeat(300) } },
  { aggregateId: 'a', type: 'P', timestamp: 7, payload: { ['k'.repeat(40)]: 1 } },
];

describe('whole events as columns (StorageEngine.exportEvents) write what the object path writes', () => {
  it('tricky values: key order of digit keys, escapes, unicode, number forms, nulls, scalars', async () => {
    const store = await openEventStore();
    try {
      await store.append(TRICKY);
      const { fast, objects, rows } = await bothWays(store, store.query());
      expect(rows).toBe(TRICKY.length);
      expect(fast).toEqual(objects);
    } finally {
      await store.close();
    }
  });

  it('in descending and in timestamp order, filtered, limited, across batches', async () => {
    const store = await openEventStore();
    try {
      await store.append(TRICKY);
      await store.append(
        TRICKY.map((event, i) => ({ ...event, aggregateId: `b-${i % 3}`, timestamp: 100 - i })),
      );
      for (const query of [
        store.query().orderBy('sequence', 'desc'),
        store.query().orderBy('timestamp', 'asc'),
        store.query().where('type', 'eq', 'P').orderBy('sequence', 'desc').limit(9),
      ]) {
        const { fast, objects } = await bothWays(store, query, 3);
        expect(fast).toEqual(objects);
        expect(fast.length).toBe((await query.execute()).length);
      }
    } finally {
      await store.close();
    }
  });

  it('an empty result still writes the schema', async () => {
    const store = await openEventStore();
    try {
      const { fast, objects, rows } = await bothWays(store, store.query());
      expect(rows).toBe(0);
      expect(fast).toEqual(objects);
    } finally {
      await store.close();
    }
  });

  it('plugins see the export as one stream read of its rows', async () => {
    const reads: ReadObservation[] = [];
    const store = await openEventStore({
      plugins: [{ name: 'reads', afterRead: (read) => reads.push(read) }],
    });
    try {
      await store.append(TRICKY);
      await store.export(store.query(), {
        format: 'parquet',
        to: join(root, 'plugins.parquet'),
        batchRows: 3,
      });
      expect(reads.map((read) => [read.call.method, read.rows])).toEqual([['stream', TRICKY.length]]);
    } finally {
      await store.close();
    }
  });
});

/** Characters JSON escapes, multi-byte ones, and any grapheme. */
const unit = fc.oneof(
  fc.constantFrom('\u0000', '\u001f', '"', '\\', '\n', '😀', 'ü', '\u2028'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
);
const text = fc.string({ unit, maxLength: 6 });

const newEvent: fc.Arbitrary<NewEvent> = fc.record(
  {
    aggregateId: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
    type: fc.string({ unit, minLength: 1, maxLength: 8 }),
    timestamp: fc.integer({ min: -1e12, max: Date.UTC(2025, 0, 1) }),
    tags: fc.dictionary(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 5 }),
      fc.oneof(text, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean()),
      { maxKeys: 3 },
    ),
    payload: fc.oneof(
      fc.jsonValue({ maxDepth: 3, stringUnit: unit }),
      fc.dictionary(
        fc.oneof(text, fc.nat({ max: 20 }).map(String)),
        fc.oneof(
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.integer(),
          fc.maxSafeInteger(),
          fc.integer({ min: -1e6, max: 1e6 }).map((n) => n / 100),
        ),
      ),
    ),
    metadata: fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
  },
  { requiredKeys: ['aggregateId', 'type', 'timestamp'] },
);

describe('property: the event columns equal the flattened events, value for value', () => {
  it('random events, any order, any batch size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(newEvent, { maxLength: 20 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 8 }),
        async (batch, descending, batchRows) => {
          const store = await openEventStore();
          try {
            await store.append(batch);
            const query = descending ? store.query().orderBy('sequence', 'desc') : store.query();
            const { fast, objects, rows } = await bothWays(store, query, batchRows);
            expect(rows).toBe(batch.length);
            expect(fast).toEqual(objects);
          } finally {
            await store.close();
          }
        },
      ),
      { numRuns: 30 },
    );
  }, 120_000);
});
