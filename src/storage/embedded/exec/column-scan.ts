import { CHUNK_ROWS, CHUNK_SHIFT } from '../table/chunked-column.js';
import type { EventTable } from '../table/event-table.js';
import { RowBuffer } from '../table/row-buffer.js';
import type { ColumnFilter, ScanColumn } from './column-filter.js';
import {
  cutoffsDense,
  cutoffsSparse,
  idDense,
  idSetDense,
  idSetSparse,
  idSparse,
  mark,
  markedDense,
  markedSparse,
  pointsF64Dense,
  pointsF64Sparse,
  pointsU32Dense,
  pointsU32Sparse,
  rangeF64Dense,
  rangeF64Sparse,
  rangeU32Dense,
  rangeU32Sparse,
  slotRangeDense,
  slotRangeSparse,
} from './column-kernels.js';
import { assertNever } from '../../../support/assert-never.js';

const CHUNK_MASK = CHUNK_ROWS - 1;

/** Where a scan finds the chunk of a column: the table's own, or in a worker the ones it was sent. */
export interface ChunkSource {
  timestamps(chunk: number): Float64Array;
  uint32(column: Exclude<ScanColumn, 'timestamp'>, chunk: number): Uint32Array;
}

let zeroF64: Float64Array | undefined;
let zeroU32: Uint32Array | undefined;

/**
 * A chunk of zeros, shared and never written (kernels write only their selection vectors), standing
 * for one that is not allocated: cleanup may free the chunks of removed rows, whose values then read
 * as 0 through `ChunkedColumn.get`, and the scan must see what `get` sees (recordLength 0: removed).
 */
export function zeroChunk(type: 'f64'): Float64Array;
export function zeroChunk(type: 'u32'): Uint32Array;
export function zeroChunk(type: 'f64' | 'u32'): Float64Array | Uint32Array {
  return type === 'f64'
    ? (zeroF64 ??= new Float64Array(CHUNK_ROWS))
    : (zeroU32 ??= new Uint32Array(CHUNK_ROWS));
}

/** The table's columns as a ChunkSource. */
export function tableChunks(table: EventTable): ChunkSource {
  return {
    timestamps: (chunk) => table.timestamp.chunk(chunk) ?? zeroChunk('f64'),
    uint32: (column, chunk) => table[column].chunk(chunk) ?? zeroChunk('u32'),
  };
}

/**
 * Evaluates a ColumnFilter vectorized: chunk by chunk, each condition a tight loop over one column's
 * typed array producing a selection vector (the passing slots of the chunk). An AND refines the
 * selection in place term by term, so later terms only look at rows earlier ones kept; an OR or a
 * NOT marks what its terms pass and keeps the input rows marked (OR) or unmarked (NOT), except a NOT
 * of dictionary ids, one pass over a table of the ids it leaves. No closure is called per row.
 *
 * One instance per thread and filter: it keeps its scratch buffers between calls.
 */
export class ColumnScan {
  private readonly spare: Uint16Array[] = [];
  private readonly spareMarks: Uint8Array[] = [];
  private readonly members = new Map<ColumnFilter, Uint8Array>();

  constructor(
    private readonly filter: ColumnFilter,
    private readonly source: ChunkSource,
  ) {}

  /**
   * The rows in [from, to) that pass, ascending. `stopped` is asked between chunks; once it says
   * yes the scan ends early with what it has (the caller is about to discard it).
   */
  range(from: number, to: number, stopped?: () => boolean): Uint32Array<ArrayBuffer> {
    const out = new RowBuffer(this.filter.kind === 'all' ? to - from : Math.min(to - from, CHUNK_ROWS));
    this.eachChunk(from, to, (selected, count, base) => out.append(selected, count, base), stopped);
    return out.result();
  }

  /** How many rows in [from, to) pass, without collecting them. */
  count(from: number, to: number): number {
    let total = 0;
    this.eachChunk(from, to, (_, count) => (total += count));
    return total;
  }

  /** Selects chunk by chunk over [from, to); `visit` gets each chunk's passing slots and its first row. */
  private eachChunk(
    from: number,
    to: number,
    visit: (selected: Uint16Array, count: number, base: number) => void,
    stopped?: () => boolean,
  ): void {
    const selected = this.take();
    for (let row = from; row < to && stopped?.() !== true;) {
      const chunk = row >>> CHUNK_SHIFT;
      const base = chunk << CHUNK_SHIFT;
      const end = Math.min(to, base + CHUNK_ROWS);
      visit(selected, this.select(this.filter, chunk, undefined, row - base, end - base, selected), base);
      row = end;
    }
    this.give(selected);
  }

  /** The rows of `candidates` (ascending) that pass, ascending. */
  filterRows(candidates: Uint32Array): Uint32Array {
    const out = new RowBuffer(candidates.length);
    const selected = this.take();
    for (let i = 0; i < candidates.length;) {
      const chunk = (candidates[i] as number) >>> CHUNK_SHIFT;
      let count = 0;
      for (; i < candidates.length && (candidates[i] as number) >>> CHUNK_SHIFT === chunk; i++) {
        selected[count++] = (candidates[i] as number) & CHUNK_MASK;
      }
      out.append(
        selected,
        this.select(this.filter, chunk, selected, 0, count, selected),
        chunk << CHUNK_SHIFT,
      );
    }
    this.give(selected);
    return out.result();
  }

