import { validateEvent } from '../events/validate.js';
import { ValidationError, type Clock, type EventStore, type NewEvent } from '../index.js';
import { batchIndexOf, describeBatchError, type BadLine } from './bad-line.js';

/** Input lines gathered for one append: parsed events with their line numbers, and unparsable lines. */
export interface PendingBatch {
  events: unknown[];
  lines: number[];
  unparsable: BadLine[];
}

export interface CommitResult {
  /** Events the append wrote. */
  written: number;
  /** Events whose id was stored already with the same content: nothing written (a re-ingest). */
  alreadyStored: number;
  /** Sequence of the last event written, when any was. */
  lastSequence: number | undefined;
  /** Lines that were not written, in line order. */
  bad: BadLine[];
}

// Validation only needs a time for events without one; the value is discarded.
const FIXED_CLOCK: Clock = { now: () => 0 };

/**
 * Appends batches read from NDJSON. The happy path is a single `append` (the store validates).
 * Only when it rejects a batch are the events checked one by one, so every bad line of the batch
 * is reported at once rather than one per run.
 */
export class IngestWriter {
  /** The store's last sequence: an event returned at or below it was stored before this append. */
  private lastSequence: number;

  constructor(
    private readonly store: EventStore,
    private readonly skipInvalid: boolean,
  ) {
    this.lastSequence = store.stats().lastSequence;
  }

  async commit(batch: PendingBatch): Promise<CommitResult> {
    let rejection: ValidationError | undefined;
    if (batch.unparsable.length === 0) {
      try {
        return this.written(await this.store.append(batch.events as NewEvent[]), []);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        rejection = error;
      }
    }
    const bad = this.findBadLines(batch, rejection);
    if (!this.skipInvalid) return { written: 0, alreadyStored: 0, lastSequence: undefined, bad };
    const badLines = new Set(bad.map((entry) => entry.line));
    const events: unknown[] = [];
    const lines: number[] = [];
    batch.events.forEach((event, i) => {
      const line = batch.lines[i] as number;
      if (!badLines.has(line)) {
        events.push(event);
        lines.push(line);
      }
    });
    return this.appendDroppingRejects(events, lines, bad);
  }

  /** Every line of the batch that cannot be written: unparsable, invalid alone, or rejected by the store. */
  private findBadLines(batch: PendingBatch, rejection: ValidationError | undefined): BadLine[] {
    const lineOf = (index: number): number | undefined => batch.lines[index];
    const bad = [...batch.unparsable];
    batch.events.forEach((event, i) => {
      try {
        validateEvent(event, `events[${i}]`, FIXED_CLOCK);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        bad.push({ line: batch.lines[i] as number, message: describeBatchError(error, lineOf) });
      }
    });
    // The store may reject what validates alone (a duplicate id in the batch, an event over maxEventSize).
    if (rejection) {
      const index = batchIndexOf(rejection);
      const line = index === undefined ? undefined : batch.lines[index];
      if (line === undefined) throw rejection;
      if (!bad.some((entry) => entry.line === line))
        bad.push({ line, message: describeBatchError(rejection, lineOf) });
    }
    return bad.sort((a, b) => a.line - b.line);
  }

  /** With --skip-invalid: retries without each event the store still rejects until the rest goes in. */
  private async appendDroppingRejects(
    events: unknown[],
    lines: number[],
    bad: BadLine[],
  ): Promise<CommitResult> {
    while (events.length > 0) {
      try {
        return this.written(await this.store.append(events as NewEvent[]), bad);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        const index = batchIndexOf(error);
        const line = index === undefined ? undefined : lines[index];
        if (index === undefined || line === undefined) throw error;
        bad.push({ line, message: describeBatchError(error, (i) => lines[i]) });
        events.splice(index, 1);
        lines.splice(index, 1);
      }
    }
    return {
      written: 0,
      alreadyStored: 0,
      lastSequence: undefined,
      bad: bad.sort((a, b) => a.line - b.line),
    };
  }

  private written(stored: readonly { sequence: number }[], bad: BadLine[]): CommitResult {
    const before = this.lastSequence;
    const written = stored.filter((event) => event.sequence > before);
    // New events take ascending sequences in batch order: the last one is the highest.
    this.lastSequence = written.at(-1)?.sequence ?? before;
    return {
      written: written.length,
      alreadyStored: stored.length - written.length,
      lastSequence: written.at(-1)?.sequence,
      bad: bad.sort((a, b) => a.line - b.line),
    };
  }
}
