/**
 * User-defined indexes on disk: definitions live in indexes.json, contents in the checkpoint, and
 * whatever the checkpoint does not cover is caught up from the log on open. Checked by closing and
 * reopening, by copying the directory as a crash would leave it, and by SIGKILLing a child process
 * (index-writer.mjs, running a build of the library) after createIndex resolved.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  CorruptionError,
  f,
  ManualClock,
  openEventStore,
  TammaError,
  UniqueViolationError,
  ValidationError,
  type AdvancedQueryBuilder,
  type EventStore,
  type IndexInfo,
  type NewEvent,
  type OpenOptions,
  type StoredEvent,
} from '../../src/index.js';
import {
  expectError,
  rejection,
  removeDir,
  sequences,
  snapshotStoreDir,
  tempDir,
} from '../support/helpers.js';
import { ROOT } from '../support/child-paths.js';

const WRITER = fileURLToPath(new URL('./index-writer.mjs', import.meta.url));
const T0 = Date.UTC(2025, 0, 1);

const dirs: string[] = [];
async function storeDir(): Promise<string> {
  const dir = await tempDir('tamma-index-persist-');
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await removeDir(dir);
});

/** Event n: tenant of three, amount of 40, a unique email, and some without an amount. */
function event(n: number): NewEvent {
  return {
    aggregateId: `acc-${n % 11}`,
    type: n % 4 === 0 ? 'Refund' : 'Payment',
    tags: { tenant: `t${n % 3}` },
    payload: n % 13 === 0 ? { email: `e${n}` } : { amount: (n * 7) % 40, email: `e${n}`, nested: { n } },
  };
}
const events = (from: number, count: number) => Array.from({ length: count }, (_, i) => event(from + i));

const DEFINITIONS = [
  { name: 'tenant_amount', fields: ['tags.tenant', 'payload.amount'] },
  { name: 'by_email', fields: ['payload.email'], type: 'hash' as const, unique: true },
  { name: 'refund_amount', fields: ['payload.amount'], where: f.eq('type', 'Refund') },
  { name: 'by_nested', fields: ['payload.nested.n'] },
];

/** Queries each index serves, with the index to force. */
function probes(store: EventStore): [AdvancedQueryBuilder, string][] {
  return [
    [
      store.query().where('tags.tenant', 'eq', 't1').where('payload.amount', 'between', [5, 25]),
      'tenant_amount',
    ],
    [
      store.query().where('tags.tenant', 'in', ['t0', 't2']).where('payload.amount', 'gte', 0),
      'tenant_amount',
    ],
    [store.query().where('payload.email', 'in', ['e3', 'e26', 'e1400', 'none']), 'by_email'],
    [store.query().where('type', 'eq', 'Refund').where('payload.amount', 'lt', 9), 'refund_amount'],
    [store.query().where('payload.nested.n', 'gte', 250), 'by_nested'],
    [store.query().where('payload.nested.n', 'lt', 20), 'by_nested'],
  ];
}

async function rowsOf(query: AdvancedQueryBuilder, index: string): Promise<number[]> {
  return sequences((await query.hint({ forceIndex: [index] }).execute()) as StoredEvent[]);
}

/** Every probe through its index equals the scan; returns the results, to compare across reopens. */
async function checkProbes(store: EventStore): Promise<number[][]> {
  // Events without an amount are not in tenant_amount, and match a query on the tenant alone.
  const tenant = store.query().where('tags.tenant', 'eq', 't1');
  expect((await store.explain(tenant)).considered.map((path) => path.index)).not.toContain('tenant_amount');
  const results: number[][] = [];
  for (const [query, index] of probes(store)) {
    const rows = await rowsOf(query, index);
    expect(rows, index).toEqual(await rowsOf(query, 'scan'));
    results.push(rows);
  }
  return results;
}

const userIndexes = async (store: EventStore): Promise<IndexInfo[]> =>
  (await store.indexes.listIndexes()).filter((index) => !index.builtIn);

