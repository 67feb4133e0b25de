import {
  codeSourceOf,
  numberSourceOf,
  type ChunkReader,
  type CodeSpec,
  type NumberSpec,
} from './chunk-sources.js';
import { BLOCK, foldRows, PercentileFold, SimpleFold, type Fold, type RunsState } from './dense-fold.js';
import { SketchFold, type SketchState } from './sketch-fold.js';
import { sketchMapping } from '../../../../analytics/approx-percentile.js';

/**
 * One worker's share of a parallel group-by (parallel-group-by.ts), as plain data: the rows, how
 * their group keys and numbers are read from column chunks, and the aggregates to fold.
 */
export interface GroupTask {
  readonly keys: readonly CodeSpec[];
  readonly aggregates: readonly GroupTaskAggregate[];
  readonly groups: number;
}

export type GroupTaskAggregate =
  /** count, countField, sum, avg, min or max (SIMPLE_KINDS), over `numbers` (none for count()). */
  | { readonly kind: 'simple'; readonly fold: string; readonly numbers: NumberSpec | null }
  /** The runs an exact percentile reads; `owner` names the aggregate whose runs it shares. */
  | { readonly kind: 'runs'; readonly numbers: NumberSpec; readonly owner?: number }
  /** approxPercentile's bins (sketch-fold.ts); `owner` names the aggregate whose bins it shares. */
  | { readonly kind: 'sketch'; readonly numbers: NumberSpec; readonly owner?: number };

/** A mergeable fold's state as a worker sends it back: plain typed arrays. */
export type FoldState = { readonly n: Float64Array; readonly acc: Float64Array } | RunsState | SketchState;

/** A share's folded state: which groups hold a row, and each aggregate's state (null: it shares another's). */
export interface GroupPartial {
  readonly present: Uint8Array;
  readonly folds: readonly (FoldState | null)[];
}

/** Folds `rows` as `task` says, reading chunks from `reader`; `check` throws to stop it. */
export function runGroupTask(
  task: GroupTask,
  rows: Int32Array,
  reader: ChunkReader,
  check: () => void,
): { partial: GroupPartial; transfer: ArrayBuffer[] } {
  const blockRows = Math.min(BLOCK, rows.length);
  const mapping = sketchMapping();
  const keys = task.keys.map((spec) => codeSourceOf(spec, reader, blockRows));
  const numbers = task.aggregates.map((a) => (a.numbers === null ? null : numberSourceOf(a.numbers, reader)));
  const folds: Fold[] = [];
  for (const a of task.aggregates) {
    if (a.kind === 'simple') folds.push(new SimpleFold(a.fold, task.groups));
    else if (a.kind === 'sketch') {
      // p makes no difference here: only the bins go back.
      const owner = a.owner === undefined ? undefined : (folds[a.owner] as SketchFold);
      folds.push(new SketchFold(task.groups, 0.5, mapping, owner));
    } else {
      // p makes no difference here: only the runs go back.
      const owner = a.owner === undefined ? undefined : (folds[a.owner] as PercentileFold);
      folds.push(new PercentileFold(task.groups, 0.5, owner));
    }
  }
  const present = foldRows(rows, keys, numbers, folds, task.groups, check);
  const states = folds.map((fold) =>
    fold instanceof SimpleFold
      ? { n: fold.n, acc: fold.acc }
      : (fold as PercentileFold | SketchFold).owner === undefined
        ? (fold as PercentileFold | SketchFold).state
        : null,
  );
  const transfer: ArrayBuffer[] = [present.buffer as ArrayBuffer];
  for (const state of states) {
    if (state === null) continue;
    transfer.push(state.n.buffer as ArrayBuffer);
    if ('acc' in state) transfer.push(state.acc.buffer as ArrayBuffer);
    else if ('spans' in state) {
      for (const part of [state.spans, state.cells, state.starts, state.pairs])
        if (part !== undefined) transfer.push(part.buffer as ArrayBuffer);
    } else transfer.push(state.starts.buffer as ArrayBuffer, state.all.buffer as ArrayBuffer);
  }
  return { partial: { present, folds: states }, transfer: [...new Set(transfer)] };
}
