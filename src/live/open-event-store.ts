import type { EventStore } from '../store/event-store.js';
import { openStore } from '../store/open.js';
import type { OpenOptions } from '../store/options.js';
import { resolveCacheOptions } from './query-cache/cache-options.js';
import { QueryCache } from './query-cache/query-cache.js';

/**
 * Opens an event store: the embedded engine, durable in `dir` when given and in memory otherwise,
 * or the engine the `engine` option names; with the parts built on its hooks (the result cache,
 * `cache`).
 *
 * @example
 * const store = await openEventStore({ dir: './events', fsync: 'batch' });
 * await store.append({ aggregateId: 'issue-42', type: 'WORKFLOW.STARTED', tags: { provider: 'openai' } });
 * const started = await store.getEventsByType('WORKFLOW.STARTED', { limit: 100 });
 */
export function openEventStore(options?: OpenOptions): Promise<EventStore> {
  return openStore(options, {
    queryCache: (option) => new QueryCache(resolveCacheOptions(option)),
  });
}