describe('user-defined indexes survive close and reopen', () => {
  const variants: { title: string; options: Partial<OpenOptions>; dropCheckpoint?: boolean }[] = [
    { title: 'from the checkpoint written on close', options: {} },
    { title: 'rebuilt from the log without a checkpoint', options: {}, dropCheckpoint: true },
    {
      title: 'with checkpoints every 37 events and 16 KiB segments',
      options: { checkpointEvery: 37, segmentSize: 16_384 },
    },
  ];

  for (const variant of variants) {
    test(`definitions and contents, ${variant.title}`, async () => {
      const dir = await storeDir();
      const clock = new ManualClock(T0);
      const options: OpenOptions = { dir, clock, fsync: 'never', ...variant.options };
      let store = await openEventStore(options);
      await store.append(events(0, 200));
      for (const [i, definition] of DEFINITIONS.entries()) {
        clock.set(T0 + i * 1000);
        await store.indexes.createIndex(definition);
      }
      for (let i = 200; i < 300; i += 25) await store.append(events(i, 25));
      const before = await userIndexes(store);
      const analyses = await Promise.all(DEFINITIONS.map(({ name }) => store.indexes.analyzeIndex(name)));
      const results = await checkProbes(store);
      await store.close();
      if (variant.dropCheckpoint) await rm(join(dir, 'checkpoint.bin'));

      store = await openEventStore(options);
      try {
        expect(await userIndexes(store)).toEqual(before);
        expect(before.map((index) => index.createdAt)).toEqual(
          DEFINITIONS.map((_, i) => new Date(T0 + i * 1000)),
        );
        for (const [i, { name }] of DEFINITIONS.entries())
          expect(await store.indexes.analyzeIndex(name)).toEqual(analyses[i]);
        expect(await checkProbes(store)).toEqual(results);

        // Still maintained and still unique: many new keys, so the restored key order merges new runs.
        const error = await rejection(() =>
          store.append({ aggregateId: 'x', type: 'Payment', payload: { email: 'e7' } }),
        );
        expectError(error, UniqueViolationError, 'UNIQUE_VIOLATION', '"e7"');
        for (let i = 300; i < 2800; i += 500) await store.append(events(i, 500));
        await checkProbes(store);
        await store.indexes.rebuildIndex('tenant_amount');
        await checkProbes(store);
      } finally {
        await store.close();
      }
      // And once more, from what this second session wrote.
      store = await openEventStore(options);
      try {
        expect((await store.indexes.analyzeIndex('by_email')).entries).toBe(2800);
        await checkProbes(store);
      } finally {
        await store.close();
      }
    });
  }
});

describe('a crash (the directory as a killed process leaves it)', () => {
  test('events appended after the last checkpoint are caught up on reopen', async () => {
    const dir = await storeDir();
    const crashed = await storeDir();
    const store = await openEventStore({ dir, fsync: 'never', checkpointEvery: 1_000_000_000 });
    try {
      await store.append(events(0, 100));
      await store.indexes.createIndex(DEFINITIONS[0]!);
      await store.indexes.createIndex(DEFINITIONS[1]!);
      await store.checkpoint();
      expect(store.stats().storage?.lastCheckpointSequence).toBe(100);
      for (let i = 100; i < 160; i += 20) await store.append(events(i, 20));
      // One index is created after the checkpoint: it is not in it at all.
      await store.indexes.createIndex(DEFINITIONS[2]!);
      await store.indexes.createIndex(DEFINITIONS[3]!);
      await store.append(events(160, 20));
      expect(store.stats().storage?.lastCheckpointSequence).toBe(100);
      await store.flush();
      await snapshotStoreDir(dir, crashed);
    } finally {
      await store.close();
    }

    const reopened = await openEventStore({ dir: crashed });
    try {
      expect(reopened.stats().events).toBe(180);
      expect((await userIndexes(reopened)).map((index) => [index.name, index.state])).toEqual(
        DEFINITIONS.map(({ name }) => [name, 'ready']),
      );
      expect((await reopened.indexes.analyzeIndex('by_email')).entries).toBe(180);
      expect((await reopened.indexes.analyzeIndex('tenant_amount')).entries).toBe(180 - 14);
      await checkProbes(reopened);
      // Keys from after the checkpoint are held: the unique index rejects them again.
      for (const email of ['e101', 'e179']) {
        const error = await rejection(() =>
          reopened.append({ aggregateId: 'x', type: 'Payment', payload: { email } }),
        );
        expectError(error, UniqueViolationError, 'UNIQUE_VIOLATION', `"${email}"`);
      }
      expect(reopened.stats().events).toBe(180);
    } finally {
      await reopened.close();
    }
  });

  test('a dropped index stays dropped, even though the checkpoint still holds it', async () => {
    const dir = await storeDir();
    const crashed = await storeDir();
    const options = { dir, fsync: 'never' as const, checkpointEvery: 1_000_000_000 };
    let store = await openEventStore(options);
    await store.append(events(0, 50));
    await store.indexes.createIndex(DEFINITIONS[0]!);
    await store.indexes.createIndex(DEFINITIONS[1]!);
    await store.checkpoint();
    await store.indexes.dropIndex('tenant_amount');
    await snapshotStoreDir(dir, crashed);
    // No event since the checkpoint, so close() keeps it: it still holds tenant_amount.
    await store.close();

    for (const at of [dir, crashed]) {
      store = await openEventStore({ ...options, dir: at });
      try {
        expect((await userIndexes(store)).map((index) => index.name)).toEqual(['by_email']);
        const query = store.query().where('tags.tenant', 'eq', 't1');
        const error = await rejection(() => query.hint({ forceIndex: ['tenant_amount'] }).execute());
        expectError(error, ValidationError, 'INDEX_NOT_USABLE', 'tenant_amount');
        // The name can be taken by another definition, whose contents are its own, not the snapshot's.
        await store.indexes.createIndex({ name: 'tenant_amount', fields: ['payload.email'], type: 'hash' });
      } finally {
        await store.close();
      }
      store = await openEventStore({ ...options, dir: at });
      try {
        const [info] = (await userIndexes(store)).filter((index) => index.name === 'tenant_amount');
        expect(info).toMatchObject({ fields: ['payload.email'], type: 'hash', entries: 50 });
        const query = store.query().where('payload.email', 'eq', 'e7');
        expect(await rowsOf(query, 'tenant_amount')).toEqual([8]);
      } finally {
        await store.close();
      }
    }
  });
});

