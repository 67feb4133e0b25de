import {
  sketchOrdinal,
  sketchPercentile,
  type SketchMapping,
} from '../../../../analytics/approx-percentile.js';
import type { TwoPassFold } from './dense-fold.js';

/**
 * approxPercentile per group with the answers of the general path's sketch (approx-percentile.ts),
 * its bins for every group in one typed array. Each value becomes its bin's ordinal (an integer
 * that sorts the bins in value order). The first pass counts each group's values and finds the
 * ordinals' spans; the second counts ordinals per (group, ordinal) in a dense array (a sparse map
 * per group when the span is too wide for one); a percentile reads the two ranks around p·(n−1) by
 * a walk over the group's bins. p50, p95 and p99 over one field share one fold's bins.
 */

/** Most (group, ordinal) cells held densely (8 bytes each). */
const MAX_DENSE_CELLS = 1 << 22;

/**
 * A share's bins as a worker sends them back: counts per group, the ordinals' spans (`spans`:
 * lowest and highest negative, lowest and highest positive, highest), and the bins: the dense
 * cells as they are (cellOf's layout), or, from a share that kept maps, ordinal and count pairs
 * (group g's are pairs[2·starts[g] .. 2·starts[g + 1])).
 */
export interface SketchState {
  readonly n: Float64Array;
  readonly spans: Float64Array;
  readonly cells?: Float64Array;
  readonly starts?: Float64Array;
  readonly pairs?: Float64Array;
}

const cellsOf = (low: number, high: number) => (high < low ? 0 : high - low + 1);

export class SketchFold implements TwoPassFold {
  private readonly n: Float64Array;
  /** The ordinals seen: overall, and the negative and positive ones apart (see cellOf). */
  private high = -Infinity;
  private lowNegative = Infinity;
  private highNegative = -Infinity;
  private lowPositive = Infinity;
  private highPositive = -Infinity;
  private negativeCells = 0;
  private span = 0;
  private dense: Float64Array | undefined;
  private sparse: Map<number, number>[] | undefined;
  /**
   * The first pass's ordinals in the order it saw them: the second pass sees the same values in the
   * same order (foldRows), so it reads them back instead of taking a logarithm again.
   */
  private ordinals = new Int32Array(1024);
  private written = 0;
  private consumed = 0;
  /** Per group, its sparse bins sorted by ordinal (made on first read). */
  private sorted: (readonly [number, number][])[] = [];

  /** With an `owner` (an earlier approxPercentile over the same field), this one only reads its bins. */
  constructor(
    groups: number,
    private readonly p: number,
    private readonly mapping: SketchMapping,
    readonly owner?: SketchFold,
    private readonly maxDenseCells = MAX_DENSE_CELLS,
  ) {
    this.n = owner?.n ?? new Float64Array(groups);
  }

  add(groupOf: Int32Array, values: Float64Array | undefined, length: number): void {
    if (this.owner !== undefined) return;
    const v = values as Float64Array;
    for (let i = 0; i < length; i++) {
      const x = v[i] as number;
      // Finite numbers only (NaN: missing or not a number; ±Infinity the sketch skips too).
      if (x - x !== 0) continue;
      this.n[groupOf[i] as number]! += 1;
      const t = sketchOrdinal(this.mapping, x);
      this.see(t);
      if (this.written === this.ordinals.length) {
        const grown = new Int32Array(this.written * 2);
        grown.set(this.ordinals);
        this.ordinals = grown;
      }
      this.ordinals[this.written++] = t;
    }
  }

  /** Widens the spans to hold ordinal t. */
  private see(t: number): void {
    if (t > this.high) this.high = t;
    if (t < 0) {
      if (t < this.lowNegative) this.lowNegative = t;
      if (t > this.highNegative) this.highNegative = t;
    } else if (t > 0) {
      if (t < this.lowPositive) this.lowPositive = t;
      if (t > this.highPositive) this.highPositive = t;
    }
  }

  /** Adds `count` values of ordinal t to group g's bins. */
  private count(g: number, t: number, count: number): void {
    if (this.dense !== undefined) this.dense[g * this.span + this.cellOf(t)]! += count;
    else {
      const bins = (this.sparse as Map<number, number>[])[g] as Map<number, number>;
      bins.set(t, (bins.get(t) ?? 0) + count);
    }
  }

  allocate(): void {
    const groups = this.n.length;
    // Negative ordinals, zero and positive ones lie ±2^20 apart (approx-percentile.ts): each side
    // gets the cells of its own span, zero one cell between them.
    this.negativeCells = cellsOf(this.lowNegative, this.highNegative);
    this.span = this.negativeCells + 1 + cellsOf(this.lowPositive, this.highPositive);
    if (groups * this.span <= this.maxDenseCells) this.dense = new Float64Array(groups * this.span);
    else this.sparse = Array.from({ length: groups }, () => new Map<number, number>());
  }

  place(groupOf: Int32Array, values: Float64Array, length: number): void {
    const { dense, span, ordinals } = this;
    for (let i = 0; i < length; i++) {
      const x = values[i] as number;
      if (x - x !== 0) continue;
      const g = groupOf[i] as number;
      const t = ordinals[this.consumed++] as number;
      if (dense !== undefined) dense[g * span + this.cellOf(t)]! += 1;
      else this.count(g, t, 1);
    }
  }

