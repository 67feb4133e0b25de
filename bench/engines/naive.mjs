// The baseline: an array of event objects, queried by a linear scan (early exit on a limit).
import { randomUUID } from 'node:crypto';

const toMs = (ts) => (ts instanceof Date ? ts.getTime() : typeof ts === 'string' ? Date.parse(ts) : ts);

export function createNaive() {
  const events = [];
  const versions = new Map();
  const push = (e) => {
    const version = (versions.get(e.aggregateId) ?? 0) + 1;
    versions.set(e.aggregateId, version);
    events.push({
      sequence: events.length + 1,
      id: e.id ?? randomUUID(),
      aggregateId: e.aggregateId,
      version,
      type: e.type,
      timestamp: new Date(toMs(e.timestamp ?? Date.now())),
      tags: e.tags ?? {},
      payload: e.payload ?? null,
      metadata: e.metadata ?? {},
    });
  };
  const scan = (match, limit = Infinity) => {
    const out = [];
    for (let i = 0; i < events.length && out.length < limit; i++) if (match(events[i])) out.push(events[i]);
    return out;
  };
  return {
    name: 'naive array',
    append: async (batch) => {
      for (const e of batch) push(e);
    },
    appendOne: async (e) => push(e),
    getEvents: async ({ aggregateId }) => scan((e) => e.aggregateId === aggregateId),
    getEventsByType: async ({ type, afterSequence, limit }) =>
      scan((e) => e.type === type && e.sequence > afterSequence, limit),
    getEventsInRange: async ({ start, end }) =>
      scan((e) => {
        const t = e.timestamp.getTime();
        return t >= start && t < end;
      }),
    queryAggregateType: async ({ aggregateId, type }) =>
      scan((e) => e.aggregateId === aggregateId && e.type === type),
    queryTag: async ({ key, value, afterSequence, limit }) =>
      scan((e) => e.tags[key] === value && e.sequence > afterSequence, limit),
    count: () => events.length,
    flush: async () => {},
    close: async () => {
      events.length = 0;
    },
  };
}
