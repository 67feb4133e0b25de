import type { NewEvent, TagValue } from '../index.js';
import { EVENT_TYPES, materialize, tagsOf, type Telemetry } from './telemetry.js';

/**
 * The answers a correct store must give, found by scanning the generated sample linearly. Slow
 * (O(n) per query) and obviously right, which is what a reference should be.
 */
export class Oracle {
  private readonly tags: readonly Readonly<Record<string, TagValue>>[];

  constructor(private readonly telemetry: Telemetry) {
    this.tags = telemetry.workflows.map(tagsOf);
  }

  /** Sequences of the events that satisfy `match`, in the asked order, cut at `limit`. */
  select(
    match: (i: number) => boolean,
    options: { limit?: number; order?: 'asc' | 'desc'; from?: number } = {},
  ): number[] {
    const { count } = this.telemetry;
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const result: number[] = [];
    if (options.order === 'desc') {
      for (let i = count - 1; i >= 0 && result.length < limit; i--) if (match(i)) result.push(i + 1);
    } else {
      for (let i = (options.from ?? 1) - 1; i < count && result.length < limit; i++)
        if (match(i)) result.push(i + 1);
    }
    return result;
  }

  aggregateIs(workflow: number): (i: number) => boolean {
    return (i) => this.telemetry.workflowOf[i] === workflow;
  }

  typeIs(type: string): (i: number) => boolean {
    const index = (EVENT_TYPES as readonly string[]).indexOf(type);
    return (i) => this.telemetry.typeOf[i] === index;
  }

  /** [start, end), like the store's range queries. */
  timeIn(start: number, end: number): (i: number) => boolean {
    return (i) => {
      const t = this.telemetry.timestampOf[i] as number;
      return t >= start && t < end;
    };
  }

  tagsMatch(wanted: Readonly<Record<string, TagValue>>): (i: number) => boolean {
    const entries = Object.entries(wanted);
    return (i) => {
      const tags = this.tags[this.telemetry.workflowOf[i] as number] as Readonly<Record<string, TagValue>>;
      return entries.every(([key, value]) => tags[key] === value);
    };
  }

  /** The event appended at `sequence`, rebuilt from the sample, to check a result field by field. */
  appended(sequence: number): NewEvent {
    return materialize(this.telemetry, sequence - 1);
  }
}
