/**
 * Vectorized and parallel scans through the store: the parallel scan (forced with hints.parallel),
 * the serial vectorized scan (hints.parallel false) and the planner's own choice all return what a
 * linear-scan oracle computes, in order, for random events and random filters on columns (alone or
 * ANDed with terms on tags and payload); also after more appends, which land in chunks the workers
 * already hold, over chunk boundaries, and on a store reopened from its checkpoint (whose columns are
 * views into the file's shared bytes). Then: a cancelled or timed-out parallel query stops at once,
 * and store.close() ends the worker threads.
 *
 * The oracle (matches) is written from the documented semantics and runs no engine code.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  f,
  ManualClock,
  openEventStore,
  QueryCancelledError,
  QueryTimeoutError,
  type EventStore,
  type FilterNode,
  type NewEvent,
  type ResultRow,
  type Scalar,
  type StoredEvent,
} from '../src/index.js';
import { compileColumnFilter } from '../src/storage/embedded/exec/column-filter.js';
import { ParallelScanPool } from '../src/storage/embedded/exec/parallel-scan.js';
import { CHUNK_ROWS } from '../src/storage/embedded/table/chunked-column.js';
import { EventTable } from '../src/storage/embedded/table/event-table.js';
import { expectError, rejection, removeDir, tempDir } from './support/helpers.js';
import { matchesBy } from './support/query-model.js';
import { randomInt, seededRandom } from './support/random.js';

const T0 = Date.UTC(2024, 5, 1);
const MINUTE = 60_000;
/** The stores' clock: no earlier than any event time (minute 60 at most), which may not be in its future. */
const NOW = T0 + 60 * MINUTE;
const RUNS = Number(process.env.PARALLEL_SCAN_RUNS ?? 8);
const WORKERS = Math.min(2, availableParallelism());
const AGGREGATES = ['acc-1', 'acc-10', 'acc-2', 'b'] as const;
const TYPES = ['user.created', 'user.deleted', 'order.placed', 'Order'] as const;

/** What the oracle knows of an event: the inputs and the sequence and version the store must give it. */
interface Spec {
  sequence: number;
  version: number;
  aggregateId: string;
  type: string;
  timestamp: number;
  n: number;
}

function specsOf(
  raw: readonly { agg: number; type: number; minute: number; n: number }[],
  before: readonly Spec[] = [],
): Spec[] {
  const versions = new Map<string, number>();
  for (const spec of before) versions.set(spec.aggregateId, spec.version);
  return raw.map(({ agg, type, minute, n }, i) => {
    const aggregateId = AGGREGATES[agg] as string;
    const version = (versions.get(aggregateId) ?? 0) + 1;
    versions.set(aggregateId, version);
    return {
      sequence: before.length + i + 1,
      version,
      aggregateId,
      type: TYPES[type] as string,
      timestamp: T0 + minute * MINUTE,
      n,
    };
  });
}

const toEvent = (spec: Spec): NewEvent => ({
  aggregateId: spec.aggregateId,
  type: spec.type,
  timestamp: spec.timestamp,
  tags: { n: spec.n % 3 },
  payload: { n: spec.n },
});

async function appendAll(store: EventStore, specs: readonly Spec[]): Promise<void> {
  for (let i = 0; i < specs.length; i += 5000) await store.append(specs.slice(i, i + 5000).map(toEvent));
}

const rawArb = fc.record({
  agg: fc.nat(AGGREGATES.length - 1),
  type: fc.nat(TYPES.length - 1),
  minute: fc.oneof(
    { weight: 4, arbitrary: fc.nat(12) },
    { weight: 1, arbitrary: fc.integer({ min: -5, max: 60 }) },
  ),
  n: fc.nat(9),
});
const rawsArb = (max: number) => fc.nat(max).chain((n) => fc.array(rawArb, { minLength: n, maxLength: n }));

// ---- filters -------------------------------------------------------------------------------------

