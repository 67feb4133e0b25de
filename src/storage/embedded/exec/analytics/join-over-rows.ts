import type { StoredEvent } from '../../../../events/types.js';
import type { JoinSpec, PipelineRow } from '../../../../query/analytics-ast.js';
import { resolveField } from '../../../../query/fields.js';
import { groupKeyText } from '../../../../analytics/stages/group-key.js';
import { joinTooLarge, MAX_JOIN_ROWS } from '../../../../analytics/stages/join-rows.js';
import { durationMs } from '../../../../analytics/stages/stage-duration.js';
import type { EventReader } from '../../table/event-reader.js';
import type { EventTable } from '../../table/event-table.js';
import type { BodyReader } from '../compile-filter.js';
import type { QueryGuard } from '../query-guard.js';
import type { JoinKeyRead } from './analytics-nodes.js';
import { gatherChunks } from './chunk-sources.js';
import { BLOCK } from './dense-fold.js';
import { analyticsGetter } from './group-by-columns.js';
import { tableChunks } from './table-chunks.js';

/**
 * The Join of an analytics plan when its left input is the filter's row numbers: a hash join over
 * row ids and integer key codes, which decodes only the events that end up in an output row (the
 * general path, join-rows.ts, decodes both sides whole before it looks at a key). Its answer is
 * joinRows's, row for row: per left row in left order, its matches in the right rows' (timestamp,
 * sequence) order; keys equal by canonical JSON (1 is not "1"); a missing or null key matches
 * nothing; `within` keeps 0 <= right.timestamp − left.timestamp <= within; a left join keeps an
 * unmatched left row with `[as]: null`.
 *
 * 1. Keys as codes, without decoding a record: `type` and `aggregateId` are the table's dictionary
 *    ids; a `tags.*` / `payload.*` field column of strings gives its dictionary codes; numbers (a
 *    field column of numbers only, `timestamp`, `version`, `sequence`) get codes from a Map over
 *    the left side's numbers. Two sides on one dictionary share its codes; otherwise the right
 *    side's codes are translated into the left's through their values, each distinct right code
 *    once. A field that is none of these (`id`, a field column mixing numbers, strings, booleans,
 *    null or objects) is read as values and keyed by groupKeyText on both sides, as joinRows keys.
 * 2. The right side as a hash over codes: its rows in (timestamp, row) order, then counted into one
 *    run per code (a stable counting sort), so each key's matches are already in output order.
 * 3. Each left row probes its code's run (with `within`, a binary search for its first match).
 * 4. The pairs, as positions in typed arrays, name the rows to decode: one EventReader call for the
 *    distinct rows in ascending order (log order), then one output row a pair, the right event
 *    shared by every pair it is in, as joinRows shares it.
 */

/** How the join ran: where each side's key was read from. */
export interface JoinOverRows {
  readonly rows: PipelineRow[];
  readonly reads: readonly [JoinKeyRead, JoinKeyRead];
}

/** One side's key as read from the table: dictionary codes, numbers, or values. */
type KeyReader =
  | {
      readonly kind: 'codes';
      readonly from: JoinKeyRead;
      /** The code space: two readers with the same space compare codes directly. */
      readonly space: object;
      readonly size: () => number;
      /** Codes of the rows (ascending) into `out`; -1 where the row has no value. */
      codes(rows: Int32Array, out: Int32Array): void;
      valueOf(code: number): unknown;
      /** A value's code in this space, if it has one. */
      codeOf(value: unknown): number | undefined;
    }
  | {
      readonly kind: 'numbers';
      readonly from: JoinKeyRead;
      /** Numbers of the rows (ascending) into `out`; NaN where the row has no number. */
      numbers(rows: Int32Array, out: Float64Array): void;
    }
  | { readonly kind: 'values'; read(row: number): unknown };

const NONE = -1;

