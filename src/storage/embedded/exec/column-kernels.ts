import { partitionPoint } from '../../../support/binary-search.js';

/**
 * The inner loops of the column scan: one per condition, each over one chunk of one column. A
 * kernel reads the slots (row offsets within the chunk) it is given, either every slot in
 * [start, end) ("dense") or the listed slots in `slots[start..end)` ("sparse"), and writes the
 * passing slots, ascending, to `out`; it returns how many passed. `out` may be `slots` itself: a
 * kernel never writes ahead of what it has read, so selections refine in place.
 *
 * They are small, free of calls and monomorphic, so that V8 compiles each to a tight loop: a loop
 * that has seen both a Float64Array and a Uint32Array reads elements through a polymorphic check
 * and runs about 4x slower, so the numeric kernels come in one copy per element type (timestamps
 * are Float64, versions Uint32). They branch on each row's test: branch-free writes (advancing the
 * count by the test's 0 or 1) measured slower here on both the selective and the wide benchmark
 * filter, the branch being well predicted on sorted timestamps and rare types.
 */
/** from <= value < to, on timestamps. */
export function rangeF64Dense(
  values: Float64Array,
  from: number,
  to: number,
  start: number,
  end: number,
  out: Uint16Array,
): number {
  let n = 0;
  for (let slot = start; slot < end; slot++) {
    const value = values[slot] as number;
    if (value >= from && value < to) out[n++] = slot;
  }
  return n;
}

export function rangeF64Sparse(
  values: Float64Array,
  from: number,
  to: number,
  slots: Uint16Array,
  start: number,
  end: number,
  out: Uint16Array,
): number {
  let n = 0;
  for (let k = start; k < end; k++) {
    const slot = slots[k] as number;
    const value = values[slot] as number;
    if (value >= from && value < to) out[n++] = slot;
  }
  return n;
}

/** from <= value < to, on versions. */
export function rangeU32Dense(
  values: Uint32Array,
  from: number,
  to: number,
  start: number,
  end: number,
  out: Uint16Array,
): number {
  let n = 0;
  for (let slot = start; slot < end; slot++) {
    const value = values[slot] as number;
    if (value >= from && value < to) out[n++] = slot;
  }
  return n;
}

export function rangeU32Sparse(
  values: Uint32Array,
  from: number,
  to: number,
  slots: Uint16Array,
  start: number,
  end: number,
  out: Uint16Array,
): number {
  let n = 0;
  for (let k = start; k < end; k++) {
    const slot = slots[k] as number;
    const value = values[slot] as number;
    if (value >= from && value < to) out[n++] = slot;
  }
  return n;
}

/**
 * timestamp >= cutoffs[typeId]. Written as !(value < cutoff) so that a type id past the end of
 * `cutoffs` (undefined) passes, as Visibility.hidden() treats it.
 */
export function cutoffsDense(
  values: Float64Array,
  typeIds: Uint32Array,
  cutoffs: Float64Array,
  start: number,
  end: number,
  out: Uint16Array,
): number {
  let n = 0;
  for (let slot = start; slot < end; slot++) {
    if (!((values[slot] as number) < (cutoffs[typeIds[slot] as number] as number))) out[n++] = slot;
  }
  return n;
}

export function cutoffsSparse(
  values: Float64Array,
  typeIds: Uint32Array,
  cutoffs: Float64Array,
  slots: Uint16Array,
  start: number,
  end: number,
  out: Uint16Array,
): number {
  let n = 0;
  for (let k = start; k < end; k++) {
    const slot = slots[k] as number;
    if (!((values[slot] as number) < (cutoffs[typeIds[slot] as number] as number))) out[n++] = slot;
  }
  return n;
}

/** Whether `value` is in `points` (ascending), by binary search. */
function contains(points: Float64Array, value: number): boolean {
  const at = partitionPoint(points.length, (i) => (points[i] as number) < value);
  return at < points.length && points[at] === value;
}

/** The value is one of `points`, on timestamps. */
export function pointsF64Dense(
  values: Float64Array,
  points: Float64Array,
  start: number,
  end: number,
  out: Uint16Array,
): number {
  let n = 0;
  for (let slot = start; slot < end; slot++) {
    if (contains(points, values[slot] as number)) out[n++] = slot;
  }
  return n;
}

