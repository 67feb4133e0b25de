import { UnsupportedError } from '../errors.js';
import { openEmbeddedEngine } from '../storage/embedded/open-embedded.js';
import type { EngineContext } from '../storage/storage-engine.js';
import { WriteGate } from '../support/write-gate.js';
import type { EventStore } from './event-store.js';
import { EventStoreFacade } from './event-store-facade.js';
import { resolveStoreOptions, type OpenOptions } from './options.js';
import { leadingPlugin, PluginHost, quietPlugin } from './plugin-host.js';
import type { LivePart } from './live-part.js';
import { BeforeCommitHook } from './before-commit.js';
import { afterCommitPlugin } from './commit-hooks.js';

/**
 * Opens an event store: the embedded engine, durable in `dir` when given and in memory otherwise,
 * or the engine the `engine` option names, with the live parts `parts` makes. The public
 * openEventStore (live/open-live-store.ts) calls it: the store layer cannot import the parts built
 * on its hooks.
 */
export async function openEventStore(
  options?: OpenOptions,
  /** The parts built above the store (src/live/open-live-store.ts hands them in). */
  parts: readonly LivePart[] = [],
): Promise<EventStore> {
  const { resolved, engine: factory, plugins, hooks, live } = resolveStoreOptions(options);
  const made = parts.map((part) => ({
    part,
    instance: part.create(live[part.name], {
      clock: resolved.clock,
      dir: resolved.dir,
      followIntervalMs: resolved.followIntervalMs,
    }),
  }));
  const host = new PluginHost(
    plugins,
    afterCommitPlugin(hooks),
    ...made.map(({ instance }) => {
      const plugin = instance.plugin;
      if (plugin === undefined) return undefined;
      return quietPlugin(instance.leading === true ? leadingPlugin(plugin) : plugin);
    }),
  );
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
  if (hooks?.beforeCommit !== undefined && !engine.capabilities.commitHooks) {
    await engine.close();
    throw new UnsupportedError(
      'commitHooks',
      'hooks.beforeCommit needs an engine that runs it before each write',
      'hooks.beforeCommit',
    );
  }
  const facade = new EventStoreFacade(
    engine,
    {
      clock: resolved.clock,
      maxEventSize: resolved.maxEventSize,
      futureTolerance: resolved.futureTolerance,
      onFutureEvent: resolved.onFutureEvent,
      dir: resolved.dir,
      writeGate: context.writeGate,
      ...(hooks?.beforeCommit === undefined
        ? {}
        : { beforeCommit: new BeforeCommitHook(hooks.beforeCommit.bind(hooks)) }),
    },
    host,
    Object.fromEntries(made.map(({ part, instance }) => [part.name, instance.api])),
  );
  for (const { instance } of made) instance.attach(engine, facade);
  opened.facade = facade;
  if (opened.failure !== undefined) facade.engineFailed(opened.failure);
  return facade;
}
