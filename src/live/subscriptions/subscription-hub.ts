import { ReadOnlyError, StoreClosedError, TammaError, ValidationError } from '../../errors.js';
import type { Clock } from '../../events/clock.js';
import type { StoredEvent } from '../../events/types.js';
import type { ChangeNotice, CommitNotice, StorePlugin } from '../../store/hooks.js';
import type {
  SubscribeOptions,
  Subscription,
  SubscriptionInfo,
  SubscriptionLag,
  SubscriptionService,
  WaitForOptions,
} from '../../store/subscription-types.js';
import { describe } from '../../support/describe.js';
import { CommitTimes } from './commit-times.js';
import { estimateEventBytes } from './event-size.js';
import { FilePositions, MemoryPositions, type PositionStore } from './position-store.js';
import { RecentEvents } from './recent-events.js';
import { SequenceWaiters } from './sequence-waiters.js';
import { checkName, checkSubscribeOptions } from './subscribe-options.js';
import { LiveSubscription, type SubscriptionHost } from './subscription.js';

/** What the hub reads through: the store itself, once it exists (attach). */
export interface HubStore {
  /** The store's global read (`store.read`): catch-up reads of the log go through the read runner. */
  read(fromSequence: number, limit: number): Promise<StoredEvent[]>;
  /** The store's refresh (a read-only handle following a writer). */
  refresh(): Promise<number>;
  /** The store's last sequence, asked at attach and after a restore. */
  lastSequence(): number;
  readonly readOnly: boolean;
  /** The store's directory (named positions are kept there); undefined in memory. */
  readonly dir: string | undefined;
  /** A read-only handle's refresh interval (followIntervalMs; 0: only at refresh()). */
  readonly followIntervalMs: number;
}

const WAIT_OPTIONS = ['name', 'timeout'];
/** setTimeout's ceiling. */
const MAX_TIMEOUT = 2 ** 31 - 1;

/**
 * The store's subscriptions (store.subscribe, store.subscriptions, store.waitFor): a plugin on the
 * commit and change hooks. It knows the last sequence committed (the head), pushes each commit to
 * the subscriptions that are live, sends them back to the log when a change may hide what they
 * hold, keeps named positions, and resolves waitFor. While any subscription is open it keeps a
 * bounded tail of recent commits, shared, from which a subscription that fell behind catches up
 * without reading the log. On a read-only handle nothing commits: it refreshes from the writer's
 * files while a subscription is live or a waitFor waits.
 */
export class SubscriptionHub implements StorePlugin, SubscriptionService {
  readonly name = 'subscriptions';
  private store: HubStore | undefined;
  /**
   * The last sequence committed (or brought by a refresh): asked of the store at first need, then
   * moved by each commit. Lazily, because the store's stats cost a scan under a retention policy.
   */
  private headSequence: number | undefined;
  /** Changes that may hide events so far: a catch-up read that spans one is read again. */
  private changeCount = 0;
  private times = new CommitTimes(0);
  private positions: PositionStore = new MemoryPositions();
  /** Every open subscription. */
  private readonly open = new Set<LiveSubscription>();
  /** Those taking commits now (the others are reading the log). */
  private readonly live = new Set<LiveSubscription>();
  /** Open named subscriptions, by name: one per name. */
  private readonly active = new Map<string, LiveSubscription>();
  private readonly waiters = new SequenceWaiters();
  /** The tail of the log in memory, while there are subscriptions: where a fallen-behind one catches up. */
  private readonly recent = new RecentEvents();
  private poller: NodeJS.Timeout | undefined;
  private isClosed = false;

  constructor(private readonly clock: Clock) {}

  /** Called once the store is open: where to read, and where positions live. */
  attach(store: HubStore): void {
    this.store = store;
    this.times = new CommitTimes(this.clock.now());
    if (store.dir !== undefined) this.positions = new FilePositions(store.dir, !store.readOnly);
  }

