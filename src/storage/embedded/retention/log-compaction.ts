import { FRAME_HEADER, RECORD_PREFIX, frameSequence, holeFrame, sealFrame } from '../../../codec/frame.js';
import type { RecordLog } from '../log/record-log.js';
import type { EventTable } from '../table/event-table.js';
import { RowBuffer } from '../table/row-buffer.js';

/** Records per rewritten frame at most, so no frame grows past what a scan window reads at once. */
export const MAX_FRAME_RECORDS = 4096;
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;
/**
 * Gaps of up to this many removed events inside a run are kept as empty records (4 bytes each, see
 * frame.ts) rather than split by a hole frame, which with the next frame's header costs 56 bytes.
 */
export const MAX_BRIDGE = 13;

/** How runs of rows are packed into frames. */
interface Packing {
  /** Longest gap of absent rows bridged with empty records inside a frame; 0: none (archive frames). */
  bridge: number;
  maxRecords: number;
  maxBytes: number;
}

/** Archive frames: only the rows given, consecutive runs per frame. */
const ARCHIVE_PACKING: Packing = { bridge: 0, maxRecords: MAX_FRAME_RECORDS, maxBytes: MAX_FRAME_BYTES };
/** Rewritten spans: small gaps bridged, frames bounded. */
const SPAN_PACKING: Packing = {
  bridge: MAX_BRIDGE,
  maxRecords: MAX_FRAME_RECORDS,
  maxBytes: MAX_FRAME_BYTES,
};
/**
 * The smallest layout there is for a set of rows: frames split only where a hole is cheaper than
 * empty records. Never larger than the span it replaces (see rewriteSpan); used when the bounded
 * layout is not (a span of huge batches: splitting them costs headers the removal did not free).
 */
const SMALLEST_PACKING: Packing = { bridge: MAX_BRIDGE, maxRecords: Infinity, maxBytes: Infinity };

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
const REWRITE_SLICE_ROWS = 4096;

/**
 * Cleanup's on-disk half: rewrites one sealed log span so it holds only the events the (already
 * compacted) table still has, at the same base. The sequences it covered stay covered: runs of
 * surviving events become frames, short gaps inside a run become empty records, and longer gaps
 * become hole frames (frame.ts), so reading the log still checks that every sequence is accounted for.
 *
 * The new contents are never larger than the old: a span owns the log offsets up to the next span's
 * base, and a span that grew would overlap it. Each removed event frees at least 37 bytes (its
 * length prefix and the smallest record) and costs at most 4 (an empty record), or its share of a
 * hole and a frame header (56 bytes for 14 or more); only the frame bounds could add headers, and
 * then the unbounded layout is used.
 *
 * The new contents are written slice by slice, whole frames at a time (`slice` runs each piece of
 * work, `pause` lets the event loop turn and says whether to go on); reads use the old contents
 * meanwhile, which nothing changes: appends go to the active span, and the table's rows in this
 * span are fixed since the compaction. The swap, and re-pointing the table's record offsets, happen
 * in one synchronous step, so no read ever pairs an offset with the wrong contents. Undefined when
 * stopped early (the old contents stay).
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
  const before = span.end - span.base;
  // The span's rows, a slice at a time: a 32 MiB segment holds over 100K of them.
  const collected = new RowBuffer();
  for (let from = Math.max(firstSequence - 1, table.firstRow); from < nextSequence - 1;) {
    const to = Math.min(nextSequence - 1, from + REWRITE_SLICE_ROWS * 4);
    slice(() => rowsIn(table, span, from, to, collected));
    from = to;
    if (from < nextSequence - 1 && !(await pause())) return undefined;
  }
  const rows = collected.result();
  const { runs } = slice(() => {
    let packing = SPAN_PACKING;
    if (rewriteSize(table, rows, firstSequence, nextSequence, packing) > before) packing = SMALLEST_PACKING;
    const planned = rewriteSize(table, rows, firstSequence, nextSequence, packing);
    if (planned > before) {
      throw new Error(
        `rewriting the log span at offset ${span.base} would take ${planned} bytes, more than its ${before}`,
      );
    }
    const runs: Run[] = [];
    forEachRun(table, rows, packing, (i, j, bytes) => runs.push({ i, j, bytes }));
    return { runs };
  });
  const offsets = new Float64Array(rows.length);
  const writer = log.beginRewrite(span.base);
  try {
    const records = new RecordWindow(log);
    let expected = firstSequence;
    for (let r = 0; r < runs.length;) {
      slice(() => {
        for (let done = 0; r < runs.length && done < REWRITE_SLICE_ROWS; r++) {
          const run = runs[r] as Run;
          const sequence = (rows[run.i] as number) + 1;
          if (sequence > expected) writer.write(holeFrame(expected, sequence - expected));
          const at = writer.size;
          writer.write(
            frameOf(table, records, rows, run, (k, start) => (offsets[k] = span.base + at + start)),
          );
          expected = (rows[run.j - 1] as number) + 2;
          done += run.j - run.i;
        }
      });
      if (!(await pause())) {
        writer.abort();
        return undefined;
      }
    }
    if (expected < nextSequence) writer.write(holeFrame(expected, nextSequence - expected));
    // The fsync runs off the main thread; the file is not in place yet, so nothing waits on it.
    await writer.flush();
    const durable = slice(() => {
      const renamed = writer.commit();
      for (let k = 0; k < rows.length; k++) table.recordOffset.set(rows[k] as number, offsets[k] as number);
      return renamed;
    });
    await durable;
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
    before,
    after: writer.size,
    empty: rows.length === 0,
    firstSequence,
    lastSequence: nextSequence - 1,
  };
}

/** One frame's rows, [i, j) in the rows of a span, and its records' bytes (see forEachRun). */
interface Run {
  i: number;
  j: number;
  bytes: number;
}

