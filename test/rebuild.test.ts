import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  openEventStore,
  type EventStore,
  type NewEvent,
  type StoreStats,
  type TagValue,
} from '../src/index.js';
import { forEachRecord } from '../src/codec/frame.js';
import { scanLog } from '../src/storage/embedded/log/log-scan.js';
import { decodeHeader, decodeId } from '../src/codec/record-codec.js';
import { listSegments } from '../src/storage/embedded/log/segment-files.js';
import type { RawArray } from '../src/storage/embedded/table/snapshot.js';
import { ByteInterner, hashBytes } from '../src/storage/embedded/table/byte-interner.js';
import { EventTable } from '../src/storage/embedded/table/event-table.js';
import { TableReplay } from '../src/storage/embedded/table/table-replay.js';
import { removeDir, tempDir } from './support/helpers.js';

/**
 * Rebuilding the indexes from the log alone (no checkpoint) must give the store it had before: the
 * replay interns names straight from record bytes, so it is checked on names of every length around
 * its 4-byte words, non-ASCII names, and tag values of every kind.
 */

const T0 = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;

const AGGREGATES = [
  'a',
  'ab',
  'abc',
  'abcd',
  'abcde',
  'abcdefgh',
  'abcdefghi',
  'order-1',
  'order-2',
  'order-10',
  'café',
  'заказ-7',
  '注文-1',
  '🎉-party',
  'x'.repeat(300),
];
const TYPES = ['Created', 'Updated', 'Ünïcode.Évent', '型', 'T', 'ORDER.EVENT_1', 'ORDER.EVENT_2'];
const TAG_VALUES: TagValue[] = ['', 'x', 'openai', 'ñ', '0', '1', 0, -0, 1, 1.5, 42, -1e300, true, false];
const TAG_KEYS = ['provider', 'région', 'n', 'flag', 'k', '🔑'];

/** A deterministic mix: every aggregate, type, key and value, keys in varying order, some events untagged. */
function events(count: number, seed: number): NewEvent[] {
  let state = seed;
  const next = (n: number) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % n;
  };
  const out: NewEvent[] = [];
  for (let i = 0; i < count; i++) {
    const tags: Record<string, TagValue> = {};
    const tagCount = next(4);
    for (let t = 0; t < tagCount; t++)
      tags[TAG_KEYS[next(TAG_KEYS.length)] as string] = TAG_VALUES[next(TAG_VALUES.length)] as TagValue;
    out.push({
      aggregateId: AGGREGATES[next(AGGREGATES.length)] as string,
      type: TYPES[next(TYPES.length)] as string,
      // Mostly in order, some late: the time index's out-of-order path is rebuilt too.
      timestamp: T0 + i * 60_000 - (next(10) === 0 ? next(5) * HOUR : 0),
      tags,
      payload: { i },
    });
  }
  return out;
}

/** What the store answers, through every query method, for every name it holds. */
async function answers(store: EventStore): Promise<unknown> {
  const result: Record<string, unknown> = {};
  result.read = await store.read();
  result.readFrom = await store.read({ fromSequence: 37, limit: 50 });
  for (const aggregate of [...AGGREGATES, 'absent']) {
    result[`getEvents ${aggregate}`] = await store.getEvents(aggregate);
    result[`getEvents ${aggregate} 2..5`] = await store.getEvents(aggregate, {
      fromVersion: 2,
      toVersion: 5,
    });
    for (const type of TYPES)
      result[`queryEvents ${aggregate} ${type}`] = await store.queryEvents({ aggregateId: aggregate, type });
  }
  for (const type of [...TYPES, 'absent']) {
    result[`getEventsByType ${type}`] = await store.getEventsByType(type);
    result[`getEventsByType ${type} after`] = await store.getEventsByType(type, {
      afterSequence: 40,
      limit: 7,
    });
    result[`query type ${type}`] = await store.query().where('type', 'eq', type).execute();
  }
  for (const key of [...TAG_KEYS, 'absent']) {
    for (const value of [...TAG_VALUES, 'absent', 7]) {
      const label = `${key}=${typeof value}:${Object.is(value, -0) ? '-0' : String(value)}`;
      result[`queryEvents ${label}`] = await store.queryEvents({ tags: { [key]: value } });
      result[`query ${label}`] = await store.query().where(`tags.${key}`, 'eq', value).execute();
    }
    result[`queryEvents ${key} in`] = await store.queryEvents({
      tags: { [key]: ['', 0, true, 'openai', 1] },
      order: 'desc',
      limit: 20,
    });
  }
  result.range = await store.getEventsInRange(T0 + HOUR, T0 + 3 * HOUR);
  result.rangeAll = await store.getEventsInRange(T0 - 10 * HOUR, T0 + 1000 * HOUR);
  result.combined = await store.queryEvents({
    type: ['Created', '型'],
    from: T0,
    to: T0 + 5 * HOUR,
    tags: { provider: ['openai', 'ñ'] },
  });
  result.ordered = await store
    .query()
    .where('aggregateId', 'eq', 'café')
    .orderBy('timestamp', 'desc')
    .execute();
  return result;
}

