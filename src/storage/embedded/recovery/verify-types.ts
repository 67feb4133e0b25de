import type { OpenRecovery } from '../../store-stats.js';
import type { DroppedRange } from './log-repair.js';
import type { LogStart } from '../log/log-start.js';

export type { DroppedRange };

/** One problem `verifyStore` found. */
export interface VerifyProblem {
  file: string;
  /** Byte offset in `file` where the damage starts. */
  offset: number;
  /**
   * - `torn-tail`: the last frame of the newest segment is incomplete (a crash mid-write); recovery truncates it.
   * - `corrupt-frame`: a frame fails its checksum or framing before the end of the log; the store refuses to open.
   * - `sequence-gap`: frames are intact but sequences do not follow on.
   * - `bad-checkpoint`: the checkpoint fails its checksum; the store rebuilds the indexes from the log.
   * - `bad-log-start`: `log/start.json` is damaged or disagrees with the segments; the store refuses to
   *   open (deleting nothing) and `repairStore` rebuilds it from the segments.
   * - `lost-events`: the log ends before a sequence that a durable record (the checkpoint,
   *   `log/start.json`, `tombstones.log`) proves was written: acknowledged events are lost; the
   *   store refuses to open (unless opened with `recover: 'truncate'`).
   * - `corrupt-file`: another file the store relies on (`store.json`, `tombstones.log`,
   *   `indexes.json`, `retention.json`, the archive manifest) is damaged; the store refuses to
   *   open. A torn last line of `tombstones.log` is a `torn-tail` instead.
   */
  kind:
    | 'torn-tail'
    | 'corrupt-frame'
    | 'sequence-gap'
    | 'bad-checkpoint'
    | 'bad-log-start'
    | 'lost-events'
    | 'corrupt-file';
  detail: string;
}

export interface VerifyReport {
  dir: string;
  /**
   * True when the store would open without losing an acknowledged event. A `torn-tail` (a write
   * never acknowledged, which opening drops) or `bad-checkpoint` alone leaves this true.
   */
  ok: boolean;
  segments: number;
  frames: number;
  events: number;
  lastSequence: number;
  checkpoint: { sequence: number; valid: boolean } | null;
  problems: VerifyProblem[];
}

export interface RepairReport {
  dir: string;
  /**
   * Every stretch of the log repair took out or found missing, with the sequences it held (now a
   * hole that no later event reuses) and the quarantine file its bytes were moved to. Intact frames
   * are all kept: only damaged bytes are dropped.
   */
  dropped: DroppedRange[];
  /** Segment files deleted: cleanup's leftovers (see log-start.ts), and ones that held only damage (quarantined). */
  removedFiles: string[];
  /** `log/start.json` rewritten from the segments, and why; null when it was right. */
  logStart: { recorded: LogStart | null; rebuilt: LogStart; reason: string } | null;
  /** The checkpoint was deleted so the next open rebuilds the indexes from the log. */
  checkpointDiscarded: boolean;
  eventsKept: number;
  lastSequence: number;
  /**
   * Events a durable record (checkpoint, `log/start.json`, `tombstones.log`) proves were written
   * but the log no longer held: their sequences stay unused. Null when none were lost.
   */
  lostEvents: OpenRecovery['lost'];
}
