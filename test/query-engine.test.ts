/**
 * Focused tests of the query engine: the immutable builder, Date operands, validation errors,
 * EXPLAIN (access paths, estimates, ANALYZE, hints), cancellation and timeouts, streaming memory,
 * and agreement of the older query APIs with the builder. The property test
 * test/property/query-model.property.test.ts covers the semantics at random.
 */
import vm from 'node:vm';
import v8 from 'node:v8';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  f,
  ManualClock,
  openEventStore,
  QueryCancelledError,
  QueryTimeoutError,
  ValidationError,
  type AdvancedQueryBuilder,
  type EventStore,
  type ExplainNode,
  type FilterNode,
  type NewEvent,
  type ResultRow,
  type StoredEvent,
  type WhereOperator,
} from '../src/index.js';
import { expectError, rejection, sequences } from './support/helpers.js';

const T0 = Date.UTC(2025, 0, 1);
const SECOND = 1000;

const seqs = (rows: readonly ResultRow[]): number[] => sequences(rows as StoredEvent[]);

async function collect(stream: AsyncIterable<ResultRow>): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  for await (const row of stream) rows.push(row);
  return rows;
}

/** What a synchronous call threw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

/** Every object reachable from `value` is frozen. */
function expectDeepFrozen(value: unknown, path = 'query'): void {
  if (value === null || typeof value !== 'object') return;
  expect(Object.isFrozen(value), `${path} is frozen`).toBe(true);
  for (const [key, child] of Object.entries(value)) expectDeepFrozen(child, `${path}.${key}`);
}

// ---- a mid-sized fixture: 2,000 events, 20 types, 50 aggregates, 3 regions --------------------------

const N = 2000;
const REGIONS = ['eu', 'us', 'ap'] as const;

/** Event i: type T(i % 20), aggregate agg-(i % 50), region by i % 3; one in ten arrives late. */
function fixtureEvent(i: number): NewEvent {
  const late = i % 10 === 7 && i >= 500;
  return {
    aggregateId: `agg-${i % 50}`,
    type: `T${i % 20}`,
    timestamp: T0 + (late ? i - 500 : i) * SECOND,
    tags: { region: REGIONS[i % 3]! },
    payload: { i, amount: i % 100 },
  };
}

let store: EventStore;
let all: StoredEvent[];

beforeAll(async () => {
  // The clock stands after the last event time: events may not be from the store's future.
  store = await openEventStore({ clock: new ManualClock(T0 + N * SECOND) });
  all = [];
  for (let i = 0; i < N; i += 250) {
    all.push(...(await store.append(Array.from({ length: 250 }, (_, j) => fixtureEvent(i + j)))));
  }
});

afterAll(async () => {
  await store.close();
});

const where = (predicate: (e: StoredEvent) => boolean): number[] =>
  all.filter(predicate).map((e) => e.sequence);
const ts = (e: StoredEvent) => e.timestamp.getTime();
const payloadOf = (e: StoredEvent) => e.payload as { i: number; amount: number };

// ---- the builder -----------------------------------------------------------------------------------