/** The counts stats() reports, without what depends on the process or on the lookups made so far. */
function counts(stats: StoreStats): unknown {
  const indexes: Record<string, unknown> = {};
  for (const [name, index] of Object.entries(stats.indexes))
    indexes[name] = { keys: index.keys, entries: index.entries, bytes: index.bytes };
  return {
    events: stats.events,
    aggregates: stats.aggregates,
    types: stats.types,
    lastSequence: stats.lastSequence,
    indexes,
    columns: stats.memory.columns,
    indexBytes: stats.memory.indexes,
    dictionaries: stats.memory.dictionaries,
  };
}

describe('rebuilding the indexes from the log', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  async function write(batches: NewEvent[][], options: { checkpointAfter?: number } = {}): Promise<void> {
    const store = await openEventStore({ dir, fsync: 'never', checkpointEvery: 0 });
    for (let b = 0; b < batches.length; b++) {
      await store.append(batches[b] as NewEvent[]);
      if (b === options.checkpointAfter) await store.checkpoint();
    }
    await store.close();
  }

  test('answers every query exactly as before, with the same counts', async () => {
    const all = events(600, 7);
    await write([all.slice(0, 1), all.slice(1, 200), all.slice(200, 450), all.slice(450)]);
    // Opened from its checkpoint: what the store answered before.
    const before = await openEventStore({ dir });
    const beforeCounts = counts(before.stats());
    const beforeAnswers = await answers(before);
    await before.close();

    await rm(join(dir, 'checkpoint.bin'));
    const rebuilt = await openEventStore({ dir, checkpointEvery: 0 });
    try {
      expect(existsSync(join(dir, 'checkpoint.bin'))).toBe(false);
      expect(counts(rebuilt.stats())).toEqual(beforeCounts);
      expect(await answers(rebuilt)).toEqual(beforeAnswers);
      // Appends after the rebuild continue the same streams and dictionaries.
      const [next] = await rebuilt.append({ aggregateId: 'café', type: '型', tags: { région: 'ñ' } });
      const stream = await rebuilt.getEvents('café');
      expect(next?.version).toBe(stream.length);
      expect((await rebuilt.queryEvents({ tags: { région: 'ñ' } })).at(-1)?.sequence).toBe(next?.sequence);
    } finally {
      await rebuilt.close();
    }
  });

  test('replays the log after a checkpoint into the dictionaries it loaded', async () => {
    const all = events(400, 11);
    // Checkpoint after the second batch; the later batches reuse its names and add new ones.
    await write([all.slice(0, 150), all.slice(150, 160), all.slice(160, 300), all.slice(300)], {
      checkpointAfter: 1,
    });
    const fromCheckpoint = await openEventStore({ dir, checkpointEvery: 0 });
    const checkpointCounts = counts(fromCheckpoint.stats());
    const checkpointAnswers = await answers(fromCheckpoint);
    await fromCheckpoint.close();

    await rm(join(dir, 'checkpoint.bin'));
    const rebuilt = await openEventStore({ dir, checkpointEvery: 0 });
    try {
      expect(counts(rebuilt.stats())).toEqual(checkpointCounts);
      expect(await answers(rebuilt)).toEqual(checkpointAnswers);
    } finally {
      await rebuilt.close();
    }
  });

  test('builds the same table, array for array, as adding each decoded record', async () => {
    // Names from several scripts, including astral characters (surrogate pairs) and a Latin-1 one.
    const odd: NewEvent = { aggregateId: 'ördér-𝄞', type: 'Tÿpe.🎉', tags: { ключ: 'значение' } };
    await write([events(500, 3), [odd], events(300, 5)]);
    const byRow = new EventTable();
    const replayed = new EventTable();
    const replay = new TableReplay(replayed);
    const scan = scanLog(listSegments(dir), 0, 1, (frame) => {
      forEachRecord(frame.bytes, frame.count, (record, offset) => {
        const header = decodeHeader(record);
        const row = byRow.addRow(
          header.aggregateId,
          header.type,
          header.timestamp,
          header.version,
          frame.offset + offset,
          record.length,
          header.tags,
        );
        // What the store's append does after addRow (storage/embedded/append-batch.ts commit).
        byRow.ids.add(row, byRow.ids.hashOf(decodeId(record)));
      });
      replay.addFrame(frame.bytes, frame.count, frame.offset);
    });
    expect(scan.problem).toBeUndefined();
    expect(replayed.rows).toBe(801);
    const arraysA: RawArray[] = [];
    const arraysB: RawArray[] = [];
    const metaA = byRow.snapshot(arraysA);
    const metaB = replayed.snapshot(arraysB);
    expect(metaB).toEqual(metaA);
    // toEqual treats 0 and -0 as equal: tag values must keep their sign, as addRow keeps it.
    expect(metaB.tags.map((t) => t.values.map((v) => Object.is(v, -0)))).toEqual(
      metaA.tags.map((t) => t.values.map((v) => Object.is(v, -0))),
    );
    expect(arraysB.length).toBe(arraysA.length);
    arraysA.forEach((array, i) => expect(arraysB[i]).toEqual(array));
  });
});