describe('a checkpoint written before indexes counted their gaps', () => {
  /** Rewrites checkpoint.bin with its metadata changed by `edit`, as another build would have written it. */
  async function rewriteCheckpointMeta(
    dir: string,
    edit: (meta: { userIndexes: object[] }) => void,
  ): Promise<void> {
    const path = join(dir, 'checkpoint.bin');
    const bytes = await readFile(path);
    const metaEnd = 8 + bytes.readUInt32LE(4);
    const meta = JSON.parse(bytes.toString('utf8', 8, metaEnd)) as { userIndexes: object[] };
    edit(meta);
    const arrays = bytes.subarray((metaEnd + 7) & ~7, bytes.length - 4);
    const metaBytes = Buffer.from(JSON.stringify(meta));
    const head = Buffer.alloc(8);
    head.writeUInt32LE(bytes.readUInt32LE(0), 0);
    head.writeUInt32LE(metaBytes.length, 4);
    const padding = Buffer.alloc((8 - ((8 + metaBytes.length) % 8)) % 8);
    const body = Buffer.concat([head, metaBytes, padding, arrays]);
    const tail = Buffer.alloc(4);
    tail.writeUInt32LE(crc32(body) >>> 0);
    await writeFile(path, Buffer.concat([body, tail]));
  }

  test('the index is rebuilt from the log, not trusted to have no gaps', async () => {
    const dir = await storeDir();
    let store = await openEventStore({ dir, fsync: 'never' });
    await store.append(events(0, 60));
    for (const definition of DEFINITIONS) await store.indexes.createIndex(definition);
    await store.close();
    await rewriteCheckpointMeta(dir, (meta) => {
      for (const index of meta.userIndexes) delete (index as { gaps?: unknown }).gaps;
    });
    store = await openEventStore({ dir });
    try {
      // Events 0, 13, 26, 39 and 52 have no amount: a tenant-only query must not use the index.
      const tenant = store.query().where('tags.tenant', 'eq', 't0');
      expect((await store.explain(tenant)).considered.map((path) => path.index)).not.toContain(
        'tenant_amount',
      );
      expect(sequences((await tenant.execute()) as StoredEvent[])).toEqual(await rowsOf(tenant, 'scan'));
      await checkProbes(store);
    } finally {
      await store.close();
    }
  });
});

