import { describe, expect, test } from 'vitest';
import {
  ManualClock,
  MAX_VALUE_DEPTH,
  openEventStore,
  TammaError,
  type EventStore,
  type OpenOptions,
} from '../src/index.js';
import { expectError, rejection, removeDir, tempDir } from './support/helpers.js';

/**
 * Issue 14, item 6: a value either comes back exactly as append() returned it (also after a reopen,
 * from the log) or is refused with a coded error before anything is written.
 */

async function withStore(
  options: OpenOptions,
  body: (store: EventStore, reopen: () => Promise<EventStore>) => Promise<void>,
): Promise<void> {
  const dir = await tempDir();
  const stores: EventStore[] = [];
  try {
    const store = await openEventStore({ ...options, dir });
    stores.push(store);
    await body(store, async () => {
      await stores[stores.length - 1]!.close();
      const next = await openEventStore({ ...options, dir });
      stores.push(next);
      return next;
    });
  } finally {
    for (const store of stores) await store.close();
    await removeDir(dir);
  }
}

/** Appends one event and returns what append() said and what a read after a reopen says. */
async function roundTrip(value: unknown, field: 'payload' | 'metadata' = 'payload') {
  let acked: unknown;
  let read: unknown;
  await withStore({}, async (store, reopen) => {
    const [stored] = await store.append({ aggregateId: 'v', type: 'T', [field]: value } as never);
    acked = stored![field];
    const [back] = await (await reopen()).getEvents('v');
    read = back![field];
  });
  return { acked, read };
}

/** Asserts the append is refused with `code`, naming every fragment, and that nothing was written. */
async function expectRefused(
  store: EventStore,
  event: Record<string, unknown>,
  code: string,
  ...fragments: string[]
): Promise<void> {
  const before = store.stats().lastSequence;
  const error = await rejection(() => store.append(event as never));
  expectError(error, TammaError, code, ...fragments);
  expect(store.stats().lastSequence).toBe(before);
}

describe('values round-trip exactly', () => {
  test('a __proto__ key comes back as an own data property, in payload and metadata, at any depth', async () => {
    const payload = JSON.parse(
      '{"__proto__": {"polluted": true}, "list": [{"__proto__": 1}], "a": 1}',
    ) as object;
    const metadata = JSON.parse('{"__proto__": "x", "user": "u"}') as Record<string, unknown>;
    await withStore({}, async (store, reopen) => {
      await store.append({ aggregateId: 'p', type: 'T', payload, metadata });
      for (const reader of [() => Promise.resolve(store), reopen]) {
        const current = await reader();
        const [event] = await current.getEvents('p');
        expect(event!.payload).toStrictEqual(payload);
        expect(event!.metadata).toStrictEqual(metadata);
        const back = event!.payload as Record<string, unknown>;
        expect(Object.keys(back)).toEqual(['__proto__', 'list', 'a']);
        expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
        expect(Object.getOwnPropertyDescriptor(back, '__proto__')?.value).toEqual({ polluted: true });
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(Object.keys(event!.metadata)).toEqual(['__proto__', 'user']);
        // The same query path decodes records too.
        const [queried] = (await current.query().where('type', 'eq', 'T').execute()) as (typeof event)[];
        expect(queried!.payload).toStrictEqual(payload);
      }
    });
  });

  test('an object of 70,000 keys (past the 16-bit map header) round-trips', async () => {
    const payload: Record<string, number> = {};
    for (let i = 0; i < 70_000; i++) payload[`k${i}`] = i;
    const { acked, read } = await roundTrip(payload);
    expect(acked).toStrictEqual(payload);
    expect(read).toStrictEqual(payload);
  });

  test(`nesting up to ${MAX_VALUE_DEPTH} levels round-trips; one more is refused, naming the path`, async () => {
    const nest = (levels: number): unknown => {
      let value: unknown = 'leaf';
      for (let i = 0; i < levels; i++) value = i % 2 === 0 ? [value] : { n: value };
      return value;
    };
    const deepest = nest(MAX_VALUE_DEPTH);
    const { read } = await roundTrip(deepest);
    expect(read).toStrictEqual(deepest);
    await withStore({}, async (store) => {
      await expectRefused(
        store,
        { aggregateId: 'd', type: 'T', payload: nest(MAX_VALUE_DEPTH + 1) },
        'VALIDATION_FAILED',
        `deeper than ${MAX_VALUE_DEPTH}`,
      );
      // Before the fix: a raw RangeError (call stack) from the validator or the encoder.
      await expectRefused(
        store,
        { aggregateId: 'd', type: 'T', metadata: { deep: nest(10_000) } },
        'VALIDATION_FAILED',
        'events[0].metadata.deep',
      );
    });
  });

  test('JSON semantics: a Date becomes its ISO string, undefined is dropped (null in an array), -0 becomes 0 — in what append() returns too', async () => {
    const input = {
      at: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
      gone: undefined,
      list: [undefined, 1, -0],
      holes: [1, , 3], // eslint-disable-line no-sparse-arrays
      zero: -0,
      nested: { when: new Date(0) },
      empty: Object.create(null) as object,
    };
    const expected = {
      at: '2026-01-02T03:04:05.006Z',
      list: [null, 1, 0],
      holes: [1, null, 3],
      zero: 0,
      nested: { when: '1970-01-01T00:00:00.000Z' },
      empty: {},
    };
    const { acked, read } = await roundTrip(input);
    expect(acked).toStrictEqual(expected);
    expect(read).toStrictEqual(expected);
    expect(Object.is((acked as { zero: number }).zero, 0)).toBe(true);
    expect(Object.is((read as { zero: number }).zero, 0)).toBe(true);
    // A lone -0, not inside an object, too.
    expect(Object.is((await roundTrip(-0)).acked, 0)).toBe(true);
  });
});

