import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { EventStore, StoredEvent } from '../../src/index.js';
import { turn } from '../../src/support/turn.js';

/** A fresh, empty temporary directory. */
export async function tempDir(prefix = 'tamma-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * Turns of the event loop (I/O callbacks run; no time passes on purpose) until `done` holds, each
 * after `step` if given, at most `most` of them. For work a store does in the background.
 */
export async function turnsUntil(
  done: () => boolean,
  most = 10_000,
  step?: () => Promise<void>,
): Promise<void> {
  for (let taken = 0; !done() && taken < most; taken++) {
    await step?.();
    await turn();
  }
}

/**
 * Runs `fn` and returns what it rejected with. Fails when it resolves, and also when it throws
 * synchronously: a Promise-returning API must report errors through the promise.
 */
export async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  let promise: Promise<unknown>;
  try {
    promise = fn();
  } catch (error) {
    throw new Error(`expected a rejected promise, but the call threw synchronously: ${String(error)}`);
  }
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/** Asserts `error` is an instance of `type` with the stable `code`, and that its message names every fragment. */
export function expectError(
  error: unknown,
  type: abstract new (...args: never[]) => Error,
  code: string,
  ...fragments: string[]
): void {
  expect(error, String(error)).toBeInstanceOf(type);
  expect((error as { code?: unknown }).code, String(error)).toBe(code);
  for (const fragment of fragments) expect((error as Error).message).toContain(fragment);
}

export const sequences = (events: readonly StoredEvent[]): number[] => events.map((e) => e.sequence);

/** What a caller can observe of a store: used to assert that a failed operation changed nothing. */
export async function observe(store: EventStore): Promise<{
  events: number;
  aggregates: number;
  types: number;
  lastSequence: number;
  all: StoredEvent[];
}> {
  const { events, aggregates, types, lastSequence } = store.stats();
  return { events, aggregates, types, lastSequence, all: await store.read() };
}

// ---- on-disk layout ------------------------------------------------------------------------------

export const FRAME_MAGIC = 0x31464d54;
export const FRAME_HEADER = 24;

export interface Frame {
  offset: number;
  bodyLength: number;
  crc: number;
  firstSequence: number;
  count: number;
}

/** Segment file names of `<dir>/log`, oldest first. */
export async function listSegments(dir: string): Promise<string[]> {
  const names = await readdir(join(dir, 'log'));
  return names.filter((n) => n.endsWith('.seg')).sort();
}

/** Walks the frames of a segment file; stops at the first incomplete or non-frame bytes. */
export function parseFrames(buffer: Buffer): Frame[] {
  const frames: Frame[] = [];
  let offset = 0;
  while (offset + FRAME_HEADER <= buffer.length) {
    if (buffer.readUInt32LE(offset) !== FRAME_MAGIC) break;
    const bodyLength = buffer.readUInt32LE(offset + 4);
    if (offset + FRAME_HEADER + bodyLength > buffer.length) break;
    frames.push({
      offset,
      bodyLength,
      crc: buffer.readUInt32LE(offset + 8),
      firstSequence: buffer.readDoubleLE(offset + 12),
      count: buffer.readUInt32LE(offset + 20),
    });
    offset += FRAME_HEADER + bodyLength;
  }
  return frames;
}

export async function segmentFrames(dir: string, name: string): Promise<Frame[]> {
  return parseFrames(await readFile(join(dir, 'log', name)));
}

/** XORs the byte at `offset` of `file` with 0xff. */
export async function flipByte(file: string, offset: number): Promise<void> {
  const buffer = await readFile(file);
  if (offset >= buffer.length) throw new Error(`${file} has only ${buffer.length} bytes`);
  buffer[offset] = buffer[offset]! ^ 0xff;
  await writeFile(file, buffer);
}

export async function fileSize(file: string): Promise<number> {
  return (await stat(file)).size;
}

/** Random bytes that never start a frame header (for "garbage at the tail"). */
export function garbage(length: number): Buffer {
  const bytes = randomBytes(length);
  if (length > 0) bytes[0] = 0xab;
  return bytes;
}

/**
 * Copies a store directory as a crash would leave it: the files as they are on disk right now,
 * without the LOCK (whose holder, this process, is alive).
 */
export async function snapshotStoreDir(from: string, to: string): Promise<void> {
  await cp(from, to, { recursive: true, filter: (source) => !source.endsWith('LOCK') });
}
