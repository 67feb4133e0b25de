/**
 * Commit hooks, what is not the same over every engine (the contract is in
 * test/contract/commit-hooks.contract.ts): the `hooks` option checked at open, the engine
 * capability, afterCommit only once the batch is durable (synced under fsync 'always', and
 * surviving a SIGKILL right after the hook ran), and what happens around a pending async
 * beforeCommit in the embedded engine (a deletion meanwhile, close).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import {
  ManualClock,
  openEventStore,
  UnsupportedError,
  ValidationError,
  type CommitHooks,
  type StorageEngineFactory,
} from '../../src/index.js';
import { openEmbeddedEngine } from '../../src/storage/embedded/open-embedded.js';
import { resolveOptions } from '../../src/storage/embedded/embedded-options.js';
import { LIB, REGISTER, ROOT } from '../support/child-paths.js';
import { expectError, rejection, removeDir, sequences, tempDir } from '../support/helpers.js';

const T0 = Date.UTC(2024, 0, 1);
const WRITER = fileURLToPath(new URL('./commit-hooks-writer.mjs', import.meta.url));

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await tempDir();
  try {
    await fn(dir);
  } finally {
    await removeDir(dir);
  }
}

/** Some turns of the event loop: for a check that something has NOT happened yet. */
async function someTurns(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('the hooks option', () => {
  test('is refused at open with INVALID_OPTION unless it is an object of known hook functions', async () => {
    const noop = () => undefined;
    for (const [hooks, path, fragment] of [
      [null, 'hooks', 'null'],
      [[noop], 'hooks', 'must be an object'],
      [noop, 'hooks', 'must be an object'],
      [{ beforeComit: noop }, 'hooks.beforeComit', 'beforeCommit, afterCommit'],
      [{ beforeCommit: 'audit' }, 'hooks.beforeCommit', '"audit"'],
      [{ afterCommit: 1 }, 'hooks.afterCommit', 'must be a function'],
    ] as const) {
      const error = await rejection(() => openEventStore({ hooks: hooks as unknown as CommitHooks }));
      expectError(error, ValidationError, 'INVALID_OPTION', fragment);
      expect((error as ValidationError).path).toBe(path);
    }
    // Both optional: an empty object is no hook at all.
    const store = await openEventStore({ hooks: {} });
    expect(sequences(await store.append({ aggregateId: 'a', type: 'T' }))).toEqual([1]);
    expect(store.stats().plugins).toBeUndefined();
    await store.close();
  });

  /** The embedded engine behind the factory seam, with its capabilities as `declare` says. */
  function foreignEngine(dir: string, declare: { commitHooks: boolean }): StorageEngineFactory {
    return {
      name: 'foreign',
      open: async (context) => {
        const engine = await openEmbeddedEngine(resolveOptions({ dir }), context);
        Object.defineProperty(engine, 'capabilities', { value: { ...engine.capabilities, ...declare } });
        return engine;
      },
    };
  }

  test('hooks work over an engine from the engine option; beforeCommit is refused over one without commitHooks', async () => {
    await withDir(async (dir) => {
      const seen: number[] = [];
      const store = await openEventStore({
        engine: foreignEngine(dir, { commitHooks: true }),
        hooks: { beforeCommit: (events) => void seen.push(...sequences(events)) },
      });
      await store.append({ aggregateId: 'a', type: 'T' });
      expect(seen).toEqual([1]);
      await store.close();

      const error = await rejection(() =>
        openEventStore({
          engine: foreignEngine(dir, { commitHooks: false }),
          hooks: { beforeCommit: () => undefined },
        }),
      );
      expectError(error, UnsupportedError, 'UNSUPPORTED', 'commitHooks', 'hooks.beforeCommit');
      // The engine it opened was closed again: its directory lock is free.
      const after: number[] = [];
      const again = await openEventStore({
        engine: foreignEngine(dir, { commitHooks: false }),
        hooks: { afterCommit: (events) => void after.push(...sequences(events)) },
      });
      await again.append({ aggregateId: 'a', type: 'T' });
      expect(after).toEqual([2]);
      await again.close();
    });
  });
});

describe('afterCommit and durability', () => {
  test("hooks.afterCommit's promise is waited for; a plugin's is not, but its rejection is counted", async () => {
    let release!: () => void;
    const pluginWork = new Promise<void>((resolve) => (release = resolve));
    const order: string[] = [];
    const store = await openEventStore({
      clock: new ManualClock(T0),
      plugins: [
        {
          name: 'slow-plugin',
          afterCommit: (async () => {
            await pluginWork;
            order.push('plugin done');
            throw new Error('plugin failed late');
          }) as () => void,
        },
      ],
      hooks: {
        async afterCommit() {
          await Promise.resolve();
          order.push('hook done');
        },
      },
    });
    try {
      await store.append({ aggregateId: 'a', type: 'T' });
      order.push('append resolved');
      release();
      await someTurns();
      expect(order).toEqual(['hook done', 'append resolved', 'plugin done']);
      expect(store.stats().plugins).toEqual([
        { name: 'slow-plugin', errors: 1, lastError: 'plugin failed late' },
        { name: 'hooks.afterCommit', errors: 0, lastError: null },
      ]);
    } finally {
      await store.close();
    }
  });

  test("under fsync 'always', afterCommit runs once the batch is synced", async () => {
    await withDir(async (dir) => {
      const seen: { sequences: number[]; unsyncedBytes: number; fsyncs: number }[] = [];
      let fsyncsBefore = 0;
      const store = await openEventStore({
        dir,
        fsync: 'always',
        clock: new ManualClock(T0),
        hooks: {
          beforeCommit: () => void (fsyncsBefore = store.stats().storage!.fsyncs),
          afterCommit(events) {
            const storage = store.stats().storage!;
            seen.push({
              sequences: sequences(events),
              unsyncedBytes: storage.unsyncedBytes,
              fsyncs: storage.fsyncs - fsyncsBefore,
            });
          },
        },
      });
      await store.append([
        { aggregateId: 'a', type: 'T' },
        { aggregateId: 'b', type: 'T' },
      ]);
      await Promise.all([
        store.append({ aggregateId: 'a', type: 'T' }),
        store.append({ aggregateId: 'c', type: 'T' }),
      ]);
      expect(seen.map((s) => s.sequences)).toEqual([[1, 2], [3], [4]]);
      // Each batch waited for an fsync of its own bytes. unsyncedBytes counts the whole log: while
      // [3]'s hook runs, [4] may be written and waiting for the next fsync; the last one leaves none.
      for (const s of seen) expect(s.fsyncs).toBeGreaterThanOrEqual(1);
      expect(seen[0]?.unsyncedBytes).toBe(0);
      expect(seen[2]?.unsyncedBytes).toBe(0);
      await store.close();
    });
  });

  test("a batch whose afterCommit ran survives a SIGKILL of the process right after it (fsync 'always')", async () => {
    await withDir(async (dir) => {
      const config = { lib: LIB, dir, batchSize: 7, stopAt: 3 };
      const child = spawn(process.execPath, ['--import', REGISTER, WRITER, JSON.stringify(config)], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('exit', (_code, signal) => resolve(signal)),
      );
      let report: { sequences: number[]; unsyncedBytes: number } | undefined;
      for await (const line of createInterface({ input: child.stdout })) {
        if (!line.startsWith('AFTER ')) continue;
        report = JSON.parse(line.slice('AFTER '.length)) as typeof report;
        child.kill('SIGKILL');
        break;
      }
      expect(await exited, stderr).toBe('SIGKILL');
      expect(report).toEqual({ sequences: Array.from({ length: 7 }, (_, i) => 22 + i), unsyncedBytes: 0 });

      const reopened = await openEventStore({ dir });
      const all = await reopened.read();
      expect(sequences(all)).toEqual(Array.from({ length: 28 }, (_, i) => i + 1));
      expect(all.slice(21).map((e) => e.payload)).toEqual(
        Array.from({ length: 7 }, (_, i) => ({ batch: 3, i })),
      );
      await reopened.close();
    });
  }, 60_000);
});

describe('a pending async beforeCommit (embedded engine)', () => {
  function gate(): { promise: Promise<void>; open: () => void } {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    return { promise, open };
  }
  /** Resolves when the hook is entered: the test waits for the event, not for turns or time. */
  function signal(): { entered: Promise<void>; enter: () => void } {
    const { promise, open } = gate();
    return { entered: promise, enter: open };
  }
  /** An in-memory store whose hook holds each batch that starts with a `Held` event until `held` opens. */
  async function storeHoldingBatches() {
    const held = gate();
    const waiting = signal();
    const store = await openEventStore({
      clock: new ManualClock(T0),
      hooks: {
        beforeCommit(events) {
          if (events[0]?.type !== 'Held') return;
          waiting.enter();
          return held.promise;
        },
      },
    });
    return { store, held, waiting };
  }

  test('a stream deleted while its batch waits for approval refuses the batch: nothing written', async () => {
    const { store, held, waiting } = await storeHoldingBatches();
    try {
      await store.append({ aggregateId: 'victim', type: 'T' });
      const pending = store.append([
        { aggregateId: 'other', type: 'Held' },
        { aggregateId: 'victim', type: 'Held' },
      ]);
      await waiting.entered;
      expect(await store.deleteAggregate('victim')).toBe(true);
      held.open();
      expectError(await rejection(() => pending), ValidationError, 'AGGREGATE_DELETED', 'victim');
      expect(store.stats().lastSequence).toBe(1);
      expect((await store.append({ aggregateId: 'other', type: 'T' }))[0]?.sequence).toBe(2);
    } finally {
      await store.close();
    }
  });

  test('an index made ready while a batch waits for approval indexes it; its unique keys are checked then', async () => {
    const { store, held, waiting } = await storeHoldingBatches();
    try {
      await store.append({ aggregateId: 'a', type: 'Order', payload: { number: 1 } });
      const pending = store.append({ aggregateId: 'b', type: 'Held', payload: { number: 2 } });
      const clash = store
        .append({ aggregateId: 'c', type: 'Held', payload: { number: 1 } })
        .catch((error: unknown) => error);
      await waiting.entered;
      await store.indexes.createIndex({ name: 'by_number', fields: ['payload.number'], unique: true });
      held.open();
      expect(sequences(await pending)).toEqual([2]);
      expectError(await clash, ValidationError, 'UNIQUE_VIOLATION');
      const found = await store
        .query()
        .where('payload.number', 'eq', 2)
        .hint({ forceIndex: ['by_number'] })
        .execute();
      expect(found.map((e) => (e as { sequence: number }).sequence)).toEqual([2]);
      expect(store.stats().lastSequence).toBe(2);
    } finally {
      await store.close();
    }
  });

  test('close() lets a batch waiting for approval finish, and it is durable', async () => {
    await withDir(async (dir) => {
      const held = gate();
      const waiting = signal();
      const store = await openEventStore({
        dir,
        clock: new ManualClock(T0),
        hooks: {
          beforeCommit() {
            waiting.enter();
            return held.promise;
          },
        },
      });
      const pending = store.append({ aggregateId: 'a', type: 'T' });
      await waiting.entered;
      let closed = false;
      const closing = store.close().then(() => (closed = true));
      await someTurns();
      expect(closed).toBe(false);
      held.open();
      expect(sequences(await pending)).toEqual([1]);
      await closing;
      const reopened = await openEventStore({ dir });
      expect(sequences(await reopened.read())).toEqual([1]);
      await reopened.close();
    });
  });
});
