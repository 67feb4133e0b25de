import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventToJsonLine } from '../src/cli/event-json.js';
import {
  f,
  openEventStore,
  ValidationError,
  type EventQuery,
  type FilterNode,
  type OpenOptions,
  type StoredEvent,
} from '../src/index.js';
import { expectError, rejection } from './support/helpers.js';
import { cli } from './support/cli.js';

/**
 * The CLI's one query syntax and its one view of a store: `query` runs every query `explain`
 * explains and returns what the library's own query returns; every command sees the events the
 * library's reads see under the store's recorded retention policy; a relative archive path means
 * the same to the library and the CLI, whatever the working directory.
 */

async function ok(argv: string[]): Promise<string> {
  const result = await cli(argv);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

const lines = (stdout: string): unknown[] =>
  stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown);

/** What the library returns, in the shape `query` prints it. */
const printed = (events: readonly StoredEvent[]): unknown[] =>
  events.map((event) => JSON.parse(eventToJsonLine(event)) as unknown);

async function withStore<T>(
  options: OpenOptions,
  use: (store: Awaited<ReturnType<typeof openEventStore>>) => Promise<T>,
) {
  const store = await openEventStore(options);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

const DAY = 86_400_000;
let root: string;
let counter = 0;
const fresh = (name: string): string => join(root, `${name}-${++counter}`);

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tamma-cli-query-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('one query syntax for query and explain', () => {
  let dir: string;
  const T0 = Date.UTC(2025, 0, 1);

  beforeAll(async () => {
    dir = fresh('store');
    await withStore({ dir }, (store) =>
      store.append(
        Array.from({ length: 120 }, (_, i) => ({
          aggregateId: `issue-${i % 12}`,
          type: i % 10 === 0 ? 'WORKFLOW.FAILED' : 'WORKFLOW.STEP',
          timestamp: T0 + i * 60_000,
          tags: { provider: i % 3 === 0 ? 'openai' : 'anthropic', n: i % 5 },
          payload: { tokens: (i * 37) % 1000, model: i % 2 === 0 ? 'gpt-4o' : 'claude', ok: i % 7 !== 0 },
        })),
      ),
    );
  });

  it('query runs a payload filter that explain explains, with the results of the library', async () => {
    const filter = f.and(
      f.gt('payload.tokens', 500),
      f.or(f.eq('tags.provider', 'openai'), f.not(f.eq('payload.ok', true))),
    );
    const ast: EventQuery = {
      kind: 'query',
      filter,
      orderBy: [{ field: 'payload.tokens', direction: 'desc' }],
      limit: 7,
      hints: {},
    };
    const expected = await withStore({ dir }, async (store) => {
      const query = store.query().where(filter).orderBy('payload.tokens', 'desc').limit(7);
      return (await query.execute()) as StoredEvent[];
    });
    expect(expected.length).toBe(7);

    const text = JSON.stringify(ast);
    expect(lines(await ok(['query', '--dir', dir, '--query', text]))).toEqual(printed(expected));
    const explained = JSON.parse(
      await ok(['explain', '--dir', dir, '--query', text, '--analyze', '--json']),
    ) as {
      plan: { actualRows: number };
    };
    expect(explained.plan.actualRows).toBe(7);

    // The same query from a file, and a filter node alone with the criteria flags ANDed to it.
    const file = join(root, 'query.json');
    writeFileSync(file, text);
    expect(lines(await ok(['query', '--dir', dir, '--query', `@${file}`]))).toEqual(printed(expected));
    const node = JSON.stringify(f.between('payload.tokens', 100, 300));
    const flagged = await withStore({ dir }, (store) =>
      store
        .query()
        .where(f.and(f.in('type', ['WORKFLOW.FAILED']), f.between('payload.tokens', 100, 300)))
        .execute(),
    );
    expect(
      lines(await ok(['query', '--dir', dir, '--query', node, '--type', 'WORKFLOW.FAILED', '--json'])),
    ).toEqual(printed(flagged as StoredEvent[]));
    // `select` prints the selected fields.
    const selected = lines(
      await ok([
        'query',
        '--dir',
        dir,
        '--query',
        JSON.stringify({ ...ast, select: ['sequence', 'payload.tokens'] }),
      ]),
    );
    expect(selected[0]).toEqual({
      sequence: expected[0]?.sequence,
      'payload.tokens': (expected[0]?.payload as { tokens: number }).tokens,
    });
  });

  it('query matches the library on random queries (fast-check)', async () => {
    const scalarFor: Record<string, fc.Arbitrary<string | number | boolean>> = {
      type: fc.constantFrom('WORKFLOW.FAILED', 'WORKFLOW.STEP', 'NONE'),
      aggregateId: fc.constantFrom('issue-1', 'issue-7', 'issue-11'),
      'tags.provider': fc.constantFrom('openai', 'anthropic'),
      'tags.n': fc.integer({ min: -1, max: 5 }),
      'payload.tokens': fc.integer({ min: 0, max: 1000 }),
      'payload.model': fc.constantFrom('gpt-4o', 'claude'),
      'payload.ok': fc.boolean(),
      sequence: fc.integer({ min: 0, max: 130 }),
    };
    const leaf: fc.Arbitrary<FilterNode> = fc.constantFrom(...Object.keys(scalarFor)).chain((field) =>
      fc.oneof(
        fc
          .tuple(
            // Booleans have no order: only eq and ne compare them.
            (field === 'payload.ok'
              ? fc.constantFrom('eq', 'ne')
              : fc.constantFrom('eq', 'ne', 'lt', 'lte', 'gt', 'gte')) as fc.Arbitrary<'eq'>,
            scalarFor[field] as fc.Arbitrary<number>,
          )
          .map(([kind, value]) => f[kind](field, value)),
        fc
          .array(scalarFor[field] as fc.Arbitrary<number>, { minLength: 1, maxLength: 3 })
          .map((values) => f.in(field, values)),
        fc.constant(f.exists(field)),
      ),
    );
    const filter = fc.letrec<{ node: FilterNode }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((filters) => f.and(...filters)),
        fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((filters) => f.or(...filters)),
        tie('node').map((node) => f.not(node)),
      ),
    })).node;
    const query = fc.record({
      filter,
      order: fc.constantFrom(undefined, 'sequence', 'payload.tokens', 'timestamp'),
      direction: fc.constantFrom('asc', 'desc') as fc.Arbitrary<'asc' | 'desc'>,
      limit: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(query, async ({ filter: node, order, direction, limit }) => {
        const ast: EventQuery = {
          kind: 'query',
          filter: node,
          orderBy: order === undefined ? [] : [{ field: order, direction }],
          ...(limit === undefined ? {} : { limit }),
          hints: {},
        };
        const expected = await withStore({ dir }, (store) => {
          let builder = store.query().where(node);
          if (order !== undefined) builder = builder.orderBy(order, direction);
          if (limit !== undefined) builder = builder.limit(limit);
          return builder.execute();
        });
        expect(lines(await ok(['query', '--dir', dir, '--query', JSON.stringify(ast)]))).toEqual(
          printed(expected as StoredEvent[]),
        );
      }),
      { numRuns: 25 },
    );
  });

  it('reports misuse with exit 2 and says what to do', async () => {
    const legacy = await cli(['query', '--dir', dir, '--json', '{"type":"WORKFLOW.STEP"}']);
    expect(legacy.code).toBe(2);
    expect(legacy.stderr).toMatch(/criteria JSON goes in --criteria/);
    const missing = await cli(['query', '--dir', dir, '--query', `@${join(root, 'no-such.json')}`]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--query @.*no-such\.json: cannot read/);
    const archived = await cli(['query', '--dir', dir, '--query', '{"kind":"all"}', '--include-archived']);
    expect(archived.code).toBe(2);
    expect(archived.stderr).toMatch(/--include-archived takes criteria/);
    const noArchive = await cli(['query', '--dir', dir, '--include-archived']);
    expect(noArchive.code).toBe(2);
    expect(noArchive.stderr).toMatch(/there is no archive to include/);
  });
});