export function pointsF64Sparse(
  values: Float64Array,
  points: Float64Array,
  slots: Uint16Array,
  start: number,
  end: number,
  out: Uint16Array,
): number {
  let n = 0;
  for (let k = start; k < end; k++) {
    const slot = slots[k] as number;
    if (contains(points, values[slot] as number)) out[n++] = slot;
  }
  return n;
}

/** The value is one of `points`, on versions. */
export function pointsU32Dense(
  values: Uint32Array,
  points: Float64Array,
  start: number,
  end: number,
  out: Uint16Array,
): number {
  let n = 0;
  for (let slot = start; slot < end; slot++) {
    if (contains(points, values[slot] as number)) out[n++] = slot;
  }
  return n;
}

export function pointsU32Sparse(
  values: Uint32Array,
  points: Float64Array,
  slots: Uint16Array,
  start: number,
  end: number,
  out: Uint16Array,
): number {
  let n = 0;
  for (let k = start; k < end; k++) {
    const slot = slots[k] as number;
    if (contains(points, values[slot] as number)) out[n++] = slot;
  }
  return n;
}

export function idDense(ids: Uint32Array, id: number, start: number, end: number, out: Uint16Array): number {
  let n = 0;
  for (let slot = start; slot < end; slot++) {
    if (ids[slot] === id) out[n++] = slot;
  }
  return n;
}

export function idSparse(
  ids: Uint32Array,
  id: number,
  slots: Uint16Array,
  start: number,
  end: number,
  out: Uint16Array,
): number {
  let n = 0;
  for (let k = start; k < end; k++) {
    const slot = slots[k] as number;
    if (ids[slot] === id) out[n++] = slot;
  }
  return n;
}

/** `member[id]` is 1 for the wanted ids. It should cover every id the column holds: reading past its end is correct but slow. */
export function idSetDense(
  ids: Uint32Array,
  member: Uint8Array,
  start: number,
  end: number,
  out: Uint16Array,
): number {
  let n = 0;
  for (let slot = start; slot < end; slot++) {
    if (member[ids[slot] as number] === 1) out[n++] = slot;
  }
  return n;
}

export function idSetSparse(
  ids: Uint32Array,
  member: Uint8Array,
  slots: Uint16Array,
  start: number,
  end: number,
  out: Uint16Array,
): number {
  let n = 0;
  for (let k = start; k < end; k++) {
    const slot = slots[k] as number;
    if (member[ids[slot] as number] === 1) out[n++] = slot;
  }
  return n;
}

/** Slots in [start, end) that are also in [from, to): a row range is a range of slots. */
export function slotRangeDense(
  from: number,
  to: number,
  start: number,
  end: number,
  out: Uint16Array,
): number {
  let n = 0;
  const stop = Math.min(end, to);
  for (let slot = Math.max(start, from); slot < stop; slot++) out[n++] = slot;
  return n;
}

export function slotRangeSparse(
  from: number,
  to: number,
  slots: Uint16Array,
  start: number,
  end: number,
  out: Uint16Array,
): number {
  let n = 0;
  for (let k = start; k < end; k++) {
    const slot = slots[k] as number;
    if (slot >= from && slot < to) out[n++] = slot;
  }
  return n;
}

/**
 * The slots in [start, end) whose mark is `keep` (1: an OR's passing rows, 0: a NOT's), clearing
 * every mark on the way. `marks` holds 0 or 1 per slot.
 */
export function markedDense(
  marks: Uint8Array,
  keep: 0 | 1,
  start: number,
  end: number,
  out: Uint16Array,
): number {
  let n = 0;
  for (let slot = start; slot < end; slot++) {
    if (marks[slot] === keep) out[n++] = slot;
    marks[slot] = 0;
  }
  return n;
}

/** The slots in `slots[start..end)` whose mark is `keep`, clearing every mark on the way. */
export function markedSparse(
  marks: Uint8Array,
  keep: 0 | 1,
  slots: Uint16Array,
  start: number,
  end: number,
  out: Uint16Array,
): number {
  let n = 0;
  for (let k = start; k < end; k++) {
    const slot = slots[k] as number;
    if (marks[slot] === keep) out[n++] = slot;
    marks[slot] = 0;
  }
  return n;
}

/** Sets the mark of `slots[0..count)`. */
export function mark(marks: Uint8Array, slots: Uint16Array, count: number): void {
  for (let k = 0; k < count; k++) marks[slots[k] as number] = 1;
}
