/**
 * Junk at every entry point: whatever a caller passes to append, appendToStream, the reads, the
 * query builder, explain or the options, the store either does what was asked (and an appended
 * value then reads back exactly as append() returned it) or throws a TammaError with a code and
 * changes nothing. Issue 14, item 6.
 */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import {
  ManualClock,
  openEventStore,
  TammaError,
  type AdvancedQueryBuilder,
  type EventStore,
  type StoredEvent,
} from '../../src/index.js';

const T0 = Date.UTC(2026, 0, 1);

const sparse: unknown[] = [];
sparse.length = 2 ** 32 - 1;

/** Values no arbitrary reaches easily: edge numbers, lone surrogates, huge and odd objects. */
const weird = fc.constantFrom<unknown>(
  null,
  undefined,
  Number.NaN,
  -0,
  Number.POSITIVE_INFINITY,
  2 ** 53,
  1e300,
  -8.64e15 - 1,
  '',
  '\uD800',
  'a\uDC00b',
  '__proto__',
  'x'.repeat(70_000),
  Symbol('s'),
  () => 1,
  new Date(Number.NaN),
  new Date(T0),
  sparse,
  Object.create(null),
  JSON.parse('{"__proto__": {"x": 1}}'),
  { toJSON: () => 'other' },
  new Map([[1, 2]]),
  new Set([1]),
  Buffer.from('b'),
  new Uint8Array(3),
  new AbortController().signal,
  [],
  {},
);

const junk: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.anything({
      maxDepth: 3,
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withTypedArray: true,
      withUnicodeString: true,
    }),
  },
  { weight: 2, arbitrary: weird },
);

const name = fc.oneof(fc.constantFrom('a', 'b', 'T'), junk);
const eventArb = fc.oneof(
  fc.record(
    {
      aggregateId: name,
      type: name,
      payload: junk,
      metadata: junk,
      tags: fc.oneof(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.double(), fc.boolean())), junk),
      timestamp: fc.oneof(fc.integer({ min: T0 - 1e9, max: T0 }), junk),
      id: fc.oneof(fc.uuid(), junk),
    },
    { requiredKeys: ['aggregateId', 'type'] },
  ),
  junk,
);

const BUILDER_METHODS = ['where', 'select', 'orderBy', 'limit', 'offset', 'after', 'hint'] as const;
/** Store methods that change no event when they succeed (a store without retention, in memory). */
const MAINTENANCE = [
  'cleanup',
  'deleteAggregate',
  'restoreArchive',
  'cancelQuery',
  'flush',
  'checkpoint',
] as const;
const INDEX_METHODS = [
  'createIndex',
  'dropIndex',
  'rebuildIndex',
  'analyzeIndex',
  'analyzeField',
  'setAutoIndex',
] as const;
/** Not a string: a string could name a stream to delete or a directory in the working directory. */
const notString = junk.filter((value) => typeof value !== 'string');

type Call =
  | { kind: 'append'; events: unknown }
  | { kind: 'appendToStream'; args: unknown[] }
  | {
      kind: 'read';
      method: 'getEvents' | 'getEventsByType' | 'getEventsInRange' | 'queryEvents' | 'read' | 'explain';
      args: unknown[];
    }
  | {
      kind: 'builder';
      steps: [string, unknown[]][];
      run: 'execute' | 'executePage' | 'executeStream' | 'explain';
      options: unknown;
    }
  | { kind: 'open'; options: unknown }
  | { kind: 'maintenance'; method: (typeof MAINTENANCE)[number]; args: unknown[] }
  | { kind: 'index'; method: (typeof INDEX_METHODS)[number]; args: unknown[] };

