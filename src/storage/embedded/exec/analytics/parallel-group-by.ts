import type { OperatorWorkers } from './operator-workers.js';
import type { QueryGuard } from '../query-guard.js';
import { keysOf, type ChunkKey, type CodeSpec, type NumberSpec } from './chunk-sources.js';
import {
  PercentileFold,
  SimpleFold,
  type CodeSource,
  type Fold,
  type NumberSource,
  type RunsState,
} from './dense-fold.js';
import type { GroupPartial, GroupTask, GroupTaskAggregate } from './group-task.js';
import { SketchFold, type SketchState } from './sketch-fold.js';

/** How a dense group-by may use the scan workers. */
export interface ParallelFold {
  readonly pool: OperatorWorkers;
  /** Workers to share the rows among (the plan's; 0 or 1: fold here). */
  readonly workers: number;
  /** Fold on the workers whatever the input's size (hints.parallel: true). */
  readonly forced: boolean;
}

/**
 * Inputs smaller than this fold on the main thread: below it, sending the rows and merging the
 * states costs about what the second core saves (a 1M-row group-by folds in ~0.1 s).
 */
export const PARALLEL_FOLD_ROWS = 1 << 19;

/**
 * Folds the rows on the scan workers, a contiguous share each, and merges their states into
 * `folds`; returns which groups hold a row, or undefined (nothing done) when the fold is not one
 * the workers can do: a key or number the workers cannot read from chunks (calendar buckets, which
 * number buckets as first seen), an aggregate whose state does not merge as typed arrays
 * (stddev and variance fold here), or too few rows.
 *
 * The shares are merged in row order, so counts, minima, maxima and percentiles are those of the
 * serial fold exactly; sums (and averages) add the shares' sums, which can differ from the serial
 * order's in the last bits, as any parallel SQL engine's do.
 */
export async function foldOnWorkers(
  rows: Int32Array,
  keys: readonly (CodeSource & { readonly spec?: CodeSpec })[],
  numbers: readonly ((NumberSource & { readonly spec?: NumberSpec }) | null)[],
  folds: readonly Fold[],
  groups: number,
  guard: QueryGuard,
  parallel: ParallelFold,
): Promise<Uint8Array | undefined> {
  const { pool, workers } = parallel;
  if (workers < 2 || (!parallel.forced && rows.length < PARALLEL_FOLD_ROWS) || rows.length < workers)
    return undefined;
  const task = groupTask(keys, numbers, folds, groups);
  if (task === undefined) return undefined;
  const chunkKeys = [
    ...new Set<ChunkKey>([
      ...task.keys.flatMap(keysOf),
      ...task.aggregates.flatMap((a) => (a.numbers === null ? [] : keysOf(a.numbers))),
    ]),
  ];
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const { stopped, dispose } = guard.watch();
  const size = Math.ceil(rows.length / workers);
  try {
    const shares: Promise<GroupPartial>[] = [];
    for (let from = 0; from < rows.length; from += size) {
      shares.push(pool.group(task, chunkKeys, rows.slice(from, from + size), stop));
    }
    const partials = await Promise.race([Promise.all(shares), stopped]);
    guard.check();
    return merge(partials, folds, groups);
  } finally {
    // A stopped query's shares give up at their next block.
    Atomics.store(stop, 0, 1);
    dispose();
  }
}

/** The fold as a worker task, or undefined when some part of it cannot run there. */
function groupTask(
  keys: readonly { readonly spec?: CodeSpec }[],
  numbers: readonly ({ readonly spec?: NumberSpec } | null)[],
  folds: readonly Fold[],
  groups: number,
): GroupTask | undefined {
  const codeSpecs: CodeSpec[] = [];
  for (const key of keys) {
    if (key.spec === undefined) return undefined;
    codeSpecs.push(key.spec);
  }
  const aggregates: GroupTaskAggregate[] = [];
  for (const [a, fold] of folds.entries()) {
    const source = numbers[a] ?? null;
    if (source !== null && source.spec === undefined) return undefined;
    const spec = source === null ? null : (source.spec as NumberSpec);
    if (fold instanceof SimpleFold) aggregates.push({ kind: 'simple', fold: fold.kind, numbers: spec });
    else if ((fold instanceof PercentileFold || fold instanceof SketchFold) && spec !== null) {
      const owner = fold.owner === undefined ? undefined : folds.indexOf(fold.owner);
      const kind = fold instanceof PercentileFold ? 'runs' : 'sketch';
      aggregates.push({ kind, numbers: spec, ...(owner === undefined ? {} : { owner }) });
    } else return undefined;
  }
  return { keys: codeSpecs, aggregates, groups };
}

/** The shares' states merged into `folds`; which groups any share saw. */
function merge(partials: readonly GroupPartial[], folds: readonly Fold[], groups: number): Uint8Array {
  const present = new Uint8Array(groups);
  for (const partial of partials)
    for (let g = 0; g < groups; g++) present[g]! |= partial.present[g] as number;
  folds.forEach((fold, a) => {
    const states = partials.map((partial) => partial.folds[a]);
    if (fold instanceof SimpleFold) {
      for (const state of states) fold.absorb(state as { n: Float64Array; acc: Float64Array });
    } else if (fold instanceof PercentileFold && fold.owner === undefined) {
      fold.mergeRuns(states as RunsState[]);
    } else if (fold instanceof SketchFold && fold.owner === undefined) {
      fold.mergeShares(states as SketchState[]);
    }
  });
  return present;
}
