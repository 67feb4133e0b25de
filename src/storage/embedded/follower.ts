import type { EngineParts } from './engine-parts.js';
import type { IndexManager } from './indexes/index-manager.js';
import type { UserIndex } from './indexes/user-index.js';
import type { SegmentLog } from './log/segment-log.js';
import { followAppends, loadSnapshot, type ReadOnlySnapshot } from './read-only.js';
import type { EventTable } from './table/event-table.js';

/** What a read-only handle noted when it loaded: the files' identities, and the cut. */
export type FollowState = Pick<ReadOnlySnapshot, 'stamps' | 'cut'>;

/** What the follower needs from the engine. */
export interface FollowerHost {
  readonly dir: string;
  readonly log: SegmentLog;
  readonly verifyOnOpen: boolean;
  parts(): EngineParts;
  indexes(): IndexManager;
  /** Wires what a fresh load read in place of the parts (as a restore does in a writer). */
  reload(loaded: {
    table: EventTable;
    log: SegmentLog;
    cut: number;
    userIndexes: readonly UserIndex[];
    checkpointRows: number;
  }): Promise<void>;
}

/**
 * A read-only handle following the writer in another process (read-only.ts explains how): new
 * appends are read in; after a cleanup, restore, deletion or index change the store is loaded
 * afresh. Every `followIntervalMs` (0: only at refresh()).
 */
export class Follower {
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private stopped = false;
  private log: SegmentLog;
  /** Why the last automatic refresh failed, or null. */
  error: string | null = null;

  constructor(
    private readonly host: FollowerHost,
    private state: FollowState,
    every: number,
  ) {
    this.log = host.log;
    if (every === 0) return;
    this.timer = setInterval(() => {
      if (this.stopped || this.refreshing !== undefined) return;
      this.refresh().then(
        () => (this.error = null),
        (error: Error) => (this.error = error.message),
      );
    }, every);
    this.timer.unref();
  }

  /** Brings in what the writer did since the last refresh; one at a time. */
  async refresh(): Promise<void> {
    this.refreshing ??= this.once().finally(() => (this.refreshing = undefined));
    await this.refreshing;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.refreshing?.catch(() => undefined);
  }

  private async once(): Promise<void> {
    const dir = this.host.dir;
    const added = followAppends(dir, this.host.parts().table, this.log, this.state);
    if (added !== 'reload') {
      if (added > 0) this.host.indexes().catchUp();
      return;
    }
    // As a restore wires its new table in: queries running go on over the old one until they end.
    const snapshot = loadSnapshot(dir, this.host.verifyOnOpen);
    this.log = snapshot.log;
    this.state = { stamps: snapshot.stamps, cut: snapshot.cut };
    await this.host.reload(snapshot);
  }
}
