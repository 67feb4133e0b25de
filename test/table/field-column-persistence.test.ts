/**
 * Field columns on disk: written with the checkpoint and read back at open without decoding a
 * record again; the log after the checkpoint caught up at first use (or at open, for a declared
 * column); a checkpoint without field columns (as older builds wrote) still opens, the columns
 * extracted again; one whose field column does not check is refused and the store rebuilt from the
 * log, never read back wrong. Also the `fieldColumns` option's checks and `stats()`.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CorruptionError,
  openEventStore,
  ValidationError,
  type EventStore,
  type NewEvent,
  type StoredEvent,
} from '../../src/index.js';
import { ManualClock } from '../../src/events/clock.js';
import { readPath } from '../../src/query/fields.js';
import { CHECKPOINT_FILE } from '../../src/storage/embedded/log/segment-files.js';
import { expectError, removeDir, tempDir } from '../support/helpers.js';
import { tableOf } from '../support/internals.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await removeDir(dir);
});
async function storeDir(): Promise<string> {
  const dir = await tempDir('tamma-fieldcols-');
  dirs.push(dir);
  return dir;
}

const CARRIERS = ['AA', 'UA', 'DL', 'é'];
const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;
function events(from: number, count: number): NewEvent[] {
  return Array.from({ length: count }, (_, k): NewEvent => {
    const i = from + k;
    return {
      aggregateId: `f-${i % 50}`,
      type: 'FLIGHT',
      tags: i % 7 === 0 ? {} : { origin: i % 2 === 0 ? 'ORD' : 'SFO' },
      payload:
        i % 11 === 0
          ? { other: true }
          : { delay: i % 13 === 0 ? 'n/a' : (i * 37) % 200, carrier: CARRIERS[i % 4], gate: { n: i % 9 } },
    };
  });
}

async function expectColumnsMatch(store: EventStore, fields: readonly string[]): Promise<void> {
  const table = tableOf(store);
  const all: StoredEvent[] = await store.read();
  for (const field of fields) {
    const column = table.fieldColumn(field);
    // One comparison of the whole column: a failure shows the rows that differ.
    const got = all.map((event) => [event.sequence, column.value(event.sequence - 1)]);
    const want = all.map((event) => [
      event.sequence,
      field.startsWith('tags.')
        ? (event.tags as Record<string, unknown>)[field.slice(5)]
        : readPath(event.payload, field.slice(8).split('.')),
    ]);
    expect(got, field).toStrictEqual(want);
  }
}

/** Rewrites the checkpoint's metadata with `change`, its arrays kept, its CRC made right again. */
function rewriteCheckpointMeta(dir: string, change: (meta: Record<string, unknown>) => void): void {
  const path = join(dir, CHECKPOINT_FILE);
  const bytes = readFileSync(path);
  const metaEnd = 8 + bytes.readUInt32LE(4);
  const meta = JSON.parse(bytes.toString('utf8', 8, metaEnd)) as Record<string, unknown>;
  change(meta);
  const arrays = bytes.subarray((metaEnd + 7) & ~7, bytes.length - 4);
  const metaBytes = Buffer.from(JSON.stringify(meta));
  const head = Buffer.alloc(8);
  head.writeUInt32LE(bytes.readUInt32LE(0), 0);
  head.writeUInt32LE(metaBytes.length, 4);
  const padding = Buffer.alloc((8 - ((8 + metaBytes.length) % 8)) % 8);
  const body = Buffer.concat([head, metaBytes, padding, arrays]);
  const tail = Buffer.alloc(4);
  tail.writeUInt32LE(crc32(body) >>> 0);
  writeFileSync(path, Buffer.concat([body, tail]));
}

const FIELDS = ['payload.delay', 'payload.carrier', 'payload.gate.n', 'tags.origin'];

