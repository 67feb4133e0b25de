import { ValidationError } from '../../../errors.js';
import {
  FIELD_MISSING,
  FIELD_NUMBER,
  FIELD_STRING,
  RecordFieldReader,
  utf8String,
  type FieldFound,
} from '../../../codec/record-field.js';
import { hashBytes, type ByteInterner } from './byte-interner.js';
import { ownTag, readPath, resolveField, type FieldRef } from '../../../query/fields.js';
import type { Tags } from '../../../events/types.js';
import { CHUNK_ROWS, CHUNK_SHIFT, ChunkedColumn, int32Column } from './chunked-column.js';
import { FieldValues } from './field-values.js';
import type { ArrayCursor, RawArray } from './snapshot.js';

/** What a field column holds: only numbers, only strings, or anything else (empty counts as 'number'). */
export type FieldColumnKind = 'number' | 'string' | 'mixed';

/** A code for a row whose value is not in the dictionary: a number (see `number`), or no value. */
export const NOT_CODED = -1;

/** One field column as the checkpoint holds it (see FieldColumns.snapshot). */
export interface FieldColumnSnapshot {
  field: string;
  /** Rows [0, filled) hold their value; later rows are extracted at the next use. */
  filled: number;
  /** The dictionary's values, by code. */
  values: unknown[];
  /** Chunk indices of the numbers, then of the codes, in the order their arrays were pushed. */
  numbers: number[];
  codes: number[];
  counts: { numbers: number; strings: number; others: number };
}

const CHUNK_MASK = CHUNK_ROWS - 1;

/** `column`'s values of `rows` into `out`: chunk copies where the rows run without a gap, else row by row. */
function gather<T extends Float64Array | Int32Array>(
  column: ChunkedColumn<T>,
  rows: Int32Array,
  out: T,
): void {
  const n = Math.min(rows.length, out.length);
  if (n > 0 && (rows[n - 1] as number) - (rows[0] as number) === n - 1) {
    for (let i = 0; i < n;) {
      const row = rows[i] as number;
      const offset = row & CHUNK_MASK;
      const take = Math.min(n - i, CHUNK_ROWS - offset);
      const chunk = column.chunk(row >>> CHUNK_SHIFT);
      if (chunk === undefined) out.fill(column.get(row), i, i + take);
      else out.set(chunk.subarray(offset, offset + take), i);
      i += take;
    }
    return;
  }
  for (let i = 0; i < n; i++) out[i] = column.get(rows[i] as number);
}

/**
 * One `payload.<path>` or `tags.<key>` field over every row of the table, typed for aggregates and
 * group keys, so a query reads it as a column instead of decoding each event's record:
 *
 *  - `numbers`: a Float64Array-chunked column, the value of each row that holds a number; NaN for
 *    every other row (JSON numbers are finite, so NaN never stands for a value).
 *  - `codes`: an Int32Array-chunked column, for each row holding anything else (a string, a
 *    boolean, null, an object or an array) the value's code in `dictionary`; NOT_CODED (-1) for a
 *    number or no value.
 *
 * Chunks are allocated on first write, so a column of numbers holds no codes and one of strings no
 * numbers. Rows [0, filled) hold their values; the owner (FieldColumns) fills the rest from the log
 * or from appends. Rows that hold no event (removed, or never there) read as missing.
 */
export class FieldColumn {
  readonly ref: FieldRef & { kind: 'tag' | 'payload' };
  readonly reader: RecordFieldReader;
  readonly numbers: ChunkedColumn<Float64Array> = new ChunkedColumn(Float64Array, Number.NaN);
  readonly codes: ChunkedColumn<Int32Array> = int32Column(NOT_CODED);
  dictionary = new FieldValues();
  /** Rows [0, filled) hold their value. */
  filled = 0;
  /** Rows this column decoded from the log (0 for one read whole from a checkpoint and kept up by appends). */
  extractedRows = 0;
  /** Whether it was read from a checkpoint rather than extracted in this process. */
  restored = false;
  private readonly counts = { numbers: 0, strings: 0, others: 0 };

  /** `where` names the option or argument `field` came from, for the error a bad one raises. */
  constructor(
    readonly field: string,
    where = 'field',
  ) {
    const ref = resolveField(field, where);
    if (ref.kind === 'core') {
      throw new ValidationError(
        where,
        `${field} is a core field, a column already; a field column is for tags.<key> or payload.<path>`,
        'UNKNOWN_FIELD',
      );
    }
    this.ref = ref;
    this.reader = new RecordFieldReader(ref);
  }

  /** The row's value, equal to the field read from its decoded event; undefined when it has none. */
  value(row: number): unknown {
    const number = this.numbers.get(row);
    if (number === number) return number;
    const code = this.codes.get(row);
    return code === NOT_CODED ? undefined : this.dictionary.valueOf(code);
  }

  /** The row's value when it is a number; NaN otherwise (missing, a string, anything else). */
  number(row: number): number {
    return this.numbers.get(row);
  }

  /** The row's code in `dictionary` (a non-number value); NOT_CODED for a number or no value. */
  code(row: number): number {
    return this.codes.get(row);
  }

  /** Only numbers (or nothing yet), only strings, or a mix of kinds (booleans, null, objects count as mixed). */
  get kind(): FieldColumnKind {
    const { numbers, strings, others } = this.counts;
    if (others > 0 || (numbers > 0 && strings > 0)) return 'mixed';
    return strings > 0 ? 'string' : 'number';
  }

  /** Whether some row was given a number (a count since extraction: a cut does not lower it). */
  get holdsNumbers(): boolean {
    return this.counts.numbers > 0;
  }

