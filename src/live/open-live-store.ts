import type { EventStore } from '../store/event-store.js';
import type { LivePart } from '../store/live-part.js';
import { openEventStore as openStore } from '../store/open.js';
import type { OpenOptions } from '../store/options.js';
import { performanceMonitorPart } from './performance-monitor/monitor-part.js';
import { subscriptionsPart } from './subscriptions/subscriptions-part.js';
import { queryCachePart } from './query-cache/query-cache-part.js';

/** The parts built above the store, each set up from its own option (store/live-part.ts). */
const LIVE_PARTS: readonly LivePart[] = [queryCachePart, subscriptionsPart, performanceMonitorPart];

/**
 * Opens an event store: the embedded engine, durable in `dir` when given and in memory otherwise,
 * or the engine the `engine` option names; with its live parts (the result cache `store.cache`, subscriptions, `store.monitor`).
 *
 * @example
 * const store = await openEventStore({ dir: './events', fsync: 'batch' });
 * await store.append({ aggregateId: 'issue-42', type: 'WORKFLOW.STARTED', tags: { provider: 'openai' } });
 * const started = await store.getEventsByType('WORKFLOW.STARTED', { limit: 100 });
 */
export async function openEventStore(options?: OpenOptions): Promise<EventStore> {
  const store = await openStore(options, LIVE_PARTS);
  // The monitor reports the cache's hit rate (tamma_cache_requests_total) and the subscriptions'
  // lag (tamma_subscription_lag_events).
  store.monitor.setSources({
    cache: () => {
      if (!store.cache.enabled) return undefined;
      return store.cache.getCacheStats().then(({ hits, misses }) => ({ hits, misses }));
    },
    subscriptions: () =>
      store.subscriptions().map((info) => ({ name: info.name, lagEvents: info.lag.events })),
  });
  return store;
}
