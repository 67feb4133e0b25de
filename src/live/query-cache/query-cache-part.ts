import type { LivePart } from '../../store/live-part.js';
import type { IQueryCache } from '../../store/query-cache-api.js';
import { resolveCacheOptions } from './cache-options.js';
import { QueryCache } from './query-cache.js';

/**
 * openEventStore's `cache` option → `store.cache`: off unless asked for (`store.cache` then answers
 * as a disabled cache). Its plugin runs before the application's: it drops what a commit changed
 * before another plugin (a user's afterCommit that queries) can read it, and a hit answers before
 * the others' aroundRead.
 */
export const queryCachePart: LivePart<IQueryCache> = {
  name: 'cache',
  create(value) {
    const cache = new QueryCache(resolveCacheOptions(value));
    return {
      api: cache,
      plugin: cache.enabled ? cache.plugin : undefined,
      leading: true,
      attach: (_engine, store) => cache.attach(store.queryCacheAccess()),
    };
  },
};
