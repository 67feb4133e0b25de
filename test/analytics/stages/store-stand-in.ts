import type { PipelineContext } from '../../../src/analytics/stages/run-pipeline.js';
import { compileRowFilter } from '../../../src/analytics/stages/row-filter.js';
import type { StoredEvent } from '../../../src/events/types.js';
import type { EventQuery, FilterNode } from '../../../src/query/ast.js';
import type { PipelineRow } from '../../../src/query/analytics-ast.js';

/** A store stand-in over an array: reads with the row filter, records what it was asked. */
export function context(events: readonly StoredEvent[], now = 0, timeRange?: { from: number; to: number }) {
  const asked: (FilterNode | EventQuery)[] = [];
  const ctx: PipelineContext = {
    readEvents: async (match) => {
      asked.push(match);
      const filter = match.kind === 'query' ? match.filter : match;
      return events.filter(compileRowFilter(filter)) as unknown as PipelineRow[];
    },
    now: () => now,
    ...(timeRange ? { timeRange: () => timeRange } : {}),
  };
  return { ctx, asked };
}

export const event = (
  sequence: number,
  t: number,
  type: string,
  tags: Record<string, string>,
): StoredEvent => ({
  sequence,
  id: `e${sequence}`,
  aggregateId: tags.issueId ?? 'a',
  version: 1,
  type,
  timestamp: new Date(t),
  tags,
  payload: {},
  metadata: {},
});