describe('field columns across close and reopen', () => {
  it('one extracted on use with no append since is saved by close all the same', async () => {
    const dir = await storeDir();
    const store = await openEventStore({ dir });
    await store.append(events(0, 500));
    await store.close();
    const used = await openEventStore({ dir });
    tableOf(used).fieldColumn('payload.carrier');
    await used.close();
    const again = await openEventStore({ dir });
    expect(tableOf(again).fieldColumn('payload.carrier').restored).toBe(true);
    expect(tableOf(again).fieldColumns.rowsDecoded).toBe(0);
    await again.close();
  });

  it('come back from the checkpoint without decoding a record; the log after it is caught up', async () => {
    const dir = await storeDir();
    const store = await openEventStore({ dir });
    await store.append(events(0, 3000));
    for (const field of FIELDS) tableOf(store).fieldColumn(field);
    expect(tableOf(store).fieldColumns.rowsDecoded).toBe(4 * 3000);
    await store.append(events(3000, 500)); // kept up from the events appended, not from the log
    expect(tableOf(store).fieldColumns.rowsDecoded).toBe(4 * 3000);
    await store.close();

    const again = await openEventStore({ dir });
    const table = tableOf(again);
    for (const field of FIELDS) expect(table.hasFieldColumn(field)).toBe(true);
    await expectColumnsMatch(again, FIELDS);
    expect(table.fieldColumns.rowsDecoded).toBe(0);
    expect(table.fieldColumn('payload.delay').restored).toBe(true);
    await again.close();
  });

  it('a declared column is extracted at open, and caught up at open from the log after the checkpoint', async () => {
    const dir = await storeDir();
    const store = await openEventStore({ dir, fieldColumns: ['payload.delay'] });
    expect(tableOf(store).hasFieldColumn('payload.delay')).toBe(true);
    await store.append(events(0, 1000));
    await store.checkpoint();
    await store.close();
    // More events than the checkpoint holds: appended by a store that does not declare the column.
    const plain = await openEventStore({ dir });
    expect(tableOf(plain).hasFieldColumn('payload.delay')).toBe(true);
    await plain.append(events(1000, 200));
    // Lost with a crash: the log holds the events, the checkpoint does not (no close checkpoint).
    await plain.flush();
    const { rows } = tableOf(plain);
    (plain as unknown as { engine: { checkpointer: { rows: number } } }).engine.checkpointer.rows = rows;
    await plain.close();

    const again = await openEventStore({ dir, fieldColumns: ['payload.delay'] });
    const column = tableOf(again).fieldColumns.peek('payload.delay');
    expect(column?.filled).toBe(1200);
    await expectColumnsMatch(again, ['payload.delay']);
    expect(again.stats().fieldColumns).toEqual([
      expect.objectContaining({ field: 'payload.delay', rows: 1200, kind: 'mixed', restored: true }),
    ]);
    await again.close();
  });

  it('a checkpoint without field columns (an older build’s) opens; columns are extracted at first use', async () => {
    const dir = await storeDir();
    const store = await openEventStore({ dir });
    await store.append(events(0, 800));
    await store.close();
    rewriteCheckpointMeta(dir, (meta) => {
      expect(meta.fieldColumns).toEqual([]);
      delete meta.fieldColumns;
    });
    const again = await openEventStore({ dir });
    expect(again.stats().storage?.lastCheckpointSequence).toBe(800);
    expect(tableOf(again).hasFieldColumn('payload.carrier')).toBe(false);
    await expectColumnsMatch(again, ['payload.carrier']);
    expect(tableOf(again).fieldColumns.rowsDecoded).toBe(800);
    await again.close();
  });

  it('a field column that does not check refuses the checkpoint: rebuilt from the log, right values', async () => {
    const dir = await storeDir();
    const store = await openEventStore({ dir, fieldColumns: ['payload.carrier'] });
    await store.append(events(0, 800));
    await store.close();
    rewriteCheckpointMeta(dir, (meta) => {
      const [column] = meta.fieldColumns as { values: unknown[] }[];
      // Fewer values than the codes name: reading them back would be wrong.
      (column as { values: unknown[] }).values = ['AA'];
    });
    const again = await openEventStore({ dir });
    const table = tableOf(again);
    expect(table.hasFieldColumn('payload.carrier')).toBe(false);
    await expectColumnsMatch(again, ['payload.carrier']);
    expect(table.fieldColumn('payload.carrier').restored).toBe(false);
    await again.close();
  });

  it('a checkpoint with a column of damaged bytes fails its CRC: not used', async () => {
    const dir = await storeDir();
    const store = await openEventStore({ dir, fieldColumns: ['payload.delay'] });
    await store.append(events(0, 800));
    await store.close();
    const path = join(dir, CHECKPOINT_FILE);
    const bytes = readFileSync(path);
    // The last array is the column's last chunk: flip a byte in it.
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] as number) ^ 0xff;
    writeFileSync(path, bytes);
    const again = await openEventStore({ dir, fieldColumns: ['payload.delay'] });
    expect(tableOf(again).fieldColumn('payload.delay').restored).toBe(false);
    await expectColumnsMatch(again, ['payload.delay']);
    await again.close();
  });
});

