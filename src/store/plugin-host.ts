import { ValidationError } from '../errors.js';
import type { StoredEvent } from '../events/types.js';
import { describe } from '../support/describe.js';
import type { PluginStats } from '../storage/store-stats.js';
import type { ChangeNotice, ReadCall, ReadObservation, StorePlugin } from './hooks.js';

const HOOKS = ['afterCommit', 'afterChange', 'aroundRead', 'afterRead', 'close'] as const;

/**
 * The store's plugins, called safely: a hook that throws is counted (stats().plugins) and skipped,
 * never turned into a failure of the call it observes.
 */
export class PluginHost {
  private readonly plugins: readonly StorePlugin[];
  private readonly stats_: PluginStats[];
  private readonly around: { plugin: StorePlugin; at: number }[];
  /** Whether any plugin watches reads: with none, the read runner adds nothing to a read. */
  readonly watchesReads: boolean;

  /** `own`: the store's own plugins (the result cache), run before the caller's. */
  constructor(plugins: unknown, own: readonly StorePlugin[] = []) {
    this.plugins = [...own, ...checkPlugins(plugins)];
    this.stats_ = this.plugins.map((plugin) => ({ name: plugin.name, errors: 0, lastError: null }));
    this.around = this.plugins.flatMap((plugin, at) =>
      plugin.aroundRead === undefined ? [] : [{ plugin, at }],
    );
    this.watchesReads = this.plugins.some(
      (plugin) => plugin.aroundRead !== undefined || plugin.afterRead !== undefined,
    );
  }

  get size(): number {
    return this.plugins.length;
  }

  stats(): PluginStats[] {
    return this.stats_.map((entry) => ({ ...entry }));
  }

  afterCommit(events: readonly StoredEvent[]): void {
    const first = events[0];
    const last = events[events.length - 1];
    if (first === undefined || last === undefined || this.plugins.length === 0) return;
    const notice = { events, firstSequence: first.sequence, lastSequence: last.sequence };
    this.each((plugin) => plugin.afterCommit?.(notice));
  }

  afterChange(change: ChangeNotice): void {
    this.each((plugin) => plugin.afterChange?.(change));
  }

  afterRead(observation: ReadObservation): void {
    this.each((plugin) => plugin.afterRead?.(observation));
  }

  /**
   * The read through every plugin's aroundRead, outermost first. A plugin whose aroundRead throws
   * before it calls `next` is counted and passed over; once the engine has answered, an error is
   * the read's own.
   */
  aroundRead<R>(call: ReadCall, read: () => Promise<R>): Promise<R> {
    let next = read;
    for (let i = this.around.length - 1; i >= 0; i--) {
      const { plugin, at } = this.around[i] as { plugin: StorePlugin; at: number };
      const inner = next;
      next = () => {
        let called = false;
        const guarded = () => {
          called = true;
          return inner();
        };
        let result: Promise<R>;
        try {
          result = (plugin.aroundRead as NonNullable<StorePlugin['aroundRead']>)(call, guarded);
        } catch (error) {
          this.failed(at, error);
          return called ? Promise.reject(error) : inner();
        }
        return Promise.resolve(result).catch((error: unknown) => {
          if (called) throw error;
          this.failed(at, error);
          return inner();
        });
      };
    }
    return next();
  }

  async close(): Promise<void> {
    for (let at = 0; at < this.plugins.length; at++) {
      try {
        await this.plugins[at]?.close?.();
      } catch (error) {
        this.failed(at, error);
      }
    }
  }

  private each(call: (plugin: StorePlugin) => void): void {
    for (let at = 0; at < this.plugins.length; at++) {
      try {
        call(this.plugins[at] as StorePlugin);
      } catch (error) {
        this.failed(at, error);
      }
    }
  }

  private failed(at: number, error: unknown): void {
    const entry = this.stats_[at] as PluginStats;
    entry.errors++;
    entry.lastError = error instanceof Error ? error.message : String(error);
  }
}

function checkPlugins(plugins: unknown): readonly StorePlugin[] {
  if (plugins === undefined) return [];
  if (!Array.isArray(plugins)) {
    throw new ValidationError(
      'plugins',
      `must be an array of plugins, got ${describe(plugins)}`,
      'INVALID_OPTION',
    );
  }
  return plugins.map((plugin: unknown, i) => {
    if (plugin === null || typeof plugin !== 'object') {
      throw new ValidationError(
        `plugins[${i}]`,
        `must be an object, got ${describe(plugin)}`,
        'INVALID_OPTION',
      );
    }
    const candidate = plugin as Record<string, unknown>;
    if (typeof candidate.name !== 'string' || candidate.name.length === 0) {
      throw new ValidationError(
        `plugins[${i}].name`,
        `must be a non-empty string, got ${describe(candidate.name)}`,
        'INVALID_OPTION',
      );
    }
    for (const hook of HOOKS) {
      if (candidate[hook] !== undefined && typeof candidate[hook] !== 'function') {
        throw new ValidationError(
          `plugins[${i}].${hook}`,
          `must be a function, got ${describe(candidate[hook])}`,
          'INVALID_OPTION',
        );
      }
    }
    return plugin as StorePlugin;
  });
}