function readerOf(field: string, table: EventTable, body: BodyReader): KeyReader {
  const ref = resolveField(field, 'join.on');
  const chunks = tableChunks(table);
  if (ref.kind === 'core') {
    switch (ref.name) {
      case 'type':
      case 'aggregateId': {
        const dictionary = ref.name === 'type' ? table.types : table.aggregates;
        const key = ref.name === 'type' ? 'typeId' : 'aggregateId';
        return {
          kind: 'codes',
          from: 'column',
          space: dictionary,
          size: () => dictionary.size,
          codes: (rows, out) => gatherChunks(chunks, key, rows, out),
          valueOf: (code) => dictionary.valueOf(code),
          codeOf: (value) => (typeof value === 'string' ? dictionary.idOf(value) : undefined),
        };
      }
      case 'sequence':
        return {
          kind: 'numbers',
          from: 'column',
          numbers(rows, out) {
            for (let i = 0; i < rows.length; i++) out[i] = (rows[i] as number) + 1;
          },
        };
      case 'timestamp':
      case 'version': {
        const key = ref.name;
        return {
          kind: 'numbers',
          from: 'column',
          numbers: (rows, out) => gatherChunks(chunks, key, rows, out),
        };
      }
      default:
        // `id` lives in the record only.
        return { kind: 'values', read: analyticsGetter(field, table, body) };
    }
  }
  const column = table.fieldColumn(field);
  switch (column.kind) {
    case 'string': {
      // Strings only: no null, boolean or object among the codes, so equal codes are equal JSON.
      const dictionary = column.dictionary;
      return {
        kind: 'codes',
        from: 'field column',
        space: column,
        size: () => dictionary.size,
        codes: (rows, out) => column.codesOf(rows, out),
        valueOf: (code) => dictionary.valueOf(code),
        codeOf: (value) => (typeof value === 'string' ? dictionary.codeOf(value) : undefined),
      };
    }
    case 'number':
      return { kind: 'numbers', from: 'field column', numbers: (rows, out) => column.numbersOf(rows, out) };
    default:
      // Numbers with strings (1 must not meet "1"), or booleans, null, objects: by canonical JSON.
      return { kind: 'values', read: (row) => column.value(row) };
  }
}

/** Both sides' keys as codes in one space (the left's), -1 for no key, and the space's size. */
interface Keys {
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly size: number;
  readonly reads: readonly [JoinKeyRead, JoinKeyRead];
}

/** `each(block, start)` over the rows a block at a time, checking the guard between blocks. */
function blocks(rows: Int32Array, guard: QueryGuard, each: (block: Int32Array, start: number) => void): void {
  for (let start = 0; start < rows.length; start += BLOCK) {
    guard.check();
    each(rows.subarray(start, start + BLOCK), start);
  }
}

function codeKeys(
  left: Extract<KeyReader, { kind: 'codes' }>,
  right: Extract<KeyReader, { kind: 'codes' }>,
  leftRows: Int32Array,
  rightRows: Int32Array,
  guard: QueryGuard,
): Keys {
  const leftCodes = new Int32Array(leftRows.length);
  const rightCodes = new Int32Array(rightRows.length);
  blocks(leftRows, guard, (block, start) => left.codes(block, leftCodes.subarray(start)));
  blocks(rightRows, guard, (block, start) => right.codes(block, rightCodes.subarray(start)));
  if (left.space !== right.space) {
    // Each distinct right code is looked up once, by its value, in the left's dictionary:
    // -2 not looked up yet, -1 no such value on the left.
    const translated = new Int32Array(right.size()).fill(-2);
    for (let i = 0; i < rightCodes.length; i++) {
      const code = rightCodes[i] as number;
      if (code === NONE) continue;
      let to = translated[code] as number;
      if (to === -2) translated[code] = to = left.codeOf(right.valueOf(code)) ?? NONE;
      rightCodes[i] = to;
    }
  }
  return { left: leftCodes, right: rightCodes, size: left.size(), reads: [left.from, right.from] };
}