  /**
   * The rows' numbers into `out` (NaN where not a number), for vectorized aggregates: a chunk copy
   * per 65,536 rows where the rows run without a gap (a whole-table scan), one read a row otherwise.
   * The shape of the analytics operators' NumberSource.
   */
  numbersOf(rows: Int32Array, out: Float64Array): void {
    gather(this.numbers, rows, out);
  }

  /** The rows' dictionary codes into `out` (NOT_CODED for a number or no value); as numbersOf. */
  codesOf(rows: Int32Array, out: Int32Array): void {
    gather(this.codes, rows, out);
  }

  /**
   * The column as a group key of integer codes 0 .. cardinality - 1 (the shape of the analytics
   * operators' CodeSource), when no row holds a number (those have no code): a value's dictionary
   * code, and for rows with no value the code of `null`, as SQL groups a missing key with null (a
   * code of its own past the dictionary when no row holds null). Undefined when rows hold numbers.
   * The dictionary only grows, so codes stay valid while the table is appended to.
   */
  keyCodes():
    | {
        column: string;
        cardinality: number;
        /** The code of rows with no value (NOT_CODED in `codes`). */
        missing: number;
        codes(rows: Int32Array, out: Int32Array): void;
        valueOf(code: number): unknown;
      }
    | undefined {
    if (this.holdsNumbers) return undefined;
    const dictionary = this.dictionary;
    const size = dictionary.size;
    const missing = dictionary.codeOf(null) ?? size;
    return {
      column: this.field,
      cardinality: missing === size ? size + 1 : size,
      missing,
      codes: (rows, out) => {
        gather(this.codes, rows, out);
        for (let i = 0; i < out.length && i < rows.length; i++) if (out[i] === NOT_CODED) out[i] = missing;
      },
      valueOf: (code) => (code === missing ? null : dictionary.valueOf(code)),
    };
  }

  /** Bytes held: both columns' chunks and the dictionary. */
  get bytes(): number {
    return this.numbers.bytes + this.codes.bytes + this.dictionary.bytes;
  }

  /** Stores row `row`'s value (each row once, in row order; rows with no value need no call). */
  set(row: number, value: unknown): void {
    if (value === undefined) return;
    if (typeof value === 'number' && Number.isFinite(value)) {
      this.numbers.set(row, value);
      this.counts.numbers++;
      return;
    }
    this.codes.set(row, this.dictionary.intern(value));
    if (typeof value === 'string') this.counts.strings++;
    else this.counts.others++;
  }

  /**
   * Stores what `reader.locate` found for `row` in `bytes` (which `view` covers, at the same
   * positions). A string is looked up by its bytes in `strings` (see ByteInterner), so a JS string
   * is made only for a value not seen before in this extraction.
   */
  setLocated(row: number, found: FieldFound, bytes: Buffer, view: DataView, strings: ByteInterner): void {
    const reader = this.reader;
    if (found === FIELD_MISSING) return;
    if (found === FIELD_NUMBER) {
      this.set(row, reader.number);
    } else if (found === FIELD_STRING) {
      const from = reader.stringStart;
      const to = reader.stringEnd;
      const hash = hashBytes(view, from, to);
      let code = strings.find(view, from, to, hash);
      if (code < 0) {
        code = this.dictionary.intern(utf8String(bytes, from, to));
        strings.add(view, from, to, hash, code);
      }
      this.codes.set(row, code);
      this.counts.strings++;
    } else {
      this.set(row, reader.value);
    }
  }

  /** The value an appended event holds, from the event itself (what its record decodes to). */
  valueOfEvent(payload: unknown, tags: Tags): unknown {
    return this.ref.kind === 'tag' ? ownTag(tags, this.ref.key) : readPath(payload, this.ref.path);
  }

  /** Lets go of the chunks wholly below `row` (cleanup removed those rows). */
  dropBelow(row: number): void {
    this.numbers.dropBelow(row);
    this.codes.dropBelow(row);
  }

  /** Adds the chunks wholly below `filled`: nothing writes them again (see EventTable.appendStableArrays). */
  fullChunksBelowFilled(out: Set<RawArray>): void {
    this.numbers.fullChunksBelow(this.filled, out);
    this.codes.fullChunksBelow(this.filled, out);
  }

  snapshot(out: RawArray[]): FieldColumnSnapshot {
    return {
      field: this.field,
      filled: this.filled,
      values: this.dictionary.toJSON(),
      numbers: this.numbers.snapshot(out),
      codes: this.codes.snapshot(out),
      counts: { ...this.counts },
    };
  }

  /**
   * A column from a checkpoint, checked so that damage the CRC missed (or a checkpoint of another
   * build) throws here rather than reading back wrong values: the caller then refuses the checkpoint.
   */
  static restore(meta: FieldColumnSnapshot, arrays: ArrayCursor, rows: number): FieldColumn {
    const column = new FieldColumn(meta.field);
    if (!Number.isSafeInteger(meta.filled) || meta.filled < 0 || meta.filled > rows)
      throw new Error(`field column ${meta.field} covers ${meta.filled} rows of ${rows}`);
    if (!Array.isArray(meta.values)) throw new Error(`field column ${meta.field} has no value list`);
    column.dictionary = FieldValues.from(meta.values);
    column.numbers.restore(meta.numbers, arrays);
    column.codes.restore(meta.codes, arrays);
    const size = column.dictionary.size;
    for (const index of meta.codes) {
      const chunk = column.codes.chunk(index) as Int32Array;
      for (let slot = 0; slot < chunk.length; slot++) {
        const code = chunk[slot] as number;
        if (code < NOT_CODED || code >= size)
          throw new Error(`field column ${meta.field} holds code ${code}, past its ${size} values`);
      }
    }
    const { numbers, strings, others } = meta.counts;
    Object.assign(column.counts, { numbers, strings, others });
    column.filled = meta.filled;
    column.restored = true;
    return column;
  }
}
