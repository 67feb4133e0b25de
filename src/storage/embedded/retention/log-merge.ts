import { ValidationError } from '../../../errors.js';
import {
  FRAME_HEADER,
  RECORD_PREFIX,
  frameCount,
  frameSequence,
  holeFrame,
  sealFrame,
} from '../../../codec/frame.js';
import { decodeAggregateId } from '../../../codec/record-codec.js';
import type { RecordLog } from '../log/record-log.js';
import { EventTable } from '../table/event-table.js';
import { TableReplay } from '../table/table-replay.js';
// The merged log's frames are bounded, and short gaps bridged, as a rewritten span's are.
import { MAX_BRIDGE, MAX_FRAME_BYTES, MAX_FRAME_RECORDS, RecordWindow } from './log-compaction.js';
/**
 * A slice of the rebuild runs about this long before the event loop turns (checked every
 * CHECK_EVERY events): an event costs a few µs here, in copying, framing, CRC and indexing.
 */
const SLICE_MS = 8;
const CHECK_EVERY = 256;

export interface MergeProgress {
  done: number;
  total: number;
}

export interface MergedLog {
  /** The table over the new log: every live event, and the restored ones, at their sequences. */
  table: EventTable;
  /** First sequence of the new log (its `log/start.json`). */
  firstSequence: number;
  restored: number;
  /** Archived events left out because the store holds them live already. */
  alreadyLive: number;
  /** Archived events left out because their stream is deleted (erasure is not undone). */
  ofDeletedStreams: number;
  /** The sequences restored, as [first, last] ranges, by the archive file that held them. */
  ranges: Map<string, [number, number][]>;
}

/** A whole frame of an archive file. */
export interface ArchivedFrame {
  bytes: Buffer;
  /** The file it is in (its manifest name). */
  file: string;
}

/**
 * A restore into the middle of a store: writes to `target` a new log holding, at their sequences,
 * every event the store holds (the records copied byte for byte) and the archived events of
 * `frames` the store no longer holds (restored with their sequence numbers, ids and bytes), with
 * empty records and hole frames for the sequences neither holds, and up to the store's last
 * sequence or the last restored one. The new table is built alongside, from the frames as they are
 * written, so nothing is replayed afterwards.
 *
 * The store's table and log must not change meanwhile (the store holds writes back and lets no
 * cleanup run); reads go on, between slices, from the old ones. Nothing of the store is touched: the
 * caller swaps the new log in (storage/embedded/log-swap.ts) or throws it away.
 *
 * Refused with a ValidationError, before anything is swapped, when a restored event would break a
 * stream's version order: a stream whose every event cleanup removed starts again at version 1, and
 * its old events cannot come back between the new ones.
 */
export async function mergeRestored(
  table: EventTable,
  log: RecordLog,
  /** Archive frames, by first sequence; they never overlap. */
  frames: readonly ArchivedFrame[],
  target: RecordLog,
  isDeleted: (aggregateId: string) => boolean,
  pause: () => Promise<void>,
  onProgress: (progress: MergeProgress) => void = () => undefined,
): Promise<MergedLog> {
  const restoredCount = frames.reduce((total, frame) => total + frameCount(frame.bytes, 0), 0);
  const total = table.present + restoredCount;
  const merged = new EventTable();
  const builder = new LogBuilder(target, merged);
  const records = new RecordWindow(log);
  const result: Omit<MergedLog, 'table' | 'firstSequence'> = {
    restored: 0,
    alreadyLive: 0,
    ofDeletedStreams: 0,
    ranges: new Map(),
  };
  const streams = new Set<string>();
  let row = table.firstRow;
  let done = 0;
  let sliceStart = performance.now();
  /** After each event: whether the slice has run its time (checked every CHECK_EVERY events). */
  const due = (): boolean => ++done % CHECK_EVERY === 0 && performance.now() - sliceStart >= SLICE_MS;
  const breathe = async (): Promise<void> => {
    onProgress({ done, total });
    await pause();
    sliceStart = performance.now();
  };
  /** Copies the live rows before `end` (a row index), in slices. */
  const copyLiveBelow = async (end: number): Promise<void> => {
    for (; row < end; row++) {
      if (table.isRemoved(row)) continue;
      const length = table.recordLength.get(row);
      // `place` first: it may flush the frame or grow it.
      const at = builder.place(row + 1, length);
      records.copy(table.recordOffset.get(row), length, builder.frame, at);
      if (due()) await breathe();
    }
  };
  for (const { bytes: frame, file } of frames) {
    let ranges = result.ranges.get(file);
    if (ranges === undefined) result.ranges.set(file, (ranges = []));
    const first = frameSequence(frame, 0);
    const count = frameCount(frame, 0);
    let at = FRAME_HEADER;
    for (let sequence = first; sequence < first + count; sequence++) {
      const length = frame.readUInt32LE(at);
      const start = at + RECORD_PREFIX;
      at = start + length;
      if (length === 0) continue;
      // The live rows before this one (an await only when there are some: most restores are runs).
      const below = Math.min(sequence - 1, table.rows);
      if (row < below) await copyLiveBelow(below);
      if (sequence <= table.rows && !table.isRemoved(sequence - 1)) {
        result.alreadyLive++;
        continue;
      }
      const aggregateId = decodeAggregateId(frame.subarray(start, start + length));
      if (isDeleted(aggregateId)) {
        result.ofDeletedStreams++;
        continue;
      }
      const to = builder.place(sequence, length);
      frame.copy(builder.frame, to, start, start + length);
      streams.add(aggregateId);
      result.restored++;
      const last = ranges.at(-1);
      if (last !== undefined && last[1] === sequence - 1) last[1] = sequence;
      else ranges.push([sequence, sequence]);
      if (due()) await breathe();
    }
  }
  await copyLiveBelow(table.rows);
  builder.finish(table.rows);
  onProgress({ done, total });
  checkVersions(merged, streams);
  return { table: merged, firstSequence: builder.firstSequence, ...result };
}

