import { CleanupSchedule } from '../../retention/cleanup-schedule.js';
import {
  emptyCleanupStats,
  type CleanupOptions,
  type CleanupReport,
} from '../../retention/cleanup-report.js';
import type { StoreStats } from '../store-stats.js';
import { discardCheckpoint } from './checkpoint.js';
import type { Checkpointer } from './checkpointer.js';
import type { EngineParts } from './engine-parts.js';
import type { IndexManager } from './indexes/index-manager.js';
import { syncDirectory } from './log/segment-log.js';
import type { ArchivedCopies } from './retention/archived-copies.js';
import { Cleanup } from './retention/cleanup.js';
import type { CleanupHost } from './retention/cleanup-host.js';
import { TableCut } from './table/table-cut.js';
import type { EmptiedIds } from './table/event-table.js';
import type { WriteGate } from '../../support/write-gate.js';

/** What maintenance needs from the engine: its parts as they are now, and its state. */
export interface MaintenanceHost {
  readonly dir: string | undefined;
  readonly clock: { now(): number };
  parts(): EngineParts;
  indexes(): IndexManager;
  readonly checkpointer: Checkpointer;
  readonly archivedCopies: ArchivedCopies;
  readonly writes: WriteGate;
  /** Closed, or failed: background work stops. */
  readonly stopped: boolean;
  /** Throws StoreClosedError when the engine is closed or failed. */
  assertWritable(): void;
  /** After a scheduled cleanup ran (EngineContext.cleaned). */
  cleaned?(report: CleanupReport): void;
}

/**
 * Cleanup for the embedded engine: the runs (scheduled and asked for), the Cleanup over the current
 * parts (made anew when a restore swaps them), and the cut steps it shares with open and restore.
 */
export class Maintenance {
  private cleaner!: Cleanup;
  private readonly schedule: CleanupSchedule;
  private lastError: string | null = null;
  /** Cleanup's runs and totals since open: each Cleanup a restore wires in adds to them. */
  private readonly totals = emptyCleanupStats();
  private readonly openedCpu = process.cpuUsage();

  constructor(private readonly host: MaintenanceHost) {
    this.schedule = new CleanupSchedule(() => this.scheduled());
    this.rewire();
  }

  /** A new Cleanup over the engine's current parts (after open, a restore, or a reload). */
  rewire(): void {
    this.cleaner = new Cleanup(this.cleanupHost(), this.totals);
  }

  /** Runs cleanup on the policy's schedule (a cron pattern, or false for none). */
  setSchedule(schedule: Parameters<CleanupSchedule['set']>[0]): void {
    this.schedule.set(schedule);
  }

  get isRunning(): boolean {
    return this.cleaner.isRunning;
  }

  /** Spans a cleanup compacted but did not rewrite yet: no checkpoint until they are (Cleanup.owesRewrites). */
  get owesRewrites(): boolean {
    return this.cleaner.owesRewrites;
  }

  /** Resolves when the running cleanup (if any) has ended. */
  settle(): Promise<void> {
    return this.cleaner.settle();
  }

  stop(): void {
    this.schedule.stop();
  }

  /** Starts a cleanup (or joins the running one) once no restore holds writes. */
  async run(options: CleanupOptions): Promise<CleanupReport> {
    const waiting = this.host.writes.passage();
    if (waiting !== undefined) await waiting;
    this.host.assertWritable();
    this.host.checkpointer.abandon();
    return this.cleaner.run(options);
  }

  /** Finishes a cleanup a crash interrupted after archiving (see retention/cleanup.ts, step 3). */
  async finishInterrupted(rows: readonly number[]): Promise<void> {
    await this.cleaner.removeArchived(rows);
  }

  /**
   * Removes every event below row `floor` in place, in one call: open repeats the cut the log start
   * record names (cleanup runs the same cut in steps: beginCut, finishCut, releaseEmptied).
   */
  dropBelow(floor: number): void {
    const cut = this.host.parts().table.dropBelow(floor);
    this.finishCut(cut, floor);
    this.releaseEmptied(cut.emptied);
  }

  stats(): StoreStats['cleanup'] {
    const stats = this.cleaner.stats;
    const process_ = process.cpuUsage(this.openedCpu);
    const processMs = (process_.user + process_.system) / 1000;
    const next = this.schedule.nextRun;
    return {
      ...stats,
      totals: { ...stats.totals },
      running: this.cleaner.isRunning,
      nextRunAt: next === null ? null : next.toISOString(),
      cpuShare: processMs === 0 ? 0 : stats.totals.cpuMs / processMs,
      pendingTombstoned: this.host.parts().tombstones.deletedEvents,
      lastError: this.lastError,
    };
  }

  private async scheduled(): Promise<void> {
    if (this.host.stopped || this.host.writes.isHeld) return;
    try {
      const report = await this.run({ threshold: this.host.parts().visibility.policy.cleanupThreshold });
      this.lastError = null;
      this.host.cleaned?.(report);
    } catch (error) {
      this.lastError = (error as Error).message;
    }
  }

  /** After a cut's last step: the deleted streams' counts and the user indexes forget its rows. */
  private finishCut(cut: Pick<TableCut, 'removed' | 'emptied'>, floor: number): void {
    if (cut.removed === 0 && cut.emptied.aggregates.length === 0) return;
    this.host.parts().tombstones.recount();
    this.host.indexes().dropBelow(floor);
  }

  /** Releases ids a cut emptied for reuse, up to `budget` of them; true once none is left. */
  private releaseEmptied(emptied: EmptiedIds, budget?: number): boolean {
    const { table, tombstones } = this.host.parts();
    return table.releaseEmptied(emptied, (id) => tombstones.holds(id), budget);
  }

  /** What cleanup needs from the engine (see retention/cleanup.ts for the order of operations). */
  private cleanupHost(): CleanupHost {
    const host = this.host;
    const { table, log, tombstones, visibility } = host.parts();
    return {
      table,
      log,
      dir: host.dir,
      now: () => host.clock.now(),
      archiveDir: () => visibility.policy.archiveDir,
      inArchive: (archiveDir) => host.archivedCopies.inArchive(archiveDir),
      hidden: () => visibility.hidden(),
      tombstoned: (row) => tombstones.active && tombstones.isDeleted(row),
      afterCompaction: () => {
        tombstones.remap();
        host.indexes().removeRows();
      },
      deletedStreams: () => tombstones.aggregateIds().map((id) => table.aggregates.valueOf(id)),
      archiveRenamed: (archiveDir, renames) => host.archivedCopies.renamed(archiveDir, renames),
      beginCut: (floor) => new TableCut(table, floor),
      finishCut: (cut, floor) => this.finishCut(cut, floor),
      releaseEmptied: (emptied, budget) => this.releaseEmptied(emptied, budget),
      writeCheckpoint: () => host.checkpointer.inBackground(),
      discardCheckpoint: () => {
        const dir = host.dir;
        if (dir !== undefined && discardCheckpoint(dir)) syncDirectory(dir);
      },
      get closing() {
        return host.stopped;
      },
    };
  }
}
