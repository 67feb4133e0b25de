/**
 * The query model (filter trees, orderBy, offset, limit, select) against an independent oracle.
 *
 * Scenarios, queries and the oracle come from test/support/query-model.ts. Each query's result must
 * equal what the oracle computes from the StoredEvents the appends returned, whichever access path
 * runs it: the planner's choice, every path it considered forced with hints.forceIndex, and the
 * scan; executed at once or streamed in small pages.
 *
 * `queryModelProperties(factory)` runs it against one engine (runner: query-model.property.test.ts,
 * which also checks the oracle itself on hand-picked cases); a durable engine's store is closed and
 * reopened before it is queried.
 */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import {
  ManualClock,
  ValidationError,
  type EventStore,
  type ExplainNode,
  type StoredEvent,
} from '../../src/index.js';
import type { StoreFactory } from '../contract/factory.js';
import { requires } from '../contract/requires.js';
import { expectError, rejection } from '../support/helpers.js';
import { prepareStore, type PreparedStore, type ReopenLayout } from '../support/property-store.js';
import {
  ALL_INDEXES,
  appendScenario,
  build,
  collect,
  describeQuery,
  firstInvalid,
  matches,
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

/**
 * Appends the scenario; a durable store is then closed and reopened, as the variant says: 0 from the
 * checkpoint written on close; 1 from checkpoints taken every few events, in small segments; 2
 * without a checkpoint, replaying the whole log.
 */
function prepare(factory: StoreFactory, scenario: Scenario, variant: number): Promise<PreparedStore> {
  const clock = new ManualClock(T0);
  const segmentSize = variant === 1 ? 4096 : 128 * 1024 * 1024;
  const layout: ReopenLayout = {
    writer: { fsync: 'never', segmentSize, checkpointEvery: variant === 1 ? 7 : 0 },
    dropCheckpoint: variant === 2,
    reader: { segmentSize },
  };
  return prepareStore(factory, clock, layout, (store) => appendScenario(store, clock, scenario));
}

function property(factory: StoreFactory, maxEvents: number, runs: number): Promise<void> {
  return fc.assert(
    fc.asyncProperty(
      scenarioArb(maxEvents),
      fc.array(queryArb, { minLength: 1, maxLength: 12 }),
      fc.nat(2),
      async (scenario, queries, variant) => {
        const { store, all, cleanup } = await prepare(factory, scenario, variant);
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

export function queryModelProperties(factory: StoreFactory): void {
  const durable = factory.capabilities.durable;
  const reopened = durable ? ', closed and reopened before querying' : '';
  requires(factory, 'explainAnalyze').describe(
    `the query model matches an independent oracle on every access path: ${factory.name}`,
    () => {
      test(`filter trees, orderBy, offset, limit, select; executed and streamed${reopened}`, async () => {
        // A durable store is reopened in every run: smaller event sets, fewer runs.
        await property(factory, durable ? 120 : 250, durable ? DISK_RUNS : MEMORY_RUNS);
      });
    },
  );
}
