import { funnelTimes, type FunnelMode } from '../../../../analytics/funnel.js';
import { patternMatches } from '../../../../analytics/pattern-match.js';
import type { StepPartition } from '../../../../analytics/step-partition.js';

/**
 * Patterns and funnels over the step columns (step-columns.ts) as plain data, so that the main
 * thread and a scan worker run the same code: the events of many partitions in typed arrays, each
 * partition's events together in (timestamp, sequence) order, with a bit mask per event of the
 * tests (the steps, then any exclusions) it matches.
 */
export interface SequenceLayout {
  /** Each event's time, epoch ms. */
  readonly ms: Float64Array;
  /** Event i's tests, `words` 32-bit words from `masks[i * words]`: bit t of word t >> 5 for test t. */
  readonly masks: Int32Array;
  readonly words: number;
  /** Partition p's events are [bounds[p], bounds[p + 1]). */
  readonly bounds: Int32Array;
  /** A funnel's breakdown: partition p's group (absent: every partition in group 0). */
  readonly groupOf?: Int32Array;
}

export type SequenceTask =
  | {
      readonly kind: 'pattern';
      readonly absent: readonly boolean[];
      readonly within: number;
      readonly strict: boolean;
      readonly now: number;
    }
  | {
      readonly kind: 'funnel';
      readonly steps: number;
      /** Breakdown groups (1 without a breakdown): see SequenceLayout.groupOf. */
      readonly groups: number;
      readonly within: number;
      readonly mode: FunnelMode;
      readonly between: readonly (readonly [number, number])[];
    };

export type SequenceAnswer =
  /** Match m: its partition `partitions[m]`, its step s event `found[m * steps + s]` (an event index; -1: absent). */
  | { readonly kind: 'pattern'; readonly partitions: Int32Array; readonly found: Int32Array }
  /** Group g's step k (`times[g * steps + k]`): the time to it of each of the group's partitions that reached it. */
  | { readonly kind: 'funnel'; readonly times: Float64Array[] };

/**
 * A StepPartition over one partition of a layout at a time (load), its tests' positions listed in a
 * buffer it keeps and grows: no object per partition or event.
 */
class PartitionCursor implements StepPartition {
  length = 0;
  base = 0;
  readonly start: Int32Array;
  /** Where each test's next position goes while a partition loads (kept, so a load allocates nothing). */
  private readonly filled: Int32Array;
  pos = new Int32Array(1024);

  constructor(
    private readonly layout: SequenceLayout,
    private readonly tests: number,
  ) {
    this.start = new Int32Array(tests + 1);
    this.filled = new Int32Array(tests);
  }

  get ms(): Float64Array {
    return this.layout.ms;
  }

  load(p: number): void {
    const { masks, words, bounds } = this.layout;
    const from = bounds[p] as number;
    const to = bounds[p + 1] as number;
    this.base = from;
    this.length = to - from;
    const { start, tests } = this;
    start.fill(0);
    for (let i = from; i < to; i++) {
      for (let t = 0; t < tests; t++)
        if ((masks[i * words + (t >>> 5)]! >>> (t & 31)) & 1) start[t + 1]! += 1;
    }
    for (let t = 0; t < tests; t++) start[t + 1]! += start[t] as number;
    if (this.pos.length < (start[tests] as number)) this.pos = new Int32Array(2 * (start[tests] as number));
    const filled = this.filled;
    filled.set(start.subarray(0, tests));
    for (let i = from; i < to; i++) {
      for (let t = 0; t < tests; t++) {
        if ((masks[i * words + (t >>> 5)]! >>> (t & 31)) & 1) this.pos[filled[t]!++] = i - from;
      }
    }
  }

  matches(t: number, i: number): boolean {
    const { masks, words } = this.layout;
    return ((masks[(this.base + i) * words + (t >>> 5)]! >>> (t & 31)) & 1) === 1;
  }
}

/** A growable Int32Array. */
class Ints {
  array = new Int32Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.array.length) {
      const grown = new Int32Array(this.array.length * 2);
      grown.set(this.array);
      this.array = grown;
    }
    this.array[this.length++] = value;
  }

  done(): Int32Array {
    return this.array.slice(0, this.length);
  }
}

/** Runs the task over every partition of the layout; `check` (once per 4,096 partitions) throws to stop. */
export function runSequenceTask(
  task: SequenceTask,
  layout: SequenceLayout,
  check: () => void,
): SequenceAnswer {
  const partitions = layout.bounds.length - 1;
  if (task.kind === 'pattern') {
    const cursor = new PartitionCursor(layout, task.absent.length);
    const owners = new Ints();
    const found = new Ints();
    for (let p = 0; p < partitions; p++) {
      if ((p & 4095) === 4095) check();
      cursor.load(p);
      patternMatches(cursor, task.absent, task.within, task.strict, task.now, (positions) => {
        owners.push(p);
        for (const at of positions) found.push(at === -1 ? -1 : cursor.base + at);
      });
    }
    return { kind: 'pattern', partitions: owners.done(), found: found.done() };
  }
  const cursor = new PartitionCursor(layout, task.steps + task.between.length);
  const times: number[][] = Array.from({ length: task.groups * task.steps }, () => []);
  for (let p = 0; p < partitions; p++) {
    if ((p & 4095) === 4095) check();
    cursor.load(p);
    const base = (layout.groupOf?.[p] ?? 0) * task.steps;
    funnelTimes(cursor, task.steps, task.within, task.mode, task.between)?.forEach((time, k) =>
      times[base + k]!.push(time),
    );
  }
  return { kind: 'funnel', times: times.map((reached) => Float64Array.from(reached)) };
}

/** The answer's arrays, to transfer rather than copy. */
export function answerBuffers(answer: SequenceAnswer): ArrayBuffer[] {
  const arrays = answer.kind === 'pattern' ? [answer.partitions, answer.found] : answer.times;
  return arrays.map((array) => array.buffer as ArrayBuffer);
}
