import type { Indexes } from '../indexes/indexes.js';
import type { ChangeNotice } from './hooks.js';

type IndexChange = Extract<ChangeNotice, { kind: 'index' }>;

/**
 * `store.indexes` with its changes reported to the plugins: createIndex, dropIndex and rebuildIndex
 * notify once they resolved, before the caller sees them (a result cache drops what named the
 * index). Every other member is the engine's own, called on the engine's object of the moment
 * (`current`: an engine may replace it, as a read-only store does when it reloads).
 */
export function observeIndexes(current: () => Indexes, changed: (change: IndexChange) => void): Indexes {
  const overrides: Partial<Indexes> = {
    createIndex: async (...args) => {
      const info = await current().createIndex(...args);
      changed({ kind: 'index', change: 'create', name: info.name });
      return info;
    },
    dropIndex: async (name) => {
      await current().dropIndex(name);
      changed({ kind: 'index', change: 'drop', name });
    },
    rebuildIndex: async (...args) => {
      const info = await current().rebuildIndex(...args);
      changed({ kind: 'index', change: 'rebuild', name: info.name });
      return info;
    },
  };
  return new Proxy({} as Indexes, {
    get(_target, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property as keyof Indexes];
      const indexes = current();
      const value: unknown = Reflect.get(indexes, property, indexes);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(indexes) : value;
    },
    has: (_target, property) => Object.hasOwn(overrides, property) || Reflect.has(current(), property),
  });
}
