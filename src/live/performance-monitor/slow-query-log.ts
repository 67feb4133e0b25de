import type { EventQuery } from '../../query/ast.js';
import type { QueryProfile } from '../../storage/query-profile.js';
import type { SlowQueryEntry, SlowQueryFilter } from '../../store/store-monitor.js';
import { ValidationError } from '../../errors.js';
import { describe } from '../../support/describe.js';
import type { RotatingJsonlFile } from './rotating-jsonl-file.js';

const DEFAULT_LIMIT = 100;

/** What the monitor knows of a slow call: the read's own figures, and the engine's profile if it gave one. */
export interface SlowCall {
  readonly query: EventQuery;
  readonly fingerprint: string;
  readonly durationMs: number;
  /** The call's start on the performance.now() timeline, if the store said. */
  readonly startedAt: number | undefined;
  readonly rows: number;
  readonly profile: QueryProfile | undefined;
}

/**
 * A slow query's entry: the call's figures, and from the engine's profile its plan tree with actual
 * rows (built now, for this query only) and where the time went. Planning is what came before the
 * row search began: the store's own work at the door included.
 */
export function slowQueryEntry(
  call: SlowCall,
  createdAt: number,
  thresholdMs: number,
  reason: SlowQueryEntry['reason'],
): SlowQueryEntry {
  const { profile } = call;
  const explained = profile?.explain();
  const scan = profile?.accessPath === 'scan';
  return {
    queryId: profile?.queryId ?? '',
    queryText: JSON.stringify(call.query),
    executionTimeMs: call.durationMs,
    rowsReturned: call.rows,
    indexesUsed: profile === undefined ? [] : [...profile.indexesUsed],
    createdAt: new Date(createdAt).toISOString(),
    fingerprint: call.fingerprint,
    thresholdMs,
    reason,
    accessPath: profile?.accessPath ?? null,
    rowsExamined: profile?.rowsExamined ?? null,
    estimatedRows: profile?.estimatedRows ?? null,
    phases:
      profile === undefined
        ? null
        : {
            planMs: call.startedAt === undefined ? 0 : Math.max(0, profile.startedAt - call.startedAt),
            indexMs: scan ? 0 : profile.selectMs,
            scanMs: scan ? profile.selectMs : 0,
            decodeMs: profile.decodeMs,
          },
    plan: explained === undefined ? null : { text: explained.text, root: explained.plan },
  };
}

/**
 * The slow-query log: the last `capacity` entries in memory (a ring), and on a durable store each
 * one also appended to a rotated JSON Lines file in the store's directory.
 */
export class SlowQueryLog {
  private readonly ring: (SlowQueryEntry | undefined)[];
  private next = 0;
  /** Entries ever logged. */
  total = 0;

  constructor(
    capacity: number,
    readonly file: RotatingJsonlFile | undefined,
  ) {
    this.ring = new Array<SlowQueryEntry | undefined>(capacity);
  }

  add(entry: SlowQueryEntry): void {
    this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.ring.length;
    this.total++;
    this.file?.write(entry);
  }

  /** Newest first, filtered. */
  entries(filter: SlowQueryFilter = {}): SlowQueryEntry[] {
    const { thresholdMs, limit } = checkFilter(filter);
    const out: SlowQueryEntry[] = [];
    for (let i = 1; i <= this.ring.length && out.length < limit; i++) {
      const entry = this.ring[(this.next - i + this.ring.length) % this.ring.length];
      if (entry === undefined) break;
      if (entry.executionTimeMs >= thresholdMs) out.push(entry);
    }
    return out;
  }

  /** The newest entry for a query id, if the ring still holds it. */
  byQueryId(queryId: string): SlowQueryEntry | undefined {
    for (let i = 1; i <= this.ring.length; i++) {
      const entry = this.ring[(this.next - i + this.ring.length) % this.ring.length];
      if (entry === undefined) return undefined;
      if (entry.queryId === queryId) return entry;
    }
    return undefined;
  }
}

function checkFilter(filter: unknown): { thresholdMs: number; limit: number } {
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) {
    throw new ValidationError(
      'filter',
      `must be an object like { thresholdMs, limit }, got ${describe(filter)}`,
    );
  }
  const { thresholdMs = 0, limit = DEFAULT_LIMIT } = filter as SlowQueryFilter;
  if (typeof thresholdMs !== 'number' || !Number.isFinite(thresholdMs) || thresholdMs < 0) {
    throw new ValidationError(
      'filter.thresholdMs',
      `must be a number of milliseconds ≥ 0, got ${describe(thresholdMs)}`,
    );
  }
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw new ValidationError('filter.limit', `must be a whole number ≥ 1, got ${describe(limit)}`);
  }
  return { thresholdMs, limit };
}
