import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorruptionError, ManualClock, openEventStore, type EventStore } from '../../src/index.js';
import { rejection, removeDir, tempDir } from '../support/helpers.js';

const T0 = Date.UTC(2026, 0, 1);

let dir: string;
let path: string;
let tombstones: string;

beforeEach(async () => {
  dir = await tempDir('tombstones-integrity');
  path = join(dir, 'store');
  tombstones = join(path, 'tombstones.log');
});

afterEach(async () => {
  await removeDir(dir);
});

const open = () => openEventStore({ dir: path, clock: new ManualClock(T0) });

/** Streams a, b, c with 3 events each; then `deleted` are deleted, in order. */
async function storeWith(deleted: string[]): Promise<void> {
  const store = await open();
  for (const id of ['a', 'b', 'c']) await store.append([1, 2, 3].map(() => ({ aggregateId: id, type: 'T' })));
  for (const id of deleted) await store.deleteAggregate(id);
  await store.close();
}

const streams = async (store: EventStore) =>
  Object.fromEntries(
    await Promise.all(['a', 'b', 'c'].map(async (id) => [id, (await store.getEvents(id)).length])),
  );

/** Changes one byte of the file at `offset`. */
function changeByte(file: string, offset: number, to: string): void {
  const bytes = readFileSync(file);
  bytes.write(to, offset);
  writeFileSync(file, bytes);
}

describe('tombstones.log integrity', () => {
  it('refuses a changed byte in a record (it once made a live stream vanish), naming file and offset', async () => {
    await storeWith(['a', 'b']);
    const text = readFileSync(tombstones, 'utf8');
    const second = text.indexOf('\n') + 1;
    // 'b' -> 'c': without a checksum, the live stream c would vanish and b come back.
    changeByte(tombstones, text.indexOf('"b"', second) + 1, 'c');
    const error = await rejection(open);
    expect(error).toBeInstanceOf(CorruptionError);
    expect(error).toMatchObject({ code: 'CORRUPTION', file: tombstones, offset: second });
  });

  it('refuses a changed byte in the first of several records', async () => {
    await storeWith(['a', 'b']);
    const text = readFileSync(tombstones, 'utf8');
    changeByte(tombstones, text.indexOf('"a"') + 1, 'c');
    expect(await rejection(open)).toMatchObject({ code: 'CORRUPTION', file: tombstones, offset: 0 });
  });

  it('refuses a damaged last record that is complete (its newline written: maybe acknowledged)', async () => {
    await storeWith(['a']);
    changeByte(tombstones, 2, readFileSync(tombstones, 'utf8')[2] === '0' ? '1' : '0');
    expect(await rejection(open)).toMatchObject({ code: 'CORRUPTION', file: tombstones, offset: 0 });
  });

  it('drops a torn last record, and the next deletion after it starts a clean line', async () => {
    await storeWith(['a']);
    const whole = readFileSync(tombstones, 'utf8');
    // A crash mid-write of the deletion of b: never acknowledged.
    writeFileSync(tombstones, `${whole}${whole.slice(0, 12)}`);
    let store = await open();
    expect(await streams(store)).toEqual({ a: 0, b: 3, c: 3 });
    // The torn bytes are cut off first: the old code appended after them, which made the new
    // record unreadable and the file refused at the next open.
    expect(await store.deleteAggregate('c')).toBe(true);
    await store.close();
    store = await open();
    expect(await streams(store)).toEqual({ a: 0, b: 3, c: 0 });
    await store.close();
  });

  it('reads the unchecked lines earlier versions wrote, exactly as they wrote them', async () => {
    await storeWith([]);
    writeFileSync(tombstones, '{"aggregateId":"b"}\n');
    let store = await open();
    expect(await streams(store)).toEqual({ a: 3, b: 0, c: 3 });
    await store.deleteAggregate('a');
    await store.close();
    store = await open();
    expect(await streams(store)).toEqual({ a: 0, b: 0, c: 3 });
    await store.close();
    // Anything else without a checksum is refused.
    writeFileSync(tombstones, '{"aggregateId": "b"}\n');
    expect(await rejection(open)).toMatchObject({ code: 'CORRUPTION', file: tombstones, offset: 0 });
  });
});