describe('ByteInterner', () => {
  test('finds every name added, by its bytes alone, and nothing else', () => {
    const names: string[] = [''];
    for (let length = 1; length <= 40; length++) {
      names.push('a'.repeat(length), 'b'.repeat(length), `${'a'.repeat(length - 1)}b`);
      if (length > 2) names.push(`b${'a'.repeat(length - 2)}b`, `${'a'.repeat(length >> 1)}é`);
    }
    for (let i = 0; i < 5000; i++) names.push(`agg-${i}`, `${i}-suffix`);
    const interner = new ByteInterner();
    const encoded = [...new Set(names)].map((name) => Buffer.from(name));
    const view = (bytes: Buffer) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    encoded.forEach((bytes, id) => {
      const v = view(bytes);
      const hash = hashBytes(v, 0, bytes.length);
      expect(interner.find(v, 0, bytes.length, hash)).toBe(-1);
      interner.add(v, 0, bytes.length, hash, id);
    });
    encoded.forEach((bytes, id) => {
      // At an offset inside a bigger buffer, as names lie inside a frame.
      const framed = Buffer.concat([Buffer.from('xyz'), bytes, Buffer.from('qq')]);
      const v = view(framed);
      expect(interner.find(v, 3, 3 + bytes.length, hashBytes(v, 3, 3 + bytes.length))).toBe(id);
    });
    for (const absent of ['agg-5000', 'agg-', 'a'.repeat(41), 'ba', `${'a'.repeat(7)}c`, '0-suffi']) {
      const bytes = Buffer.from(absent);
      const v = view(bytes);
      expect(interner.find(v, 0, bytes.length, hashBytes(v, 0, bytes.length))).toBe(-1);
    }

    // With every hash colliding, only the byte comparison tells names apart.
    const colliding = new ByteInterner();
    const few = encoded.slice(0, 300);
    few.forEach((bytes, id) => colliding.add(view(bytes), 0, bytes.length, 42, id));
    few.forEach((bytes, id) => expect(colliding.find(view(bytes), 0, bytes.length, 42)).toBe(id));
    const other = Buffer.from('a'.repeat(39) + 'c');
    expect(colliding.find(view(other), 0, other.length, 42)).toBe(-1);
  });
});
