/**
 * A read-only store beside the writer: it opens while another process holds the store, answers
 * every read, follows the writer's appends (at refresh() and by polling), refuses every write with
 * READ_ONLY, and never changes a file of the store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import {
  ManualClock,
  ReadOnlyError,
  StoreLockedError,
  ValidationError,
  f,
  openEventStore,
  type EventStore,
  type StoredEvent,
} from '../../src/index.js';
import { expectError, rejection, removeDir, tempDir } from '../support/helpers.js';
import { cli } from '../support/cli.js';
import { REGISTER, LIB } from '../support/child-paths.js';

const APPENDER = fileURLToPath(new URL('./appender.mjs', import.meta.url));

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) await removeDir(dir);
});

async function newDir(): Promise<string> {
  const dir = await tempDir('tamma-read-only-');
  dirs.push(dir);
  return dir;
}

/** A writer in a child process, appending 3-event batches until stopped; `acked` is its last acknowledged sequence. */
class Appender {
  acked = 0;
  closed: number | undefined;
  private readonly child: ChildProcess;
  private readonly waiters: { until: number; resolve: () => void }[] = [];
  private stderr = '';
  private exited: Error | undefined;

  constructor(dir: string, segmentSize = 16 * 1024) {
    this.child = spawn(
      process.execPath,
      ['--import', REGISTER, APPENDER, JSON.stringify({ lib: LIB, dir, segmentSize })],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    children.push(this.child);
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    // 'close', not 'exit': it comes after the last line the writer printed has been read.
    this.child.on('close', (code) => {
      this.exited = new Error(`the appender exited (${code}):\n${this.stderr}`);
      for (const waiter of this.waiters.splice(0)) waiter.resolve();
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const [word, value] = line.split(' ');
      if (word === 'ACK') this.acked = Number(value);
      if (word === 'CLOSED') this.closed = Number(value);
      for (const waiter of [...this.waiters]) {
        if (this.acked >= waiter.until) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    });
  }

  /** Resolves once the writer acknowledged sequence `until`. */
  async ackedAtLeast(until: number): Promise<number> {
    if (this.acked < until && this.exited === undefined)
      await new Promise<void>((resolve) => this.waiters.push({ until, resolve }));
    if (this.acked < until) throw this.exited ?? new Error('no ack');
    return this.acked;
  }

  async stop(): Promise<void> {
    if (this.exited !== undefined) return;
    const exit = new Promise((resolve) => this.child.once('close', resolve));
    this.child.stdin!.write('stop\n');
    await exit;
  }
}

/** Every event 1..n as the appender writes them: payload.n is the sequence. */
function expectAppended(events: readonly StoredEvent[], n: number): void {
  expect(events.map((event) => event.sequence)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  for (const event of events) expect((event.payload as { n: number }).n).toBe(event.sequence);
}

/** Every write a store offers, each expected to refuse on a read-only store. */
const WRITES: [string, (store: EventStore) => Promise<unknown>][] = [
  ['append', (store) => store.append({ aggregateId: 'x', type: 'T' })],
  ['appendToStream', (store) => store.appendToStream('x', { type: 'T' })],
  ['deleteAggregate', (store) => store.deleteAggregate('s1')],
  ['cleanup', (store) => store.cleanup()],
  ['restoreArchive', (store) => store.restoreArchive('/nonexistent-archive')],
  ['flush', (store) => store.flush()],
  ['checkpoint', (store) => store.checkpoint()],
  ['createIndex', (store) => store.indexes.createIndex({ name: 'by_n', fields: ['tags.n'] })],
  ['dropIndex', (store) => store.indexes.dropIndex('by_n')],
  ['rebuildIndex', (store) => store.indexes.rebuildIndex('by_n')],
  ['optimizeIndexes', (store) => store.indexes.optimizeIndexes()],
];

/** Every file of a directory tree with a digest of its bytes (toEqual on large Buffers is slow). */
function filesOf(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(dir, path), createHash('sha256').update(readFileSync(path)).digest('hex'));
    }
  };
  walk(dir);
  return files;
}

