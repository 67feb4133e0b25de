import { openEmbeddedEngine } from '../storage/embedded/open-embedded.js';
import type { EngineContext } from '../storage/storage-engine.js';
import { WriteGate } from '../support/write-gate.js';
import type { EventStore } from './event-store.js';
import { EventStoreFacade } from './event-store-facade.js';
import { resolveStoreOptions, type OpenOptions } from './options.js';
import { PluginHost } from './plugin-host.js';
// open.ts is the composition root: it picks the engine and wires the live side's plugins.
import { SubscriptionHub } from '../live/subscriptions/subscription-hub.js';

/**
 * Opens an event store: the embedded engine, durable in `dir` when given and in memory otherwise,
 * or the engine the `engine` option names.
 *
 * @example
 * const store = await openEventStore({ dir: './events', fsync: 'batch' });
 * await store.append({ aggregateId: 'issue-42', type: 'WORKFLOW.STARTED', tags: { provider: 'openai' } });
 * const started = await store.getEventsByType('WORKFLOW.STARTED', { limit: 100 });
 */
export async function openEventStore(options?: OpenOptions): Promise<EventStore> {
  const { resolved, engine: factory, plugins } = resolveStoreOptions(options);
  const subscriptions = new SubscriptionHub(resolved.clock);
  const host = new PluginHost(plugins, [subscriptions]);
  // The engine reports a lost durability guarantee through the context, possibly before the
  // facade exists (an open that fails): held here until it does.
  const opened: { facade?: EventStoreFacade; failure?: Error } = {};
  const context: EngineContext = {
    clock: resolved.clock,
    retention: resolved.retention,
    maxEventSize: resolved.maxEventSize,
    writeGate: new WriteGate(),
    fail: (error) => {
      opened.failure ??= error;
      opened.facade?.engineFailed(error);
    },
  };
  const engine =
    factory === undefined ? await openEmbeddedEngine(resolved, context) : await factory.open(context);
  const facade = new EventStoreFacade(
    engine,
    {
      clock: resolved.clock,
      maxEventSize: resolved.maxEventSize,
      futureTolerance: resolved.futureTolerance,
      onFutureEvent: resolved.onFutureEvent,
      dir: resolved.dir,
      writeGate: context.writeGate,
      subscriptions,
    },
    host,
  );
  subscriptions.attach({
    read: (fromSequence, limit) => facade.read({ fromSequence, limit }),
    refresh: () => facade.refresh(),
    lastSequence: () => engine.stats().lastSequence,
    readOnly: engine.capabilities.readOnly,
    dir: engine.capabilities.durable ? resolved.dir : undefined,
    followIntervalMs: resolved.followIntervalMs,
  });
  opened.facade = facade;
  if (opened.failure !== undefined) facade.engineFailed(opened.failure);
  return facade;
}