/** The bytes rewriteSpan writes for `rows` packed so: frames, empty records and holes. */
function rewriteSize(
  table: EventTable,
  rows: ArrayLike<number>,
  firstSequence: number,
  nextSequence: number,
  packing: Packing,
): number {
  let size = 0;
  let expected = firstSequence;
  forEachRun(table, rows, packing, (i, j, bytes) => {
    if ((rows[i] as number) + 1 > expected) size += HOLE_FRAME;
    size += FRAME_HEADER + bytes;
    expected = (rows[j - 1] as number) + 2;
  });
  return expected < nextSequence ? size + HOLE_FRAME : size;
}

const HOLE_FRAME = FRAME_HEADER + 8;

/**
 * The frames `rows` (ascending) pack into: `visit` gets each frame's rows as [i, j) in `rows` and
 * its records' bytes (length prefixes included, empty records for the gaps it bridges).
 */
function forEachRun(
  table: EventTable,
  rows: ArrayLike<number>,
  packing: Packing,
  visit: (i: number, j: number, bytes: number) => void,
): void {
  let i = 0;
  while (i < rows.length) {
    let j = i + 1;
    let bytes = RECORD_PREFIX + table.recordLength.get(rows[i] as number);
    while (j < rows.length) {
      const gap = (rows[j] as number) - (rows[j - 1] as number) - 1;
      if (gap > packing.bridge) break;
      if ((rows[j] as number) - (rows[i] as number) + 1 > packing.maxRecords) break;
      const more = RECORD_PREFIX * (gap + 1) + table.recordLength.get(rows[j] as number);
      if (bytes + more > packing.maxBytes) break;
      bytes += more;
      j++;
    }
    visit(i, j, bytes);
    i = j;
  }
}

/**
 * Packs the records of `rows` (ascending) into frames: each run of consecutive rows (or, with a
 * `bridge`, of rows apart by short gaps, which become empty records), bounded in records and bytes,
 * is one frame at the run's first sequence. `visit` gets each frame, the index in `rows` of its
 * first record, its record count (of `rows`), and where each of those records starts in the frame.
 */