function numberKeys(
  left: Extract<KeyReader, { kind: 'numbers' }>,
  right: Exclude<KeyReader, { kind: 'values' }>,
  leftRows: Int32Array,
  rightRows: Int32Array,
  guard: QueryGuard,
): Keys {
  // Codes in order of first sight on the left; a number only the right has can match nothing.
  const codes = new Map<number, number>();
  const leftCodes = new Int32Array(leftRows.length);
  const rightCodes = new Int32Array(rightRows.length).fill(NONE);
  const numbers = new Float64Array(Math.min(BLOCK, Math.max(leftRows.length, rightRows.length)));
  blocks(leftRows, guard, (block, start) => {
    left.numbers(block, numbers);
    for (let i = 0; i < block.length; i++) {
      const x = numbers[i] as number;
      let code = NONE;
      if (x === x) {
        code = codes.get(x) ?? codes.size;
        if (code === codes.size) codes.set(x, code);
      }
      leftCodes[start + i] = code;
    }
  });
  // Strings (a dictionary) never equal a number: every right key stays -1.
  if (right.kind === 'numbers') {
    blocks(rightRows, guard, (block, start) => {
      right.numbers(block, numbers);
      for (let i = 0; i < block.length; i++) {
        const x = numbers[i] as number;
        if (x === x) rightCodes[start + i] = codes.get(x) ?? NONE;
      }
    });
  }
  return { left: leftCodes, right: rightCodes, size: codes.size, reads: [left.from, right.from] };
}

/** Keys by canonical JSON text, as joinRows keys them: for a field that has no codes. */
function valueKeys(
  leftRead: (row: number) => unknown,
  rightRead: (row: number) => unknown,
  leftRows: Int32Array,
  rightRows: Int32Array,
  guard: QueryGuard,
): Keys {
  const codes = new Map<string, number>();
  const leftCodes = new Int32Array(leftRows.length);
  const rightCodes = new Int32Array(rightRows.length);
  blocks(leftRows, guard, (block, start) => {
    for (let i = 0; i < block.length; i++) {
      const value = leftRead(block[i] as number);
      let code = NONE;
      if (value !== undefined && value !== null) {
        const text = groupKeyText([value]);
        code = codes.get(text) ?? codes.size;
        if (code === codes.size) codes.set(text, code);
      }
      leftCodes[start + i] = code;
    }
  });
  blocks(rightRows, guard, (block, start) => {
    for (let i = 0; i < block.length; i++) {
      const value = rightRead(block[i] as number);
      rightCodes[start + i] =
        value === undefined || value === null ? NONE : (codes.get(groupKeyText([value])) ?? NONE);
    }
  });
  return { left: leftCodes, right: rightCodes, size: codes.size, reads: ['values', 'values'] };
}

/** A key read as values, whatever its reader: what valueKeys needs from a side. */
function valuesOf(reader: KeyReader, table: EventTable, field: string, body: BodyReader) {
  return reader.kind === 'values' ? reader.read : analyticsGetter(field, table, body);
}

function keysOf(
  fields: readonly [string, string],
  leftRows: Int32Array,
  rightRows: Int32Array,
  table: EventTable,
  body: BodyReader,
  guard: QueryGuard,
): Keys {
  const [leftField, rightField] = fields;
  const left = readerOf(leftField, table, body);
  const right = leftField === rightField ? left : readerOf(rightField, table, body);
  if (left.kind === 'values' || right.kind === 'values') {
    return valueKeys(
      valuesOf(left, table, leftField, body),
      valuesOf(right, table, rightField, body),
      leftRows,
      rightRows,
      guard,
    );
  }
  if (left.kind === 'numbers') return numberKeys(left, right, leftRows, rightRows, guard);
  if (right.kind === 'codes') return codeKeys(left, right, leftRows, rightRows, guard);
  // Strings on the left, numbers on the right: no pair.
  return {
    left: new Int32Array(leftRows.length).fill(NONE),
    right: new Int32Array(rightRows.length).fill(NONE),
    size: 0,
    reads: [left.from, right.from],
  };
}

/** The right side hashed: `matches[offsets[c] .. offsets[c + 1])` are code c's right positions in (timestamp, row) order. */
interface RightHash {
  readonly offsets: Int32Array;
  readonly matches: Int32Array;
  /** Each match's timestamp (for `within`). */
  readonly times: Float64Array;
}

