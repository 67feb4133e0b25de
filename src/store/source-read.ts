import type { StoredEvent } from '../events/types.js';
import { runAnalytics } from '../analytics/stages/run-analytics.js';
import { sortRows } from '../analytics/stages/sort-rows.js';
import type { PipelineRow } from '../query/analytics-ast.js';
import type { EventQuery } from '../query/ast.js';
import { ownTag, readPath, resolveField } from '../query/fields.js';
import type { ResultRow } from '../query/results.js';

/** Where a query with `from('archive' | 'all')` reads: the live events, the archive, the clock. */
export interface SourceReads {
  live(query: EventQuery): Promise<ResultRow[]>;
  archived(query: EventQuery): StoredEvent[];
  now(): number;
}

const eventsOf = (query: EventQuery): EventQuery => ({
  kind: 'query',
  filter: query.filter,
  orderBy: [],
  hints: query.hints,
  ...(query.source === undefined ? {} : { source: query.source }),
});

/** Live and archived events of one filter, in sequence order; an event in both appears once (live). */
async function readEvents(query: EventQuery, reads: SourceReads): Promise<StoredEvent[]> {
  const input = eventsOf(query);
  const archived = query.source === 'events' ? [] : reads.archived({ ...input, source: 'events' });
  const live =
    query.source === 'archive' ? [] : ((await reads.live({ ...input, source: 'events' })) as StoredEvent[]);
  const seen = new Set(live.map((event) => event.sequence));
  return [...live, ...archived.filter((event) => !seen.has(event.sequence))].sort(
    (a, b) => a.sequence - b.sequence,
  );
}

function project(event: StoredEvent, select: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of select) {
    const ref = resolveField(field, 'select');
    out[field] =
      ref.kind === 'core'
        ? event[ref.name]
        : ref.kind === 'tag'
          ? ownTag(event.tags, ref.key)
          : readPath(event.payload, ref.path);
  }
  return out;
}

/**
 * A query over archived events, or over archived and live ones (`from('archive' | 'all')`): the
 * events its filter selects from each (the archive read segment by segment, live events through the
 * engine), then its analytics, order, offset and limit over them in memory. A join's right side
 * reads from the same source.
 */
export async function readFromSource(query: EventQuery, reads: SourceReads): Promise<ResultRow[]> {
  const events = await readEvents(query, reads);
  const order = query.orderBy.length > 0 ? query.orderBy : [];
  let rows: PipelineRow[];
  if (query.analytics !== undefined) {
    rows = await runAnalytics(events, query.analytics, {
      readEvents: async (match) => {
        const right =
          'kind' in match && match.kind === 'query' ? match : eventsOf({ ...query, filter: match as never });
        return (await readEvents(
          { ...right, source: query.source ?? 'events' },
          reads,
        )) as unknown as PipelineRow[];
      },
      now: () => reads.now(),
    });
    rows = order.length > 0 ? sortRows(rows, order) : rows;
  } else {
    rows = (order.length > 0 ? sortRows(events, order) : events) as unknown as PipelineRow[];
  }
  const offset = query.offset ?? 0;
  const cut = rows.slice(offset, query.limit === undefined ? undefined : offset + query.limit);
  if (query.select === undefined || query.analytics !== undefined) return cut as ResultRow[];
  return (cut as unknown as StoredEvent[]).map((event) => project(event, query.select as readonly string[]));
}