  private readonly host: SubscriptionHost = {
    head: () => this.head(),
    changes: () => this.changeCount,
    read: (fromSequence, limit) => {
      const recent = this.recent.read(fromSequence, limit);
      return recent === undefined ? this.attached().read(fromSequence, limit) : Promise.resolve(recent);
    },
    now: () => this.clock.now(),
    committedAt: (sequence) => this.times.committedAt(sequence, this.clock.now()),
    committed: (name) => this.positions.all().get(name)?.position ?? 0,
    commit: async (name, sequence) => {
      if (this.isClosed) throw new StoreClosedError();
      await this.positions.save(name, { position: sequence, committedAt: this.clock.now() });
      this.waiters.check();
    },
    wentLive: (subscription) => {
      this.live.add(subscription);
      this.followWriter();
    },
    leftLive: (subscription) => this.live.delete(subscription),
    closed: (subscription) => {
      this.open.delete(subscription);
      this.live.delete(subscription);
      const name = subscription.name;
      if (name !== undefined && this.active.get(name) === subscription) this.active.delete(name);
      if (this.open.size === 0) this.recent.clear();
    },
  };

  subscribe<P = unknown>(options?: SubscribeOptions): Subscription<P> {
    if (this.isClosed) throw new StoreClosedError();
    const store = this.attached();
    const settings = checkSubscribeOptions(options);
    let start = settings.after === 'end' ? this.head() : settings.after;
    const name = settings.name;
    if (name !== undefined) {
      if (store.readOnly) {
        throw new ReadOnlyError(
          `subscribe({ name: ${JSON.stringify(name)} }) (a named subscription writes its position)`,
          store.dir ?? '',
        );
      }
      if (this.active.has(name)) {
        throw new TammaError(
          'SUBSCRIPTION_ACTIVE',
          `subscription ${JSON.stringify(name)} is already open on this store; close it first, or subscribe under another name`,
        );
      }
      const stored = this.positions.get(name);
      if (stored !== undefined) start = stored.position;
    }
    const subscription = new LiveSubscription<P>(settings, this.host, start);
    if (subscription.closed) return subscription;
    this.open.add(subscription as LiveSubscription);
    if (name !== undefined) this.active.set(name, subscription as LiveSubscription);
    return subscription;
  }

  subscriptions(): SubscriptionInfo[] {
    const names = new Set([...this.positions.all().keys(), ...this.active.keys()]);
    return [...names].sort().map((name) => {
      const stored = this.positions.all().get(name);
      const position = stored?.position ?? 0;
      return {
        name,
        position,
        committedAt:
          stored?.committedAt === null || stored === undefined
            ? null
            : new Date(stored.committedAt).toISOString(),
        active: this.active.has(name),
        lag: this.lagOf(position),
      };
    });
  }