  /**
   * Writes to `out` the slots of `chunk` that pass `node`, among every slot in [start, end) when
   * `slots` is undefined, else among `slots[start..end)`; returns how many. `out` may be `slots`.
   */
  private select(
    node: ColumnFilter,
    chunk: number,
    slots: Uint16Array | undefined,
    start: number,
    end: number,
    out: Uint16Array,
  ): number {
    switch (node.kind) {
      case 'none':
        return 0;
      case 'all':
        return slots === undefined
          ? slotRangeDense(start, end, start, end, out)
          : copy(slots, start, end, out);
      case 'rows': {
        const base = chunk << CHUNK_SHIFT;
        const [from, to] = [Math.max(0, node.from - base), Math.min(CHUNK_ROWS, node.to - base)];
        return slots === undefined
          ? slotRangeDense(from, to, start, end, out)
          : slotRangeSparse(from, to, slots, start, end, out);
      }
      case 'range':
        if (node.column === 'timestamp') {
          const values = this.source.timestamps(chunk);
          return slots === undefined
            ? rangeF64Dense(values, node.from, node.to, start, end, out)
            : rangeF64Sparse(values, node.from, node.to, slots, start, end, out);
        } else {
          const values = this.source.uint32(node.column, chunk);
          return slots === undefined
            ? rangeU32Dense(values, node.from, node.to, start, end, out)
            : rangeU32Sparse(values, node.from, node.to, slots, start, end, out);
        }
      case 'points':
        if (node.column === 'timestamp') {
          const values = this.source.timestamps(chunk);
          return slots === undefined
            ? pointsF64Dense(values, node.values, start, end, out)
            : pointsF64Sparse(values, node.values, slots, start, end, out);
        } else {
          const values = this.source.uint32(node.column, chunk);
          return slots === undefined
            ? pointsU32Dense(values, node.values, start, end, out)
            : pointsU32Sparse(values, node.values, slots, start, end, out);
        }
      case 'ids': {
        const ids = this.source.uint32(node.column, chunk);
        if (node.ids.length === 1) {
          const id = node.ids[0] as number;
          return slots === undefined
            ? idDense(ids, id, start, end, out)
            : idSparse(ids, id, slots, start, end, out);
        }
        const member = this.member(node);
        return slots === undefined
          ? idSetDense(ids, member, start, end, out)
          : idSetSparse(ids, member, slots, start, end, out);
      }
      case 'cutoffs': {
        const values = this.source.timestamps(chunk);
        const typeIds = this.source.uint32('typeId', chunk);
        return slots === undefined
          ? cutoffsDense(values, typeIds, node.cutoffs, start, end, out)
          : cutoffsSparse(values, typeIds, node.cutoffs, slots, start, end, out);
      }
      case 'and': {
        let count = this.select(node.filters[0] as ColumnFilter, chunk, slots, start, end, out);
        for (let i = 1; i < node.filters.length && count > 0; i++) {
          count = this.select(node.filters[i] as ColumnFilter, chunk, out, 0, count, out);
        }
        return count;
      }
      case 'not':
        if (node.filter.kind === 'ids') {
          // Ids outside a set (deleted streams, a large dictionary's `<>`): one pass over a membership
          // table of every other id instead of three (select, mark, keep the unmarked).
          const ids = this.source.uint32(node.filter.column, chunk);
          const member = this.member(node.filter, node);
          return slots === undefined
            ? idSetDense(ids, member, start, end, out)
            : idSetSparse(ids, member, slots, start, end, out);
        }
        return this.byMarks([node.filter], 0, chunk, slots, start, end, out);
      case 'or':
        return this.byMarks(node.filters, 1, chunk, slots, start, end, out);
      default:
        return assertNever(node);
    }
  }

  /**
   * An OR (`keep` 1) or a NOT (`keep` 0) of `filters`: marks what they pass, then keeps the input
   * slots marked (OR) or unmarked (NOT).
   */
  private byMarks(
    filters: readonly ColumnFilter[],
    keep: 0 | 1,
    chunk: number,
    slots: Uint16Array | undefined,
    start: number,
    end: number,
    out: Uint16Array,
  ): number {
    const passed = this.take();
    const marks = this.spareMarks.pop() ?? new Uint8Array(CHUNK_ROWS);
    for (const filter of filters) mark(marks, passed, this.select(filter, chunk, slots, start, end, passed));
    const count =
      slots === undefined
        ? markedDense(marks, keep, start, end, out)
        : markedSparse(marks, keep, slots, start, end, out);
    this.give(passed);
    this.spareMarks.push(marks);
    return count;
  }

  /**
   * The membership table of `of`, an `ids` filter or its NOT, indexed by id over every id the rows
   * can hold (the universe): 1 for the ids passing. Built once per node.
   */
  private member(ids: Extract<ColumnFilter, { kind: 'ids' }>, of: ColumnFilter = ids): Uint8Array {
    let member = this.members.get(of);
    if (member === undefined) {
      member = new Uint8Array(Math.max(ids.universe, (ids.ids[ids.ids.length - 1] as number) + 1));
      const mark = of === ids ? 1 : 0;
      if (mark === 0) member.fill(1);
      for (const id of ids.ids) member[id] = mark;
      this.members.set(of, member);
    }
    return member;
  }

  private take(): Uint16Array {
    return this.spare.pop() ?? new Uint16Array(CHUNK_ROWS);
  }

  private give(buffer: Uint16Array): void {
    this.spare.push(buffer);
  }
}

/** Copies `slots[start..end)` to the front of `out`, which may be `slots`: writes never pass reads. */
function copy(slots: Uint16Array, start: number, end: number, out: Uint16Array): number {
  for (let k = start; k < end; k++) out[k - start] = slots[k] as number;
  return end - start;
}