/** Every restored stream's versions must still rise with its sequences. */
function checkVersions(table: EventTable, streams: ReadonlySet<string>): void {
  for (const stream of streams) {
    const rows = table.aggregateRows(stream);
    for (let i = 1; i < rows.length; i++) {
      const before = rows.at(i - 1);
      const row = rows.at(i);
      if (table.version.get(row) > table.version.get(before)) continue;
      throw new ValidationError(
        'archive',
        `restoring would put version ${table.version.get(before)} of stream ${JSON.stringify(stream)} ` +
          `(sequence ${before + 1}) before version ${table.version.get(row)} (sequence ${row + 1}): the ` +
          'stream started again at version 1 after cleanup removed all its events, so its archived ' +
          'events cannot come back into this store; restore them into a new directory instead. Nothing was changed',
      );
    }
  }
}

/**
 * Packs records, given in increasing sequence order, into frames appended to `target`, and adds
 * each frame to `table` as it is written. Short gaps between records become empty records; longer
 * ones end the frame and become a hole frame.
 */
class LogBuilder {
  private readonly replay: TableReplay;
  private buffer = Buffer.allocUnsafeSlow(MAX_FRAME_BYTES);
  /** The frame being built: its first sequence, its records (empty ones included), its bytes so far. */
  private start = 0;
  private count = 0;
  private at = FRAME_HEADER;
  /** The sequence after the last one written or left out so far; 0 before the first record. */
  private next = 0;
  firstSequence = 1;

  constructor(
    private readonly target: RecordLog,
    private readonly table: EventTable,
  ) {
    this.replay = new TableReplay(table);
  }

  /** The frame being built (read it after `place`, which may replace it): where records' bytes go. */
  get frame(): Buffer {
    return this.buffer;
  }

  /** Makes room for the record of `sequence`, `length` bytes, and returns where in `frame` to put them. */
  place(sequence: number, length: number): number {
    if (this.next === 0) {
      this.firstSequence = sequence;
      this.table.skipTo(sequence - 1);
      this.next = sequence;
    }
    const gap = sequence - this.next;
    if (
      this.count > 0 &&
      (gap > MAX_BRIDGE ||
        this.count + gap + 1 > MAX_FRAME_RECORDS ||
        this.at + RECORD_PREFIX * (gap + 1) + length > MAX_FRAME_BYTES)
    ) {
      this.flush();
    }
    if (this.count === 0) {
      if (sequence > this.next) this.hole(sequence);
      this.start = sequence;
    } else {
      for (let i = 0; i < gap; i++) this.record(0);
    }
    this.ensure(this.at + RECORD_PREFIX + length);
    this.next = sequence + 1;
    return this.record(length);
  }

  /** Ends the log at `lastSequence` (a hole for the sequences after the last record, if any). */
  finish(lastSequence: number): void {
    this.flush();
    if (this.next !== 0 && lastSequence >= this.next) this.hole(lastSequence + 1);
  }

  /** Writes a record's length prefix and returns where its bytes go. */
  private record(length: number): number {
    this.buffer.writeUInt32LE(length, this.at);
    this.at += RECORD_PREFIX + length;
    this.count++;
    return this.at - length;
  }

  private ensure(size: number): void {
    if (size <= this.buffer.length) return;
    const grown = Buffer.allocUnsafeSlow(size);
    this.buffer.copy(grown, 0, 0, this.at);
    this.buffer = grown;
  }

  private flush(): void {
    if (this.count === 0) return;
    const frame = this.buffer.subarray(0, this.at);
    sealFrame(frame, this.start, this.count);
    const offset = this.target.append(frame);
    this.table.skipTo(this.start - 1);
    this.replay.addFrame(frame, this.count, offset);
    this.count = 0;
    this.at = FRAME_HEADER;
  }

  /** A hole frame from `next` up to (not including) `until`. */
  private hole(until: number): void {
    this.target.append(holeFrame(this.next, until - this.next));
    this.table.skipTo(until - 1);
    this.next = until;
  }
}