  async waitFor(sequence: number, options: WaitForOptions = {}): Promise<void> {
    if (this.isClosed) throw new StoreClosedError();
    if (typeof sequence !== 'number' || !Number.isSafeInteger(sequence) || sequence < 0) {
      throw new ValidationError(
        'sequence',
        `must be a sequence (a non-negative integer), got ${describe(sequence)}`,
      );
    }
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new ValidationError('options', `must be an object, got ${describe(options)}`);
    }
    for (const key of Object.keys(options)) {
      if (!WAIT_OPTIONS.includes(key)) {
        throw new ValidationError(`options.${key}`, `is not a waitFor option; expected name or timeout`);
      }
    }
    const { name, timeout } = options;
    if (
      timeout !== undefined &&
      (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0 || timeout > MAX_TIMEOUT)
    ) {
      throw new ValidationError(
        'options.timeout',
        `must be a number of milliseconds from 0 to ${MAX_TIMEOUT}, got ${describe(timeout)}`,
      );
    }
    if (name !== undefined) {
      checkName(name, 'options.name');
      if (!this.active.has(name) && !this.positions.all().has(name)) {
        const known = [...new Set([...this.positions.all().keys(), ...this.active.keys()])];
        throw new ValidationError(
          'options.name',
          `no subscription named ${JSON.stringify(name)} on this store (known: ${known.length === 0 ? 'none' : known.join(', ')})`,
        );
      }
    }
    const reached =
      name === undefined
        ? () => this.head() >= sequence
        : () => (this.positions.all().get(name)?.position ?? 0) >= sequence;
    if (reached()) return;
    const waiting = this.waiters.wait(reached, timeout, () => {
      const where =
        name === undefined
          ? `the store is at sequence ${this.head()}`
          : `subscription ${JSON.stringify(name)} has committed ${this.positions.all().get(name)?.position ?? 0}`;
      return new TammaError(
        'WAIT_TIMEOUT',
        `waitFor(${sequence}) timed out after ${timeout} ms: ${where}; raise options.timeout or check that ${
          name === undefined ? 'the writer appends' : 'the subscription runs and commits'
        }`,
      );
    });
    this.followWriter();
    return waiting;
  }

  afterCommit(commit: CommitNotice): void {
    if (this.headSequence !== undefined && commit.lastSequence > this.headSequence)
      this.headSequence = commit.lastSequence;
    this.times.record(commit.firstSequence, commit.lastSequence, this.clock.now());
    if (this.open.size > 0) {
      // Sizes once per commit, however many subscriptions buffer its events.
      let sizes: number[] | undefined;
      const sizeAt = (index: number) => (sizes ??= commit.events.map(estimateEventBytes))[index] as number;
      this.recent.add(commit, sizeAt);
      for (const subscription of this.live) subscription.push(commit, sizeAt);
    }
    this.waiters.check();
  }

  afterChange(change: ChangeNotice): void {
    if (
      change.kind === 'refresh' &&
      this.headSequence !== undefined &&
      change.lastSequence > this.headSequence
    ) {
      this.times.record(this.headSequence + 1, change.lastSequence, this.clock.now());
      this.headSequence = change.lastSequence;
    }
    // A read-only handle: the writer's process commits named positions; read them again.
    if (change.kind === 'refresh' && this.positions instanceof FilePositions) this.positions.load();
    if (change.kind === 'restore') {
      // Restored events may land after the last sequence, without a commit: the head moves.
      if (this.headSequence !== undefined)
        this.headSequence = Math.max(this.headSequence, this.attached().lastSequence());
    }
    // A refresh brings the writer's appends; the others may hide events.
    const hiding = change.kind !== 'refresh';
    if (hiding) this.changeCount++;
    this.recent.clear();
    // Pending events may now be hidden (a deletion, retention, cleanup), whether a commit brought
    // them or a page read before the change; and events past the cursor came without a commit (a
    // refresh, a restore). Both are the log's to answer.
    for (const subscription of this.open) {
      if ((hiding && subscription.hasPending) || (subscription.live && subscription.behind(this.head())))
        subscription.fallBack();
    }
    this.waiters.check();
  }

  async close(): Promise<void> {
    this.isClosed = true;
    clearInterval(this.poller);
    this.poller = undefined;
    for (const subscription of [...this.open]) await subscription.close();
    this.waiters.rejectAll(new StoreClosedError());
    // No position file is written after the store's close resolves.
    await this.positions.settled();
  }

  private lagOf(position: number): SubscriptionLag {
    const head = this.head();
    if (position >= head) return { events: 0, ms: 0 };
    const now = this.clock.now();
    return {
      events: head - position,
      ms: Math.max(0, now - this.times.committedAt(position + 1, now)),
    };
  }

  /**
   * A read-only handle learns of the writer's appends only by refreshing. While a subscription is
   * live or a waitFor waits, refresh every followIntervalMs (none with 0: refresh() is then the
   * application's to call). The timer keeps the process alive meanwhile, as an open socket would.
   */
  private followWriter(): void {
    const store = this.attached();
    if (!store.readOnly || store.followIntervalMs === 0 || this.poller !== undefined || this.isClosed) return;
    this.poller = setInterval(() => {
      if (this.live.size === 0 && this.waiters.size === 0) {
        clearInterval(this.poller);
        this.poller = undefined;
        return;
      }
      // A failed refresh (the writer replacing files under it) is tried again at the next tick;
      // the store's stats report the follower's last error.
      store.refresh().catch(() => undefined);
    }, store.followIntervalMs);
  }

  /**
   * The head, asked of the store the first time it is needed. (The store's last sequence may then
   * include an append in flight, visible but not yet acknowledged: harmless to a subscription, which
   * tells such events by their sequence when their commit comes.)
   */
  private head(): number {
    this.headSequence ??= this.attached().lastSequence();
    return this.headSequence;
  }

  private attached(): HubStore {
    if (this.store === undefined) throw new StoreClosedError('the store is still opening');
    return this.store;
  }
}
