import { CorruptionError, TammaError } from '../../../errors.js';
import type { Tags } from '../../../events/types.js';
import type { RecordLog } from '../log/record-log.js';
import { ByteInterner } from './byte-interner.js';
import type { EventTable } from './event-table.js';
import type { FieldColumnStats } from '../../store-stats.js';
import { FieldColumn, type FieldColumnSnapshot } from './field-column.js';
import type { ArrayCursor, RawArray } from './snapshot.js';

/**
 * A record whose bytes do not read (damaged after the store checked them, or with verifyOnOpen off)
 * as the CorruptionError a read of it raises (EventReader): naming the file and offset.
 */
function corruption(log: RecordLog, offset: number, row: number, error: unknown): Error {
  if (error instanceof TammaError) return error;
  const where = log.locate(offset);
  return new CorruptionError(
    where.file,
    where.offset,
    `the record of sequence ${row + 1} does not decode (${(error as Error).message})`,
  );
}

/** Records closer than this in the log are read in one go (as EventReader does). */
const MAX_GAP = 4 * 1024;
/** Largest single read of the log while extracting. */
const MAX_SPAN = 1024 * 1024;

/**
 * The table's field columns, by field name. A column is extracted on first use (or at open, for a
 * declared one) by reading every record once, and kept up from then on: an append whose column is
 * current writes the value from the event it has in hand; rows the column does not hold yet (the log
 * replayed after a crash, a follower's new rows, a restore's) are read from the log at its next use.
 * Either way each row is decoded at most once.
 *
 * Lives as long as the table object: a compaction that swaps a table's contents (EventTable.adopt)
 * keeps it, since rows keep their numbers. A table built anew (a restore's merge) starts with none.
 */
export class FieldColumns {
  private readonly columns = new Map<string, FieldColumn>();
  private log: RecordLog | undefined;
  private scratch = Buffer.alloc(0);
  /** Columns made and filled from the log in this process (not read from a checkpoint). */
  extractions = 0;
  /** Records decoded from the log, over all columns, in this process. */
  rowsDecoded = 0;
  /**
   * Whether a column was made or filled from the log since the last snapshot: close then writes a
   * checkpoint even with no new rows, so the work is not done again at the next open.
   */
  unsaved = false;

  /** The log the table's rows point into: where columns are read from. Set by wireParts. */
  attach(log: RecordLog): void {
    this.log = log;
  }

  get size(): number {
    return this.columns.size;
  }

  has(field: string): boolean {
    return this.columns.has(field);
  }

  /** The column if it exists, as it is (maybe behind the table's rows): for EXPLAIN and stats. */
  peek(field: string): FieldColumn | undefined {
    return this.columns.get(field);
  }

  /**
   * The field's column over every row of `table`: made on first use, brought up to the table's rows
   * (reading the records it does not hold yet) each time. Throws a ValidationError for a field that
   * is not `tags.<key>` or `payload.<path>`.
   */
  column(field: string, table: EventTable, where = 'field'): FieldColumn {
    let column = this.columns.get(field);
    if (column === undefined) {
      column = new FieldColumn(field, where);
      if (this.log === undefined && table.present > 0)
        throw new Error('the table has no log attached to extract field columns from');
      this.columns.set(field, column);
      this.extractions++;
      this.unsaved = true;
    }
    if (column.filled < table.rows) {
      try {
        this.catchUp(column, table);
      } catch (error) {
        // A record that does not decode: the column is not kept half made (the next use tries again).
        if (column.filled === 0 && !column.restored) this.columns.delete(field);
        throw error;
      }
    }
    return column;
  }

  /** An appended row: each column that holds every row before it takes the value from the event. */
  onAppend(row: number, payload: unknown, tags: Tags): void {
    for (const column of this.columns.values()) {
      if (column.filled !== row) continue;
      column.set(row, column.valueOfEvent(payload, tags));
      column.filled = row + 1;
    }
  }

  /** Cleanup removed the rows below `row`: the columns let go of their chunks there. */
  dropBelow(row: number): void {
    for (const column of this.columns.values()) column.dropBelow(row);
  }

  /** Bytes held by every column. */
  get bytes(): number {
    let total = 0;
    for (const column of this.columns.values()) total += column.bytes;
    return total;
  }

  stats(): FieldColumnStats[] {
    return [...this.columns.values()].map((column) => ({
      field: column.field,
      rows: column.filled,
      bytes: column.bytes,
      kind: column.kind,
      restored: column.restored,
      extractedRows: column.extractedRows,
    }));
  }

  appendStableArrays(out: Set<RawArray>): void {
    for (const column of this.columns.values()) column.fullChunksBelowFilled(out);
  }

  snapshot(out: RawArray[]): FieldColumnSnapshot[] {
    this.unsaved = false;
    return [...this.columns.values()].map((column) => column.snapshot(out));
  }

  /** Puts back the columns a checkpoint holds (into a table with none); throws on one that does not check. */
  restore(metas: readonly FieldColumnSnapshot[], arrays: ArrayCursor, rows: number): void {
    for (const meta of metas) {
      if (this.columns.has(meta.field)) throw new Error(`field column ${meta.field} is listed twice`);
      this.columns.set(meta.field, FieldColumn.restore(meta, arrays, rows));
    }
  }

  /**
   * Reads rows [column.filled, table.rows) from the log: records next to each other in one read,
   * each record's field read from its bytes (RecordFieldReader), not decoded whole.
   */
  private catchUp(column: FieldColumn, table: EventTable): void {
    const end = table.rows;
    let row = Math.max(column.filled, table.firstRow);
    const log = this.log;
    if (log === undefined) {
      // No log, no events to read (a table that never held one): nothing to extract.
      column.filled = end;
      return;
    }
    const { recordOffset, recordLength } = table;
    const reader = column.reader;
    const scratch = (length: number): Buffer => {
      if (this.scratch.length < length) this.scratch = Buffer.allocUnsafe(Math.max(length, MAX_SPAN));
      return this.scratch;
    };
    let decoded = 0;
    // String values by their bytes, for this extraction only (about 20 bytes a distinct value).
    const strings = new ByteInterner();
    while (row < end) {
      const length = recordLength.get(row);
      if (length === 0) {
        row++;
        continue;
      }
      const start = recordOffset.get(row);
      const limit = Math.min(log.spanEnd(start), start + MAX_SPAN);
      let spanEnd = start + length;
      let last = row + 1;
      for (; last < end; last++) {
        const nextLength = recordLength.get(last);
        if (nextLength === 0) break;
        const offset = recordOffset.get(last);
        const next = offset + nextLength;
        if (offset < spanEnd || offset - spanEnd > MAX_GAP || next > limit) break;
        spanEnd = next;
      }
      const span = log.readInto(start, spanEnd - start, scratch);
      const view = new DataView(span.buffer, span.byteOffset, span.byteLength);
      let r = row;
      try {
        for (; r < last; r++) {
          const found = reader.locate(span, recordOffset.get(r) - start, recordLength.get(r));
          column.setLocated(r, found, span, view, strings);
        }
      } catch (error) {
        throw corruption(log, recordOffset.get(r), r, error);
      }
      decoded += last - row;
      row = last;
    }
    column.filled = end;
    column.extractedRows += decoded;
    this.rowsDecoded += decoded;
    if (decoded > 0) this.unsaved = true;
  }
}
