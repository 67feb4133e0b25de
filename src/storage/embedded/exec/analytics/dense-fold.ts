import { interpolate } from '../../../../analytics/order-accumulators.js';
import { minFrom, selectKth } from '../../../../analytics/select-kth.js';

/**
 * The typed-array core of the dense group-by (dense-group-by.ts): group keys as integer codes,
 * numbers as Float64Arrays, each aggregate folded per group into typed arrays by its own tight
 * loop. It depends on no table, so a scan worker runs it too (group-task.ts) over its share of the
 * rows, and the states it returns merge into the main thread's.
 */

/**
 * A group key read as integer codes 0 .. cardinality-1. A key that puts a row in several groups
 * (hopping windows: an event counts in every window that holds it) is read in `passes` passes,
 * `pass` 0 .. passes-1, each giving every row at most one code; a row with no group in a pass gets
 * the `discard` code, whose groups the output leaves out.
 */
export interface CodeSource {
  readonly column: string;
  readonly cardinality: number;
  codes(rows: Int32Array, out: Int32Array, pass: number): void;
  valueOf(code: number): unknown;
  readonly passes?: number;
  readonly discard?: number;
  /** The output columns of a code, where the key makes more than one (a window's start and end). */
  columnsOf?(code: number): Record<string, unknown>;
}

/** How many passes the keys take: the most any key takes. */
export function passesOf(keys: readonly CodeSource[]): number {
  return keys.reduce((most, key) => Math.max(most, key.passes ?? 1), 1);
}

/** A numeric field read per row; NaN where the event has no number there. */
export interface NumberSource {
  numbers(rows: Int32Array, out: Float64Array): void;
}

/** Rows per block: every per-row array is one block long, so memory stays flat however many rows. */
export const BLOCK = 65_536;

export function forBlocks(rows: Int32Array, each: (block: Int32Array, start: number) => void): void {
  for (let start = 0; start < rows.length; start += BLOCK) each(rows.subarray(start, start + BLOCK), start);
}

/** One aggregate's per-group state. */
export interface Fold {
  add(groupOf: Int32Array, values: Float64Array | undefined, length: number): void;
  result(group: number): number | null;
}

/**
 * A fold that reads the rows twice: the first pass (add) sizes its state, `allocate` makes it, the
 * second (place) fills it. One with an `owner` reads the owner's state and takes neither pass.
 */
export interface TwoPassFold extends Fold {
  readonly owner?: TwoPassFold;
  allocate(): void;
  place(groupOf: Int32Array, values: Float64Array, length: number): void;
}

const isTwoPass = (fold: Fold): fold is TwoPassFold => 'place' in fold;

/** Kinds whose per-group state is a count and one running number, merged by adding or comparing. */
export const SIMPLE_KINDS: ReadonlySet<string> = new Set(['count', 'countField', 'sum', 'avg', 'min', 'max']);

/** count, count(field), sum, avg, min or max: a count per group and a running sum, min or max. */
export class SimpleFold implements Fold {
  readonly n: Float64Array;
  readonly acc: Float64Array;

  constructor(
    readonly kind: string,
    groups: number,
  ) {
    this.n = new Float64Array(groups);
    this.acc = new Float64Array(kind === 'count' || kind === 'countField' ? 0 : groups);
    if (kind === 'min') this.acc.fill(Infinity);
    if (kind === 'max') this.acc.fill(-Infinity);
  }

  add(groupOf: Int32Array, values: Float64Array | undefined, length: number): void {
    const { n, acc } = this;
    const v = values as Float64Array;
    switch (this.kind) {
      case 'count':
        for (let i = 0; i < length; i++) n[groupOf[i] as number]! += 1;
        return;
      case 'countField':
        for (let i = 0; i < length; i++) if (v[i] === v[i]) n[groupOf[i] as number]! += 1;
        return;
      case 'min':
        for (let i = 0; i < length; i++) {
          const x = v[i] as number;
          if (x !== x) continue; // NaN: missing or not a number, skipped as SQL skips NULL
          const g = groupOf[i] as number;
          n[g]! += 1;
          if (x < (acc[g] as number)) acc[g] = x;
        }
        return;
      case 'max':
        for (let i = 0; i < length; i++) {
          const x = v[i] as number;
          if (x !== x) continue;
          const g = groupOf[i] as number;
          n[g]! += 1;
          if (x > (acc[g] as number)) acc[g] = x;
        }
        return;
      default:
        for (let i = 0; i < length; i++) {
          const x = v[i] as number;
          if (x !== x) continue;
          const g = groupOf[i] as number;
          n[g]! += 1;
          acc[g]! += x;
        }
    }
  }

