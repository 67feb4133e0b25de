import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { f, openEventStore, type EventStore, type NewEvent, type StoredEvent } from '../../src/index.js';
import { MATCH_ALL } from '../../src/query/ast.js';
import { removeDir, tempDir } from '../support/helpers.js';

// The embedded engine's join over row numbers (join-over-rows.ts: key codes from columns and field
// columns, a counting-sort hash of the right side, only output pairs decoded) against a plain
// nested loop over the events both sides select, written from the join's definition
// (docs/analytics.md; join-rows.ts): per left event in sequence order, its matches in the right
// events' (timestamp, sequence) order; keys equal as JSON values (1 is not "1", objects by
// content); a missing or null key matches nothing; `within`: 0 <= right − left <= within; a left
// join keeps an unmatched left event with `as: null`.

const START = Date.UTC(2026, 2, 1);
const TYPES = ['A', 'B', 'C'] as const;
const FIELDS = [
  'type',
  'aggregateId',
  'tags.k',
  'tags.s',
  'payload.v',
  'payload.n',
  'timestamp',
  'version',
  'sequence',
  'id',
] as const;
const RUNS = { numRuns: 80 };

/** Values a keyed field takes: strings only, numbers only (field columns of one kind), or a mix. */
const POOLS = {
  strings: ['1', 'a', 'b', 'A'],
  numbers: [1, 2, 3, 1.5],
  mixed: [1, '1', 'a', true, 2],
} as const;
/** A payload field mixes in null, objects (equal by content whatever the key order) and arrays. */
const PAYLOAD_EXTRA = [null, { x: 1, y: 2 }, { y: 2, x: 1 }, [1, '1']] as const;

type Pool = keyof typeof POOLS;

const eventArb = (tagPool: Pool, payloadPool: Pool, streams: readonly string[]) =>
  fc.record({
    type: fc.constantFrom(...TYPES),
    aggregateId: fc.constantFrom(...streams),
    minute: fc.integer({ min: 0, max: 12 }),
    k: fc.option(fc.constantFrom(...POOLS[tagPool]), { nil: undefined }),
    s: fc.option(fc.constantFrom('x', 'y', 'A'), { nil: undefined }),
    v: fc.option(
      payloadPool === 'mixed'
        ? fc.constantFrom<unknown>(...POOLS.mixed, ...PAYLOAD_EXTRA)
        : fc.constantFrom<unknown>(...POOLS[payloadPool]),
      { nil: undefined },
    ),
    n: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
  });

/** Fields whose keys take the interesting paths (codes, translation, numbers, mixed) come most often. */
const fieldArb = fc.oneof(
  { arbitrary: fc.constantFrom<string>('tags.k', 'payload.v', 'aggregateId'), weight: 3 },
  { arbitrary: fc.constantFrom<string>(...FIELDS), weight: 2 },
);

const sideArb = fc.option(fc.constantFrom<string>(...TYPES, 'none'), { nil: undefined });

const caseArb = fc
  .record({
    tagPool: fc.constantFrom<Pool>('strings', 'numbers', 'mixed', 'mixed'),
    payloadPool: fc.constantFrom<Pool>('strings', 'numbers', 'mixed', 'mixed'),
    streams: fc.constantFrom(['s1'], ['s1', 's2', '1'], ['a', 'b', 'x', 'A']),
  })
  .chain(({ tagPool, payloadPool, streams }) =>
    fc.record({
      events: fc.array(eventArb(tagPool, payloadPool, streams), { maxLength: 30 }),
      left: sideArb,
      right: sideArb,
      on: fc.oneof(fieldArb, fc.tuple(fieldArb, fieldArb)),
      type: fc.constantFrom<'inner' | 'left' | undefined>('inner', 'left', undefined),
      within: fc.constantFrom<number | string | undefined>(undefined, 0, 60_000, '3m'),
    }),
  );

type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

const ms = (e: StoredEvent) => (e.timestamp instanceof Date ? e.timestamp.getTime() : Number(e.timestamp));
const withinMs = (within: number | string | undefined) =>
  within === undefined
    ? undefined
    : typeof within === 'number'
      ? within
      : Number(within.slice(0, -1)) * 60_000;

