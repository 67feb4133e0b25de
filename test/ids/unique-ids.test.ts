/**
 * Event ids are unique in the store, also across reopen (clean close: from the checkpoint; crash:
 * checkpoint + replayed tail), cleanup (removed ids are free; compaction keeps the index) and
 * restore (an archived event whose id is live is refused). The in-batch and across-batch rules are
 * in the contract suite (test/contract/event-ids.contract.ts, "event ids are unique in the store").
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, test } from 'vitest';
import {
  DuplicateEventIdError,
  ManualClock,
  openEventStore,
  type EventStore,
  type OpenOptions,
  type StoredEvent,
} from '../../src/index.js';
import { expectError, observe, rejection, removeDir, tempDir } from '../support/helpers.js';
import { idBatch, T0 } from './id-events.js';
import { REGISTER, LIB } from '../support/child-paths.js';

const WRITER = fileURLToPath(new URL('./id-writer.mjs', import.meta.url));
const HOUR = 3_600_000;

const dirs: string[] = [];
const stores: EventStore[] = [];

afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close().catch(() => undefined)));
  await Promise.all(dirs.splice(0).map(removeDir));
});

async function fresh(): Promise<string> {
  const dir = await tempDir('tamma-ids-');
  dirs.push(dir);
  return dir;
}

async function open(options: OpenOptions): Promise<EventStore> {
  const store = await openEventStore({ clock: new ManualClock(T0 + 86_400_000), ...options });
  stores.push(store);
  return store;
}

/** Bytes of every file in the store's log directory: what a retry must not change. */
async function logBytes(dir: string): Promise<number> {
  const names = await readdir(join(dir, 'log'));
  const sizes = await Promise.all(names.map(async (name) => (await stat(join(dir, 'log', name))).size));
  return sizes.reduce((a, b) => a + b, 0);
}

/** Appends every batch again: each must come back as stored, and nothing may be written. */
async function retryAll(store: EventStore, dir: string, acknowledged: StoredEvent[][]): Promise<void> {
  const before = { bytes: await logBytes(dir), observed: await observe(store) };
  for (const [b, stored] of acknowledged.entries()) expect(await store.append(idBatch(b))).toEqual(stored);
  await store.flush();
  expect(await logBytes(dir)).toBe(before.bytes);
  expect(await observe(store)).toEqual(before.observed);
}