export function forEachRunFrame(
  table: EventTable,
  log: RecordLog,
  rows: ArrayLike<number>,
  visit: (frame: Buffer, first: number, count: number, starts: readonly number[]) => void,
  packing: Packing = ARCHIVE_PACKING,
  /** Pass one across calls over ascending rows, so each stretch of the log is read once. */
  records = new RecordWindow(log),
  /** Where each frame is built: a buffer of exactly the size asked, filled before the next call. */
  alloc: (size: number) => Buffer = Buffer.allocUnsafe,
): void {
  forEachRun(table, rows, packing, (i, j, bytes) => {
    const starts: number[] = [];
    const frame = frameOf(table, records, rows, { i, j, bytes }, (_, start) => starts.push(start), alloc);
    visit(frame, i, j - i, starts);
  });
}

/**
 * The frame of one run: its rows' records, with an empty record for each row it leaves out between
 * two of them. `placed` gets each row's index in `rows` and where its record starts in the frame.
 */
function frameOf(
  table: EventTable,
  records: RecordWindow,
  rows: ArrayLike<number>,
  { i, j, bytes }: Run,
  placed: (k: number, start: number) => void,
  alloc: (size: number) => Buffer = Buffer.allocUnsafe,
): Buffer {
  const frame = alloc(FRAME_HEADER + bytes);
  let at = FRAME_HEADER;
  for (let k = i; k < j;) {
    const row = rows[k] as number;
    // The rows this frame leaves out between the previous one and this: empty records.
    for (let gap = k === i ? 0 : row - (rows[k - 1] as number) - 1; gap > 0; gap--) {
      frame.writeUInt32LE(0, at);
      at += RECORD_PREFIX;
    }
    // Records of consecutive rows that lie back to back in the log (one frame wrote them) are
    // copied in one go, with their length prefixes: per record, a copy cost more than the bytes.
    const from = table.recordOffset.get(row) - RECORD_PREFIX;
    let end = from + RECORD_PREFIX + table.recordLength.get(row);
    let m = k + 1;
    for (; m < j && rows[m] === (rows[m - 1] as number) + 1; m++) {
      const next = rows[m] as number;
      if (table.recordOffset.get(next) !== end + RECORD_PREFIX) break;
      end += RECORD_PREFIX + table.recordLength.get(next);
    }
    records.copy(from, end - from, frame, at);
    for (let q = k; q < m; q++) placed(q, at + table.recordOffset.get(rows[q] as number) - from);
    at += end - from;
    k = m;
  }
  sealFrame(frame, (rows[i] as number) + 1, (rows[j - 1] as number) - (rows[i] as number) + 1);
  return frame;
}

/** Pushes onto `rows` the present rows in [fromRow, toRow) whose records lie in the span. */
function rowsIn(
  table: EventTable,
  span: { base: number; end: number },
  fromRow: number,
  toRow: number,
  rows: RowBuffer,
): void {
  for (let row = Math.max(fromRow, table.firstRow); row < toRow; row++) {
    if (table.isRemoved(row)) continue;
    const offset = table.recordOffset.get(row);
    if (offset >= span.base && offset < span.end) rows.push(row);
  }
}

/** The first sequence in the span at `base` (its first frame's). */
export function firstSequenceAt(log: RecordLog, base: number): number {
  return frameSequence(log.read(base, FRAME_HEADER), 0);
}

/**
 * Reads records in ascending offset order through a window: one read per 4 MiB, not one per
 * record (a pread costs microseconds; a segment holds a million records). On disk every window is
 * read into the same buffer: a fresh 4 MiB one per read was a cleanup's largest churn of memory
 * outside the JS heap, which glibc, once it had freed one such block, served from a heap that
 * kept what the garbage peaked at (RSS swung with each archiving run).
 */
export class RecordWindow {
  private window: Buffer = Buffer.alloc(0);
  private start = 0;
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly log: RecordLog) {}

  private readonly scratch = (length: number): Buffer => {
    if (this.buffer.length < length) this.buffer = Buffer.allocUnsafeSlow(Math.max(length, MAX_FRAME_BYTES));
    return this.buffer;
  };

  copy(offset: number, length: number, into: Buffer, at: number): void {
    if (offset < this.start || offset + length > this.start + this.window.length) {
      const end = Math.min(this.log.spanEnd(offset), offset + Math.max(length, MAX_FRAME_BYTES));
      this.start = offset;
      this.window = this.log.readInto(offset, end - offset, this.scratch);
    }
    this.window.copy(into, at, offset - this.start, offset - this.start + length);
  }
}