  /** Adds another share of the rows' state (a worker's) to this one. */
  absorb(state: { readonly n: Float64Array; readonly acc: Float64Array }): void {
    const { n, acc } = this;
    for (let g = 0; g < n.length; g++) n[g]! += state.n[g] as number;
    if (this.kind === 'min') for (let g = 0; g < acc.length; g++) acc[g] = Math.min(acc[g]!, state.acc[g]!);
    else if (this.kind === 'max')
      for (let g = 0; g < acc.length; g++) acc[g] = Math.max(acc[g]!, state.acc[g]!);
    else for (let g = 0; g < acc.length; g++) acc[g]! += state.acc[g] as number;
  }

  result(g: number): number | null {
    const count = this.n[g] as number;
    // count(field) is null when nothing was counted, as on the general path (numeric-accumulators.ts).
    if (this.kind === 'count') return count;
    if (count === 0) return null;
    if (this.kind === 'countField') return count;
    const value = this.acc[g] as number;
    return (this.kind === 'avg' ? value / count : value) + 0;
  }
}

/** Each group's numbers side by side, a run per group: runs [starts[g], starts[g + 1]) of `all`. */
export interface RunsState {
  readonly n: Float64Array;
  readonly starts: Float64Array;
  readonly all: Float64Array;
}

/**
 * An exact percentile (percentile_cont) per group on typed arrays: the first pass counts each
 * group's numbers, the second places them in one array, a run per group; the result selects the
 * two values around the rank in the group's run (expected linear time, where sorting the run took
 * n·log n) and interpolates as the general path does (order-accumulators.ts). Shares of the rows
 * placed apart (by workers) merge by putting each group's runs side by side.
 */
export class PercentileFold implements TwoPassFold {
  private n: Float64Array;
  private starts = new Float64Array(0);
  private filled = new Float64Array(0);
  private all = new Float64Array(0);

  /** With an `owner` (an earlier percentile over the same field), this one only reads its runs. */
  constructor(
    groups: number,
    private readonly p: number,
    readonly owner?: PercentileFold,
  ) {
    this.n = owner?.n ?? new Float64Array(groups);
  }

  add(groupOf: Int32Array, values: Float64Array | undefined, length: number): void {
    if (this.owner !== undefined) return;
    const v = values as Float64Array;
    for (let i = 0; i < length; i++) if (v[i] === v[i]) this.n[groupOf[i] as number]! += 1;
  }

  allocate(): void {
    const groups = this.n.length;
    this.starts = new Float64Array(groups + 1);
    for (let g = 0; g < groups; g++) this.starts[g + 1] = (this.starts[g] as number) + (this.n[g] as number);
    this.filled = this.starts.slice(0, groups);
    this.all = new Float64Array(this.starts[groups] as number);
  }

  place(groupOf: Int32Array, v: Float64Array, length: number): void {
    for (let i = 0; i < length; i++) {
      const x = v[i] as number;
      if (x !== x) continue;
      const g = groupOf[i] as number;
      this.all[this.filled[g]!++] = x + 0;
    }
  }

  get state(): RunsState {
    return { n: this.n, starts: this.starts, all: this.all };
  }

  /** Takes the shares' runs as its own, each group's runs side by side. */
  mergeRuns(shares: readonly RunsState[]): void {
    const groups = this.n.length;
    for (const share of shares) for (let g = 0; g < groups; g++) this.n[g]! += share.n[g] as number;
    this.allocate();
    for (let g = 0; g < groups; g++) {
      let at = this.starts[g] as number;
      for (const share of shares) {
        const run = share.all.subarray(share.starts[g], share.starts[g + 1]);
        this.all.set(run, at);
        at += run.length;
      }
    }
  }

  /** Per group, the rank of the run's last selection (-1: none): it bounds the next one. */
  private pivots: Int32Array | undefined;