describe('ids stay unique across reopen', () => {
  test('after a clean close (reopened from the checkpoint): retries return the stored events, other content is refused', async () => {
    const dir = await fresh();
    let store = await open({ dir, segmentSize: 4096 });
    const acknowledged: StoredEvent[][] = [];
    for (let b = 0; b < 30; b++) acknowledged.push(await store.append(idBatch(b)));
    await store.close();

    store = await open({ dir, segmentSize: 4096 });
    await retryAll(store, dir, acknowledged);
    const changed = { ...idBatch(6)[2]!, payload: { other: true } };
    const error = await rejection(() => store.append([idBatch(99)[0]!, changed]));
    const holder = acknowledged[6]![2]!;
    expectError(error, DuplicateEventIdError, 'DUPLICATE_EVENT_ID', '"b6-e2"', `sequence ${holder.sequence}`);
    expect(error).toMatchObject({ id: 'b6-e2', sequence: holder.sequence, eventIndex: 1 });
    // And new ids go on after the last sequence.
    const [next] = await store.append(idBatch(30));
    expect(next!.sequence).toBe(acknowledged.at(-1)!.at(-1)!.sequence + 1);
  });

  test('rebuilt from the log alone (no checkpoint), the rule holds the same', async () => {
    const dir = await fresh();
    let store = await open({ dir, segmentSize: 4096 });
    const acknowledged: StoredEvent[][] = [];
    for (let b = 0; b < 20; b++) acknowledged.push(await store.append(idBatch(b)));
    await store.close();
    await rm(join(dir, 'checkpoint.bin'));
    store = await open({ dir, segmentSize: 4096 });
    await retryAll(store, dir, acknowledged);
    await expect(store.append({ ...idBatch(3)[0]!, type: 'OTHER' })).rejects.toBeInstanceOf(
      DuplicateEventIdError,
    );
  });

  test('a checkpoint from before the id index is not used: the store is rebuilt from the log, ids and all', async () => {
    const dir = await fresh();
    let store = await open({ dir, segmentSize: 4096 });
    const acknowledged: StoredEvent[][] = [];
    for (let b = 0; b < 20; b++) acknowledged.push(await store.append(idBatch(b)));
    await store.close();
    await writeFile(join(dir, 'checkpoint.bin'), withoutIdIndex(await readFile(join(dir, 'checkpoint.bin'))));
    store = await open({ dir, segmentSize: 4096 });
    await retryAll(store, dir, acknowledged);
    await expect(store.append({ ...idBatch(3)[0]!, type: 'OTHER' })).rejects.toBeInstanceOf(
      DuplicateEventIdError,
    );
  });

  test('after a crash (SIGKILL; a checkpoint and a replayed tail): every acknowledged batch retried writes nothing', async () => {
    const dir = await fresh();
    const acks = await runUntilKilled(dir, 40);
    const store = await open({ dir, segmentSize: 4096 });
    // The batch in flight when the child died may or may not be there: either way, appending it
    // now leaves it there once.
    const acknowledged: StoredEvent[][] = [];
    for (let b = 0; b < acks; b++) {
      const stored = await store.read({ fromSequence: (acknowledged.at(-1)?.at(-1)?.sequence ?? 0) + 1 });
      acknowledged.push(stored.slice(0, idBatch(b).length));
    }
    expect(acknowledged.flat().map((e) => e.id)).toEqual(
      Array.from({ length: acks }, (_, b) => idBatch(b).map((e) => e.id)).flat(),
    );
    await retryAll(store, dir, acknowledged);
    await store.append(idBatch(acks));
    await store.append(idBatch(acks));
    const ids = (await store.read()).map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    // The child may have written batches past the last ACK line read before the kill: the log holds
    // batches 0..m-1, each once and in order, for some m past `acks` (idBatch(acks) was added above).
    const expected: string[] = [];
    for (let b = 0; expected.length < ids.length; b++)
      expected.push(...idBatch(b).map((e) => e.id as string));
    expect(ids).toEqual(expected);
    expect(ids.length).toBeGreaterThanOrEqual(acknowledged.flat().length + idBatch(acks).length);
  });
});

/**
 * The checkpoint as the build before the id index wrote it: its metadata without `table.ids`, and
 * without the index's arrays (the table's last ones; this store has no user indexes). Layout:
 * src/storage/embedded/checkpoint.ts.
 */
function withoutIdIndex(bytes: Buffer): Buffer {
  const align8 = (n: number) => (n + 7) & ~7;
  const metaLength = bytes.readUInt32LE(4);
  const meta = JSON.parse(bytes.toString('utf8', 8, 8 + metaLength)) as {
    table: { ids?: { hashes: number[] } };
    userIndexes?: unknown[];
    arrays: [string, number][];
  };
  expect(meta.userIndexes ?? []).toEqual([]);
  const idArrays = meta.table.ids!.hashes.length + 1;
  const sizes = { f64: 8, u32: 4, i32: 4 } as Record<string, number>;
  let at = align8(8 + metaLength);
  const kept = meta.arrays.slice(0, meta.arrays.length - idArrays);
  const body = kept.map(([kind, length]) => {
    const bytesOf = bytes.subarray(at, at + align8(sizes[kind]! * length));
    at += align8(sizes[kind]! * length);
    return bytesOf;
  });
  delete meta.table.ids;
  meta.arrays = kept;
  const metaBytes = Buffer.from(JSON.stringify(meta));
  const head = Buffer.alloc(8);
  head.writeUInt32LE(bytes.readUInt32LE(0), 0);
  head.writeUInt32LE(metaBytes.length, 4);
  const padding = Buffer.alloc(align8(8 + metaBytes.length) - 8 - metaBytes.length);
  const image = Buffer.concat([head, metaBytes, padding, ...body]);
  const tail = Buffer.alloc(4);
  tail.writeUInt32LE(crc32(image) >>> 0);
  return Buffer.concat([image, tail]);
}

