import type { ChunkKey } from './chunk-sources.js';
import type { GroupPartial, GroupTask } from './group-task.js';
import type { SequenceAnswer, SequenceLayout, SequenceTask } from './sequence-task.js';

/**
 * What the analytics operators ask of the scan workers (the pool in parallel-scan.ts, which posts
 * these tasks to its threads): fold a share of a group-by's rows, or match a share of a pattern's or
 * funnel's partitions. Setting `stop` makes a worker give up the task at its next block.
 */
export interface OperatorWorkers {
  group(
    task: GroupTask,
    keys: readonly ChunkKey[],
    rows: Int32Array,
    stop: Int32Array,
  ): Promise<GroupPartial>;
  sequence(task: SequenceTask, layout: SequenceLayout, stop: Int32Array): Promise<SequenceAnswer>;
}
