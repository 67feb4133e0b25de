import { ValidationError } from '../errors.js';
import type { StoredEvent } from '../events/types.js';
import { describe } from '../support/describe.js';
import { isPromiseLike } from '../support/promise-like.js';
import type { PluginStats } from '../storage/store-stats.js';
import type { ChangeNotice, ReadCall, ReadObservation, StorePlugin, WriteObservation } from './hooks.js';

const HOOKS = ['afterCommit', 'afterChange', 'aroundRead', 'afterRead', 'afterWrite', 'close'] as const;

/** The store's live parts' plugins (the performance monitor): left out of `size` and `stats()`. */
const QUIET = new WeakSet<StorePlugin>();
/** The store's own plugins that run before the application's (the result cache). */
const LEADING = new WeakSet<StorePlugin>();

/**
 * Marks one of the store's own plugins to run before the application's plugins: the result cache
 * drops what a commit changed before any other plugin (a user's afterCommit that queries) can read
 * it, and a hit answers before the others' aroundRead.
 */
export function leadingPlugin(plugin: StorePlugin): StorePlugin {
  LEADING.add(plugin);
  return plugin;
}

/**
 * Marks one of the store's own plugins as a live part: it counts its own failures, and is not one
 * of the plugins `stats().plugins` lists (a store opened without `plugins` still reports none).
 */
export function quietPlugin(plugin: StorePlugin): StorePlugin {
  QUIET.add(plugin);
  return plugin;
}

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
  /** Whether any plugin watches appends: with none, an append takes no clock readings for them. */
  readonly watchesWrites: boolean;
  /** Per plugin, whether it is a live part (quietPlugin). */
  private readonly quiet: readonly boolean[];

  /** Per plugin, whether it is one of the store's own: their afterCommit promises are waited for. */
  private readonly own: readonly boolean[];

  /**
   * `own`: the store's own plugins (e.g. hooks.afterCommit), checked already, run after the user's
   * (those marked leadingPlugin before them).
   */
  constructor(plugins: unknown, ...own: (StorePlugin | undefined)[]) {
    const given = checkPlugins(plugins);
    const mine = own.filter((plugin) => plugin !== undefined);
    this.plugins = [
      ...mine.filter((plugin) => LEADING.has(plugin)),
      ...given,
      ...mine.filter((plugin) => !LEADING.has(plugin)),
    ];
    this.own = this.plugins.map((plugin) => mine.includes(plugin));
    this.stats_ = this.plugins.map((plugin) => ({ name: plugin.name, errors: 0, lastError: null }));
    this.around = this.plugins.flatMap((plugin, at) =>
      plugin.aroundRead === undefined ? [] : [{ plugin, at }],
    );
    this.watchesReads = this.plugins.some(
      (plugin) => plugin.aroundRead !== undefined || plugin.afterRead !== undefined,
    );
    this.watchesWrites = this.plugins.some((plugin) => plugin.afterWrite !== undefined);
    this.quiet = this.plugins.map((plugin) => QUIET.has(plugin));
  }

  /** The plugins `stats().plugins` lists: all but the live parts. */
  get size(): number {
    return this.quiet.filter((quiet) => !quiet).length;
  }

  stats(): PluginStats[] {
    return this.stats_.filter((_, at) => !this.quiet[at]).map((entry) => ({ ...entry }));
  }

  /**
   * Tells every plugin about a committed batch. When one of the store's own plugins returns a
   * promise (hooks.afterCommit may), this returns a promise that resolves once those have settled,
   * however they ended; otherwise nothing, adding no turn. A user plugin's promise is not waited
   * for (plugins observe; they do not hold appends up), but its rejection is counted.
   */
  afterCommit(events: readonly StoredEvent[]): Promise<void> | undefined {
    const first = events[0];
    const last = events[events.length - 1];
    if (first === undefined || last === undefined || this.plugins.length === 0) return undefined;
    const notice = { events, firstSequence: first.sequence, lastSequence: last.sequence };
    let waits: Promise<void>[] | undefined;
    this.each((plugin, at) => {
      const result: unknown = plugin.afterCommit?.(notice);
      if (!isPromiseLike(result)) return;
      const settled = Promise.resolve(result).then(
        () => undefined,
        (error: unknown) => this.failed(at, error),
      );
      if (this.own[at]) (waits ??= []).push(settled);
    });
    return waits === undefined ? undefined : Promise.all(waits).then(() => undefined);
  }

  afterChange(change: ChangeNotice): void {
    this.each((plugin) => plugin.afterChange?.(change));
  }

  // The per-call hooks loop inline rather than through each(): no closure made per read or append.
  afterRead(observation: ReadObservation): void {
    for (let at = 0; at < this.plugins.length; at++) {
      try {
        (this.plugins[at] as StorePlugin).afterRead?.(observation);
      } catch (error) {
        this.failed(at, error);
      }
    }
  }

  afterWrite(observation: WriteObservation): void {
    for (let at = 0; at < this.plugins.length; at++) {
      try {
        (this.plugins[at] as StorePlugin).afterWrite?.(observation);
      } catch (error) {
        this.failed(at, error);
      }
    }
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

  private each(call: (plugin: StorePlugin, at: number) => void): void {
    for (let at = 0; at < this.plugins.length; at++) {
      try {
        call(this.plugins[at] as StorePlugin, at);
      } catch (error) {
        this.failed(at, error);
      }
    }
  }

  private failed(at: number, error: unknown): void {
    if (this.quiet[at]) return; // a live part counts its own
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