describe('values that would not round-trip are refused before anything is written', () => {
  const refused: [string, unknown, string][] = [
    ['a lone high surrogate in a string', { s: 'a\uD800b' }, 'events[0].payload.s'],
    ['a lone low surrogate in a key', { ['k\uDC00']: 1 }, 'lone surrogate'],
    ['a lone surrogate deep in an array', [[{ x: ['\uDBFF'] }]], 'events[0].payload[0][0].x[0]'],
    ['NaN', { n: Number.NaN }, 'NaN'],
    ['Infinity', [Number.POSITIVE_INFINITY], 'Infinity'],
    ['a BigInt', { big: 1n }, 'BigInt'],
    ['a Map', new Map([[1, 2]]), 'Map'],
    ['a Set', { s: new Set([1]) }, 'Set'],
    [
      'a class instance',
      new (class Money {
        amount = 1;
      })(),
      'Money',
    ],
    ['a Buffer (its toJSON would store { type, data })', Buffer.from('hi'), 'Buffer'],
    ['an object with its own toJSON', { value: 1, toJSON: () => 'other' }, 'toJSON'],
    ['an Invalid Date (JSON would store null)', { at: new Date(Number.NaN) }, 'Invalid Date'],
    ['a function', { f: () => 1 }, 'function'],
    ['a symbol', { s: Symbol('s') }, 'Symbol'],
  ];
  for (const [name, payload, fragment] of refused) {
    test(name, async () => {
      await withStore({}, async (store) => {
        await expectRefused(store, { aggregateId: 'r', type: 'T', payload }, 'VALIDATION_FAILED', fragment);
        await expectRefused(
          store,
          { aggregateId: 'r', type: 'T', metadata: { m: payload } },
          'VALIDATION_FAILED',
          'events[0].metadata.m',
        );
      });
    });
  }

  test('a cycle is refused, naming it', async () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    await withStore({}, async (store) => {
      await expectRefused(
        store,
        { aggregateId: 'c', type: 'T', payload: cyclic },
        'VALIDATION_FAILED',
        'cycle',
      );
    });
  });

  test('metadata must be a plain object (a Date would have been stored as a string)', async () => {
    await withStore({}, async (store) => {
      await expectRefused(
        store,
        { aggregateId: 'm', type: 'T', metadata: new Date(0) },
        'VALIDATION_FAILED',
        'events[0].metadata',
      );
    });
  });

  test('a tag key over 65,535 bytes is a coded error, not a RangeError from the encoder', async () => {
    await withStore({}, async (store) => {
      await expectRefused(
        store,
        { aggregateId: 't', type: 'T', tags: { ['k'.repeat(70_000)]: 1 } },
        'VALIDATION_FAILED',
        '65535 bytes',
      );
    });
  });

  test('an oversize value is refused before it is encoded: a sparse array of length 2^32 - 1', async () => {
    await withStore({}, async (store) => {
      const sparse: unknown[] = [];
      sparse.length = 2 ** 32 - 1;
      // Before the fix this blocked the process for minutes, walking and encoding every hole.
      await expectRefused(
        store,
        { aggregateId: 's', type: 'T', payload: sparse },
        'EVENT_TOO_LARGE',
        'maxEventSize',
      );
      const wide: Record<string, number> = {};
      for (let i = 0; i < 300_000; i++) wide[`key-${i}`] = i;
      await expectRefused(
        store,
        { aggregateId: 's', type: 'T', payload: { wide } },
        'EVENT_TOO_LARGE',
        'maxEventSize',
      );
      await expectRefused(
        store,
        { aggregateId: 's', type: 'T', metadata: { text: 'x'.repeat(2 * 1024 * 1024) } },
        'EVENT_TOO_LARGE',
        'maxEventSize',
      );
    });
  });
});