function operandArb(field: string): fc.Arbitrary<Scalar> {
  switch (field) {
    case 'sequence':
      return fc.integer({ min: 0, max: 1300 });
    case 'version':
      return fc.integer({ min: 0, max: 12 });
    case 'timestamp':
      return fc.integer({ min: -1, max: 13 }).map((m) => T0 + m * MINUTE);
    case 'aggregateId':
      return fc.constantFrom<Scalar>(...AGGREGATES, 'acc', 'zzz');
    default:
      return fc.constantFrom<Scalar>(...TYPES, 'user', 'x');
  }
}

const columnLeafArb: fc.Arbitrary<FilterNode> = fc
  .constantFrom('sequence', 'version', 'timestamp', 'aggregateId', 'type')
  .chain((field) =>
    fc.oneof(
      fc
        .tuple(
          fc.constantFrom<'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte'>('eq', 'ne', 'lt', 'lte', 'gt', 'gte'),
          operandArb(field),
        )
        .map(([kind, value]) => f[kind](field, value)),
      fc.array(operandArb(field), { minLength: 1, maxLength: 3 }).map((values) => f.in(field, values)),
      fc
        .tuple(operandArb(field), operandArb(field))
        .map(([a, b]) => ((a as number) <= (b as number) ? f.between(field, a, b) : f.between(field, b, a))),
      ...(field === 'aggregateId' || field === 'type'
        ? [fc.constantFrom('acc', 'acc-1', 'user.', 'O').map((p) => f.prefix(field, p))]
        : []),
    ),
  );

function columnTreeArb(depth: number): fc.Arbitrary<FilterNode> {
  if (depth === 0) return columnLeafArb;
  const children = fc.array(columnTreeArb(depth - 1), { minLength: 1, maxLength: 3 });
  return fc.oneof(
    { weight: 3, arbitrary: columnLeafArb },
    { weight: 1, arbitrary: children.map((list) => f.and(...list)) },
    { weight: 1, arbitrary: children.map((list) => f.or(...list)) },
    { weight: 1, arbitrary: columnTreeArb(depth - 1).map((node) => f.not(node)) },
  );
}

/** Terms on the record, ANDed to the column terms: the scan narrows on columns, these are checked per row. */
const recordLeafArb: fc.Arbitrary<FilterNode> = fc.oneof(
  fc.nat(2).map((v) => f.eq('tags.n', v)),
  fc.nat(9).map((v) => f.gte('payload.n', v)),
  fc.constant(f.or(f.eq('payload.n', 1), f.eq('type', TYPES[0]))),
);

const filterArb: fc.Arbitrary<FilterNode> = fc
  .tuple(
    fc.array(columnTreeArb(2), { minLength: 1, maxLength: 3 }),
    fc.array(recordLeafArb, { maxLength: 1 }),
  )
  .map(([columns, record]) => {
    const terms = [...columns, ...record];
    return terms.length === 1 ? (terms[0] as FilterNode) : f.and(...terms);
  });

interface Query {
  filter: FilterNode;
  descending: boolean;
  limit?: number;
  offset?: number;
}

const queryArb: fc.Arbitrary<Query> = fc.record(
  {
    filter: filterArb,
    descending: fc.boolean(),
    limit: fc.integer({ min: 0, max: 40 }),
    offset: fc.nat(5),
  },
  { requiredKeys: ['filter', 'descending'], noNullPrototype: true },
);

// ---- the oracle ----------------------------------------------------------------------------------

function valueOf(spec: Spec, field: string): unknown {
  if (field === 'tags.n') return spec.n % 3;
  if (field === 'payload.n') return spec.n;
  return spec[field as keyof Spec];
}

function matches(node: FilterNode, spec: Spec): boolean {
  return matchesBy(node, (field) => valueOf(spec, field));
}

function oracle(specs: readonly Spec[], q: Query): number[] {
  const matching = specs.filter((spec) => matches(q.filter, spec)).map((spec) => spec.sequence);
  if (q.descending) matching.reverse();
  const offset = q.offset ?? 0;
  return matching.slice(offset, q.limit === undefined ? undefined : offset + q.limit);
}

const sequencesOf = (rows: readonly ResultRow[]) => rows.map((row) => (row as StoredEvent).sequence);