/** Runs id-writer.mjs until it has acknowledged `acks` batches, then SIGKILLs it. */
async function runUntilKilled(dir: string, acks: number): Promise<number> {
  const child = spawn(
    process.execPath,
    ['--import', REGISTER, WRITER, JSON.stringify({ dir, lib: LIB, checkpointEvery: 60 })],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_, signal) => resolve(signal)),
  );
  let seen = 0;
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.startsWith('ACK ') && ++seen >= acks) {
      child.kill('SIGKILL');
      break;
    }
  }
  expect(await exited, stderr).toBe('SIGKILL');
  return seen;
}

describe('cleanup and restore', () => {
  const retention = (archive?: string) => ({
    maxAge: '1h',
    types: { 'KEEP.*': 'forever' },
    schedule: false as const,
    ...(archive === undefined ? {} : { archive: { dir: archive } }),
  });

  test('ids of events cleanup removed are free again; ids of events it kept are not (also after compaction and reopen)', async () => {
    const dir = await fresh();
    const clock = new ManualClock(T0);
    let store = await open({ dir, clock, retention: retention() });
    // 3,000 that expire around 30 that stay, spread through the table: cleanup compacts it.
    for (let b = 0; b < 30; b++) {
      await store.append(
        Array.from({ length: 100 }, (_, i) => ({
          id: `e${b}-${i}`,
          aggregateId: `s${i % 4}`,
          type: i === 0 ? 'KEEP.x' : 'T',
          payload: { b, i },
        })),
      );
    }
    const entries = store.stats().indexes.id!.entries;
    expect(entries).toBe(3000);
    clock.advance(2 * HOUR);
    expect(await store.cleanup()).toMatchObject({ removed: 2970 });
    // The index let go of the removed rows.
    expect(store.stats().indexes.id!.entries).toBe(30);
    for (const reopen of [false, true]) {
      if (reopen) {
        await store.close();
        store = await open({ dir, clock, retention: retention() });
      }
      const kept = await store.append({
        id: 'e5-0',
        aggregateId: 's0',
        type: 'KEEP.x',
        payload: { b: 5, i: 0 },
      });
      expect(kept[0]!.sequence).toBe(501);
      await expect(store.append({ id: 'e5-0', aggregateId: 's0', type: 'OTHER' })).rejects.toMatchObject({
        code: 'DUPLICATE_EVENT_ID',
        sequence: 501,
      });
    }
    // A removed event's id takes a new event.
    const [reused] = await store.append({
      id: 'e5-1',
      aggregateId: 'new',
      type: 'T',
      payload: { new: true },
    });
    expect(reused).toMatchObject({ id: 'e5-1', sequence: 3001 });
  });

  test('a restore that would bring back an id a live event holds is refused, and changes nothing', async () => {
    const dir = await fresh();
    const archive = join(await fresh(), 'archive');
    const clock = new ManualClock(T0);
    const store = await open({ dir, clock, segmentSize: 4096, retention: retention(archive) });
    await store.append([
      { id: 'old-1', aggregateId: 's', type: 'T', payload: { v: 1 } },
      { id: 'old-2', aggregateId: 's', type: 'T', payload: { v: 2 } },
    ]);
    clock.advance(2 * HOUR);
    expect(await store.cleanup()).toMatchObject({ archived: 2, removed: 2 });
    // Removed, so free: a new event takes the id.
    const [taken] = await store.append({
      id: 'old-2',
      aggregateId: 'other',
      type: 'T',
      payload: { v: 'new' },
    });
    expect(taken!.sequence).toBe(3);
    const before = await observe(store);
    const error = await rejection(() => store.restoreArchive(archive));
    expectError(error, DuplicateEventIdError, 'DUPLICATE_EVENT_ID', '"old-2"', 'sequence 3', 'sequence 2');
    expect(error).toMatchObject({ id: 'old-2', sequence: 3, path: 'archiveDir' });
    expect(await observe(store)).toEqual(before);
    // Into another store, where the id is free, the archive restores.
    const other = await open({ dir: await fresh(), clock });
    expect(await other.restoreArchive(archive)).toMatchObject({ restored: 2 });
    expect((await other.read()).map((e) => e.id)).toEqual(['old-1', 'old-2']);
    // And a restored event's id is held like any other.
    await expect(other.append({ id: 'old-1', aggregateId: 's', type: 'X' })).rejects.toMatchObject({
      code: 'DUPLICATE_EVENT_ID',
      sequence: 1,
    });
  });
});
