/**
 * The query model (filter trees, orderBy, offset, limit, select) against an independent oracle.
 *
 * Scenarios, queries and the oracle come from test/support/query-model.ts. Each query's result must
 * equal what the oracle computes from the StoredEvents the appends returned, whichever access path
 * runs it: the planner's choice, every path it considered forced with hints.forceIndex, and the
 * scan; executed at once or streamed in small pages.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  f,
  ManualClock,
  MATCH_ALL,
  openEventStore,
  ValidationError,
  type EventStore,
  type ExplainNode,
  type StoredEvent,
  type TagValue,
} from '../../src/index.js';
import { expectError, rejection, removeDir, tempDir } from '../support/helpers.js';
import {
  ALL_INDEXES,
  appendScenario,
  build,
  collect,
  describeQuery,
  firstInvalid,
  matches,
  MINUTE,
  oracle,
  queryArb,
  scenarioArb,
  T0,
  type Query,
  type Scenario,
} from '../support/query-model.js';

const MEMORY_RUNS = Number(process.env.QUERY_MODEL_RUNS ?? 100);
const DISK_RUNS = Number(process.env.QUERY_MODEL_DISK_RUNS ?? 12);

// ---- the property --------------------------------------------------------------------------------

async function checkQuery(store: EventStore, all: readonly StoredEvent[], q: Query): Promise<void> {
  const label = describeQuery(q);
  const code = firstInvalid(q.filter);
  if (code !== undefined) {
    let error: unknown;
    try {
      store.query().where(q.filter);
    } catch (caught) {
      error = caught;
    }
    expectError(error, ValidationError, code, 'where');
    return;
  }
  const expected = oracle(all, q);
  const base = build(store, q);
  const rows = await base.execute();
  expect(rows, label).toEqual(expected);
  if (q.select !== undefined) for (const row of rows) expect(Object.keys(row), label).toEqual(q.select);

  const explanation = await store.explain(base);
  const paths = [...new Set([...explanation.considered.map((c) => c.index), 'scan'])];
  expect(paths, label).toContain(explanation.indexesUsed.join(' & ') || 'scan');

  // EXPLAIN ANALYZE counts: the top operator returned the page (or every match without a limit), and
  // the access path produced no more rows than it estimated (index estimates are exact or an upper
  // bound; an intersection's is a statistical estimate, so only its parts' are checked).
  const analyzed = await store.explain(base, { analyze: true });
  const chain: ExplainNode[] = [];
  for (let node: ExplainNode | undefined = analyzed.plan; node !== undefined; node = node.children[0]) {
    chain.push(node);
    if (node.operator === 'Intersect') break;
  }
  const access = chain[chain.length - 1]!;
  if (access.operator === 'Intersect') {
    for (const part of access.children)
      expect(access.actualRows, label).toBeLessThanOrEqual(part.estimatedRows);
  } else expect(access.actualRows, label).toBeLessThanOrEqual(access.estimatedRows);
  expect(chain[0]!.actualRows, label).toBe(
    q.limit === undefined && q.offset === undefined
      ? all.filter((event) => matches(q.filter, event)).length
      : expected.length,
  );
  for (const index of paths) {
    const forced = base.hint({ forceIndex: [index], batchSize: 7 });
    expect((await store.explain(forced)).indexesUsed, `${label} forceIndex ${index}`).toEqual(
      index === 'scan' ? [] : index.split(' & '),
    );
    expect(await forced.execute(), `${label} forceIndex ${index}`).toEqual(expected);
    expect(await collect(forced.executeStream()), `${label} streamed, forceIndex ${index}`).toEqual(expected);
  }
  expect(await collect(base.hint({ batchSize: 7 }).executeStream()), `${label} streamed`).toEqual(expected);

  const unusable = ALL_INDEXES.filter((index) => !paths.includes(index));
  if (unusable.length > 0) {
    const error = await rejection(() => base.hint({ forceIndex: unusable }).execute());
    expectError(error, ValidationError, 'INDEX_NOT_USABLE', 'hints.forceIndex');
  }
}

interface Prepared {
  store: EventStore;
  all: StoredEvent[];
  cleanup: () => Promise<void>;
}

async function inMemory(scenario: Scenario, _variant: number): Promise<Prepared> {
  const clock = new ManualClock(T0);
  const store = await openEventStore({ clock });
  const all = await appendScenario(store, clock, scenario);
  return { store, all, cleanup: () => store.close() };
}

/**
 * Variants: 0 reopens from the checkpoint written on close; 1 from checkpoints taken every few
 * events, in small segments; 2 without a checkpoint, replaying the whole log.
 */