describe('a corrupt indexes.json', () => {
  const corruptions: [string, string][] = [
    ['garbage', 'not json at all \u0000\u00ff'],
    ['truncated JSON', '{"version":1,"indexes":[{"name":"by_email","fie'],
    ['an empty file', ''],
    ['JSON of the wrong shape', '{"version":1}'],
    ['a list that is not an array', '{"version":1,"indexes":{"name":"x"}}'],
    [
      'a definition on an unknown field',
      '{"version":1,"indexes":[{"name":"x","fields":["colour"],"type":"btree","unique":false,"createdAt":0}]}',
    ],
    [
      'a definition with a bad name',
      '{"version":1,"indexes":[{"name":"bad name","fields":["type"],"type":"btree","unique":false,"createdAt":0}]}',
    ],
  ];

  test.each(corruptions)('%s: open fails with a CorruptionError naming the file', async (_label, text) => {
    const dir = await storeDir();
    const store = await openEventStore({ dir, fsync: 'never' });
    await store.append(events(0, 20));
    await store.indexes.createIndex(DEFINITIONS[1]!);
    await store.close();
    const path = join(dir, 'indexes.json');
    const good = await readFile(path, 'utf8');
    await writeFile(path, text);

    const error = await rejection(() => openEventStore({ dir }));
    expectError(error, CorruptionError, 'CORRUPTION', path, 'index definitions');
    expect((error as CorruptionError).file).toBe(path);

    // The failed open let go of the directory; with the file mended, the store opens with its index.
    await writeFile(path, good);
    const mended = await openEventStore({ dir });
    try {
      expect((await userIndexes(mended)).map((index) => index.name)).toEqual(['by_email']);
      expect(await rowsOf(mended.query().where('payload.email', 'eq', 'e5'), 'by_email')).toEqual([6]);
    } finally {
      await mended.close();
    }
  });
});

// ---- kill -9 -------------------------------------------------------------------------------------

/** The library built for the child, in a directory of its own (not dist/, which kill.test.ts builds). */
let lib = '';

beforeAll(async () => {
  const out = await tempDir('tamma-index-build-');
  dirs.push(out);
  // ESM output needs "type": "module", and the build's imports resolve through the project's node_modules.
  await writeFile(join(out, 'package.json'), '{ "type": "module" }\n');
  await symlink(join(ROOT, 'node_modules'), join(out, 'node_modules'), 'dir');
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = ['-p', 'tsconfig.build.json', '--outDir', join(out, 'dist')];
  const output = await new Promise<string>((resolve) => {
    execFile(
      process.execPath,
      [tsc, ...args, '--declaration', 'false', '--sourceMap', 'false', '--noCheck'],
      { cwd: ROOT },
      (error, stdout, stderr) => resolve(error ? `${stdout}${stderr}` : ''),
    );
  });
  lib = join(out, 'dist', 'index.js');
  expect(existsSync(lib), `build failed:\n${output}`).toBe(true);
}, 180_000);

interface Ack {
  lastSequence: number;
  batch: number;
  count: number;
}

interface Run {
  lines: string[];
  acks: Ack[];
  signal: NodeJS.Signals | null;
  stderr: string;
}

interface WriterConfig {
  dir: string;
  firstBatch: number;
  checkpointEvery?: number;
  initial?: number;
  drop?: boolean;
}

/** Runs the writer and SIGKILLs it once `killWhen` says so for a line it printed. */
function runWriter(config: WriterConfig, killWhen: (line: string, run: Run) => boolean): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, JSON.stringify({ ...config, lib })], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run: Run = { lines: [], acks: [], signal: null, stderr: '' };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `the writer was not killed in time; stdout:\n${run.lines.join('\n')}\nstderr:\n${run.stderr}`,
        ),
      );
    }, 50_000);
    child.stderr.on('data', (chunk: Buffer) => {
      run.stderr += chunk.toString();
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      run.lines.push(line);
      const [word, ...rest] = line.split(' ');
      if (word === 'ACK') {
        const [lastSequence, batch, count] = rest.map(Number) as [number, number, number];
        run.acks.push({ lastSequence, batch, count });
      }
      if (child.exitCode === null && killWhen(line, run)) child.kill('SIGKILL');
    });
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      run.signal = signal;
      resolve(run);
    });
  });
}