const call: fc.Arbitrary<Call> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      events: fc.oneof(eventArb, fc.array(eventArb, { maxLength: 3 })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('appendToStream' as const),
      args: fc.tuple(name, fc.oneof(eventArb, fc.array(eventArb, { maxLength: 2 })), junk),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('read' as const),
      method: fc.constantFrom(
        'getEvents',
        'getEventsByType',
        'getEventsInRange',
        'queryEvents',
        'read',
        'explain',
      ),
      args: fc.array(junk, { maxLength: 3 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('builder' as const),
      steps: fc.array(fc.tuple(fc.constantFrom(...BUILDER_METHODS), fc.array(junk, { maxLength: 4 })), {
        maxLength: 3,
      }),
      run: fc.constantFrom('execute', 'executePage', 'executeStream', 'explain'),
      options: junk,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('open' as const), options: junk }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('maintenance' as const),
      method: fc.constantFrom(...MAINTENANCE),
      args: fc.array(notString, { maxLength: 2 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('index' as const),
      method: fc.constantFrom(...INDEX_METHODS),
      args: fc.array(
        fc.oneof(
          junk,
          fc.record(
            {
              name: fc.oneof(fc.constant('ix'), junk),
              fields: fc.oneof(fc.constant(['tags.k']), junk),
              unique: junk,
            },
            { requiredKeys: [] },
          ),
        ),
        { maxLength: 2 },
      ),
    }),
  },
);

/** Everything a caller can see of the store's contents. */
async function contents(store: EventStore): Promise<{ events: StoredEvent[]; last: number }> {
  return { events: await store.read(), last: store.stats().lastSequence };
}

async function perform(store: EventStore, c: Call): Promise<unknown> {
  switch (c.kind) {
    case 'append':
      return store.append(c.events as never);
    case 'appendToStream':
      return store.appendToStream(...(c.args as Parameters<EventStore['appendToStream']>));
    case 'read':
      return (store[c.method] as (...args: unknown[]) => Promise<unknown>)(...c.args);
    case 'open': {
      // Never a directory: junk would name one in the working directory.
      const options =
        c.options !== null && typeof c.options === 'object' && !Array.isArray(c.options)
          ? { ...c.options, dir: undefined }
          : c.options;
      const other = await openEventStore(options as never);
      await other.close();
      return undefined;
    }
    case 'maintenance':
      return (store[c.method] as (...args: unknown[]) => unknown)(...c.args);
    case 'index': {
      const indexes = store.indexes as unknown as Record<string, (...args: unknown[]) => unknown>;
      return indexes[c.method]!.call(store.indexes, ...c.args);
    }
    case 'builder': {
      let builder: AdvancedQueryBuilder = store.query();
      for (const [method, args] of c.steps) {
        builder = (
          builder[method as (typeof BUILDER_METHODS)[number]] as (...a: unknown[]) => AdvancedQueryBuilder
        )(...args);
      }
      if (c.run === 'executeStream') {
        const rows: unknown[] = [];
        for await (const row of builder.executeStream(c.options as never)) rows.push(row);
        return rows;
      }
      return builder[c.run](c.options as never);
    }
  }
}

test('junk at any entry point: done exactly, or a coded TammaError and nothing changed', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 4 }), async (calls) => {
      const clock = new ManualClock(T0);
      const store = await openEventStore({ clock });
      try {
        await store.append([
          { aggregateId: 'a', type: 'T', payload: { n: 1 }, tags: { k: 'v' } },
          { aggregateId: 'b', type: 'U', metadata: { m: true } },
        ]);
        for (const c of calls) {
          const before = await contents(store);
          let result: unknown;
          try {
            result = await perform(store, c);
          } catch (error) {
            if (!(error instanceof TammaError))
              throw new Error(`not a TammaError: ${String(error)}`, { cause: error });
            expect(typeof error.code).toBe('string');
            expect(error.code.length).toBeGreaterThan(0);
            expect(await contents(store)).toEqual(before);
            continue;
          }
          if (c.kind === 'append' || c.kind === 'appendToStream') {
            // Done: what append() returned is exactly what reads return.
            const stored = result as StoredEvent[];
            const after = await contents(store);
            expect(after.events.slice(before.events.length)).toEqual(stored);
          } else {
            expect(await contents(store)).toEqual(before);
          }
        }
      } finally {
        await store.close();
      }
    }),
    { numRuns: 200 },
  );
}, 60_000);
