import type { OpenRecovery } from '../../store/open-recovery.js';

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
   * - `lost-events`: the log ends before a sequence that a durable record (the checkpoint,
   *   `log/start.json`, `tombstones.log`) proves was written: acknowledged events are lost; the
   *   store refuses to open (unless opened with `recover: 'truncate'`).
   * - `corrupt-file`: another file the store relies on (`store.json`, `log/start.json`,
   *   `tombstones.log`, `indexes.json`, `retention.json`, the archive manifest) is damaged; the
   *   store refuses to open. A torn last line of `tombstones.log` is a `torn-tail` instead.
   */
  kind: 'torn-tail' | 'corrupt-frame' | 'sequence-gap' | 'bad-checkpoint' | 'lost-events' | 'corrupt-file';
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
  /** Each truncation: where, how many bytes and events were dropped, and their sequence range. */
  truncated: {
    file: string;
    offset: number;
    bytesDropped: number;
    eventsDropped: number;
    firstSequenceDropped: number | null;
  }[];
  /** Whole segment files removed because they followed the damage. */
  removedFiles: string[];
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
