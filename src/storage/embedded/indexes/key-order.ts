import { partitionPoint } from '../../../support/binary-search.js';
import type { ArrayCursor, RawArray } from '../table/snapshot.js';
import type { Dictionary } from '../table/dictionary.js';

/** New keys gather unsorted up to this many before they are sorted into a run. */
const PENDING_LIMIT = 1024;

/**
 * The distinct keys of an ordered index, in key order, for range seeks. Keys are interned strings
 * whose code-unit order is key order (index-keys.ts), so ordering is native string comparison.
 *
 * Keys arrive in any order, so as in the time index they gather in a small unsorted buffer, then
 * become sorted runs merged like an LSM tree (runs of similar size merge): O(log n) runs, each
 * binary-searched, and each key is merged O(log n) times in all.
 */
export class KeyOrder {
  private runs: Uint32Array[] = [];
  private pending: number[] = [];

  constructor(private readonly keys: Dictionary) {}

  add(id: number): void {
    this.pending.push(id);
    if (this.pending.length >= PENDING_LIMIT) this.flush();
  }

  /**
   * Ids of keys with `from <= key < to` (to undefined: no upper bound) that `accept` lets through
   * (how exclusive bounds on a field with more fields after it leave out their keys).
   */
  between(
    from: string,
    to: string | undefined,
    accept: (key: string) => boolean,
    /** Called with each id found; returning true stops the search (the caller has seen enough). */
    enough: (id: number) => boolean = () => false,
  ): number[] {
    const out: number[] = [];
    const text = (id: number) => this.keys.valueOf(id);
    for (const run of this.runs) {
      for (let i = this.search(run, from); i < run.length; i++) {
        const key = text(run[i] as number);
        if (to !== undefined && key >= to) break;
        if (accept(key)) {
          out.push(run[i] as number);
          if (enough(run[i] as number)) return out;
        }
      }
    }
    for (const id of this.pending) {
      const key = text(id);
      if (key >= from && (to === undefined || key < to) && accept(key)) {
        out.push(id);
        if (enough(id)) return out;
      }
    }
    return out;
  }

  /** First position in the run whose key is >= `key`. */
  private search(run: Uint32Array, key: string): number {
    return partitionPoint(run.length, (i) => this.keys.valueOf(run[i] as number) < key);
  }

  private flush(): void {
    const text = (id: number) => this.keys.valueOf(id);
    let run: Uint32Array = Uint32Array.from(this.pending).sort((a, b) => (text(a) < text(b) ? -1 : 1));
    this.pending = [];
    // Merge while the newest run is at least half the size of the one before: O(log n) runs.
    while (
      this.runs.length > 0 &&
      (this.runs[this.runs.length - 1] as Uint32Array).length <= run.length * 2
    ) {
      run = merge(this.runs.pop() as Uint32Array, run, text);
    }
    this.runs.push(run);
  }

  get bytes(): number {
    return this.runs.reduce((sum, run) => sum + run.byteLength, 0) + this.pending.length * 8;
  }

  snapshot(out: RawArray[]): { runs: number; pending: number[] } {
    out.push(...this.runs);
    return { runs: this.runs.length, pending: [...this.pending] };
  }

  restore(meta: { runs: number; pending: number[] }, arrays: ArrayCursor): void {
    this.runs = Array.from({ length: meta.runs }, () => arrays.next(Uint32Array));
    this.pending = [...meta.pending];
  }
}

function merge(a: Uint32Array, b: Uint32Array, text: (id: number) => string): Uint32Array {
  const out = new Uint32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) {
    out[k++] = text(a[i] as number) <= text(b[j] as number) ? (a[i++] as number) : (b[j++] as number);
  }
  while (i < a.length) out[k++] = a[i++] as number;
  while (j < b.length) out[k++] = b[j++] as number;
  return out;
}
