import type { StoredEvent } from '../events/types.js';
import type { FilterNode } from '../query/ast.js';
import type { QueryCriteria } from '../query/criteria.js';

/**
 * `store.subscribe`'s options (docs/subscriptions.md). A subscription reads the log from `after`
 * on, then takes new events as they commit; `name` makes its position durable.
 */
export interface SubscribeOptions {
  /**
   * Deliver the events after this sequence: 0 (the default) from the beginning, `'end'` only events
   * appended from now on. A named subscription with a stored position resumes after that position
   * instead (`after` then only applies to a name seen for the first time).
   */
  after?: number | 'end';
  /**
   * Only the events matching this: a filter node (`f.eq('type', 'ORDER.PLACED')`, as `query().where`
   * takes) or criteria (`{ type: 'ORDER.PLACED', tags: { region: 'eu' } }`, as `queryEvents` takes,
   * without `limit`, `afterSequence` or `order`).
   */
  where?: FilterNode | QueryCriteria;
  /**
   * A durable subscription: `commit(sequence)` stores its position (in the store directory on a
   * durable store, in memory otherwise), and a later `subscribe({ name })` resumes after it. Letters,
   * digits, `.`, `_` and `-`, at most 100 characters. One open subscription per name and store.
   */
  name?: string;
  /** Events per read while catching up from the log: 1 to 10,000 (default 500). */
  batchSize?: number;
  /** Closes the subscription when it fires: the iteration ends as after `close()`. */
  signal?: AbortSignal;
  /**
   * Called each time the subscription turns live: it has handed out every event up to `sequence` (the
   * store's last sequence when it caught up) and further events come as they commit. Called once the
   * consumer asks for the event after `sequence`. Also for an empty store (`sequence` 0), and again
   * after each fall-back to the log (a full buffer).
   */
  onCaughtUp?: (sequence: number) => void;
  /**
   * Called when the subscription passes over events the store no longer shows (expired by
   * retention, of a deleted stream, or removed by cleanup while it was behind): sequences `from` to
   * `to`, of which `count` were passed over. `subscription.skipped` keeps the total.
   */
  onSkipped?: (skip: SkippedEvents) => void;
  /**
   * The live buffer's bounds: events delivered by commits that the consumer has not taken yet. Past
   * either, the buffer is dropped and the subscription reads from the log again (losing nothing), so
   * a stalled consumer costs the store at most this much. Default 1,000 events and 1 MiB.
   */
  buffer?: { events?: number; bytes?: number };
}

/** Sequences a subscription passed over because the store no longer shows them. */
export interface SkippedEvents {
  readonly from: number;
  readonly to: number;
  readonly count: number;
}

/** How far behind a subscription is. */
export interface SubscriptionLag {
  /** Sequences after its position: the store's last sequence minus the position. */
  readonly events: number;
  /**
   * How long the oldest event it has not received has been waiting, in milliseconds of the store's
   * clock, counted from its commit when this store handle saw the commit (else from when the
   * handle opened, a lower bound); 0 when it is not behind.
   */
  readonly ms: number;
}

/** What the live buffer holds now. */
export interface BufferedEvents {
  readonly events: number;
  /** An estimate of the memory those events hold (their encoded size and object overhead). */
  readonly bytes: number;
}

/**
 * A subscription: an async iterable of stored events in sequence order, each matching event
 * exactly once. Iterate it once (`for await`); breaking out of the loop closes it.
 *
 * @example
 * const sub = store.subscribe({ name: 'orders-view', where: { type: 'ORDER.PLACED' } });
 * for await (const event of sub) {
 *   await project(event);
 *   await sub.commit(event.sequence);
 * }
 */
export interface Subscription<P = unknown> extends AsyncIterableIterator<StoredEvent<P>> {
  readonly name: string | undefined;
  /**
   * The sequence up to which the consumer has received every matching event (filtered-out events
   * count as passed): the last one handed out, or the store's last sequence when nothing is pending.
   */
  readonly position: number;
  /** The last committed position of a named subscription (0 when none yet); undefined without a name. */
  readonly committed: number | undefined;
  /** Whether it is live (taking new events from commits) rather than reading the log. */
  readonly live: boolean;
  /** Events passed over in total because the store no longer shows them (see onSkipped). */
  readonly skipped: number;
  /** Times the live buffer overflowed and the subscription fell back to the log. */
  readonly overflows: number;
  /** The live buffer now. */
  readonly buffered: BufferedEvents;
  readonly closed: boolean;
  lag(): SubscriptionLag;
  /**
   * Stores the position of a named subscription: after `sequence` (default: `position`) is where a
   * later `subscribe({ name })` resumes. Resolves once it is durable (fsync'ed, on a durable
   * store). Commits made while one is being written are written together.
   */
  commit(sequence?: number): Promise<void>;
  /** Stops it: a waiting `next()` and the `for await` end; events not taken yet are dropped. */
  close(): Promise<void>;
}

/** A named subscription, as `store.subscriptions()` lists it. */
export interface SubscriptionInfo {
  readonly name: string;
  /** Its committed position. */
  readonly position: number;
  /** When it was last committed (ISO-8601), null when never. */
  readonly committedAt: string | null;
  /** Whether it is open in this store handle now. */
  readonly active: boolean;
  /** Lag of the committed position. */
  readonly lag: SubscriptionLag;
}

export interface WaitForOptions {
  /** Wait for this named subscription's committed position instead of the store. */
  name?: string;
  /** Milliseconds before it rejects with WAIT_TIMEOUT; default: wait until the store closes. */
  timeout?: number;
}

/** What the store's live side offers (src/live/subscriptions): the facade hands these calls over. */
export interface SubscriptionService {
  subscribe<P = unknown>(options?: SubscribeOptions): Subscription<P>;
  subscriptions(): SubscriptionInfo[];
  waitFor(sequence: number, options?: WaitForOptions): Promise<void>;
}