/** After a crash: the indexes named are there, hold every acknowledged event, and still enforce. */
async function checkAfterCrash(dir: string, acks: readonly Ack[], expected: string[]): Promise<void> {
  const store = await openEventStore({ dir });
  try {
    expect((await userIndexes(store)).map((index) => index.name).sort()).toEqual([...expected].sort());
    const total = store.stats().events;
    expect(total).toBeGreaterThanOrEqual(acks.at(-1)?.lastSequence ?? 0);
    expect((await store.indexes.analyzeIndex('by_key')).entries).toBe(total);
    for (const ack of acks.slice(-6)) {
      const last = store.query().where('payload.key', 'eq', `k-${ack.batch}-${ack.count - 1}`);
      expect(await rowsOf(last, 'by_key')).toEqual([ack.lastSequence]);
      if (expected.includes('by_batch')) {
        const batch = store.query().where('tags.batch', 'eq', ack.batch).where('payload.index', 'gte', 0);
        expect(await rowsOf(batch, 'by_batch')).toEqual(
          Array.from({ length: ack.count }, (_, i) => ack.lastSequence - ack.count + 1 + i),
        );
      }
    }
    for (const amount of [0, 13, 49]) {
      const placed = store.query().where('type', 'eq', 'Placed').where('payload.amount', 'eq', amount);
      expect(await rowsOf(placed, 'placed_amount')).toEqual(await rowsOf(placed, 'scan'));
    }
    const all = store.query().where('payload.key', 'prefix', 'k-');
    expect((await rowsOf(all, 'scan')).length).toBe(total);
    if (acks.length > 0) {
      const { batch } = acks.at(-1)!;
      const error = await rejection(() =>
        store.append({ aggregateId: 'x', type: 'Other', payload: { key: `k-${batch}-0` } }),
      );
      expectError(error, UniqueViolationError, 'UNIQUE_VIOLATION', `"k-${batch}-0"`);
    }
  } finally {
    await store.close();
  }
}

describe('kill -9 after createIndex resolved', () => {
  test('the indexes survive, with every acknowledged append in them', async () => {
    const dir = await storeDir();
    const acks: Ack[] = [];
    // Killed as soon as the indexes are ready; then after some appends, with checkpoints every 40 events.
    for (const [round, killAfterAcks] of [0, 9, 25].entries()) {
      const run = await runWriter({ dir, firstBatch: (round + 1) * 1000, checkpointEvery: 40 }, (line, r) =>
        killAfterAcks === 0 ? line === 'INDEXED' : r.acks.length >= killAfterAcks,
      );
      expect(run.signal, run.stderr).toBe('SIGKILL');
      expect(run.lines).toContain('INDEXED');
      acks.push(...run.acks);
      await checkAfterCrash(dir, acks, ['by_key', 'by_batch', 'placed_amount']);
    }
  });

  test('a dropped index stays dropped', async () => {
    const dir = await storeDir();
    const run = await runWriter(
      { dir, firstBatch: 1000, checkpointEvery: 30, drop: true },
      (_line, r) => r.acks.length >= 12,
    );
    expect(run.signal, run.stderr).toBe('SIGKILL');
    expect(run.lines).toContain('DROPPED');
    await checkAfterCrash(dir, run.acks, ['by_key', 'placed_amount']);
  });

  test('a crash in the middle of a build leaves no index, and the store opens', async () => {
    const dir = await storeDir();
    const run = await runWriter({ dir, firstBatch: 1000, initial: 20_000 }, (line) => {
      const [word, indexed, total] = line.split(' ');
      return word === 'PROGRESS' && Number(indexed) < Number(total);
    });
    expect(run.signal, run.stderr).toBe('SIGKILL');
    expect(run.lines).not.toContain('INDEXED');
    const store = await openEventStore({ dir });
    try {
      expect(store.stats().events).toBe(20_000);
      expect(await userIndexes(store)).toEqual([]);
      await store.indexes.createIndex({
        name: 'by_key',
        fields: ['payload.key'],
        type: 'hash',
        unique: true,
      });
      expect((await store.indexes.analyzeIndex('by_key')).entries).toBe(20_000);
      const error = await rejection(() => store.indexes.createIndex({ name: 'by_key', fields: ['type'] }));
      expectError(error, TammaError, 'INDEX_EXISTS');
    } finally {
      await store.close();
    }
  });
});