describe('the immutable builder', () => {
  it('leaves a base builder unchanged whatever its refinements do', async () => {
    const base = store.query().where('type', 'eq', 'T3');
    const before = structuredClone(base.toQuery());
    const baseRows = await base.execute();
    expect(seqs(baseRows)).toEqual(where((e) => e.type === 'T3'));

    const refined = base
      .where('version', 'gte', 10)
      .orderBy('timestamp', 'desc')
      .limit(3)
      .offset(1)
      .select(['id', 'payload.i'])
      .hint({ useIndex: ['timestamp'], batchSize: 2 });
    expect(await refined.execute()).toHaveLength(3);

    expect(base.toQuery()).toEqual(before);
    expect(await base.execute()).toEqual(baseRows);
  });

  it('keeps two refinements of one base independent', async () => {
    const base = store.query().where('type', 'eq', 'T3').orderBy('version', 'desc');
    const eu = base.where('tags.region', 'eq', 'eu');
    const us = base.where('tags.region', 'eq', 'us').limit(2);

    expect(eu.toQuery().filter).toEqual(f.and(f.eq('type', 'T3'), f.eq('tags.region', 'eu')));
    expect(us.toQuery().filter).toEqual(f.and(f.eq('type', 'T3'), f.eq('tags.region', 'us')));
    expect(eu.toQuery().limit).toBeUndefined();
    expect(us.toQuery().limit).toBe(2);

    const byVersionDesc = (list: StoredEvent[]) =>
      [...list].sort((a, b) => b.version - a.version || a.sequence - b.sequence).map((e) => e.sequence);
    const t3 = all.filter((e) => e.type === 'T3');
    expect(seqs(await eu.execute())).toEqual(byVersionDesc(t3.filter((e) => e.tags.region === 'eu')));
    expect(seqs(await us.execute())).toEqual(
      byVersionDesc(t3.filter((e) => e.tags.region === 'us')).slice(0, 2),
    );

    const a = base.orderBy('sequence');
    const b = base.orderBy('timestamp', 'desc');
    expect(a.toQuery().orderBy).toEqual([
      { field: 'version', direction: 'desc' },
      { field: 'sequence', direction: 'asc' },
    ]);
    expect(b.toQuery().orderBy).toEqual([
      { field: 'version', direction: 'desc' },
      { field: 'timestamp', direction: 'desc' },
    ]);
    expect(base.toQuery().orderBy).toEqual([{ field: 'version', direction: 'desc' }]);

    const h1 = base.hint({ timeout: 5000 });
    const h2 = h1.hint({ batchSize: 5 });
    expect(h1.toQuery().hints).toEqual({ timeout: 5000 });
    expect(h2.toQuery().hints).toEqual({ timeout: 5000, batchSize: 5 });
  });

  it('returns a frozen AST from toQuery(), all the way down', () => {
    const query = store
      .query()
      .where(f.or(f.eq('type', 'T1'), f.not(f.in('tags.region', ['eu', 'ap']))))
      .where('version', 'between', 1, 5)
      .where('payload.amount', 'in', [1, 2])
      .orderBy('timestamp', 'desc')
      .select(['id', 'payload.i'])
      .limit(5)
      .offset(2)
      .hint({ timeout: 1000, batchSize: 10 })
      .toQuery();
    expectDeepFrozen(query);
    expect(() => {
      (query as { limit?: number }).limit = 1;
    }).toThrow(TypeError);
    expect(() => (query.orderBy as unknown as unknown[]).push({ field: 'id', direction: 'asc' })).toThrow(
      TypeError,
    );
    expect(() => {
      (query.filter as { kind: string }).kind = 'or';
    }).toThrow(TypeError);
  });

  it('copies the values array of where(field, "in", values)', async () => {
    const values = ['T1'];
    const builder = store.query().where('type', 'in', values);
    values.push('T2');
    expect(builder.toQuery().filter).toEqual(f.in('type', ['T1']));
    expect(seqs(await builder.execute())).toEqual(where((e) => e.type === 'T1'));
  });

  it('does not alias arrays or nodes the caller still owns (builder immutability)', async () => {
    const useIndex = ['type'];
    const hinted = store.query().where('type', 'eq', 'T1').hint({ useIndex });
    useIndex.push('scan');
    const node = { kind: 'eq', field: 'type', value: 'T1' } as { kind: 'eq'; field: string; value: string };
    const filtered = store.query().where(node);
    node.value = 'T2';
    expect(hinted.toQuery().hints.useIndex).toEqual(['type']);
    expect(filtered.toQuery().filter).toEqual(f.eq('type', 'T1'));
    expect(seqs(await filtered.execute())).toEqual(where((e) => e.type === 'T1'));
    expectDeepFrozen(hinted.toQuery());
    expectDeepFrozen(filtered.toQuery());
  });
});

describe('where() with Date values for timestamp', () => {
  it('turns Dates into epoch milliseconds for every operator', async () => {
    const from = new Date(T0 + 600 * SECOND);
    const to = new Date(T0 + 650 * SECOND);
    const range = store.query().where('timestamp', 'gte', from).where('timestamp', 'lt', to);
    expect(range.toQuery().filter).toEqual(
      f.and(f.gte('timestamp', from.getTime()), f.lt('timestamp', to.getTime())),
    );
    const expected = where((e) => ts(e) >= from.getTime() && ts(e) < to.getTime());
    expect(expected.length).toBeGreaterThan(40);
    expect(seqs(await range.execute())).toEqual(expected);

    const between = store.query().where('timestamp', 'between', from, to);
    expect(seqs(await between.execute())).toEqual(
      where((e) => ts(e) >= from.getTime() && ts(e) <= to.getTime()),
    );

    const exact = store.query().where('timestamp', 'eq', from);
    expect(seqs(await exact.execute())).toEqual(where((e) => ts(e) === from.getTime()));
    expect(await exact.execute()).toHaveLength(1);

    const listed = store.query().where('timestamp', 'in', [from, to]);
    expect(listed.toQuery().filter).toEqual(f.in('timestamp', [from.getTime(), to.getTime()]));
    expect(seqs(await listed.execute())).toEqual(
      where((e) => ts(e) === from.getTime() || ts(e) === to.getTime()),
    );
  });
});

// ---- semantics, spelled out ----------------------------------------------------------------------