describe('field columns when the table is replaced or followed', () => {
  it('a column declared over a checkpoint older than a cleanup that dropped segments is made after the cut', async () => {
    // The checkpoint's table holds rows whose segments are gone until open cuts them: a column
    // extracted before the cut read there (a raw RangeError from the log).
    const dir = await storeDir();
    const clock = new ManualClock(T0);
    const options = { dir, clock, segmentSize: 4096, retention: { maxAge: '1h', schedule: false } } as const;
    const store = await openEventStore(options);
    for (let i = 0; i < 40; i++) await store.append(events(i * 10, 10));
    await store.checkpoint();
    copyFileSync(join(dir, CHECKPOINT_FILE), join(dir, 'old-checkpoint'));
    clock.advance(2 * HOUR);
    await store.append(events(400, 5));
    expect(await store.cleanup()).toMatchObject({ removed: 400, spansDropped: expect.any(Number) as number });
    await store.close();
    copyFileSync(join(dir, 'old-checkpoint'), join(dir, CHECKPOINT_FILE));
    const again = await openEventStore({ ...options, fieldColumns: ['payload.delay'] });
    expect(again.stats().storage?.lastCheckpointSequence).toBe(400);
    await expectColumnsMatch(again, ['payload.delay']);
    await again.close();
  });

  it('a restore back between live events (a new table) gets its columns again, with the restored rows', async () => {
    const dir = await storeDir();
    const archive = join(await storeDir(), 'archive');
    const clock = new ManualClock(T0);
    const store = await openEventStore({
      dir,
      clock,
      fieldColumns: ['payload.delay'],
      retention: { maxAge: '1h', schedule: false, archive: { dir: archive } },
    });
    await store.append(events(0, 300));
    clock.set(T0 + 2 * HOUR);
    await store.append(events(300, 300));
    tableOf(store).fieldColumn('payload.carrier');
    expect((await store.cleanup()).removed).toBe(300);
    await store.setRetention({ schedule: false, archive: { dir: archive } });
    expect((await store.restoreArchive(archive)).restored).toBe(300);
    const table = tableOf(store);
    expect(table.hasFieldColumn('payload.delay')).toBe(true); // declared: made again at once
    await expectColumnsMatch(store, ['payload.delay', 'payload.carrier']);
    await store.append(events(600, 10));
    await expectColumnsMatch(store, ['payload.delay', 'payload.carrier']);
    await store.close();
  });

  it('a read-only follower’s columns take in the writer’s new events', async () => {
    const dir = await storeDir();
    const writer = await openEventStore({ dir });
    await writer.append(events(0, 400));
    await writer.flush();
    const follower = await openEventStore({
      dir,
      readOnly: true,
      followIntervalMs: 0,
      fieldColumns: ['tags.origin'],
    });
    await expectColumnsMatch(follower, ['tags.origin', 'payload.gate.n']);
    await writer.append(events(400, 250));
    await writer.flush();
    await follower.refresh();
    await expectColumnsMatch(follower, ['tags.origin', 'payload.gate.n']);
    expect(tableOf(follower).fieldColumns.peek('tags.origin')?.filled).toBe(650);
    await follower.close();
    await writer.close();
  });
});

describe('a damaged record', () => {
  it('extracting a column over it raises a CorruptionError naming the file and offset', async () => {
    const dir = await storeDir();
    const store = await openEventStore({ dir });
    await store.append(events(0, 50));
    const table = tableOf(store);
    const where = (
      store as unknown as {
        engine: { parts: { log: { locate(o: number): { file: string; offset: number } } } };
      }
    ).engine.parts.log.locate(table.recordOffset.get(20));
    await store.close();
    // The record's tags length (header offset 18) made to point far past its end; its frame's CRC
    // is not checked again at open with verifyOnOpen off (the checkpoint covers it).
    const bytes = readFileSync(where.file);
    bytes.writeUInt32LE(0x7fffff00, where.offset + 18);
    writeFileSync(where.file, bytes);
    const again = await openEventStore({ dir, verifyOnOpen: false });
    const error = (() => {
      try {
        tableOf(again).fieldColumn('payload.delay');
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expectError(error, CorruptionError, 'CORRUPTION', 'the record of sequence 21 does not decode');
    expect(tableOf(again).hasFieldColumn('payload.delay')).toBe(false);
    await again.close();
  });
});

describe('fieldColumns option and stats', () => {
  it('refuses what is not a list of tags.<key> and payload.<path> fields', async () => {
    const refusal = (fieldColumns: unknown) =>
      openEventStore({ fieldColumns: fieldColumns as string[] }).then(
        () => undefined,
        (error: unknown) => error,
      );
    expectError(
      await refusal('payload.a'),
      ValidationError,
      'INVALID_OPTION',
      'fieldColumns: must be an array',
    );
    expectError(
      await refusal(['payload.a', 'type']),
      ValidationError,
      'INVALID_OPTION',
      'fieldColumns[1]: "type" is a core field',
    );
    expectError(
      await refusal(['payload.']),
      ValidationError,
      'UNKNOWN_FIELD',
      'fieldColumns[0]: unknown field',
    );
    expectError(
      await refusal([3]),
      ValidationError,
      'UNKNOWN_FIELD',
      'fieldColumns[0]: must be a field name',
    );
  });

  it('stats() counts each column’s bytes in memory.fieldColumns', async () => {
    const store = await openEventStore({ fieldColumns: ['payload.delay', 'tags.origin'] });
    expect(store.stats().memory.fieldColumns).toBe(0);
    await store.append(events(0, 70_000));
    const stats = store.stats();
    expect(stats.fieldColumns?.map((c) => [c.field, c.rows, c.kind])).toEqual([
      ['payload.delay', 70_000, 'mixed'],
      ['tags.origin', 70_000, 'string'],
    ]);
    const total = (stats.fieldColumns ?? []).reduce((sum, c) => sum + c.bytes, 0);
    expect(stats.memory.fieldColumns).toBe(total);
    // Two chunks of 65,536 rows: numbers (8 bytes a row) and codes (4) for delay; codes for origin.
    expect(total).toBeGreaterThanOrEqual(2 * 65_536 * (8 + 4 + 4));
    // Past a chunk's 65,536 rows: kept up on append (declared), and extracted from the log (on use).
    await expectColumnsMatch(store, ['payload.delay', 'tags.origin', 'payload.gate.n']);
    await store.close();
  });
});
