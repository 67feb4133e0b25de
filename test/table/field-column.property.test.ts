/**
 * Field columns against the events themselves: for random events (fields missing, numbers, strings,
 * booleans, null, nested objects, arrays, unicode and `__proto__` keys, out-of-order timestamps)
 * and random steps (appends, cleanup cuts by age, deleteAggregate with the cleanup that removes the
 * stream, columns used between the steps or only at the end), every row's `value(row)` equals the
 * field read from that row's event as `store.read()` returns it, `number(row)` is that value when it
 * is a number and NaN otherwise, and `code(row)` names it in the dictionary; so does a copy of the
 * columns through a checkpoint round trip (metadata through JSON). The oracle is readPath/ownTag on
 * the read event: no column code.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openEventStore, type EventStore, type StoredEvent } from '../../src/index.js';
import type { Tags } from '../../src/events/types.js';
import { ManualClock } from '../../src/events/clock.js';
import { ownTag, readPath, resolveField } from '../../src/query/fields.js';
import { NOT_CODED, type FieldColumnSnapshot } from '../../src/storage/embedded/table/field-column.js';
import { FieldColumns } from '../../src/storage/embedded/table/field-columns.js';
import { ArrayCursor, type RawArray } from '../../src/storage/embedded/table/snapshot.js';
import { tableOf } from '../support/internals.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 1);

const FIELDS = [
  'payload.a',
  'payload.n.b',
  'payload.list.1',
  'payload.é',
  'payload.__proto__',
  'payload.n',
  'tags.region',
  'tags.missing',
];

const leaf = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
  fc.constantFrom(0, -1, 255, 256, 65_536, 2 ** 32, -(2 ** 31) - 1),
  fc.string(),
  fc.constantFrom('', 'ORD', 'é', '日本', 'x'.repeat(40), 'y'.repeat(300)),
  fc.boolean(),
  fc.constant(null),
);
const value = fc.oneof(
  { weight: 6, arbitrary: leaf },
  { weight: 1, arbitrary: fc.array(leaf, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('b', 'c', 'é'), leaf, { maxKeys: 3 }) },
);
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 3 });

const payloadArb = fc
  .record({
    a: optional(value),
    n: optional(fc.oneof(fc.record({ b: optional(value), z: optional(leaf) }), leaf)),
    list: optional(fc.array(value, { maxLength: 3 })),
    é: optional(value),
    proto: optional(leaf),
    pad: optional(fc.string({ maxLength: 20 })),
  })
  .map(({ proto, ...rest }) => {
    const payload: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(rest)) if (item !== undefined) payload[key] = item;
    if (proto !== undefined) {
      // An own `__proto__` key, as JSON.parse makes it: the record is flagged and decoded whole.
      Object.defineProperty(payload, '__proto__', {
        value: proto,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return payload;
  });

const eventArb = fc.record({
  aggregateId: fc.constantFrom('a', 'b', 'c', 'd'),
  type: fc.constantFrom('T.ONE', 'T.TWO'),
  ageMinutes: fc.integer({ min: 0, max: 170 }),
  region: optional(
    fc.oneof(fc.constantFrom('ORD', 'SFO', 'é'), fc.integer({ min: -5, max: 5 }), fc.boolean()),
  ),
  payload: payloadArb,
});

type EventInput = typeof eventArb extends fc.Arbitrary<infer T> ? T : never;

type Step =
  | { kind: 'append'; events: EventInput[] }
  | { kind: 'use'; field: number }
  | { kind: 'advance'; minutes: number }
  | { kind: 'cleanup' }
  | { kind: 'delete'; aggregateId: string };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      events: fc.array(eventArb, { minLength: 1, maxLength: 12 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('use' as const),
      field: fc.integer({ min: 0, max: FIELDS.length - 1 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      minutes: fc.integer({ min: 1, max: 120 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'cleanup' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('delete' as const),
      aggregateId: fc.constantFrom('a', 'b', 'c', 'd'),
    }),
  },
);

function expected(event: StoredEvent, field: string): unknown {
  const ref = resolveField(field, 'field');
  if (ref.kind === 'tag') return ownTag(event.tags, ref.key);
  if (ref.kind === 'payload') return readPath(event.payload, ref.path);
  throw new Error(`not a column field: ${field}`);
}

/** The table's field columns through a checkpoint round trip: metadata through JSON, arrays copied. */
function roundTrip(columns: FieldColumns, rows: number): FieldColumns {
  const arrays: RawArray[] = [];
  const meta = JSON.parse(JSON.stringify(columns.snapshot(arrays))) as FieldColumnSnapshot[];
  const restored = new FieldColumns();
  restored.restore(meta, new ArrayCursor(arrays.map((array) => array.slice())), rows);
  return restored;
}