async function run(store: EventStore, q: Query, parallel?: boolean): Promise<number[]> {
  let builder = store.query().where(q.filter);
  if (q.descending) builder = builder.orderBy('sequence', 'desc');
  if (q.offset !== undefined) builder = builder.offset(q.offset);
  if (q.limit !== undefined) builder = builder.limit(q.limit);
  if (parallel !== undefined) builder = builder.hint({ parallel, forceIndex: ['scan'] });
  return sequencesOf(await builder.execute());
}

/** The planner's choice, the forced parallel scan and the forced serial scan all give the oracle's answer. */
async function checkQuery(store: EventStore, specs: readonly Spec[], q: Query): Promise<void> {
  const label = JSON.stringify(q);
  const expected = oracle(specs, q);
  expect(await run(store, q, true), `${label} parallel`).toEqual(expected);
  expect(await run(store, q, false), `${label} serial`).toEqual(expected);
  expect(await run(store, q), `${label} planner's choice`).toEqual(expected);
}

// ---- the properties ------------------------------------------------------------------------------

describe('parallel and vectorized scans match a linear-scan oracle', () => {
  test('random events and filters, then more appends into chunks the workers already hold', async () => {
    await fc.assert(
      fc.asyncProperty(
        rawsArb(600),
        rawsArb(300),
        fc.array(queryArb, { minLength: 1, maxLength: 8 }),
        async (first, second, queries) => {
          const store = await openEventStore({ clock: new ManualClock(NOW) });
          try {
            let specs = specsOf(first);
            await appendAll(store, specs);
            for (const q of queries) await checkQuery(store, specs, q);
            specs = [...specs, ...specsOf(second, specs)];
            await appendAll(store, specs.slice(first.length));
            for (const q of queries) await checkQuery(store, specs, q);
          } finally {
            await store.close();
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('EXPLAIN shows the parallel scan and its workers', async () => {
    const store = await openEventStore({ clock: new ManualClock(NOW) });
    try {
      await appendAll(store, specsOf([{ agg: 0, type: 1, minute: 1, n: 1 }]));
      const query = store.query().where('version', 'gte', 1);
      const parallel = await store.explain(query.hint({ parallel: true }), { analyze: true });
      expect(parallel.plan).toMatchObject({
        operator: 'Filter',
        detail: 'vectorized over column chunks',
        actualRows: 1,
        children: [{ operator: 'ParallelScan', workers: WORKERS, actualRows: 1 }],
      });
      expect(parallel.text).toContain(`ParallelScan  (rows=1 workers=${WORKERS}`);
      expect(parallel.text).toContain(`all rows, ${WORKERS} workers`);
      // Small tables are scanned on this thread; hints.parallel false forbids the workers outright.
      for (const serial of [query, query.hint({ parallel: false })]) {
        const plan = (await store.explain(serial)).plan;
        expect(plan).toMatchObject({ operator: 'Filter', children: [{ operator: 'Scan' }] });
        expect(plan.children[0]?.workers).toBeUndefined();
      }
      const mixed = await store.explain(query.where('payload.n', 'eq', 1).hint({ parallel: true }));
      expect(mixed.plan.detail).toBe('column terms vectorized over column chunks, the rest compiled');
    } finally {
      await store.close();
    }
  });

  describe('over chunk boundaries', () => {
    let store: EventStore;
    let specs: Spec[];

    beforeAll(async () => {
      const random = seededRandom(11);
      specs = specsOf(
        Array.from({ length: 2 * CHUNK_ROWS + 500 }, () => ({
          agg: randomInt(random, 0, AGGREGATES.length - 1),
          type: randomInt(random, 0, TYPES.length - 1),
          minute: randomInt(random, -5, 60),
          n: randomInt(random, 0, 9),
        })),
      );
      store = await openEventStore({ clock: new ManualClock(NOW) });
      await appendAll(store, specs);
    });

    afterAll(async () => {
      await store.close();
    });

    test('random filters', async () => {
      const edge = (k: number) => f.between('sequence', k * CHUNK_ROWS - 2, k * CHUNK_ROWS + 2);
      const queries: Query[] = [
        { filter: f.or(edge(1), edge(2)), descending: false },
        {
          filter: f.and(f.gte('sequence', CHUNK_ROWS - 3), f.eq('type', TYPES[2])),
          descending: true,
          limit: 9,
        },
        { filter: f.and(f.lt('timestamp', T0 + 2 * MINUTE), f.eq('tags.n', 1)), descending: false },
      ];
      for (const q of queries) await checkQuery(store, specs, q);
      await fc.assert(
        fc.asyncProperty(columnTreeArb(2), fc.boolean(), async (filter, descending) => {
          // A limit keeps the hydrated page small; the scan still covers the whole table when few rows match.
          await checkQuery(store, specs, { filter, descending, limit: 30 });
        }),
        { numRuns: 6 },
      );
    });
  });

  test('on disk, reopened from the checkpoint: columns are views into the file, shared with the workers', async () => {
    const dir = await tempDir('tamma-parallel-');
    try {
      const random = seededRandom(5);
      const specs = specsOf(
        Array.from({ length: 3000 }, () => ({
          agg: randomInt(random, 0, AGGREGATES.length - 1),
          type: randomInt(random, 0, TYPES.length - 1),
          minute: randomInt(random, 0, 12),
          n: randomInt(random, 0, 9),
        })),
      );
      const writer = await openEventStore({ dir, clock: new ManualClock(NOW), fsync: 'never' });
      await appendAll(writer, specs.slice(0, 2000));
      await writer.close();
      const store = await openEventStore({ dir, clock: new ManualClock(NOW) });
      try {
        const queries = fc.sample(queryArb, { numRuns: 12, seed: 3 });
        for (const q of queries) await checkQuery(store, specs.slice(0, 2000), q);
        // Appends write into the checkpoint's last chunk, a view into the file's bytes.
        await appendAll(store, specs.slice(2000));
        for (const q of queries) await checkQuery(store, specs, q);
      } finally {
        await store.close();
      }
    } finally {
      await removeDir(dir);
    }
  });
});

// ---- cancellation, timeouts, close ---------------------------------------------------------------

describe('a parallel query stops promptly', () => {
  let store: EventStore;

  /**
   * A filter slow enough to keep the workers busy for a long while: an OR of thousands of version
   * equalities, each a pass over every row of a range.
   */
  const slow = f.or(...Array.from({ length: 2000 }, (_, k) => f.eq('version', 100_000 + k)));

  beforeAll(async () => {
    const random = seededRandom(3);
    store = await openEventStore({ clock: new ManualClock(NOW) });
    await appendAll(
      store,
      specsOf(
        Array.from({ length: 100_000 }, () => ({
          agg: randomInt(random, 0, 3),
          type: randomInt(random, 0, 3),
          minute: randomInt(random, 0, 60),
          n: 0,
        })),
      ),
    );
    // Start the workers and send them the chunks, so that what is timed below is the scan.
    expect(
      await store.query().where('version', 'gt', 0).limit(1).hint({ parallel: true }).execute(),
    ).toHaveLength(1);
  });

  afterAll(async () => {
    await store.close();
  });

  const slowQuery = () => store.query().where(slow).hint({ parallel: true });

  /**
   * How soon a stopped query must fail: the target is 10 ms, the margin is for a loaded test
   * machine (two busy workers and other test files on two cores), and it stays far below the
   * length of the scan being stopped.
   */
  let promptly: number;

  beforeAll(async () => {
    const started = performance.now();
    expect(await slowQuery().execute()).toEqual([]);
    const whole = performance.now() - started;
    expect(whole).toBeGreaterThan(50); // the scans stopped below really take a while
    promptly = Math.min(100, whole / 4);
  });

  test('cancelled: QueryCancelledError at once', async () => {
    const controller = new AbortController();
    const running = slowQuery().execute({ signal: controller.signal, queryId: 'slow-scan' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const aborted = performance.now();
    controller.abort();
    const error = await rejection(() => running);
    expect(performance.now() - aborted).toBeLessThan(promptly);
    expectError(error, QueryCancelledError, 'QUERY_CANCELLED', 'query slow-scan was cancelled');
  });

  test('cancelled with store.cancelQuery()', async () => {
    const running = slowQuery().execute({ queryId: 'by-id' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const cancelled = performance.now();
    expect(store.cancelQuery('by-id')).toBe(true);
    expectError(await rejection(() => running), QueryCancelledError, 'QUERY_CANCELLED');
    expect(performance.now() - cancelled).toBeLessThan(promptly);
  });

  test('timed out: QueryTimeoutError at its deadline', async () => {
    // The deadline counts from the end of planning, which for thousands of terms is not instant.
    const planning = performance.now();
    await store.explain(slowQuery());
    const planned = performance.now() - planning;
    const started = performance.now();
    const error = await rejection(() => slowQuery().hint({ timeout: 40 }).execute());
    const elapsed = performance.now() - started;
    expectError(error, QueryTimeoutError, 'QUERY_TIMEOUT', 'timeout of 40 ms');
    expect(elapsed).toBeGreaterThanOrEqual(40);
    expect(elapsed - planned - 40).toBeLessThan(promptly);
  });
});

describe('the worker pool and the process', () => {
  const threads = () => readdirSync('/proc/self/task').length;

  test('closing a scan makes the workers skip its queued ranges', async () => {
    const table = new EventTable();
    for (let i = 0; i < 5000; i++) table.addRow('a', 'T', T0, i + 1, 0, 0, {});
    // Matches every row, slowly: a pass over the range for each of its thousands of terms.
    const filter = compileColumnFilter(
      f.or(f.gt('version', 0), ...Array.from({ length: 4000 }, (_, k) => f.eq('version', 100_000 + k))),
      table,
    );
    const pool = new ParallelScanPool(table, 1);
    try {
      const whole = pool.open(filter!);
      expect(await whole.range(2500, 5000)).toHaveLength(2500);
      whole.close();
      const stopped = pool.open(filter!);
      const first = stopped.range(0, 2500);
      const second = stopped.range(2500, 5000);
      // The one worker is busy with the first range for milliseconds: the second starts after this.
      stopped.close();
      await first;
      expect(await second).toHaveLength(0);
    } finally {
      await pool.close();
    }
  });

  test.skipIf(!existsSync('/proc/self/task'))('store.close() ends the worker threads', async () => {
    const store = await openEventStore({});
    try {
      await store.append([{ aggregateId: 'a', type: 'T' }]);
      const before = threads();
      expect(await store.query().where('type', 'eq', 'T').hint({ parallel: true }).execute()).toHaveLength(1);
      expect(threads()).toBeGreaterThanOrEqual(before + WORKERS);
    } finally {
      const open = threads();
      await store.close();
      expect(threads()).toBeLessThanOrEqual(open - WORKERS);
    }
  });

  /** Runs a module that imports the sources in a fresh Node process; resolves with its exit code. */
  async function runScript(source: string): Promise<number | null> {
    const dir = await tempDir('tamma-exit-');
    const script = join(dir, 'script.mjs');
    await writeFile(script, source);
    const register = fileURLToPath(new URL('./support/register-typescript.mjs', import.meta.url));
    const child = spawn(process.execPath, ['--import', register, script], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    try {
      return await new Promise((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.on('exit', (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      });
    } finally {
      await removeDir(dir);
    }
  }

  test('idle workers never keep the process alive, closed or not; a running scan does until it answers', async () => {
    const body = (close: string) => `
      import { openEventStore } from '${new URL('../src/index.ts', import.meta.url).href}';
      const store = await openEventStore({});
      await store.append(Array.from({ length: 1000 }, () => ({ aggregateId: 'a', type: 'T' })));
      // The first query starts the workers; the second runs on workers that were idle.
      await store.query().where('version', 'gt', 0).limit(1).hint({ parallel: true }).execute();
      const rows = await store.query().where('version', 'gt', 957).hint({ parallel: true }).execute();
      if (rows.length !== 43) throw new Error('expected 43 rows, got ' + rows.length);
      ${close}
    `;
    // Exit code 13 would mean a top-level await never settled: the process ended mid-query.
    expect(await runScript(body('await store.close();'))).toBe(0);
    expect(await runScript(body(''))).toBe(0);
  });
});