describe('filter and order semantics', () => {
  let small: EventStore;
  beforeAll(async () => {
    small = await openEventStore({ clock: new ManualClock(T0) });
    await small.append([
      { aggregateId: 'a', type: 'X', tags: { k: '5' }, payload: { x: null, arr: [{ y: 1 }, 'b'] } },
      { aggregateId: 'a', type: 'X', tags: { k: 5 }, payload: { x: 'b' } },
      { aggregateId: 'b', type: 'Y', tags: { k: true }, payload: null },
      { aggregateId: 'b', type: 'Y', tags: {}, payload: { x: 2, order: { total: 12.5 } } },
      { aggregateId: 'c', type: 'Z', tags: { k: 1 }, payload: { x: false } },
      { aggregateId: 'c', type: 'Z', tags: { k: '1' }, payload: { x: 'a' } },
    ]);
  });
  afterAll(async () => {
    await small.close();
  });
  const run = async (builder: AdvancedQueryBuilder) => seqs(await builder.execute());

  it('compares only values of the operand type; eq is strict', async () => {
    expect(await run(small.query().where('tags.k', 'gt', 4))).toEqual([2]);
    expect(await run(small.query().where('tags.k', 'gte', '5'))).toEqual([1]);
    expect(await run(small.query().where('tags.k', 'eq', 1))).toEqual([5]);
    expect(await run(small.query().where('tags.k', 'eq', '1'))).toEqual([6]);
    expect(await run(small.query().where('tags.k', 'eq', true))).toEqual([3]);
    expect(await run(small.query().where('tags.k', 'in', [true, '5', 1]))).toEqual([1, 3, 5]);
    expect(await run(small.query().where('payload.x', 'between', 'a', 'b'))).toEqual([2, 6]);
    expect(await run(small.query().where('payload.x', 'lt', 3))).toEqual([4]);
  });

  it('ne and in need the field; not(eq) also matches events without it', async () => {
    expect(await run(small.query().where('tags.k', 'ne', 5))).toEqual([1, 3, 5, 6]);
    expect(await run(small.query().where(f.not(f.eq('tags.k', 5))))).toEqual([1, 3, 4, 5, 6]);
    expect(await run(small.query().where('payload.x', 'ne', 'b'))).toEqual([1, 4, 5, 6]);
  });

  it('exists counts null as present; payload paths read objects by key and arrays by index', async () => {
    expect(await run(small.query().where('payload.x', 'exists'))).toEqual([1, 2, 4, 5, 6]);
    expect(await run(small.query().where('payload.x', 'eq', null))).toEqual([1]);
    expect(await run(small.query().where('payload.arr.0.y', 'eq', 1))).toEqual([1]);
    expect(await run(small.query().where('payload.arr.1', 'prefix', 'b'))).toEqual([1]);
    expect(await run(small.query().where('payload.order.total', 'gt', 12))).toEqual([4]);
    expect(await run(small.query().where('aggregateId', 'prefix', ''))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('sorts missing values last in both directions, boolean < number < string, then by sequence', async () => {
    expect(await run(small.query().orderBy('tags.k'))).toEqual([3, 5, 2, 6, 1, 4]);
    expect(await run(small.query().orderBy('tags.k', 'desc'))).toEqual([1, 6, 2, 5, 3, 4]);
    expect(await run(small.query().orderBy('payload.x', 'desc'))).toEqual([2, 6, 4, 5, 1, 3]);
    expect(await run(small.query().orderBy('aggregateId', 'desc'))).toEqual([5, 6, 3, 4, 1, 2]);
    expect(await run(small.query().orderBy('aggregateId', 'desc').offset(1).limit(3))).toEqual([6, 3, 4]);
    expect(await run(small.query().orderBy('sequence', 'desc').offset(4))).toEqual([2, 1]);
  });

  it('null and missing sort values tie, so the next sort term decides', async () => {
    const s = await openEventStore();
    try {
      await s.append([
        { aggregateId: 'a', type: 'B', payload: {} },
        { aggregateId: 'a', type: 'A', payload: { x: null } },
      ]);
      expect(await run(s.query().orderBy('payload.x').orderBy('sequence', 'desc'))).toEqual([2, 1]);
      expect(await run(s.query().orderBy('payload.x').orderBy('type'))).toEqual([2, 1]);
    } finally {
      await s.close();
    }
  });

  it('a tag key the event lacks does not exist, even when Object.prototype has it', async () => {
    expect(await run(small.query().where('tags.constructor', 'exists'))).toEqual([]);
    expect(await run(small.query().where('tags.toString', 'ne', 'x'))).toEqual([]);
    expect(await small.query().where('sequence', 'eq', 1).select(['tags.constructor']).execute()).toEqual([
      { 'tags.constructor': undefined },
    ]);
  });

  it('select keeps the field names as given and the values as read', async () => {
    const rows = await small
      .query()
      .where('sequence', 'in', [1, 4])
      .select(['payload.order.total', 'tags.k', 'aggregateId', 'timestamp', 'payload.arr.1'])
      .execute();
    expect(rows).toEqual([
      {
        'payload.order.total': undefined,
        'tags.k': '5',
        aggregateId: 'a',
        timestamp: new Date(T0),
        'payload.arr.1': 'b',
      },
      {
        'payload.order.total': 12.5,
        'tags.k': undefined,
        aggregateId: 'b',
        timestamp: new Date(T0),
        'payload.arr.1': undefined,
      },
    ]);
    for (const row of rows) {
      expect(Object.keys(row)).toEqual([
        'payload.order.total',
        'tags.k',
        'aggregateId',
        'timestamp',
        'payload.arr.1',
      ]);
    }
  });
});

// ---- validation ------------------------------------------------------------------------------------

describe('validation errors', () => {
  it('rejects unknown fields, naming them', async () => {
    expectError(
      thrown(() => store.query().where('colour', 'eq', 'red')),
      ValidationError,
      'UNKNOWN_FIELD',
      'where.field',
      '"colour"',
    );
    for (const field of ['payload.', 'payload.a..b', 'tags.', 'Type', '']) {
      expectError(
        thrown(() => store.query().where(field, 'exists')),
        ValidationError,
        'UNKNOWN_FIELD',
        'where.field',
      );
    }
    expectError(
      await rejection(() => store.query().select(['id', 'nope']).execute()),
      ValidationError,
      'UNKNOWN_FIELD',
      'select[1]',
      '"nope"',
    );
    expectError(
      await rejection(() => store.query().orderBy('when').execute()),
      ValidationError,
      'UNKNOWN_FIELD',
      'orderBy[0].field',
      '"when"',
    );
  });

  it('rejects operands of the wrong type', () => {
    const cases: [string, WhereOperator, unknown, string][] = [
      ['sequence', 'eq', 'x', 'sequence compares with a number'],
      ['type', 'eq', 5, 'type compares with a string'],
      ['timestamp', 'gte', '2025-01-01', 'timestamp compares with a number'],
      ['tags.k', 'eq', null, 'not null'],
      ['payload.x', 'gt', true, 'ordering comparison'],
      ['payload.x', 'lt', null, 'ordering comparison'],
      ['payload.x', 'eq', Number.NaN, 'finite number'],
      ['payload.x', 'eq', { a: 1 }, 'finite number'],
    ];
    for (const [field, operator, value, fragment] of cases) {
      expectError(
        thrown(() => store.query().where(field, operator, value)),
        ValidationError,
        'INVALID_OPERAND',
        'where.value',
        fragment,
      );
    }
    expectError(
      thrown(() => store.query().where('version', 'prefix', '1')),
      ValidationError,
      'INVALID_OPERAND',
      'version',
    );
    expectError(
      thrown(() => store.query().where('id', 'prefix', 1)),
      ValidationError,
      'INVALID_OPERAND',
      'where.value',
    );
    expectError(
      thrown(() => store.query().where('aggregateId', 'in', ['a', 2])),
      ValidationError,
      'INVALID_OPERAND',
      'where.values[1]',
    );
  });

  it('rejects an empty in, and a between with low above high or mixed types', () => {
    expectError(
      thrown(() => store.query().where('type', 'in', [])),
      ValidationError,
      'INVALID_OPERAND',
      'where.values',
    );
    expectError(
      thrown(() => store.query().where('type', 'in', 'T1')),
      ValidationError,
      'VALIDATION_FAILED',
      'where.value',
    );
    expectError(
      thrown(() => store.query().where('version', 'between', 5, 1)),
      ValidationError,
      'INVALID_RANGE',
      'low 5 is above high 1',
    );
    expectError(
      thrown(() => store.query().where('timestamp', 'between', new Date(T0 + 1), new Date(T0))),
      ValidationError,
      'INVALID_RANGE',
    );
    expectError(
      thrown(() => store.query().where('payload.x', 'between', 'a', 1)),
      ValidationError,
      'INVALID_OPERAND',
      'one type',
    );
    expect(() => store.query().where('payload.x', 'between', 'b', 'b')).not.toThrow();
  });

  it('rejects unknown filter kinds and operators, naming the node by its path', () => {
    const like = { kind: 'like', field: 'type', value: 'T%' } as unknown as FilterNode;
    expectError(
      thrown(() => store.query().where(like)),
      ValidationError,
      'VALIDATION_FAILED',
      'where.kind',
      '"like"',
    );
    expectError(
      thrown(() => store.query().where(f.and(f.eq('type', 'T1'), f.or(f.exists('id'), like)))),
      ValidationError,
      'VALIDATION_FAILED',
      'where.and[1].or[1].kind',
    );
    expectError(
      thrown(() => store.query().where(f.or(f.eq('type', 'T1'), f.not(f.eq('sequence', 'x'))))),
      ValidationError,
      'INVALID_OPERAND',
      'where.or[1].not.value',
    );
    expectError(
      thrown(() => store.query().where(f.and())),
      ValidationError,
      'VALIDATION_FAILED',
      'where.and',
    );
    expectError(
      thrown(() => store.query().where('type', 'like' as WhereOperator, 'T%')),
      ValidationError,
      'VALIDATION_FAILED',
      'where.operator',
      '"like"',
    );
  });

  it('rejects bad limit, offset, orderBy direction and hints when the query runs', async () => {
    const base = store.query().where('type', 'eq', 'T1');
    const bad: [AdvancedQueryBuilder, string, string][] = [
      [base.limit(-1), 'limit', '-1'],
      [base.limit(1.5), 'limit', '1.5'],
      [base.offset(-2), 'offset', '-2'],
      [base.offset(0.5), 'offset', '0.5'],
      [base.orderBy('type', 'up' as 'asc'), 'orderBy[0].direction', '"up"'],
      [base.hint({ batchSize: 0 }), 'hints.batchSize', '0'],
      [base.hint({ timeout: -1 }), 'hints.timeout', '-1'],
      [base.hint({ useIndex: 'type' as unknown as string[] }), 'hints.useIndex', '"type"'],
      [base.hint({ forceIndex: [''] }), 'hints.forceIndex', '[""]'],
      [base.hint({ parallel: 'yes' as unknown as boolean }), 'hints.parallel', '"yes"'],
    ];
    for (const [builder, path, fragment] of bad) {
      for (const run of [
        () => builder.execute(),
        () => collect(builder.executeStream()),
        () => builder.explain(),
        () => store.explain(builder),
      ]) {
        expectError(await rejection(run), ValidationError, 'VALIDATION_FAILED', path, fragment);
      }
      expectError(
        thrown(() => builder.toQuery()),
        ValidationError,
        'VALIDATION_FAILED',
        path,
      );
    }
    expectError(
      thrown(() => base.select([])),
      ValidationError,
      'VALIDATION_FAILED',
      'select',
    );
  });

  it('rejects forceIndex naming an index that cannot serve the query', async () => {
    const byType = store.query().where('type', 'eq', 'T1');
    for (const index of ['timestamp', 'aggregate', 'aggregate+type', 'tags.region', 'sequence', 'nonsense']) {
      expectError(
        await rejection(() => byType.hint({ forceIndex: [index] }).execute()),
        ValidationError,
        'INDEX_NOT_USABLE',
        'hints.forceIndex',
        index,
        'usable here: type, scan',
      );
    }
    // One usable name among unusable ones is enough.
    expect(seqs(await byType.hint({ forceIndex: ['timestamp', 'type'] }).execute())).toEqual(
      where((e) => e.type === 'T1'),
    );
    // An or is not a conjunction of index conditions: only the scan serves it.
    expectError(
      await rejection(() =>
        store
          .query()
          .where(f.or(f.eq('type', 'T1'), f.eq('type', 'T2')))
          .hint({ forceIndex: ['type'] })
          .execute(),
      ),
      ValidationError,
      'INDEX_NOT_USABLE',
    );
  });
});

// ---- explain ---------------------------------------------------------------------------------------

function operators(node: ExplainNode): string[] {
  return [node.operator, ...node.children.flatMap(operators)];
}

describe('explain', () => {
  it('looks a selective type equality up in the type index, with an exact estimate', async () => {
    const query = store.query().where('type', 'eq', 'T3');
    const explanation = await store.explain(query);
    expect(explanation.text).toContain('IndexLookup using type');
    expect(explanation.indexesUsed).toEqual(['type']);
    expect(explanation.estimatedRows).toBe(where((e) => e.type === 'T3').length);
    expect(explanation.considered.map((c) => c.index)).toEqual(['type', 'scan']);
    expect(explanation.plan).toMatchObject({
      operator: 'Filter',
      children: [{ operator: 'IndexLookup', index: 'type' }],
    });
    expect(explanation.plan.actualRows).toBeUndefined();
    expect(explanation.executionTimeMs).toBeUndefined();
    expect(explanation.queryId).toEqual(expect.any(String));
    expect(await query.explain()).toMatchObject({ indexesUsed: ['type'], text: explanation.text });
  });

  it('scans for an unselective filter', async () => {
    const explanation = await store.explain(store.query().where('version', 'gte', 1));
    expect(explanation.text).toContain('Scan');
    expect(explanation.text).not.toContain('IndexLookup');
    expect(explanation.indexesUsed).toEqual([]);
    expect(operators(explanation.plan)).toEqual(['Filter', 'Scan']);
    const wide = await store.explain(store.query().where('tags.region', 'in', ['eu', 'us', 'ap']));
    expect(wide.indexesUsed).toEqual([]);
    expect(wide.considered.map((c) => c.index)).toEqual(['scan', 'tags.region']);
  });

  it('estimates equality exactly and a timestamp range within 2x', async () => {
    const cases: [AdvancedQueryBuilder, number, string][] = [
      [
        store.query().where('tags.region', 'eq', 'eu'),
        where((e) => e.tags.region === 'eu').length,
        'tags.region',
      ],
      [
        store.query().where('aggregateId', 'eq', 'agg-7'),
        where((e) => e.aggregateId === 'agg-7').length,
        'aggregate',
      ],
      [
        store.query().where('aggregateId', 'in', ['agg-7', 'agg-8', 'nope']),
        where((e) => e.aggregateId === 'agg-7' || e.aggregateId === 'agg-8').length,
        'aggregate',
      ],
      [
        store.query().where('type', 'in', ['T1', 'T2']),
        where((e) => e.type === 'T1' || e.type === 'T2').length,
        'type',
      ],
      [store.query().where('type', 'eq', 'nope'), 0, 'type'],
    ];
    for (const [query, count, index] of cases) {
      const explanation = await store.explain(query);
      expect(explanation.indexesUsed).toEqual([index]);
      expect(explanation.estimatedRows).toBe(count);
      expect(seqs(await query.execute())).toHaveLength(count);
    }

    const low = T0 + 300 * SECOND;
    const high = T0 + 700 * SECOND;
    const range = store.query().where('timestamp', 'between', low, high);
    const actual = where((e) => ts(e) >= low && ts(e) <= high).length;
    const explanation = await store.explain(range);
    expect(explanation.indexesUsed).toEqual(['timestamp']);
    expect(explanation.estimatedRows).toBeGreaterThanOrEqual(actual / 2);
    expect(explanation.estimatedRows).toBeLessThanOrEqual(actual * 2);
    expect(seqs(await range.execute())).toHaveLength(actual);
  });

  it('with analyze reports actual rows, rows removed by the filter and times', async () => {
    const query = store.query().where('type', 'eq', 'T3').where('payload.amount', 'lt', 50);
    const examined = where((e) => e.type === 'T3').length;
    const matched = where((e) => e.type === 'T3' && payloadOf(e).amount < 50).length;
    expect(matched).toBeGreaterThan(0);
    expect(matched).toBeLessThan(examined);

    const explanation = await store.explain(query, { analyze: true });
    expect(explanation.plan).toMatchObject({
      operator: 'Filter',
      actualRows: matched,
      removedByFilter: examined - matched,
      children: [{ operator: 'IndexLookup', index: 'type', estimatedRows: examined, actualRows: examined }],
    });
    expect(explanation.plan.timeMs).toEqual(expect.any(Number));
    expect(explanation.plan.timeMs).toBeGreaterThanOrEqual(0);
    expect(explanation.executionTimeMs).toBeGreaterThanOrEqual(0);
    expect(explanation.text).toContain(`actual rows=${matched}`);
    expect(explanation.text).toContain(`removed by filter=${examined - matched}`);
    expect(explanation.text).toMatch(/time=\d+\.\d{3} ms/);

    const sorted = await store.explain(query.orderBy('timestamp', 'desc').offset(2).limit(5), {
      analyze: true,
    });
    expect(operators(sorted.plan)).toEqual(['Limit', 'Sort', 'Filter', 'IndexLookup']);
    expect(sorted.plan.actualRows).toBe(5);
    expect(sorted.plan.children[0]?.actualRows).toBe(matched);
    expect(sorted.text).toContain('Sort');
    expect(sorted.text).toContain('timestamp desc');
  });

  it('offers the composite index for aggregateId and type together', async () => {
    const query = store.query().where('aggregateId', 'eq', 'agg-3').where('type', 'eq', 'T3');
    const expected = where((e) => e.aggregateId === 'agg-3' && e.type === 'T3');
    expect(expected.length).toBeGreaterThan(0);
    const explanation = await store.explain(query);
    expect(explanation.considered.map((c) => c.index).sort()).toEqual([
      'aggregate',
      'aggregate & type',
      'aggregate+type',
      'scan',
      'type',
    ]);
    const forced = query.hint({ forceIndex: ['aggregate+type'] });
    expect((await forced.explain()).text).toContain('IndexLookup using aggregate+type');
    expect(seqs(await forced.execute())).toEqual(expected);
    expect(seqs(await query.execute())).toEqual(expected);
  });

  it('honours useIndex and forceIndex, visibly in explain', async () => {
    const query = store
      .query()
      .where('type', 'eq', 'T3')
      .where('timestamp', 'lt', T0 + 1500 * SECOND);
    const expected = where((e) => e.type === 'T3' && ts(e) < T0 + 1500 * SECOND);
    expect((await store.explain(query)).indexesUsed).toEqual(['type']);

    const preferred = query.hint({ useIndex: ['timestamp'] });
    const preferredPlan = await store.explain(preferred);
    expect(preferredPlan.indexesUsed).toEqual(['timestamp']);
    expect(preferredPlan.text).toContain('IndexLookup using timestamp');
    expect(seqs(await preferred.execute())).toEqual(expected);

    // A preference nothing can serve is ignored.
    expect((await store.explain(query.hint({ useIndex: ['aggregate'] }))).indexesUsed).toEqual(['type']);

    const scanned = query.hint({ forceIndex: ['scan'] });
    const scanPlan = await store.explain(scanned);
    expect(scanPlan.indexesUsed).toEqual([]);
    expect(scanPlan.text).toContain('Scan');
    expect(scanPlan.considered.map((c) => c.index)).toEqual(['scan']);
    expect(seqs(await scanned.execute())).toEqual(expected);

    // Among forced indexes the cheapest wins (the wide timestamp range costs more than the scan).
    expect((await store.explain(query.hint({ forceIndex: ['timestamp', 'type'] }))).indexesUsed).toEqual([
      'type',
    ]);
    expect((await store.explain(query.hint({ forceIndex: ['scan', 'timestamp'] }))).indexesUsed).toEqual([]);
  });
});

// ---- cancellation and timeouts ---------------------------------------------------------------------

describe('cancellation and timeouts', () => {
  const BIG = 50_000;
  let big: EventStore;

  beforeAll(async () => {
    big = await openEventStore({ clock: new ManualClock(T0 + BIG * SECOND) });
    for (let i = 0; i < BIG; i += 10_000) {
      await big.append(
        Array.from({ length: 10_000 }, (_, j) => ({
          aggregateId: `s-${(i + j) % 100}`,
          type: 'tick',
          timestamp: T0 + (i + j) * SECOND,
          payload: { n: i + j },
        })),
      );
    }
  });

  afterAll(async () => {
    await big.close();
  });

  it('fails with QueryCancelledError when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const query = big.query().where('type', 'eq', 'tick');
    expectError(
      await rejection(() => query.execute({ signal: controller.signal })),
      QueryCancelledError,
      'QUERY_CANCELLED',
      'was cancelled',
    );
    expectError(
      await rejection(() => collect(query.executeStream({ signal: controller.signal }))),
      QueryCancelledError,
      'QUERY_CANCELLED',
    );
    const named = await rejection(() => query.execute({ signal: controller.signal, queryId: 'pre-aborted' }));
    expectError(named, QueryCancelledError, 'QUERY_CANCELLED', 'query pre-aborted was cancelled');
    expect((named as QueryCancelledError).queryId).toBe('pre-aborted');
  });

  async function streamAndStop(
    builder: AdvancedQueryBuilder,
    options: { signal?: AbortSignal; queryId?: string },
    stop: () => void,
    after: number,
  ): Promise<{ error: unknown; seen: number }> {
    let seen = 0;
    const error = await rejection(async () => {
      for await (const _row of builder.executeStream(options)) {
        if (++seen === after) stop();
      }
    });
    return { error, seen };
  }

  it('stops a stream with QueryCancelledError when its signal aborts after the first page', async () => {
    for (const builder of [
      big.query().hint({ batchSize: 500 }),
      big.query().where('payload.n', 'gte', 0).orderBy('timestamp', 'desc').hint({ batchSize: 500 }),
    ]) {
      const controller = new AbortController();
      const { error, seen } = await streamAndStop(
        builder,
        { signal: controller.signal },
        () => controller.abort(),
        500,
      );
      expectError(error, QueryCancelledError, 'QUERY_CANCELLED');
      // The page in hand may finish; the next one is never produced.
      expect(seen).toBeGreaterThanOrEqual(500);
      expect(seen).toBeLessThanOrEqual(1000);
    }
  });

  it('cancels a running stream by its queryId with store.cancelQuery()', async () => {
    const queryId = 'nightly-export';
    expect(big.cancelQuery(queryId)).toBe(false);
    let cancelled: boolean | undefined;
    const { error, seen } = await streamAndStop(
      big.query().where('type', 'eq', 'tick').hint({ batchSize: 500 }),
      { queryId },
      () => {
        cancelled = big.cancelQuery(queryId);
      },
      500,
    );
    expect(cancelled).toBe(true);
    expectError(error, QueryCancelledError, 'QUERY_CANCELLED', `query ${queryId} was cancelled`);
    expect((error as QueryCancelledError).queryId).toBe(queryId);
    expect(seen).toBeLessThanOrEqual(1000);
    // Finished queries are forgotten; the id can be used again.
    expect(big.cancelQuery(queryId)).toBe(false);
    expect(await collect(big.query().limit(3).executeStream({ queryId }))).toHaveLength(3);
  });

  it('fails with QueryTimeoutError when hints.timeout is 0', async () => {
    const query = big.query().where('type', 'eq', 'tick').hint({ timeout: 0 });
    expectError(
      await rejection(() => query.execute()),
      QueryTimeoutError,
      'QUERY_TIMEOUT',
      'timeout of 0 ms',
    );
    expectError(await rejection(() => collect(query.executeStream())), QueryTimeoutError, 'QUERY_TIMEOUT');
    expectError(await rejection(() => query.explain({ analyze: true })), QueryTimeoutError, 'QUERY_TIMEOUT');
    const timeout = await rejection(() => query.execute({ queryId: 'slow-one' }));
    expect(timeout).toMatchObject({ queryId: 'slow-one', timeoutMs: 0 });
    // A generous timeout changes nothing.
    expect(await query.hint({ timeout: 60_000 }).limit(10).execute()).toHaveLength(10);
  });

  it('times a slow stream out between pages', async () => {
    const { error, seen } = await streamAndStop(
      big.query().hint({ batchSize: 500, timeout: 50 }),
      {},
      () => {
        const until = performance.now() + 80;
        while (performance.now() < until) {
          // A consumer slower than the query's timeout.
        }
      },
      1,
    );
    expectError(error, QueryTimeoutError, 'QUERY_TIMEOUT', 'timeout of 50 ms');
    expect(seen).toBeLessThanOrEqual(1000);
  });
});

// ---- streaming memory -------------------------------------------------------------------------------

describe('streaming memory', () => {
  it('streams 200K events in pages without holding them all', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const heap = () => {
      gc();
      return process.memoryUsage().heapUsed;
    };
    const TOTAL = 200_000;
    const s = await openEventStore({ clock: new ManualClock(T0) });
    try {
      for (let i = 0; i < TOTAL; i += 20_000) {
        await s.append(
          Array.from({ length: 20_000 }, (_, j) => ({
            aggregateId: `m-${(i + j) % 64}`,
            type: 'm',
            payload: { n: i + j },
          })),
        );
      }
      const base = heap();
      let count = 0;
      let sum = 0;
      let peak = 0;
      for await (const row of s.query().hint({ batchSize: 500 }).executeStream()) {
        sum += ((row as StoredEvent).payload as { n: number }).n;
        if (++count % 25_000 === 0) peak = Math.max(peak, heap() - base);
      }
      expect(count).toBe(TOTAL);
      expect(sum).toBe((TOTAL * (TOTAL - 1)) / 2);

      const materialised = await s.query().execute();
      const held = heap() - base;
      expect(materialised).toHaveLength(TOTAL);
      // All 200K events as objects take tens of MB; the stream holds about one page.
      expect(held).toBeGreaterThan(10 * 1024 * 1024);
      expect(peak).toBeLessThan(held / 5);
    } finally {
      await s.close();
    }
  });
});

// ---- the older query APIs agree with the builder ---------------------------------------------------

describe('queryEvents() and getEventsByType() agree with the builder', () => {
  it('for equivalent queries', async () => {
    const from = T0 + 200 * SECOND;
    const to = T0 + 1600 * SECOND;
    const pairs: [Promise<StoredEvent[]>, AdvancedQueryBuilder][] = [
      [store.queryEvents({ type: 'T3' }), store.query().where('type', 'eq', 'T3')],
      [
        store.queryEvents({
          type: ['T1', 'T2', 'T4'],
          aggregateId: ['agg-1', 'agg-2', 'agg-21', 'agg-24'],
          tags: { region: ['eu', 'ap'] },
          from: new Date(from),
          to: new Date(to),
          afterSequence: 100,
          limit: 20,
        }),
        store
          .query()
          .where('type', 'in', ['T1', 'T2', 'T4'])
          .where('aggregateId', 'in', ['agg-1', 'agg-2', 'agg-21', 'agg-24'])
          .where('tags.region', 'in', ['eu', 'ap'])
          .where('timestamp', 'gte', new Date(from))
          .where('timestamp', 'lt', new Date(to))
          .where('sequence', 'gt', 100)
          .limit(20),
      ],
      [
        store.queryEvents({ tags: { region: 'us' }, afterSequence: 1500, order: 'desc', limit: 15 }),
        store
          .query()
          .where('tags.region', 'eq', 'us')
          .where('sequence', 'lt', 1500)
          .orderBy('sequence', 'desc')
          .limit(15),
      ],
      [
        store.getEventsByType('T4', { afterSequence: 500, limit: 7 }),
        store.query().where('type', 'eq', 'T4').where('sequence', 'gt', 500).limit(7),
      ],
      [store.getEventsByType('T5'), store.query().where('type', 'eq', 'T5')],
      [
        store.getEventsInRange(new Date(from), new Date(to), { limit: 30 }),
        store.query().where('timestamp', 'gte', from).where('timestamp', 'lt', to).limit(30),
      ],
    ];
    for (const [legacy, builder] of pairs) {
      const rows = await legacy;
      expect(rows.length).toBeGreaterThan(0);
      expect(await builder.execute()).toEqual(rows);
    }
  });
});