/**
 * A store whose recorded policy (maxAge 1d) hides most of its events: 80 appended ten days ago,
 * 30 today, written before the policy was set (an append of an expired event is refused).
 */
async function storeWithExpiredEvents(retention: Record<string, unknown>): Promise<string> {
  const dir = fresh('expiring');
  const now = Date.now();
  await withStore({ dir }, (store) =>
    store.append(
      Array.from({ length: 110 }, (_, i) => ({
        aggregateId: `a-${i % 4}`,
        type: 'JOB.RAN',
        timestamp: i < 80 ? now - 10 * DAY + i : now - 60_000 + i,
        payload: { i },
      })),
    ),
  );
  await withStore({ dir, retention: { maxAge: '1d', schedule: false, ...retention } }, async () => undefined);
  return dir;
}

describe('one retention view', () => {
  it('stats, query, explain and the library agree on a store with expired events', async () => {
    const dir = await storeWithExpiredEvents({});
    const library = await withStore({ dir, retention: { maxAge: '1d', schedule: false } }, (store) =>
      store.queryEvents(),
    );
    expect(library.length).toBe(30);
    const stats = JSON.parse(await ok(['stats', '--dir', dir, '--json'])) as { events: number };
    expect(stats.events).toBe(30);
    expect(lines(await ok(['query', '--dir', dir]))).toEqual(printed(library));
    const explained = JSON.parse(await ok(['explain', '--dir', dir, '--analyze', '--json'])) as {
      plan: { actualRows: number; removedByFilter: number };
    };
    expect(explained.plan).toMatchObject({ actualRows: 30, removedByFilter: 80 });
    const typed = JSON.parse(
      await ok(['explain', '--dir', dir, '--type', 'JOB.RAN', '--analyze', '--json']),
    ) as {
      plan: { actualRows: number };
    };
    expect(typed.plan.actualRows).toBe(30);
  });
});

