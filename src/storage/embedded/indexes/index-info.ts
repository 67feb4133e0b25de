import type { IndexInfo, IndexUsage } from '../../../indexes/index-types.js';
import type { EventTable } from '../table/event-table.js';
import type { UserIndex } from './user-index.js';

// How listIndexes and getIndexUsage describe the indexes: the engine's own like user-defined ones.

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

/** A user-defined index as listIndexes shows it. */
export function describeUserIndex(index: UserIndex, state: 'ready' | 'building'): IndexInfo {
  const { name, fields, type, unique, where } = index.definition;
  return {
    name,
    fields: [...fields],
    type,
    unique,
    ...(where ? { where } : {}),
    builtIn: false,
    state,
    entries: index.entries,
    distinctKeys: index.distinctKeys,
    bytes: index.bytes,
    createdAt: new Date(index.createdAt),
  };
}

/** How often the planner used each index: the built-ins (from `builtInUse`), then the ready user-defined ones. */
export function indexUsage(
  table: EventTable,
  builtInUse: ReadonlyMap<string, { uses: number; lastUsed: number }>,
  ready: Iterable<UserIndex>,
): IndexUsage[] {
  const builtIn = describeBuiltIns(table).map(({ name }) => {
    const use = builtInUse.get(name);
    return { name, builtIn: true, uses: use?.uses ?? 0, lastUsed: use ? new Date(use.lastUsed) : null };
  });
  const user = [...ready].map((index) => ({
    name: index.name,
    builtIn: false,
    uses: index.uses,
    lastUsed: index.lastUsed === undefined ? null : new Date(index.lastUsed),
  }));
  return [...builtIn, ...user];
}
