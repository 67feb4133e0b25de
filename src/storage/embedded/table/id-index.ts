import type { ArrayCursor, RawArray } from './snapshot.js';
import { writeUtf8 } from '../../../codec/utf8.js';
import { hashBytes } from './byte-interner.js';
import { uint32Column } from './chunked-column.js';

const INITIAL_SLOTS = 1 << 10;
/** Grown (doubled) past this share of slots in use: linear probing stays short below it. */
const MAX_LOAD = 0.7;

/**
 * Event id → row, for the rule that an id is stored once (see store/duplicate-ids.ts), in about 10
 * bytes an event and no JS object per event: the ids themselves stay in the log.
 *
 *  - `hashes`, a column: each row's 32-bit hash of its id's UTF-8 bytes (4 bytes a row).
 *  - `slots`, an open-addressing table (linear probing, power-of-two size, at most 70% full):
 *    row + 1 at the slot the hash picks, 0 = empty (4 bytes a slot, 1.4-2.9 slots an event).
 *
 * A lookup walks the chain from the hash's slot and, for each row whose hash is the same, asks the
 * caller whether that row's id really is the one sought (the caller decodes it from the log). Two
 * different ids share a 32-bit hash rarely (tens of thousands of pairs in 10M ids): each costs one
 * extra record read on a lookup, never a wrong answer.
 *
 * Rows cleanup removes stay in the slots until a rebuild (`prune`, from the table's rows that hold
 * an event); the caller passes `present` so a lookup skips them. Compaction keeps row numbers, so
 * the compacted table shares this index (EventTable's constructor).
 */
export class IdIndex {
  private readonly hashes = uint32Column();
  private slots: Uint32Array = new Uint32Array(new SharedArrayBuffer(INITIAL_SLOTS * 4));
  /** Slots in use, removed rows' included. */
  private used = 0;
  /** Encodes a JS string id to hash it as the log's bytes are hashed. */
  private scratch = Buffer.allocUnsafeSlow(256);
  private scratchView = new DataView(this.scratch.buffer);

  get entries(): number {
    return this.used;
  }

  get bytes(): number {
    return this.hashes.bytes + this.slots.byteLength;
  }

  /** The hash of `id`'s UTF-8 bytes: what `add` and `find` take. */
  hashOf(id: string): number {
    if (id.length * 3 > this.scratch.length) {
      this.scratch = Buffer.allocUnsafeSlow(id.length * 3);
      this.scratchView = new DataView(this.scratch.buffer);
    }
    const length = writeUtf8(this.scratch, id, 0);
    return IdIndex.hashBytes(this.scratchView, 0, length);
  }

  /** The hash of the id bytes `view[start..end)` (a record in the log: see record-codec.ts). */
  static hashBytes(view: DataView, start: number, end: number): number {
    // Unsigned, as the Uint32 column holds it.
    return hashBytes(view, start, end) >>> 0;
  }

  /** Records that `row` holds the id of hash `hash`. */
  add(row: number, hash: number): void {
    if ((this.used + 1) / this.slots.length > MAX_LOAD) this.resize(this.slots.length * 2);
    this.hashes.set(row, hash);
    this.place(this.slots, row, hash);
    this.used++;
  }

  /**
   * The row holding the id of hash `hash`, or -1: the first row, among those with that hash that
   * `present` keeps, for which `isId` says the row's id is the one sought.
   */
  find(hash: number, present: (row: number) => boolean, isId: (row: number) => boolean): number {
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = slots[slot] as number;
      if (entry === 0) return -1;
      const row = entry - 1;
      if (this.hashes.get(row) === hash && present(row) && isId(row)) return row;
    }
  }

  /** Lets go of the hashes of rows below `row` (cleanup removed them); the slots wait for `prune`. */
  dropBelow(row: number): void {
    this.hashes.dropBelow(row);
  }

  /**
   * Rebuilds the slots from the rows that hold an event, once removed rows take more than half of
   * them (so the cost is paid once per as many removals as live rows, not per cleanup).
   */
  prune(from: number, to: number, live: number, present: (row: number) => boolean): void {
    if (this.used <= 2 * live + INITIAL_SLOTS) return;
    let size = INITIAL_SLOTS;
    while ((live + 1) / size > MAX_LOAD / 2) size *= 2;
    const slots = new Uint32Array(new SharedArrayBuffer(size * 4));
    let used = 0;
    for (let row = from; row < to; row++) {
      if (!present(row)) continue;
      this.place(slots, row, this.hashes.get(row));
      used++;
    }
    this.slots = slots;
    this.used = used;
  }

  private resize(size: number): void {
    const old = this.slots;
    const slots = new Uint32Array(new SharedArrayBuffer(size * 4));
    for (let i = 0; i < old.length; i++) {
      const entry = old[i] as number;
      if (entry !== 0) this.place(slots, entry - 1, this.hashes.get(entry - 1));
    }
    this.slots = slots;
  }

  private place(slots: Uint32Array, row: number, hash: number): void {
    const mask = slots.length - 1;
    let slot = hash & mask;
    while (slots[slot] !== 0) slot = (slot + 1) & mask;
    slots[slot] = row + 1;
  }

  /** Arrays that appends do not change: the hash chunks wholly below `rows` (see EventTable). */
  appendStableArrays(rows: number, out: Set<RawArray>): void {
    this.hashes.fullChunksBelow(rows, out);
  }

  /** Pushes the arrays onto `out` (no copy); returns the metadata `restore` needs. */
  snapshot(out: RawArray[]): IdIndexSnapshot {
    const hashes = this.hashes.snapshot(out);
    out.push(this.slots);
    return { hashes, used: this.used };
  }

  static restore(meta: IdIndexSnapshot, arrays: ArrayCursor): IdIndex {
    const index = new IdIndex();
    index.hashes.restore(meta.hashes, arrays);
    const slots = arrays.next(Uint32Array);
    if (slots.length === 0 || (slots.length & (slots.length - 1)) !== 0)
      throw new Error(`checkpoint id slots number ${slots.length}, not a power of two`);
    index.slots = slots;
    index.used = meta.used;
    return index;
  }
}

export interface IdIndexSnapshot {
  hashes: number[];
  used: number;
}
