import type { QueryGuard } from '../query-guard.js';
import { PARALLEL_FOLD_ROWS, type ParallelFold } from './parallel-group-by.js';
import {
  runSequenceTask,
  type SequenceAnswer,
  type SequenceLayout,
  type SequenceTask,
} from './sequence-task.js';

/**
 * Runs a pattern or funnel over the step columns: on the scan workers when there are enough events
 * (PARALLEL_FOLD_ROWS, or hints.parallel true) and more than one partition, each worker a
 * contiguous share of the partitions of about equal events; on this thread otherwise. Partitions
 * are independent, so the shares' answers, put back in partition order, are the serial answer.
 * The answer's event indices and partitions are the whole layout's.
 */
export async function runSequences(
  task: SequenceTask,
  layout: SequenceLayout,
  guard: QueryGuard,
  parallel: ParallelFold,
): Promise<{ answer: SequenceAnswer; workers: number }> {
  const partitions = layout.bounds.length - 1;
  const events = layout.ms.length;
  const { pool, workers } = parallel;
  if (workers < 2 || partitions < 2 || (!parallel.forced && events < PARALLEL_FOLD_ROWS)) {
    return { answer: runSequenceTask(task, layout, () => guard.check()), workers: 0 };
  }
  const shares = shareBounds(layout.bounds, workers);
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const { stopped, dispose } = guard.watch();
  try {
    const running = shares.map(([first, last]) => {
      const from = layout.bounds[first] as number;
      const to = layout.bounds[last] as number;
      const bounds = layout.bounds.slice(first, last + 1);
      for (let p = 0; p < bounds.length; p++) bounds[p]! -= from;
      const share: SequenceLayout = {
        ms: layout.ms.slice(from, to),
        masks: layout.masks.slice(from * layout.words, to * layout.words),
        words: layout.words,
        bounds,
      };
      return pool.sequence(task, share, stop);
    });
    const answers = await Promise.race([Promise.all(running), stopped]);
    guard.check();
    return { answer: joinAnswers(answers, shares, layout.bounds), workers: shares.length };
  } finally {
    // A stopped query's shares give up at their next few thousand partitions.
    Atomics.store(stop, 0, 1);
    dispose();
  }
}

/** Partition ranges [first, last) of about equal events, one per worker (fewer if partitions are few). */
function shareBounds(bounds: Int32Array, workers: number): [number, number][] {
  const partitions = bounds.length - 1;
  const events = bounds[partitions] as number;
  const shares: [number, number][] = [];
  let first = 0;
  for (let w = 1; w <= workers && first < partitions; w++) {
    let last = first + 1;
    const target = Math.round((events * w) / workers);
    while (last < partitions && (bounds[last] as number) < target) last++;
    if (w === workers) last = partitions;
    shares.push([first, last]);
    first = last;
  }
  return shares;
}

/** The shares' answers as one, with event indices and partitions of the whole layout. */
function joinAnswers(
  answers: readonly SequenceAnswer[],
  shares: readonly [number, number][],
  bounds: Int32Array,
): SequenceAnswer {
  if (answers[0]?.kind === 'funnel') {
    const steps = answers[0].times.length;
    const times = Array.from({ length: steps }, (_, k) => {
      const parts = answers.map((answer) => (answer as { times: Float64Array[] }).times[k] as Float64Array);
      const joined = new Float64Array(parts.reduce((n, part) => n + part.length, 0));
      let at = 0;
      for (const part of parts) {
        joined.set(part, at);
        at += part.length;
      }
      return joined;
    });
    return { kind: 'funnel', times };
  }
  const patterns = answers as Extract<SequenceAnswer, { kind: 'pattern' }>[];
  const partitions = new Int32Array(patterns.reduce((n, answer) => n + answer.partitions.length, 0));
  const found = new Int32Array(patterns.reduce((n, answer) => n + answer.found.length, 0));
  let m = 0;
  let f = 0;
  patterns.forEach((answer, s) => {
    const [first] = shares[s] as [number, number];
    const base = bounds[first] as number;
    for (const p of answer.partitions) partitions[m++] = p + first;
    for (const at of answer.found) found[f++] = at === -1 ? -1 : at + base;
  });
  return { kind: 'pattern', partitions, found };
}