async function checkColumns(store: EventStore): Promise<void> {
  const table = tableOf(store);
  const events = await store.read();
  for (const field of FIELDS) table.fieldColumn(field);
  const restored = roundTrip(table.fieldColumns, table.rows);
  for (const field of FIELDS) {
    const column = table.fieldColumn(field);
    const copy = restored.peek(field);
    expect(copy?.kind).toBe(column.kind);
    for (const event of events) {
      const row = event.sequence - 1;
      const want = expected(event, field);
      expect(column.value(row), `${field} of sequence ${event.sequence}`).toStrictEqual(want);
      expect(copy?.value(row), `${field} of sequence ${event.sequence}, restored`).toStrictEqual(want);
      const number = column.number(row);
      if (typeof want === 'number') expect(number).toBe(want);
      else expect(number).toBeNaN();
      const code = column.code(row);
      if (want === undefined || typeof want === 'number') expect(code).toBe(NOT_CODED);
      else expect(column.dictionary.valueOf(code)).toStrictEqual(want);
    }
    // The vectorized reads: over the rows read (gaps where rows were removed), and over a run of rows.
    const run = Int32Array.from({ length: table.rows - table.firstRow }, (_, i) => table.firstRow + i);
    for (const rows of [Int32Array.from(events, (event) => event.sequence - 1), run]) {
      const numbers = new Float64Array(rows.length);
      const codes = new Int32Array(rows.length);
      column.numbersOf(rows, numbers);
      column.codesOf(rows, codes);
      expect([...numbers]).toStrictEqual([...rows].map((row) => column.number(row)));
      expect([...codes]).toStrictEqual([...rows].map((row) => column.code(row)));
    }
    const keys = column.keyCodes();
    expect(keys === undefined).toBe(column.holdsNumbers);
    if (keys !== undefined) {
      const rows = Int32Array.from(events, (event) => event.sequence - 1);
      const codes = new Int32Array(rows.length);
      keys.codes(rows, codes);
      events.forEach((event, i) => {
        const code = codes[i] as number;
        expect(code).toBeGreaterThanOrEqual(0);
        expect(code).toBeLessThan(keys.cardinality);
        expect(keys.valueOf(code)).toStrictEqual(expected(event, field) ?? null);
      });
    }
    if (column.kind === 'number')
      for (const event of events) expect(['number', 'undefined']).toContain(typeof expected(event, field));
    if (column.kind === 'string')
      for (const event of events) expect(['string', 'undefined']).toContain(typeof expected(event, field));
  }
}

describe('field columns hold every row’s field value', () => {
  it('after random appends, cuts and deletes, used between steps or only at the end', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 25 }), async (steps) => {
        const clock = new ManualClock(T0);
        const store = await openEventStore({
          clock,
          retention: { maxAge: '3h', schedule: false },
          futureTolerance: false,
        });
        try {
          const table = tableOf(store);
          const deleted = new Set<string>();
          for (const step of steps) {
            if (step.kind === 'append') {
              const events = step.events.filter((event) => !deleted.has(event.aggregateId));
              if (events.length === 0) continue;
              await store.append(
                events.map((event) => ({
                  aggregateId: event.aggregateId,
                  type: event.type,
                  timestamp: clock.now() - event.ageMinutes * MINUTE,
                  tags: (event.region === undefined ? {} : { region: event.region }) as Tags,
                  payload: event.payload,
                })),
              );
            } else if (step.kind === 'use') {
              table.fieldColumn(FIELDS[step.field] as string);
            } else if (step.kind === 'advance') {
              clock.advance(step.minutes * MINUTE);
            } else if (step.kind === 'cleanup') {
              await store.cleanup();
            } else {
              await store.deleteAggregate(step.aggregateId);
              deleted.add(step.aggregateId);
            }
          }
          await checkColumns(store);
          // Appends after the columns exist are written from the events themselves.
          await store.append({
            aggregateId: 'z',
            type: 'T.ONE',
            tags: { region: 'ORD' },
            payload: { a: 1.5, n: { b: [1, { c: 'x' }] } },
          });
          await checkColumns(store);
        } finally {
          await store.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});
