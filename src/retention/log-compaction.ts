import {
  FRAME_HEADER,
  RECORD_PREFIX,
  frameSequence,
  holeFrame,
  sealFrame,
} from '../storage/embedded/frame.js';
import type { RecordLog } from '../storage/embedded/record-log.js';
import type { EventTable } from '../table/event-table.js';

/** Records per rewritten frame at most, so no frame grows past what a scan window reads at once. */
const MAX_FRAME_RECORDS = 4096;
const MAX_FRAME_BYTES = 4 * 1024 * 1024;

export interface SpanRewrite {
  base: number;
  /** Bytes the span held before, and after. */
  before: number;
  after: number;
  /** Whether no event stays in it: then it holds only a hole, and may be dropped at the log's front. */
  empty: boolean;
  /** The sequences it covers, [first, last]. */
  firstSequence: number;
  lastSequence: number;
}

/** Rows whose frames are built and written per slice of a span rewrite. */
const REWRITE_SLICE_ROWS = 16_384;

/**
 * Cleanup's on-disk half: rewrites one sealed log span so it holds only the events the (already
 * compacted) table still has, at the same base. The sequences it covered stay covered: runs of
 * surviving events become frames, and what was removed between them becomes hole frames
 * (frame.ts), so reading the log still checks that every sequence is accounted for.
 *
 * The new contents are written slice by slice (`slice` runs each piece of work, `pause` lets the
 * event loop turn and says whether to go on); reads use the old contents meanwhile, which nothing
 * changes: appends go to the active span, and the table's rows in this span are fixed since the
 * compaction. The swap, and re-pointing the table's record offsets, happen in one synchronous
 * step, so no read ever pairs an offset with the wrong contents. Undefined when stopped early.
 */
export async function rewriteSpan(
  table: EventTable,
  log: RecordLog,
  span: { base: number; end: number },
  /** The first sequence of the span after this one (or table.rows + 1 when none follows). */
  nextSequence: number,
  slice: <T>(work: () => T) => T,
  pause: () => Promise<boolean>,
): Promise<SpanRewrite | undefined> {
  const firstSequence = firstSequenceAt(log, span.base);
  const rows = slice(() => rowsIn(table, span, firstSequence - 1, nextSequence - 1));
  const offsets = new Float64Array(rows.length);
  const writer = log.beginRewrite(span.base);
  try {
    let expected = firstSequence;
    for (let from = 0; from < rows.length; from += REWRITE_SLICE_ROWS) {
      slice(() => {
        const part = rows.slice(from, from + REWRITE_SLICE_ROWS);
        forEachRunFrame(table, log, part, (frame, first, count, starts) => {
          const sequence = (part[first] as number) + 1;
          if (sequence > expected) writer.write(holeFrame(expected, sequence - expected));
          for (let k = 0; k < count; k++)
            offsets[from + first + k] = span.base + writer.size + (starts[k] as number);
          writer.write(frame);
          expected = (part[first + count - 1] as number) + 2;
        });
      });
      if (!(await pause())) {
        writer.abort();
        return undefined;
      }
    }
    slice(() => {
      if (expected < nextSequence) writer.write(holeFrame(expected, nextSequence - expected));
      writer.commit();
      rows.forEach((row, k) => table.recordOffset.set(row, offsets[k] as number));
    });
  } catch (error) {
    try {
      writer.abort();
    } catch {
      /* already committed or discarded: the original error is the one to report */
    }
    throw error;
  }
  return {
    base: span.base,
    before: span.end - span.base,
    after: writer.size,
    empty: rows.length === 0,
    firstSequence,
    lastSequence: nextSequence - 1,
  };
}

/**
 * Packs the records of `rows` (ascending) into frames: each run of consecutive rows, bounded in
 * records and bytes, is one frame at the run's first sequence. `visit` gets each frame, the index
 * in `rows` of its first record, its record count, and where each record starts within the frame.
 */
export function forEachRunFrame(
  table: EventTable,
  log: RecordLog,
  rows: readonly number[],
  visit: (frame: Buffer, first: number, count: number, starts: readonly number[]) => void,
): void {
  const records = new RecordWindow(log);
  let i = 0;
  while (i < rows.length) {
    let j = i + 1;
    let bytes = RECORD_PREFIX + table.recordLength.get(rows[i] as number);
    while (j < rows.length && rows[j] === (rows[j - 1] as number) + 1 && j - i < MAX_FRAME_RECORDS) {
      const more = RECORD_PREFIX + table.recordLength.get(rows[j] as number);
      if (bytes + more > MAX_FRAME_BYTES) break;
      bytes += more;
      j++;
    }
    const frame = Buffer.allocUnsafe(FRAME_HEADER + bytes);
    const starts: number[] = [];
    let at = FRAME_HEADER;
    for (let k = i; k < j; k++) {
      const row = rows[k] as number;
      const length = table.recordLength.get(row);
      frame.writeUInt32LE(length, at);
      records.copy(table.recordOffset.get(row), length, frame, at + RECORD_PREFIX);
      starts.push(at + RECORD_PREFIX);
      at += RECORD_PREFIX + length;
    }
    sealFrame(frame, (rows[i] as number) + 1, j - i);
    visit(frame, i, j - i, starts);
    i = j;
  }
}

/** Present rows in [fromRow, toRow) whose records lie in the span. */
function rowsIn(
  table: EventTable,
  span: { base: number; end: number },
  fromRow: number,
  toRow: number,
): number[] {
  const rows: number[] = [];
  for (let row = Math.max(fromRow, table.firstRow); row < toRow; row++) {
    if (table.isRemoved(row)) continue;
    const offset = table.recordOffset.get(row);
    if (offset >= span.base && offset < span.end) rows.push(row);
  }
  return rows;
}

/** The first sequence in the span at `base` (its first frame's). */
export function firstSequenceAt(log: RecordLog, base: number): number {
  return frameSequence(log.read(base, FRAME_HEADER), 0);
}

/**
 * Reads records in ascending offset order through a window: one read per 4 MiB, not one per
 * record (a pread costs microseconds; a segment holds a million records).
 */
class RecordWindow {
  private window: Buffer = Buffer.alloc(0);
  private start = 0;

  constructor(private readonly log: RecordLog) {}

  copy(offset: number, length: number, into: Buffer, at: number): void {
    if (offset < this.start || offset + length > this.start + this.window.length) {
      const end = Math.min(this.log.spanEnd(offset), offset + Math.max(length, MAX_FRAME_BYTES));
      this.start = offset;
      this.window = this.log.read(offset, end - offset);
    }
    this.window.copy(into, at, offset - this.start, offset - this.start + length);
  }
}