  /**
   * The part of a group's run the rank-th value is in. After a selection at rank q, every value
   * before q is no larger and every one after it no smaller, so a later percentile over the same run
   * (p95 after p50) selects only on its side of q.
   */
  private sideOf(group: number, rank: number, count: number): [number, number] {
    const pivots = (this.pivots ??= new Int32Array(this.n.length).fill(-1));
    const pivot = pivots[group] as number;
    pivots[group] = rank;
    if (pivot < 0 || pivot === rank) return [0, count];
    return rank > pivot ? [pivot + 1, count] : [0, pivot];
  }

  result(group: number): number | null {
    const count = this.n[group] as number;
    if (count === 0) return null;
    const runs = this.owner ?? this;
    // Selection reorders the run in place, which the other percentiles over it do not mind.
    const run = runs.all.subarray(runs.starts[group], runs.starts[group + 1]);
    const rank = this.p * (count - 1);
    const low = Math.floor(rank);
    const [from, to] = runs.sideOf(group, low, count);
    const lowValue = selectKth(run.subarray(from, to), low - from);
    const highValue = low + 1 < count ? minFrom(run, low + 1) : lowValue;
    return interpolate(lowValue, highValue, rank - low) + 0;
  }
}

/**
 * The keys' row codes, mixed into one group number per row (the first key most significant). Each
 * key's codes are kept in its own array: in a later pass only a key read in passes (a window) is
 * read again.
 */
function groupsOf(
  keys: readonly CodeSource[],
  block: Int32Array,
  codes: readonly Int32Array[],
  groupOf: Int32Array,
  pass: number,
): void {
  // One key: its codes are the groups.
  if (keys.length === 1) return (keys[0] as CodeSource).codes(block, groupOf, pass);
  groupOf.fill(0);
  keys.forEach((key, k) => {
    const own = codes[k] as Int32Array;
    if (pass === 0 || key.passes !== undefined) key.codes(block, own, pass);
    const radix = key.cardinality;
    for (let i = 0; i < block.length; i++) groupOf[i] = (groupOf[i] as number) * radix + (own[i] as number);
  });
}

/**
 * Folds the rows into `folds` (one per aggregate, fed by `numbers[a]`, or nothing for count()),
 * a block at a time; returns which groups hold a row. A key read in passes (hopping windows) folds
 * each block once per pass, the block's numbers read once. Exact percentiles take a second pass
 * over the rows that puts each group's values side by side. `check` runs once a block (a query's
 * guard, a worker's stop flag).
 */
export function foldRows(
  rows: Int32Array,
  keys: readonly CodeSource[],
  numbers: readonly (NumberSource | null)[],
  folds: readonly Fold[],
  groups: number,
  check: () => void,
): Uint8Array {
  const length = Math.min(BLOCK, rows.length);
  const groupOf = new Int32Array(length);
  const codes = keys.map(() => new Int32Array(length));
  const values = numbers.map((source) => (source ? new Float64Array(length) : undefined));
  const present = new Uint8Array(groups);
  const passes = passesOf(keys);
  const percentiles = folds.flatMap((fold, a) =>
    isTwoPass(fold) && fold.owner === undefined ? [[fold, a] as const] : [],
  );
  // Percentiles read the rows twice; with one pass per block, the second reuses the first's
  // groups (4 bytes a row) instead of reading and mixing the keys again.
  const kept = percentiles.length > 0 && passes === 1 ? new Int32Array(rows.length) : undefined;
  forBlocks(rows, (block, start) => {
    check();
    numbers.forEach((source, a) => source?.numbers(block, values[a] as Float64Array));
    for (let pass = 0; pass < passes; pass++) {
      groupsOf(keys, block, codes, groupOf, pass);
      for (let i = 0; i < block.length; i++) present[groupOf[i] as number] = 1;
      folds.forEach((fold, a) => fold.add(groupOf, values[a], block.length));
    }
    kept?.set(groupOf.subarray(0, block.length), start);
  });
  if (percentiles.length > 0) {
    for (const [fold] of percentiles) fold.allocate();
    forBlocks(rows, (block, start) => {
      check();
      for (const [, a] of percentiles) (numbers[a] as NumberSource).numbers(block, values[a] as Float64Array);
      for (let pass = 0; pass < passes; pass++) {
        const blockGroups = kept?.subarray(start, start + block.length) ?? groupOf;
        if (kept === undefined) groupsOf(keys, block, codes, groupOf, pass);
        for (const [fold, a] of percentiles) fold.place(blockGroups, values[a] as Float64Array, block.length);
      }
    });
  }
  return present;
}