function isAscending(rows: Int32Array): boolean {
  for (let i = 1; i < rows.length; i++) if ((rows[i] as number) <= (rows[i - 1] as number)) return false;
  return true;
}

function timesOf(rows: Int32Array, table: EventTable, guard: QueryGuard): Float64Array {
  const chunks = tableChunks(table);
  const times = new Float64Array(rows.length);
  blocks(rows, guard, (block, start) => gatherChunks(chunks, 'timestamp', block, times.subarray(start)));
  return times;
}

function buildRight(codes: Int32Array, times: Float64Array, size: number): RightHash {
  const n = codes.length;
  // Rows ascend, so (timestamp, row) order is row order unless a timestamp goes back.
  let order: Int32Array | undefined;
  for (let i = 1; i < n; i++) {
    if ((times[i] as number) < (times[i - 1] as number)) {
      order = new Int32Array(n);
      for (let p = 0; p < n; p++) order[p] = p;
      order.sort((a, b) => (times[a] as number) - (times[b] as number) || a - b);
      break;
    }
  }
  const offsets = new Int32Array(size + 1);
  for (let i = 0; i < n; i++) {
    const code = codes[i] as number;
    if (code !== NONE) offsets[code + 1]! += 1;
  }
  for (let c = 0; c < size; c++) offsets[c + 1]! += offsets[c] as number;
  const cursor = offsets.slice(0, size);
  const matches = new Int32Array(offsets[size] as number);
  const matchTimes = new Float64Array(matches.length);
  for (let k = 0; k < n; k++) {
    const p = order === undefined ? k : (order[k] as number);
    const code = codes[p] as number;
    if (code === NONE) continue;
    const at = cursor[code]!++;
    matches[at] = p;
    matchTimes[at] = times[p] as number;
  }
  return { offsets, matches, times: matchTimes };
}

/** Pairs of positions (left, right or -1), in output order, in typed arrays that grow by doubling. */
class Pairs {
  left: Int32Array;
  right: Int32Array;
  length = 0;

  constructor(capacity: number) {
    this.left = new Int32Array(Math.min(MAX_JOIN_ROWS, Math.max(16, capacity)));
    this.right = new Int32Array(this.left.length);
  }

  push(left: number, right: number): void {
    if (this.length === this.left.length) {
      if (this.length >= MAX_JOIN_ROWS) throw joinTooLarge();
      const capacity = Math.min(this.length * 2, MAX_JOIN_ROWS);
      const left = new Int32Array(capacity);
      const right = new Int32Array(capacity);
      left.set(this.left);
      right.set(this.right);
      this.left = left;
      this.right = right;
    }
    this.left[this.length] = left;
    this.right[this.length++] = right;
  }
}

/** The first index in [from, to) whose time is at or after `t` (times ascend there). */
function firstAtOrAfter(times: Float64Array, from: number, to: number, t: number): number {
  let low = from;
  let high = to;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((times[mid] as number) < t) low = mid + 1;
    else high = mid;
  }
  return low;
}

function probe(
  keys: Keys,
  hash: RightHash,
  leftTimes: Float64Array | undefined,
  withinMs: number | null,
  keepUnmatched: boolean,
  guard: QueryGuard,
): Pairs {
  const { offsets, matches, times } = hash;
  const codes = keys.left;
  const pairs = new Pairs(codes.length);
  for (let i = 0; i < codes.length; i++) {
    if ((i & (BLOCK - 1)) === BLOCK - 1) guard.check();
    const code = codes[i] as number;
    const before = pairs.length;
    if (code !== NONE) {
      let at = offsets[code] as number;
      const end = offsets[code + 1] as number;
      if (withinMs === null) {
        for (; at < end; at++) pairs.push(i, matches[at] as number);
      } else {
        const t = (leftTimes as Float64Array)[i] as number;
        // joinRows's test, 0 <= right.t − t <= within, over the run from the first right.t >= t.
        for (at = firstAtOrAfter(times, at, end, t); at < end && (times[at] as number) - t <= withinMs; at++)
          pairs.push(i, matches[at] as number);
      }
    }
    if (keepUnmatched && pairs.length === before) pairs.push(i, NONE);
  }
  return pairs;
}