  /** A dense cell of an ordinal: the negatives' cells, zero's, then the positives'. */
  private cellOf(t: number): number {
    if (t < 0) return t - this.lowNegative;
    if (t === 0) return this.negativeCells;
    return this.negativeCells + 1 + t - this.lowPositive;
  }

  private ordinalOf(cell: number): number {
    if (cell < this.negativeCells) return this.lowNegative + cell;
    if (cell === this.negativeCells) return 0;
    return this.lowPositive + cell - this.negativeCells - 1;
  }

  /** This share's bins (for the main thread to merge): its dense cells, or pairs from its maps. */
  get state(): SketchState {
    const spans = Float64Array.of(
      this.lowNegative,
      this.highNegative,
      this.lowPositive,
      this.highPositive,
      this.high,
    );
    if (this.dense !== undefined) return { n: this.n, spans, cells: this.dense };
    const groups = this.n.length;
    const starts = new Float64Array(groups + 1);
    const pairs: number[] = [];
    for (let g = 0; g < groups; g++) {
      const bins = [...(this.sparse as Map<number, number>[])[g]!].sort((a, b) => a[0] - b[0]);
      for (const [t, count] of bins) pairs.push(t, count);
      starts[g + 1] = pairs.length / 2;
    }
    return { n: this.n, spans, starts, pairs: Float64Array.from(pairs) };
  }

  /**
   * Takes the shares' bins as its own (the rows were folded on the workers): their spans joined,
   * then their counts added. Bins add, so the answer is the one-thread fold's exactly. Dense cells
   * add as three runs a group (negatives, zero, positives) at the offset of the share's span.
   */
  mergeShares(shares: readonly SketchState[]): void {
    const groups = this.n.length;
    for (const { n, spans } of shares) {
      for (let g = 0; g < groups; g++) this.n[g]! += n[g] as number;
      this.lowNegative = Math.min(this.lowNegative, spans[0] as number);
      this.highNegative = Math.max(this.highNegative, spans[1] as number);
      this.lowPositive = Math.min(this.lowPositive, spans[2] as number);
      this.highPositive = Math.max(this.highPositive, spans[3] as number);
      this.high = Math.max(this.high, spans[4] as number);
    }
    this.allocate();
    for (const share of shares) {
      if (share.cells !== undefined && this.dense !== undefined) this.addCells(share.spans, share.cells);
      else if (share.cells !== undefined) this.addCellsOneByOne(share.spans, share.cells);
      else {
        const starts = share.starts as Float64Array;
        const pairs = share.pairs as Float64Array;
        for (let g = 0; g < groups; g++)
          for (let k = 2 * (starts[g] as number); k < 2 * (starts[g + 1] as number); k += 2)
            this.count(g, pairs[k] as number, pairs[k + 1] as number);
      }
    }
  }

  /** A share's dense cells added to this fold's dense cells: each of its three runs at an offset. */
  private addCells(spans: Float64Array, cells: Float64Array): void {
    const dense = this.dense as Float64Array;
    const negative = cellsOf(spans[0] as number, spans[1] as number);
    const positive = cellsOf(spans[2] as number, spans[3] as number);
    const span = negative + 1 + positive;
    const negativeAt = negative === 0 ? 0 : (spans[0] as number) - this.lowNegative;
    const positiveAt = positive === 0 ? 0 : this.negativeCells + 1 + (spans[2] as number) - this.lowPositive;
    for (let g = 0; g < this.n.length; g++) {
      const from = g * span;
      const to = g * this.span;
      for (let c = 0; c < negative; c++) dense[to + negativeAt + c]! += cells[from + c] as number;
      dense[to + this.negativeCells]! += cells[from + negative] as number;
      for (let c = 0; c < positive; c++)
        dense[to + positiveAt + c]! += cells[from + negative + 1 + c] as number;
    }
  }

  /** A share's dense cells added one by one (this fold's joined spans were too wide to be dense). */
  private addCellsOneByOne(spans: Float64Array, cells: Float64Array): void {
    const negative = cellsOf(spans[0] as number, spans[1] as number);
    const span = negative + 1 + cellsOf(spans[2] as number, spans[3] as number);
    for (let g = 0; g < this.n.length; g++) {
      for (let c = 0; c < span; c++) {
        const count = cells[g * span + c] as number;
        if (count === 0) continue;
        const t =
          c < negative
            ? (spans[0] as number) + c
            : c === negative
              ? 0
              : (spans[2] as number) + c - negative - 1;
        this.count(g, t, count);
      }
    }
  }

  /** The ordinal of the group's value at 0-based rank r: the first bin whose running count passes r. */
  private ordinalAt(group: number, rank: number): number {
    let running = 0;
    if (this.dense !== undefined) {
      const start = group * this.span;
      for (let c = 0; c < this.span; c++) {
        running += this.dense[start + c] as number;
        if (running > rank) return this.ordinalOf(c);
      }
      return this.high;
    }
    const bins = (this.sorted[group] ??= [...(this.sparse as Map<number, number>[])[group]!].sort(
      (a, b) => a[0] - b[0],
    ));
    for (const [t, count] of bins) {
      running += count;
      if (running > rank) return t;
    }
    return this.high;
  }

  result(group: number): number | null {
    const bins = this.owner ?? this;
    return sketchPercentile(this.mapping, this.n[group] as number, this.p, (rank) =>
      bins.ordinalAt(group, rank),
    );
  }
}