describe('a relative archive path resolves against the store directory', () => {
  it('the library archives beside the store and the CLI finds it, from any working directory', async () => {
    const dir = await storeWithExpiredEvents({ archive: { dir: 'cold' } });
    const elsewhere = fresh('cwd');
    const another = fresh('cwd');
    mkdirSync(elsewhere);
    mkdirSync(another);
    const cwd = process.cwd();
    try {
      process.chdir(elsewhere);
      const report = await withStore(
        { dir, retention: { maxAge: '1d', schedule: false, archive: { dir: 'cold' } } },
        async (store) => {
          expect(store.stats().retention.archive).toEqual({ dir: join(dir, 'cold') });
          return store.cleanup();
        },
      );
      expect(report.archived).toBe(80);
      expect(existsSync(join(dir, 'cold', 'manifest.json'))).toBe(true);
      expect(existsSync(join(elsewhere, 'cold'))).toBe(false);

      process.chdir(another);
      const all = lines(await ok(['query', '--dir', dir, '--include-archived']));
      expect(all.map((e) => (e as { sequence: number }).sequence)).toEqual(
        Array.from({ length: 110 }, (_, i) => i + 1),
      );
      const stats = JSON.parse(await ok(['stats', '--dir', dir, '--json'])) as {
        retention: { archive: { dir: string } };
      };
      expect(stats.retention.archive.dir).toBe(join(dir, 'cold'));
    } finally {
      process.chdir(cwd);
    }
  });

  it('refuses, naming both paths, an archive left where the working directory used to put it', async () => {
    const dir = await storeWithExpiredEvents({});
    const old = fresh('old-cwd');
    mkdirSync(join(old, 'cold'), { recursive: true });
    writeFileSync(join(old, 'cold', 'manifest.json'), '{"version":1,"files":[]}\n');
    const cwd = process.cwd();
    try {
      process.chdir(old);
      const error = await rejection(() =>
        openEventStore({ dir, retention: { maxAge: '1d', archive: { dir: 'cold' } } }),
      );
      expectError(error, ValidationError, 'ARCHIVE_DIR_MOVED', join(dir, 'cold'));
      expect((error as Error).message).toContain(join(old, 'cold'));
    } finally {
      process.chdir(cwd);
    }
  });
});