describe('a clock that returns what is not a time', () => {
  for (const reading of [
    '2026-01-01T00:00:00Z',
    1e300,
    Number.NaN,
    Number.NEGATIVE_INFINITY,
    -8.64e15 - 1,
    undefined,
    {},
  ]) {
    test(`now() returning ${String(reading)} is refused with INVALID_CLOCK, nothing written`, async () => {
      const clock = new ManualClock(0);
      let bad = false;
      const store = await openEventStore({ clock: { now: () => (bad ? (reading as number) : clock.now()) } });
      await store.append({ aggregateId: 'k', type: 'T' });
      bad = true;
      await expectRefused(store, { aggregateId: 'k', type: 'T' }, 'INVALID_CLOCK', 'clock', 'now()');
      // With an explicit timestamp the clock is still read (future-tolerance check): still refused.
      await expectRefused(store, { aggregateId: 'k', type: 'T', timestamp: 5 }, 'INVALID_CLOCK');
      await store.close();
    });
  }
});

describe('query arguments', () => {
  test('explain, execute, executePage and executeStream refuse junk with a coded error', async () => {
    await withStore({}, async (store) => {
      await store.append({ aggregateId: 'q', type: 'T' });
      const cases: [string, () => Promise<unknown>, string][] = [
        ['explain(null)', () => store.explain(null as never), 'query'],
        ['explain(42)', () => store.explain(42 as never), 'query'],
        ['explain({})', () => store.explain({} as never), 'orderBy'],
        ['explain(q, null)', () => store.explain(store.query(), null as never), 'options'],
        [
          "execute({ signal: 'abort' })",
          () => store.query().execute({ signal: 'abort' } as never),
          'options.signal',
        ],
        ['execute(null)', () => store.query().execute(null as never), 'options'],
        [
          'executePage({ queryId: 5 })',
          () => store.query().executePage({ queryId: 5 } as never),
          'options.queryId',
        ],
        ['builder explain(null)', () => store.query().explain(null as never), 'options'],
      ];
      for (const [name, run, fragment] of cases) {
        const error = await rejection(run);
        expect(error, name).toBeInstanceOf(TammaError);
        expect((error as TammaError).code, name).toBe('VALIDATION_FAILED');
        expect((error as Error).message, name).toContain(fragment);
      }
      const stream = store.query().executeStream({ signal: 'abort' } as never);
      expectError(
        await rejection(async () => stream[Symbol.asyncIterator]().next()),
        TammaError,
        'VALIDATION_FAILED',
        'options.signal',
      );
    });
  });
});