/** Each used position's index in `distinct` (both ascending): one walk. */
function slotsOf(rows: Int32Array, used: Uint8Array, distinct: Int32Array): Int32Array {
  const slots = new Int32Array(rows.length);
  let j = 0;
  for (let p = 0; p < rows.length; p++) {
    if (used[p] === 0) continue;
    const row = rows[p] as number;
    while ((distinct[j] as number) < row) j++;
    slots[p] = j;
  }
  return slots;
}

/** Decodes the rows the pairs name, each once and in one pass, and builds the output rows. */
function hydrate(
  pairs: Pairs,
  leftRows: Int32Array,
  rightRows: Int32Array,
  as: string,
  reader: EventReader,
  guard: QueryGuard,
): PipelineRow[] {
  const usedLeft = new Uint8Array(leftRows.length);
  const usedRight = new Uint8Array(rightRows.length);
  for (let k = 0; k < pairs.length; k++) {
    usedLeft[pairs.left[k] as number] = 1;
    const r = pairs.right[k] as number;
    if (r !== NONE) usedRight[r] = 1;
  }
  // Both sides ascend: merge their used rows into one ascending list without repeats (a row on
  // both sides is decoded once).
  const distinct = new Int32Array(leftRows.length + rightRows.length);
  let n = 0;
  let l = 0;
  let r = 0;
  for (;;) {
    while (l < leftRows.length && usedLeft[l] === 0) l++;
    while (r < rightRows.length && usedRight[r] === 0) r++;
    if (l === leftRows.length && r === rightRows.length) break;
    const a = l < leftRows.length ? (leftRows[l] as number) : Infinity;
    const b = r < rightRows.length ? (rightRows[r] as number) : Infinity;
    const next = Math.min(a, b);
    distinct[n++] = next;
    if (a === next) l++;
    if (b === next) r++;
  }
  guard.check();
  const events = reader.events(
    Array.from(distinct.subarray(0, n)),
  ) as StoredEvent[] as unknown as PipelineRow[];
  const leftSlots = slotsOf(leftRows, usedLeft, distinct.subarray(0, n));
  const rightSlots = slotsOf(rightRows, usedRight, distinct.subarray(0, n));
  const out = new Array<PipelineRow>(pairs.length);
  for (let k = 0; k < pairs.length; k++) {
    if ((k & (BLOCK - 1)) === BLOCK - 1) guard.check();
    const left = events[leftSlots[pairs.left[k] as number] as number] as PipelineRow;
    const p = pairs.right[k] as number;
    out[k] = { ...left, [as]: p === NONE ? null : events[rightSlots[p] as number] };
  }
  return out;
}

/** What the join reads from the engine. */
export interface JoinTable {
  readonly table: EventTable;
  readonly reader: EventReader;
  readonly body: BodyReader;
  readonly guard: QueryGuard;
}

/**
 * Joins the left rows with the right rows as joinRows joins their events (see the top of this
 * file). Both row lists ascend (a row plan's rows in sequence order); undefined when one does not,
 * and the caller then joins the records.
 */
export function joinOverRows(
  leftRows: Int32Array,
  rightRows: Int32Array,
  spec: JoinSpec,
  { table, reader, body, guard }: JoinTable,
): JoinOverRows | undefined {
  if (!isAscending(leftRows) || !isAscending(rightRows)) return undefined;
  const fields: readonly [string, string] = typeof spec.on === 'string' ? [spec.on, spec.on] : spec.on;
  const withinMs = spec.within === undefined ? null : durationMs(spec.within, 'join.within');
  const keys = keysOf(fields, leftRows, rightRows, table, body, guard);
  const hash = buildRight(keys.right, timesOf(rightRows, table, guard), keys.size);
  const leftTimes = withinMs === null ? undefined : timesOf(leftRows, table, guard);
  const pairs = probe(keys, hash, leftTimes, withinMs, spec.type === 'left', guard);
  return { rows: hydrate(pairs, leftRows, rightRows, spec.as, reader, guard), reads: keys.reads };
}
