import type { EventTable } from '../table/event-table.js';
import type { IndexInfo } from '../../../indexes/index-types.js';

const FIELDS: Record<string, { fields: string[]; type: IndexInfo['type'] }> = {
  sequence: { fields: ['sequence'], type: 'sequence' },
  aggregate: { fields: ['aggregateId'], type: 'postings' },
  type: { fields: ['type'], type: 'postings' },
  'aggregate+type': { fields: ['aggregateId', 'type'], type: 'postings' },
  timestamp: { fields: ['timestamp'], type: 'time' },
};

/** The engine's own indexes, described like user-defined ones: every tag key has one. */
export function describeBuiltIns(table: EventTable): IndexInfo[] {
  return Object.entries(table.indexStats()).map(([name, stats]) => ({
    name,
    fields: FIELDS[name]?.fields ?? [name],
    type: FIELDS[name]?.type ?? 'postings',
    unique: name === 'sequence',
    builtIn: true,
    state: 'ready',
    entries: stats.entries,
    distinctKeys: stats.keys,
    bytes: stats.bytes,
  }));
}
