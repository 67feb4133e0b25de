/** A plugin that records every notice it is given: what the hook tests observe a store through. */
import type { ChangeNotice, CommitNotice, ReadObservation, StorePlugin } from '../../src/index.js';

export interface Recorder extends StorePlugin {
  commits: CommitNotice[];
  changes: ChangeNotice[];
  reads: ReadObservation[];
}

export function recorder(): Recorder {
  const plugin: Recorder = {
    name: 'recorder',
    commits: [],
    changes: [],
    reads: [],
    afterCommit: (commit) => plugin.commits.push(commit),
    afterChange: (change) => plugin.changes.push(change),
    afterRead: (observation) => plugin.reads.push(observation),
  };
  return plugin;
}