async function onDisk(scenario: Scenario, variant: number): Promise<Prepared> {
  const dir = await tempDir('tamma-query-model-');
  const clock = new ManualClock(T0);
  const segmentSize = variant === 1 ? 4096 : 128 * 1024 * 1024;
  let all: StoredEvent[];
  const writer = await openEventStore({
    dir,
    clock,
    fsync: 'never',
    segmentSize,
    checkpointEvery: variant === 1 ? 7 : 0,
  });
  try {
    all = await appendScenario(writer, clock, scenario);
  } finally {
    await writer.close();
  }
  if (variant === 2) await rm(join(dir, 'checkpoint.bin'), { force: true });
  const store = await openEventStore({ dir, clock, segmentSize });
  return {
    store,
    all,
    cleanup: async () => {
      await store.close();
      await removeDir(dir);
    },
  };
}

function property(
  prepare: (s: Scenario, variant: number) => Promise<Prepared>,
  maxEvents: number,
  runs: number,
): Promise<void> {
  return fc.assert(
    fc.asyncProperty(
      scenarioArb(maxEvents),
      fc.array(queryArb, { minLength: 1, maxLength: 12 }),
      fc.nat(2),
      async (scenario, queries, variant) => {
        const { store, all, cleanup } = await prepare(scenario, variant);
        try {
          for (const q of queries) await checkQuery(store, all, q);
        } finally {
          await cleanup();
        }
      },
    ),
    { numRuns: runs },
  );
}

describe('the query model matches an independent oracle on every access path', () => {
  test('in memory: filter trees, orderBy, offset, limit, select; executed and streamed', async () => {
    await property(inMemory, 250, MEMORY_RUNS);
  });

  test('on disk, closed and reopened before querying', async () => {
    await property(onDisk, 120, DISK_RUNS);
  });

  test('the oracle agrees with hand-picked cases (so a wrong oracle cannot pass silently)', () => {
    const at = (
      sequence: number,
      tags: Record<string, TagValue>,
      payload: unknown,
      minute = 0,
    ): StoredEvent => ({
      sequence,
      id: `id-${sequence}`,
      aggregateId: 'acc-1',
      version: sequence,
      type: 'user.created',
      timestamp: new Date(T0 + minute * MINUTE),
      tags,
      payload,
      metadata: {},
    });
    const events = [
      at(1, { k: '5' }, { x: null, arr: [{ x: 1 }] }, 3),
      at(2, { k: 5 }, { x: 'b' }, 1),
      at(3, { k: true }, null, 2),
      at(4, {}, { x: 2, o: { x: 'a' } }, 1),
    ];
    const seqs = (q: Query) => (oracle(events, q) as StoredEvent[]).map((e) => e.sequence);
    expect(seqs({ filter: f.gt('tags.k', 4), orderBy: [] })).toEqual([2]);
    expect(seqs({ filter: f.exists('payload.x'), orderBy: [] })).toEqual([1, 2, 4]);
    expect(seqs({ filter: f.ne('tags.k', 5), orderBy: [] })).toEqual([1, 3]);
    expect(seqs({ filter: f.not(f.eq('tags.k', 5)), orderBy: [] })).toEqual([1, 3, 4]);
    expect(seqs({ filter: f.eq('payload.arr.0.x', 1), orderBy: [] })).toEqual([1]);
    expect(seqs({ filter: f.between('timestamp', T0 + MINUTE, T0 + 2 * MINUTE), orderBy: [] })).toEqual([
      2, 3, 4,
    ]);
    expect(seqs({ filter: MATCH_ALL, orderBy: [{ field: 'tags.k', direction: 'asc' }] })).toEqual([
      3, 2, 1, 4,
    ]);
    expect(seqs({ filter: MATCH_ALL, orderBy: [{ field: 'payload.x', direction: 'desc' }] })).toEqual([
      2, 4, 1, 3,
    ]);
    expect(
      seqs({
        filter: MATCH_ALL,
        orderBy: [
          { field: 'timestamp', direction: 'desc' },
          { field: 'payload.x', direction: 'asc' },
        ],
        offset: 1,
        limit: 2,
      }),
    ).toEqual([3, 4]);
    expect(
      oracle(events, { filter: f.eq('sequence', 4), orderBy: [], select: ['payload.o.x', 'tags.k'] }),
    ).toEqual([{ 'payload.o.x': 'a', 'tags.k': undefined }]);
  });
});