/** A field of an event, by the definition: core fields, own tags, a payload path. */
function read(event: StoredEvent, field: string): unknown {
  if (field === 'timestamp') return ms(event);
  if (field.startsWith('tags.')) {
    const tags = event.tags as Record<string, unknown>;
    return Object.prototype.hasOwnProperty.call(tags, field.slice(5)) ? tags[field.slice(5)] : undefined;
  }
  if (field.startsWith('payload.')) {
    const payload = event.payload as Record<string, unknown> | null;
    return payload !== null && typeof payload === 'object' ? payload[field.slice(8)] : undefined;
  }
  return (event as unknown as Record<string, unknown>)[field];
}

/** JSON with object keys sorted: equal texts are equal JSON values. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(record[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function oracle(left: StoredEvent[], right: StoredEvent[], c: Case): Record<string, unknown>[] {
  const [lf, rf] = typeof c.on === 'string' ? [c.on, c.on] : c.on;
  const within = withinMs(c.within);
  const ordered = [...right].sort((a, b) => ms(a) - ms(b) || a.sequence - b.sequence);
  const out: Record<string, unknown>[] = [];
  for (const l of left) {
    const key = read(l, lf);
    const matches = ordered.filter((r) => {
      const other = read(r, rf);
      if (key === undefined || key === null || other === undefined || other === null) return false;
      if (canonical(key) !== canonical(other)) return false;
      return within === undefined || (ms(r) - ms(l) >= 0 && ms(r) - ms(l) <= within);
    });
    for (const r of matches) out.push({ ...l, done: r });
    if (matches.length === 0 && c.type === 'left') out.push({ ...l, done: null });
  }
  return out;
}

function toNew(e: Case['events'][number]): NewEvent {
  const tags: Record<string, string | number | boolean> = {};
  if (e.k !== undefined) tags.k = e.k;
  if (e.s !== undefined) tags.s = e.s;
  const payload: Record<string, unknown> = {};
  if (e.v !== undefined) payload.v = e.v;
  if (e.n !== undefined) payload.n = e.n;
  return {
    type: e.type,
    aggregateId: e.aggregateId,
    timestamp: START + e.minute * 30_000,
    tags,
    payload,
  };
}

async function check(open: () => Promise<EventStore>, c: Case): Promise<void> {
  const store = await open();
  try {
    for (const e of c.events) await store.append(toNew(e));
    const side = (type: string | undefined) =>
      type === undefined ? store.query() : store.query().where('type', 'eq', type);
    const [left, right] = await Promise.all([side(c.left).execute(), side(c.right).execute()]);
    const joined = await side(c.left)
      .join(side(c.right), {
        on: c.on as string,
        as: 'done',
        ...(c.type === undefined ? {} : { type: c.type }),
        ...(c.within === undefined ? {} : { within: c.within as string }),
      })
      .execute();
    const expected = oracle(left, right, c);
    expect(joined).toEqual(expected);
    // The pipeline's leading match and join run as one engine query: the same Join operator.
    const filter = (type: string | undefined) => (type === undefined ? MATCH_ALL : f.eq('type', type));
    const piped = await store.analytics.pipeline([
      { match: filter(c.left) },
      {
        join: {
          right: filter(c.right),
          on: c.on as string,
          as: 'done',
          ...(c.type === undefined ? {} : { type: c.type }),
          ...(c.within === undefined ? {} : { within: c.within as string }),
        },
      },
    ]);
    expect(piped).toEqual(expected);
  } finally {
    await store.close();
  }
}

describe('join over row numbers', () => {
  let dir = '';
  let runs = 0;
  beforeAll(async () => {
    dir = await tempDir('tamma-join-');
  });
  afterAll(async () => {
    await removeDir(dir);
  });

  it('equals a nested-loop join over the events, in memory', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, (c) => check(() => openEventStore(), c)),
      RUNS,
    );
  });

  it('equals a nested-loop join over the events, on disk (field columns declared at open)', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, (c) =>
        check(() => openEventStore({ dir: `${dir}/s${runs++}`, fieldColumns: ['tags.k', 'payload.v'] }), c),
      ),
      RUNS,
    );
  });

  it('keeps 1 and "1" apart in a field column of mixed kinds, and meets "1" from a dictionary', async () => {
    const store = await openEventStore();
    try {
      await store.append([
        { type: 'L', aggregateId: '1', tags: { k: 1 } },
        { type: 'L', aggregateId: 'a', tags: { k: '1' } },
        { type: 'R', aggregateId: '1', tags: { k: '1' } },
        { type: 'R', aggregateId: 'b', tags: { k: 1 } },
      ]);
      const left = store.query().where('type', 'eq', 'L');
      const right = store.query().where('type', 'eq', 'R');
      const pairs = async (on: string | [string, string]) =>
        (await left.join(right, { on: on as string, as: 'done' }).execute()).map((row) => [
          row.aggregateId,
          (row.done as StoredEvent).aggregateId,
        ]);
      expect(await pairs('tags.k')).toEqual([
        ['1', 'b'],
        ['a', '1'],
      ]);
      expect(await pairs(['aggregateId', 'tags.k'])).toEqual([['1', '1']]);
      expect(await pairs(['tags.k', 'aggregateId'])).toEqual([['a', '1']]);
    } finally {
      await store.close();
    }
  });

  it('EXPLAIN ANALYZE says how it joined and counts the pairs', async () => {
    const store = await openEventStore();
    try {
      for (let i = 0; i < 6; i++) {
        await store.append({ type: 'STARTED', aggregateId: `w${i}`, tags: { issue: `i${i}` } });
        if (i % 2 === 0)
          await store.append({ type: 'COMPLETED', aggregateId: `w${i}`, tags: { issue: `i${i}` } });
      }
      const started = store.query().where('type', 'eq', 'STARTED');
      const completed = store.query().where('type', 'eq', 'COMPLETED');
      const plain = await started.join(completed, { on: 'aggregateId', as: 'done' }).explain();
      expect(plain.text).toContain('hash join over row ids: key codes from column');
      const analyzed = await started
        .join(completed, { on: ['tags.issue', 'tags.issue'], as: 'done', type: 'left' })
        .explain({ analyze: true });
      expect(analyzed.plan.operator).toBe('Join');
      expect(analyzed.plan.detail).toContain('hash join over row ids: key codes from field column');
      expect(analyzed.plan.actualRows).toBe(6);
      const mixed = await started
        .join(completed, { on: ['tags.issue', 'aggregateId'], as: 'done' })
        .explain({ analyze: true });
      expect(mixed.plan.detail).toContain('key codes from field column = column');
      expect(mixed.plan.actualRows).toBe(0);
      const byId = await started.join(completed, { on: 'id', as: 'done' }).explain({ analyze: true });
      expect(byId.plan.detail).toContain('key codes from values');
    } finally {
      await store.close();
    }
  });
});

describe('a join too large to hold', () => {
  it('is refused with RESULT_TOO_LARGE before any event is read, and the store answers after it', async () => {
    const store = await openEventStore();
    try {
      // 5,800 × 5,800 pairs on one key: past MAX_JOIN_PAIRS (2^25).
      const side = (type: string) =>
        Array.from({ length: 5_800 }, (_, i) => ({ aggregateId: `${type}-${i}`, type, tags: { k: 'same' } }));
      await store.append([...side('L'), ...side('R')]);
      const join = store
        .query()
        .where(f.eq('type', 'L'))
        .join(store.query().where(f.eq('type', 'R')), { on: 'tags.k', as: 'r' });
      await expect(join.execute()).rejects.toMatchObject({ code: 'RESULT_TOO_LARGE' });
      const narrow = store
        .query()
        .where(f.eq('type', 'L'))
        .limit(1)
        .join(store.query().where(f.eq('aggregateId', 'R-0')), { on: 'tags.k', as: 'r' });
      expect(await narrow.execute()).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});
