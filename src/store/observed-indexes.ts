import type { Indexes } from '../indexes/indexes.js';
import type { ChangeNotice } from './hooks.js';

type IndexChange = Extract<ChangeNotice, { kind: 'index' }>;

/**
 * `store.indexes` with its changes reported to the plugins: createIndex, dropIndex and rebuildIndex
 * notify once they resolved, before the caller sees them (a result cache drops what named the
 * index). Every other member is the engine's own, called on the engine's object.
 */
export function observeIndexes(indexes: Indexes, changed: (change: IndexChange) => void): Indexes {
  const overrides: Partial<Indexes> = {
    createIndex: async (...args) => {
      const info = await indexes.createIndex(...args);
      changed({ kind: 'index', change: 'create', name: info.name });
      return info;
    },
    dropIndex: async (name) => {
      await indexes.dropIndex(name);
      changed({ kind: 'index', change: 'drop', name });
    },
    rebuildIndex: async (...args) => {
      const info = await indexes.rebuildIndex(...args);
      changed({ kind: 'index', change: 'rebuild', name: info.name });
      return info;
    },
  };
  return new Proxy(indexes, {
    get(target, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property as keyof Indexes];
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
