import { join } from 'node:path';
import { CorruptionError, TammaError, ValidationError } from '../../../errors.js';
import type { StoredEvent } from '../../../events/types.js';
import {
  FRAME_HEADER,
  RECORD_PREFIX,
  frameBodyLength,
  frameCount,
  frameSequence,
} from '../../../codec/frame.js';
import { decodeStoredEvent } from '../table/event-reader.js';
import { describe } from '../../../support/describe.js';
import { ARCHIVE_ADVICE, readArchiveFile, readManifest, type ArchiveEntry } from './archive.js';

/**
 * Which archived events to read. Sequences are inclusive at both ends; times are epoch milliseconds,
 * `from` inclusive and `to` exclusive, as in `queryEvents`.
 */
export interface ArchiveBounds {
  fromSequence?: number;
  toSequence?: number;
  from?: number;
  to?: number;
}

export interface ArchiveReadOptions extends ArchiveBounds {
  /** By sequence; default `'asc'`. */
  order?: 'asc' | 'desc';
  /** Called before each file is read, with its entry: for progress on long reads. */
  onFile?: (entry: ArchiveEntry) => void;
}

/** Bounds with every side present: ±Infinity where open. */
export interface Range {
  fromSequence: number;
  toSequence: number;
  from: number;
  to: number;
}

const OPEN: Range = { fromSequence: -Infinity, toSequence: Infinity, from: -Infinity, to: Infinity };

/**
 * The archived events within `bounds`, in sequence order, one file at a time: a file is read (and
 * checked whole: size, CRC-32, every frame, the manifest's claims) only when its manifest entry can
 * overlap the bounds, and its events are decoded as they are iterated. Damage throws a
 * CorruptionError naming the file. The manifest and the options are checked before this returns.
 *
 * @example
 * for (const event of readArchivedEvents('./archive', { from: Date.parse('2024-01-01') })) console.log(event.id);
 */
export function readArchivedEvents(
  dir: string,
  options: ArchiveReadOptions = {},
): Generator<StoredEvent, void, undefined> {
  const range = checkOptions(options);
  const entries = filesWithin(readManifest(dir), range);
  return eventsOf(dir, entries, range, options.order ?? 'asc', options.onFile);
}

/** The manifest entries that can hold events within `range`. */
export function filesWithin(entries: readonly ArchiveEntry[], range: Range): ArchiveEntry[] {
  return entries.filter(
    (entry) =>
      entry.lastSequence >= range.fromSequence &&
      entry.firstSequence <= range.toSequence &&
      entry.maxTimestamp >= range.from &&
      entry.minTimestamp < range.to,
  );
}

/**
 * Reads `entries` (from filesWithin) and yields their events within `range`, in `order`. Files
 * whose sequence ranges interleave (runs of a cleanup that archived older sequences of some types
 * later) are read together and merged; the others one at a time.
 */
export function* eventsOf(
  dir: string,
  entries: readonly ArchiveEntry[],
  range: Range,
  order: 'asc' | 'desc',
  onFile?: (entry: ArchiveEntry) => void,
): Generator<StoredEvent, void, undefined> {
  const clusters = interleaved(entries);
  if (order === 'desc') clusters.reverse();
  for (const cluster of clusters) {
    const records: { path: string; frames: Buffer; start: number; sequence: number }[] = [];
    for (const entry of cluster) {
      onFile?.(entry);
      const path = join(dir, entry.file);
      const frames = readArchiveFile(dir, entry);
      const found = recordsOf(frames);
      for (let i = 0; i < found.length; i += 2) {
        const sequence = found[i + 1] as number;
        if (sequence < range.fromSequence || sequence > range.toSequence) continue;
        records.push({ path, frames, start: found[i] as number, sequence });
      }
    }
    if (cluster.length > 1) records.sort((a, b) => a.sequence - b.sequence);
    if (order === 'desc') records.reverse();
    for (const { path, frames, start, sequence } of records) {
      const record = frames.subarray(
        start + RECORD_PREFIX,
        start + RECORD_PREFIX + frames.readUInt32LE(start),
      );
      // The timestamp leads the record: events outside the time range are skipped undecoded.
      const timestamp = record.readDoubleLE(0);
      if (timestamp < range.from || timestamp >= range.to) continue;
      yield decode(path, start, sequence, record);
    }
  }
}

/** Entries grouped, in sequence order, into runs whose sequence ranges overlap. */
function interleaved(entries: readonly ArchiveEntry[]): ArchiveEntry[][] {
  const sorted = [...entries].sort((a, b) => a.firstSequence - b.firstSequence);
  const clusters: ArchiveEntry[][] = [];
  let reach = -Infinity;
  for (const entry of sorted) {
    const current = clusters[clusters.length - 1];
    if (current !== undefined && entry.firstSequence <= reach) current.push(entry);
    else clusters.push([entry]);
    reach = Math.max(reach, entry.lastSequence);
  }
  return clusters;
}

/** Where each record of checked frames starts and its sequence, as pairs: [offset, sequence, ...]. */
function recordsOf(frames: Buffer): number[] {
  const records: number[] = [];
  for (let at = 0; at < frames.length; at += FRAME_HEADER + frameBodyLength(frames, at)) {
    const first = frameSequence(frames, at);
    let record = at + FRAME_HEADER;
    for (let i = 0, count = frameCount(frames, at); i < count; i++) {
      records.push(record, first + i);
      record += RECORD_PREFIX + frames.readUInt32LE(record);
    }
  }
  return records;
}

function decode(path: string, offset: number, sequence: number, record: Buffer): StoredEvent {
  try {
    return decodeStoredEvent(sequence, record);
  } catch (error) {
    if (error instanceof TammaError) throw error;
    // The frame passed its CRC, so these bytes were written this way: a writer bug, not bit rot.
    throw new CorruptionError(
      path,
      offset,
      `the record of sequence ${sequence} does not decode (${(error as Error).message}); offsets are into the uncompressed frames`,
      ARCHIVE_ADVICE,
    );
  }
}

const OPTIONS = new Set(['fromSequence', 'toSequence', 'from', 'to', 'order', 'onFile']);

function checkOptions(options: ArchiveReadOptions): Range {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ValidationError('options', `must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!OPTIONS.has(key)) {
      throw new ValidationError(`options.${key}`, `unknown option; expected ${[...OPTIONS].join(', ')}`);
    }
  }
  const range = { ...OPEN };
  for (const key of ['fromSequence', 'toSequence'] as const) {
    const value = options[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new ValidationError(`options.${key}`, `must be a non-negative integer, got ${describe(value)}`);
    }
    range[key] = value;
  }
  for (const key of ['from', 'to'] as const) {
    const value = options[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new ValidationError(
        `options.${key}`,
        `must be a time in epoch milliseconds, got ${describe(value)}`,
      );
    }
    range[key] = value;
  }
  if (range.toSequence < range.fromSequence) {
    throw new ValidationError(
      'options.toSequence',
      `must not be below options.fromSequence (${range.fromSequence}), got ${range.toSequence}`,
    );
  }
  if (range.to < range.from) {
    throw new ValidationError(
      'options.to',
      `must not be before options.from (${range.from}), got ${range.to}`,
    );
  }
  if (options.order !== undefined && options.order !== 'asc' && options.order !== 'desc') {
    throw new ValidationError('options.order', `must be 'asc' or 'desc', got ${describe(options.order)}`);
  }
  if (options.onFile !== undefined && typeof options.onFile !== 'function') {
    throw new ValidationError('options.onFile', `must be a function, got ${describe(options.onFile)}`);
  }
  return range;
}
