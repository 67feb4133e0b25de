import { openEmbeddedEngine } from '../storage/embedded/open-embedded.js';
import type { EngineContext } from '../storage/storage-engine.js';
import { WriteGate } from '../support/write-gate.js';
import type { EventStore } from './event-store.js';
import { EventStoreFacade } from './event-store-facade.js';
import { resolveStoreOptions, type OpenOptions } from './options.js';
import { PluginHost } from './plugin-host.js';
import type { StoreQueryCache } from './query-cache-api.js';

/** The parts of the store built on its hooks (src/live/), made by the public openEventStore. */
export interface LiveParts {
  /** Makes the result cache from the `cache` option (checked there), enabled or not. */
  queryCache(option: unknown): StoreQueryCache;
}

/**
 * Opens an event store: the embedded engine, durable in `dir` when given and in memory otherwise,
 * or the engine the `engine` option names, with the parts `live` makes. The public openEventStore
 * (live/open-event-store.ts) calls it: the store layer cannot import the parts built on its hooks.
 */
export async function openStore(options: OpenOptions | undefined, live: LiveParts): Promise<EventStore> {
  const { resolved, engine: factory, plugins, cache: cacheOption } = resolveStoreOptions(options);
  const cache = live.queryCache(cacheOption);
  // The cache's plugin first: it drops what a commit changed before any other plugin (a user's
  // afterCommit that queries) can read it, and a hit answers before the others' aroundRead.
  const host = new PluginHost(plugins, cache.enabled ? [cache.plugin] : []);
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
    cleaned: (report) => host.afterChange({ kind: 'cleanup', report }),
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
      cache,
    },
    host,
  );
  opened.facade = facade;
  if (opened.failure !== undefined) facade.engineFailed(opened.failure);
  return facade;
}
