import type { EventStore } from '../store/event-store.js';
import type { LivePart } from '../store/live-part.js';
import { openEventStore as openStore } from '../store/open.js';
import type { OpenOptions } from '../store/options.js';
import { performanceMonitorPart } from './performance-monitor/monitor-part.js';

/** The parts built above the store, each set up from its own option (store/live-part.ts). */
const LIVE_PARTS: readonly LivePart[] = [performanceMonitorPart];

/**
 * Opens an event store: the embedded engine, durable in `dir` when given and in memory otherwise,
 * or the engine the `engine` option names; with its live parts (`store.monitor`).
 *
 * @example
 * const store = await openEventStore({ dir: './events', fsync: 'batch' });
 * await store.append({ aggregateId: 'issue-42', type: 'WORKFLOW.STARTED', tags: { provider: 'openai' } });
 * const started = await store.getEventsByType('WORKFLOW.STARTED', { limit: 100 });
 */
export function openEventStore(options?: OpenOptions): Promise<EventStore> {
  return openStore(options, LIVE_PARTS);
}
