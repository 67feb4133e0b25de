/**
 * The inner loops of the column scan: one per condition, each over one chunk of one column. A
 * kernel reads the slots (row offsets within the chunk) it is given, either every slot in
 * [start, end) ("dense") or the listed slots in `slots[start..end)` ("sparse"), and writes the
 * passing slots, ascending, to `out`; it returns how many passed. `out` may be `slots` itself: a
 * kernel never writes ahead of what it has read, so selections refine in place.
 *
 * They are small, monomorphic and free of calls so that V8 compiles each to a tight loop.
 */
export type NumberArray = Float64Array | Uint32Array;

export function rangeDense(
  values: NumberArray,
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

export function rangeSparse(
  values: NumberArray,
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

/** Whether `value` is in `points` (ascending), by binary search. */
function contains(points: Float64Array, value: number): boolean {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((points[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo < points.length && points[lo] === value;
}

export function pointsDense(
  values: NumberArray,
  points: Float64Array,
  start: number,
  end: number,
  out: Uint16Array,
): number {
  let n = 0;
  for (let slot = start; slot < end; slot++) if (contains(points, values[slot] as number)) out[n++] = slot;
  return n;
}

export function pointsSparse(
  values: NumberArray,
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
  for (let slot = start; slot < end; slot++) if (ids[slot] === id) out[n++] = slot;
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

/** `member[id]` is 1 for the wanted ids; ids past its end are not wanted. */
export function idSetDense(
  ids: Uint32Array,
  member: Uint8Array,
  start: number,
  end: number,
  out: Uint16Array,
): number {
  let n = 0;
  for (let slot = start; slot < end; slot++) if (member[ids[slot] as number] === 1) out[n++] = slot;
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

/** The slots in [start, end) (dense, when `slots` is undefined) or in `slots[start..end)` not in `minus[0..count)`. */
export function difference(
  slots: Uint16Array | undefined,
  start: number,
  end: number,
  minus: Uint16Array,
  count: number,
  out: Uint16Array,
): number {
  let n = 0;
  let m = 0;
  for (let k = start; k < end; k++) {
    const slot = slots === undefined ? k : (slots[k] as number);
    while (m < count && (minus[m] as number) < slot) m++;
    if (m < count && minus[m] === slot) continue;
    out[n++] = slot;
  }
  return n;
}