describe('read-only store beside a writer in another process', () => {
  test('opens while the writer holds the store, follows its appends at refresh(), refuses every write', async () => {
    const dir = await newDir();
    const writer = new Appender(dir);
    await writer.ackedAtLeast(30);
    // The store is held: a writable open is refused, a read-only one is not.
    expectError(await rejection(() => openEventStore({ dir })), StoreLockedError, 'STORE_LOCKED');
    const reader = await openEventStore({ dir, readOnly: true, followIntervalMs: 0 });
    try {
      // Everything acknowledged before the open is there, and what follows is whole (never a torn frame).
      const first = await reader.read();
      expect(first.length).toBeGreaterThanOrEqual(30);
      expectAppended(first, first.length);

      // Reads follow the writer at refresh(), across new segments (16 KiB each).
      for (const step of [200, 600, 1200]) {
        const acked = await writer.ackedAtLeast(step);
        const last = await reader.refresh();
        expect(last).toBeGreaterThanOrEqual(acked);
        const all = await reader.read();
        expectAppended(all, last);
        expect(reader.stats()).toMatchObject({ lastSequence: last, events: last });
        expect(reader.stats().storage!.segments).toBeGreaterThan(1);
      }

      // Every kind of read answers from what was refreshed.
      const last = reader.stats().lastSequence;
      const odd = await reader.getEventsByType('ODD');
      expect(odd.map((event) => event.sequence)).toEqual(
        Array.from({ length: last }, (_, i) => i + 1).filter((n) => n % 2 === 1),
      );
      expect((await reader.getEvents('s1')).every((event) => event.sequence % 4 === 1)).toBe(true);
      expect(await reader.queryEvents({ tags: { n: 7 } })).toMatchObject([{ sequence: 7 }]);
      const range = await reader.getEventsInRange(0, Date.now() + 60_000, { limit: 5 });
      expect(range).toHaveLength(5);
      const built = await reader
        .query()
        .where('tags.n', 'gte', last - 2)
        .execute();
      expect(built.map((row) => (row as StoredEvent).sequence)).toEqual([last - 2, last - 1, last]);
      const explained = await reader.explain(reader.query().where(f.eq('type', 'EVEN')), { analyze: true });
      expect(explained.plan).toBeDefined();
      expect(await reader.read({ fromSequence: last - 1 })).toHaveLength(2);

      // Every write is refused with READ_ONLY, and nothing changes.
      for (const [name, write] of WRITES) {
        const error = await rejection(() => write(reader));
        expectError(error, ReadOnlyError, 'READ_ONLY', dir);
        expect((error as Error).message, name).toContain('read-only');
      }
      expect(() => reader.indexes.setAutoIndex({})).toThrow(ReadOnlyError);
      expect(reader.stats().lastSequence).toBe(last);

      // Once the writer closed, a refresh brings in the rest: exactly what it acknowledged.
      await writer.stop();
      const end = await reader.refresh();
      expect(writer.closed).toBe(writer.acked);
      expect(end).toBe(writer.acked);
      expectAppended(await reader.read(), end);
    } finally {
      await reader.close();
      await writer.stop();
    }
    // The writer's store is intact: a writable open reads the same.
    const store = await openEventStore({ dir });
    expectAppended(await store.read(), writer.acked);
    await store.close();
  }, 30_000);

  test('follows the writer by itself every followIntervalMs', async () => {
    const dir = await newDir();
    const writer = new Appender(dir);
    await writer.ackedAtLeast(3);
    const reader = await openEventStore({ dir, readOnly: true, followIntervalMs: 5 });
    try {
      const acked = await writer.ackedAtLeast(reader.stats().lastSequence + 300);
      // Polling is a timer: give it turns (bounded) until it has caught up.
      for (let i = 0; i < 2000 && reader.stats().lastSequence < acked; i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(reader.stats().lastSequence).toBeGreaterThanOrEqual(acked);
      expect(reader.stats().storage).toMatchObject({ readOnly: true, followError: null });
      expectAppended(await reader.read(), reader.stats().lastSequence);
    } finally {
      await reader.close();
      await writer.stop();
    }
  }, 30_000);

  test('CLI stats, query, explain, index list and verify work while a writer holds the store', async () => {
    const dir = await newDir();
    const writer = new Appender(dir);
    try {
      const acked = await writer.ackedAtLeast(60);
      const stats = await cli(['stats', '--dir', dir, '--json']);
      expect(stats.stderr).toBe('');
      expect(stats.code).toBe(0);
      expect((JSON.parse(stats.stdout) as { lastSequence: number }).lastSequence).toBeGreaterThanOrEqual(
        acked,
      );
      const query = await cli(['query', '--dir', dir, '--type', 'EVEN', '--limit', '5']);
      expect(query.stderr).toBe('');
      expect(query.code).toBe(0);
      expect(
        query.stdout
          .trim()
          .split('\n')
          .map((line) => (JSON.parse(line) as { sequence: number }).sequence),
      ).toEqual([2, 4, 6, 8, 10]);
      for (const argv of [
        ['explain', '--dir', dir, '--type', 'ODD'],
        ['index', 'list', '--dir', dir],
        ['verify', '--dir', dir],
      ]) {
        const run = await cli(argv);
        expect(run.stderr, argv.join(' ')).toBe('');
        expect(run.code, argv.join(' ')).toBe(0);
      }
      // A command that writes still refuses while the store is held.
      const cleanup = await cli(['cleanup', '--dir', dir]);
      expect(cleanup.code).not.toBe(0);
      expect(cleanup.stderr).toContain('STORE_LOCKED');
    } finally {
      await writer.stop();
    }
  }, 30_000);
});

describe('read-only store: changes nothing, follows more than appends', () => {
  test("an idle store's files are byte-identical after a read-only session, torn tail included", async () => {
    const dir = await newDir();
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const writer = await openEventStore({ dir, clock, segmentSize: 4096, checkpointEvery: 50 });
    for (let i = 0; i < 120; i++) {
      await writer.append({ aggregateId: `s${i % 3}`, type: 'T', tags: { i }, payload: { i } });
    }
    await writer.indexes.createIndex({ name: 'by_i', fields: ['tags.i'] });
    await writer.deleteAggregate('s2');
    writer.setRetention({ maxAge: '30d', schedule: false });
    await writer.close();
    // A crash mid-write left half a frame at the end: a writable open would cut it off.
    const segments = readdirSync(join(dir, 'log'))
      .filter((name) => name.endsWith('.seg'))
      .sort();
    appendFileSync(join(dir, 'log', segments.at(-1)!), Buffer.from([0x54, 0x41, 0x4d, 0x4d, 9, 9, 9]));
    const before = filesOf(dir);

    const reader = await openEventStore({ dir, clock, readOnly: true, followIntervalMs: 0 });
    expect(await reader.read()).toHaveLength(80);
    expect(await reader.getEvents('s2')).toEqual([]);
    expect(await reader.queryEvents({ tags: { i: 3 } })).toMatchObject([{ sequence: 4 }]);
    await reader.query().where('tags.i', 'eq', 5).execute();
    await reader.explain(reader.query().where('tags.i', 'eq', 6), { analyze: true });
    expect((await reader.indexes.listIndexes()).map((index) => index.name)).toContain('by_i');
    await reader.indexes.getIndexUsage();
    reader.stats();
    reader.setRetention({ maxAge: '1d' });
    for (const [, write] of WRITES) await rejection(() => write(reader));
    await reader.refresh();
    await reader.close();

    expect(filesOf(dir)).toEqual(before);
  });

  test('a cleanup, a deletion and an index change by the writer are followed (the store is loaded afresh)', async () => {
    const dir = await newDir();
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    // The writer is in this process: the reader takes no lock, so it opens beside it all the same.
    const writer = await openEventStore({
      dir,
      clock,
      segmentSize: 4096,
      retention: { maxAge: '1h', schedule: false },
    });
    for (let i = 0; i < 100; i++, clock.advance(60_000)) {
      await writer.append({
        aggregateId: `s${i % 3}`,
        type: 'T',
        tags: { i },
        payload: { i, pad: 'x'.repeat(40) },
      });
    }
    const reader = await openEventStore({
      dir,
      clock,
      readOnly: true,
      followIntervalMs: 0,
      retention: { maxAge: '1h', schedule: false },
    });
    try {
      expect(await reader.read()).toHaveLength(60);

      await writer.deleteAggregate('s0');
      await reader.refresh();
      expect(await reader.getEvents('s0')).toEqual([]);
      expect(await reader.read()).toEqual(await writer.read());

      // Cleanup rewrites and drops segments the reader holds open.
      const report = await writer.cleanup();
      expect(report.removed).toBeGreaterThan(0);
      await reader.refresh();
      expect(await reader.read()).toEqual(await writer.read());
      expect(reader.stats().storage!.segments).toBe(writer.stats().storage!.segments);

      await writer.indexes.createIndex({ name: 'by_i', fields: ['tags.i'] });
      for (let i = 100; i < 110; i++) await writer.append({ aggregateId: 's1', type: 'T', tags: { i } });
      await reader.refresh();
      expect((await reader.indexes.listIndexes()).map((index) => index.name)).toContain('by_i');
      expect(await reader.queryEvents({ tags: { i: 105 } })).toEqual(
        await writer.queryEvents({ tags: { i: 105 } }),
      );
      expect(await reader.read()).toEqual(await writer.read());
    } finally {
      await reader.close();
      await writer.close();
    }
  });

  test('bad read-only options and a missing store are refused, and nothing is created', async () => {
    const dir = join(await newDir(), 'nothing-here');
    expectError(
      await rejection(() => openEventStore({ readOnly: true })),
      ValidationError,
      'INVALID_OPTION',
      'readOnly',
      'dir',
    );
    expectError(
      await rejection(() => openEventStore({ dir, readOnly: 'yes' as unknown as boolean })),
      ValidationError,
      'INVALID_OPTION',
      'readOnly',
    );
    expectError(
      await rejection(() => openEventStore({ dir, readOnly: true, followIntervalMs: -1 })),
      ValidationError,
      'INVALID_OPTION',
      'followIntervalMs',
    );
    const missing = await rejection(() => openEventStore({ dir, readOnly: true }));
    expect((missing as { code?: string }).code).toBe('NOT_A_STORE');
    expect(existsSync(dir)).toBe(false);
  });

  test('refresh() on a writable store resolves with its last sequence', async () => {
    const store = await openEventStore();
    await store.append({ aggregateId: 'a', type: 'T' });
    expect(await store.refresh()).toBe(1);
    await store.close();
  });
});