describe('paths the file system would refuse', () => {
  test('a dir with a name over 255 bytes, or too long a path, is INVALID_OPTION (not a raw ENAMETOOLONG)', async () => {
    const root = await tempDir();
    try {
      expectError(
        await rejection(() => openEventStore({ dir: `${root}/${'x'.repeat(300)}` })),
        TammaError,
        'INVALID_OPTION',
        'dir',
        '255 bytes',
      );
      const long = `${root}/${Array.from({ length: 40 }, () => 'y'.repeat(100)).join('/')}`;
      expectError(await rejection(() => openEventStore({ dir: long })), TammaError, 'INVALID_OPTION', 'dir');
      expectError(
        await rejection(() =>
          openEventStore({ dir: root, retention: { maxAge: '1d', archive: { dir: 'a'.repeat(300) } } }),
        ),
        TammaError,
        'INVALID_OPTION',
        'retention.archive.dir',
      );
      const store = await openEventStore({ dir: root });
      expectError(
        await rejection(() => store.restoreArchive('b'.repeat(300))),
        TammaError,
        'VALIDATION_FAILED',
        'archiveDir',
      );
      await store.close();
    } finally {
      await removeDir(root);
    }
  });
});

describe('sparse and deeply nested query inputs are refused before they are walked', () => {
  test('a sparse list of length 2^32 - 1 anywhere a list is read, and a filter nested 20,000 deep', async () => {
    const sparse: never[] = [];
    sparse.length = 2 ** 32 - 1;
    let deepNot: unknown = { kind: 'exists', field: 'type' };
    for (let i = 0; i < 20_000; i++) deepNot = { kind: 'not', filter: deepNot };
    await withStore({}, async (store) => {
      await store.append({ aggregateId: 'a', type: 'T' });
      const all = { kind: 'all' };
      // Before the fix each of these spread, mapped or walked every index (minutes, or out of
      // memory), or overflowed the stack with a raw RangeError.
      const cases: [string, () => Promise<unknown>, string][] = [
        ['select', async () => store.query().select(sparse), 'select'],
        ['where in', async () => store.query().where('type', 'in', sparse), 'where.value'],
        [
          'where node in',
          async () => store.query().where({ kind: 'in', field: 'type', values: sparse } as never),
          'where.values',
        ],
        [
          'where node or',
          async () => store.query().where({ kind: 'or', filters: sparse } as never),
          'where.or',
        ],
        ['hint', async () => store.query().hint({ useIndex: sparse }), 'hints.useIndex'],
        ['criteria', () => store.queryEvents({ aggregateId: sparse }), 'criteria.aggregateId'],
        ['criteria tags', () => store.queryEvents({ tags: { k: sparse } }), 'criteria.tags.k'],
        ['appendToStream', () => store.appendToStream('a', sparse), 'events'],
        [
          'explain orderBy',
          () => store.explain({ filter: all, orderBy: sparse, hints: {} } as never),
          'orderBy',
        ],
        [
          'explain select',
          () => store.explain({ filter: all, orderBy: [], select: sparse, hints: {} } as never),
          'select',
        ],
        [
          'deep where',
          async () =>
            store
              .query()
              .where(deepNot as never)
              .execute(),
          'deeper than',
        ],
        [
          'deep explain',
          () => store.explain({ filter: deepNot, orderBy: [], hints: {} } as never),
          'deeper than',
        ],
      ];
      for (const [name, run, fragment] of cases) {
        const error = await rejection(run);
        expect(error, name).toBeInstanceOf(TammaError);
        expect((error as TammaError).code, name).toBe('VALIDATION_FAILED');
        expect((error as Error).message, name).toContain(fragment);
      }
      expect(store.stats().lastSequence).toBe(1);
    });
  });
});
