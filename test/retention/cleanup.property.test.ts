/**
 * Cleanup against a linear oracle. Random runs interleave appends (several streams, types with
 * shorter retention, tags, payloads, tiny and large records), clock moves, policy changes (maxAge,
 * per-type ages, maxEvents, an archive, none at all), stream deletions, user indexes (one unique),
 * restarts, cleanups (in small slices, with appends landing while one is under way), and restores
 * of a sequence range of the archive back between the live events (with an append and a read
 * issued while one runs). After every step each read path is checked against the oracle: the
 * events appended, less those the policy or a deletion hides, less those cleanup removed, plus
 * those a restore brought back. Across the run, every event appended is exactly one of: still in
 * the store, in the archive once, or removed without an archive; in the store and in the archive
 * at once only when a restore brought it back; and the archive never holds a sequence twice.
 */
import fc from 'fast-check';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ManualClock,
  openEventStore,
  verifyStore,
  type EventStore,
  type NewEvent,
  type AdvancedQueryBuilder,
  type OpenOptions,
  type ResultPage,
  type StoredEvent,
  type TagValue,
  ValidationError,
} from '../../src/index.js';
import type { RetentionOptions } from '../../src/retention/policy.js';
import { archivedEvents } from '../support/archive-contents.js';
import { rejection, removeDir, tempDir } from '../support/helpers.js';

const T0 = Date.UTC(2026, 2, 1);
const MINUTE = 60_000;
const AGGREGATES = ['a0', 'a1', 'a2', 'a3', 'a4'];
const TYPES = ['ORDER.PLACED', 'ORDER.PAID', 'DEBUG.x', 'DEBUG.y'];

// ---- generators ----------------------------------------------------------------------------------

interface EventSpec {
  agg: number;
  type: string;
  color: string | undefined;
  level: number | undefined;
  key: number | undefined;
  n: number | undefined;
  pad: number;
  noPayload: boolean;
  ageMinutes: number;
  /** A caller-given short id: tiny records, so a rewritten segment holds many small frames and holes. */
  shortId: boolean;
}

interface PolicySpec {
  maxAgeMinutes: number | undefined;
  debugMinutes: number | 'forever' | undefined;
  maxEvents: number | undefined;
  archive: boolean;
  onExpiredArchive: boolean;
}

type Step =
  | { kind: 'append'; events: EventSpec[]; stream: boolean }
  | { kind: 'advance'; minutes: number }
  | { kind: 'retention'; policy: PolicySpec | 'undefined' | 'inactive' }
  | { kind: 'delete'; agg: number }
  | {
      kind: 'cleanup';
      slice: number;
      concurrent: { events: EventSpec[]; yields: number }[];
      /** Read everything through a stream, in small pages, while cleanup runs. */
      stream: boolean;
      /** Build the by_n index while cleanup runs. */
      buildIndex: boolean;
    }
  | { kind: 'index'; name: 'by_key' | 'by_n' }
  | {
      kind: 'restore';
      /**
       * The range, in hundredths of the span from the archive's first sequence to its last (mapped
       * when the step runs: the generator cannot know the sequences); undefined: that end is open.
       */
      from?: number;
      to?: number;
      /** With the unique index in place: drop it, restore, create it again; else expect the refusal. */
      dropUnique: boolean;
      /** An append issued while the restore runs: it waits for the restore, then lands after it. */
      append: { events: EventSpec[]; stream: boolean } | undefined;
      /** A read issued while the restore runs: it sees the store before the restore or after it. */
      read: boolean;
    }
  | { kind: 'restart' };

const fullEvent: fc.Arbitrary<EventSpec> = fc.record({
  agg: fc.integer({ min: 0, max: AGGREGATES.length - 1 }),
  type: fc.constantFrom(...TYPES),
  color: fc.option(fc.constantFrom('red', 'blue', 'green'), { nil: undefined }),
  level: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
  // Few keys: with the unique index in place from the start, a key comes free only when cleanup
  // removes the event holding it.
  key: fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined, freq: 2 }),
  n: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
  pad: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 400 })),
  noPayload: fc.boolean(),
  ageMinutes: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 120 })),
  shortId: fc.boolean(),
});

/**
 * The smallest records there are (a short id, no payload, no tags): removing one from the middle of
 * a batch saves fewer bytes than the hole and frame header that take its place.
 */
const tinyEvent: fc.Arbitrary<EventSpec> = fc.record({
  agg: fc.integer({ min: 0, max: AGGREGATES.length - 1 }),
  type: fc.constantFrom('DEBUG.x', 'DEBUG.y', 'ORDER.PAID'),
  color: fc.constant(undefined),
  level: fc.constant(undefined),
  key: fc.constant(undefined),
  n: fc.constant(undefined),
  pad: fc.constant(0),
  noPayload: fc.constant(true),
  ageMinutes: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 120 })),
  shortId: fc.constant(true),
});

const eventSpec = fc.oneof({ weight: 3, arbitrary: fullEvent }, { weight: 2, arbitrary: tinyEvent });

/** Tiny events alternating between a short-lived type and a long-lived one: holes inside every batch. */
const stripedBatch: fc.Arbitrary<EventSpec[]> = fc
  .record({
    agg: fc.integer({ min: 0, max: AGGREGATES.length - 1 }),
    length: fc.integer({ min: 3, max: 12 }),
  })
  .chain(({ agg, length }) =>
    fc.tuple(
      ...Array.from({ length }, (_, i) =>
        tinyEvent.map((e) => ({ ...e, agg, ageMinutes: 0, type: i % 2 ? 'DEBUG.x' : 'ORDER.PAID' })),
      ),
    ),
  );

const policySpec: fc.Arbitrary<PolicySpec> = fc.record({
  maxAgeMinutes: fc.option(fc.integer({ min: 30, max: 300 }), { nil: undefined }),
  debugMinutes: fc.option(fc.oneof(fc.integer({ min: 10, max: 90 }), fc.constant('forever' as const)), {
    nil: undefined,
  }),
  maxEvents: fc.option(fc.integer({ min: 5, max: 60 }), { nil: undefined, freq: 3 }),
  archive: fc.boolean(),
  onExpiredArchive: fc.boolean(),
});

function steps(restarts: boolean): fc.Arbitrary<Step[]> {
  const step: fc.Arbitrary<Step> = fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        kind: fc.constant('append' as const),
        events: fc.oneof(
          { weight: 4, arbitrary: fc.array(eventSpec, { minLength: 1, maxLength: 8 }) },
          { weight: 3, arbitrary: stripedBatch },
        ),
        stream: fc.boolean(),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('advance' as const),
        minutes: fc.integer({ min: 1, max: 150 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('retention' as const),
        policy: fc.oneof(
          { weight: 4, arbitrary: policySpec },
          { weight: 1, arbitrary: fc.constantFrom('undefined' as const, 'inactive' as const) },
        ),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('delete' as const),
        agg: fc.integer({ min: 0, max: AGGREGATES.length - 1 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('cleanup' as const),
        slice: fc.constantFrom(1, 3, 7, 50, 16_384),
        concurrent: fc.array(
          fc.record({
            events: fc.array(eventSpec, { minLength: 1, maxLength: 3 }),
            yields: fc.integer({ min: 0, max: 6 }),
          }),
          { maxLength: 4 },
        ),
        stream: fc.boolean(),
        buildIndex: fc.boolean(),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('index' as const),
        name: fc.constantFrom('by_key' as const, 'by_n' as const),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('restore' as const),
        from: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
        to: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
        dropUnique: fc.boolean(),
        append: fc.option(
          fc.record({ events: fc.array(eventSpec, { minLength: 1, maxLength: 3 }), stream: fc.boolean() }),
          { nil: undefined, freq: 2 },
        ),
        read: fc.boolean(),
      }),
    },
    ...(restarts ? [{ weight: 2, arbitrary: fc.constant({ kind: 'restart' as const }) }] : []),
  );
  return fc.array(step, { minLength: 5, maxLength: 60, size: 'max' });
}

// ---- the oracle ----------------------------------------------------------------------------------

interface Payload {
  key?: string;
  n?: number;
  pad?: string;
}

interface ModelEvent {
  sequence: number;
  id: string;
  aggregateId: string;
  version: number;
  type: string;
  timestamp: number;
  tags: Record<string, TagValue>;
  payload: Payload | null;
  /**
   * present: in the store (visible or hidden), not in the archive; restored: in the store and in
   * the archive (a restore brought it back, the archive keeps its copy); archived / dropped: removed
   * by cleanup, with its copy in the archive / without one.
   */
  state: 'present' | 'restored' | 'archived' | 'dropped';
}

/** In the store, visible or hidden. */
const inStore = (e: ModelEvent) => e.state === 'present' || e.state === 'restored';
/** Its copy is in the archive. */
const inArchive = (e: ModelEvent) => e.state === 'archived' || e.state === 'restored';

/** What a restore of a range of the archive must do, worked out before it runs. */
interface RestoreOutcome {
  /** The events it brings back, in sequence order. */
  back: ModelEvent[];
  alreadyLive: number;
  ofDeletedStreams: number;
  /**
   * Streams whose versions would no longer rise along their sequences, in the order of their first
   * event coming back: the restore is refused.
   */
  broken: string[];
}

class Model {
  readonly events: ModelEvent[] = [];
  readonly deleted = new Set<string>();
  readonly indexes = new Set<'by_key' | 'by_n'>();
  policy: PolicySpec | undefined;
  nextId = 0;
  /** Per stream, the highest version it has had since cleanup last removed all it had (see version). */
  readonly highest = new Map<string, number>();

  constructor(readonly clock: ManualClock) {}

  /** Restored events come back: a stream's highest version counts theirs too. */
  restore(back: readonly ModelEvent[]): void {
    // Streams cleanup had forgotten start from the restored events alone.
    for (const e of back) this.version(e.aggregateId);
    for (const e of back) {
      e.state = 'restored';
      this.highest.set(e.aggregateId, Math.max(this.highest.get(e.aggregateId) ?? 0, e.version));
    }
  }

  get lastSequence(): number {
    return this.events.length;
  }

  maxAgeOf(type: string): number {
    const p = this.policy;
    if (p === undefined) return Infinity;
    if (type.startsWith('DEBUG.') && p.debugMinutes !== undefined)
      return p.debugMinutes === 'forever' ? Infinity : p.debugMinutes * MINUTE;
    return p.maxAgeMinutes === undefined ? Infinity : p.maxAgeMinutes * MINUTE;
  }

  get active(): boolean {
    const p = this.policy;
    return (
      p !== undefined &&
      (p.maxAgeMinutes !== undefined ||
        p.maxEvents !== undefined ||
        (p.debugMinutes !== undefined && p.debugMinutes !== 'forever'))
    );
  }

  expired(timestamp: number, type: string): boolean {
    return timestamp < this.clock.now() - this.maxAgeOf(type);
  }

  /** Whether reads leave the (present) event out. */
  hidden(e: ModelEvent): boolean {
    if (this.deleted.has(e.aggregateId)) return true;
    const maxEvents = this.policy?.maxEvents;
    if (maxEvents !== undefined && e.sequence - 1 < this.lastSequence - maxEvents) return true;
    return this.expired(e.timestamp, e.type);
  }

  visible(): ModelEvent[] {
    return this.events.filter((e) => inStore(e) && !this.hidden(e));
  }

  present(): ModelEvent[] {
    return this.events.filter(inStore);
  }

  /**
   * Cleanup has removed these: where each goes (a restored event's archive copy is still there). A
   * deleted stream's events are erased, not archived; and a cleanup that archives erases the ones
   * its archive held already (archived before the deletion, or restored copies).
   */
  removed(doomed: readonly ModelEvent[], archiving: boolean): void {
    for (const e of doomed) {
      const copy = e.state === 'restored' || (archiving && !this.deleted.has(e.aggregateId));
      e.state = copy ? 'archived' : 'dropped';
    }
    if (!archiving) return;
    for (const e of this.events)
      if (e.state === 'archived' && this.deleted.has(e.aggregateId)) e.state = 'dropped';
  }

  /**
   * A restore of the archived events in [from, to]: those the store holds live are left out, and
   * those of deleted streams; the rest come back, unless some stream's versions would then not rise
   * strictly along its sequences (counting every event it would hold, hidden ones too).
   */
  restoreOutcome(from = -Infinity, to = Infinity): RestoreOutcome {
    const inRange = this.events.filter((e) => inArchive(e) && e.sequence >= from && e.sequence <= to);
    const gone = inRange.filter((e) => e.state === 'archived');
    const back = gone.filter((e) => !this.deleted.has(e.aggregateId));
    const coming = new Set(back);
    const broken: string[] = [];
    for (const aggregateId of new Set(back.map((e) => e.aggregateId))) {
      let last = 0;
      for (const e of this.events) {
        if (e.aggregateId !== aggregateId || !(inStore(e) || coming.has(e))) continue;
        if (e.version <= last) {
          broken.push(aggregateId);
          break;
        }
        last = e.version;
      }
    }
    return {
      back,
      alreadyLive: inRange.length - gone.length,
      ofDeletedStreams: gone.length - back.length,
      broken,
    };
  }

  /**
   * The stream's version: the highest it has had, also when cleanup removed its newest events, as
   * long as it still has one in the store; a stream cleanup removed wholly is forgotten and starts again.
   */
  version(aggregateId: string): number {
    if (!this.events.some((e) => e.aggregateId === aggregateId && inStore(e))) {
      // Cleanup removed all it had: forgotten.
      this.highest.delete(aggregateId);
      return 0;
    }
    return this.highest.get(aggregateId) ?? 0;
  }

  /** Unique keys held by events still in the store, hidden or not. */
  heldKeys(): Set<string> {
    const keys = new Set<string>();
    for (const e of this.events) if (inStore(e) && e.payload?.key !== undefined) keys.add(e.payload.key);
    return keys;
  }

  /** Why the store must refuse this batch (any of these codes), or none. */
  refusals(batch: readonly NewEvent[]): Set<string> {
    const codes = new Set<string>();
    if (this.active && this.policy?.onExpiredArchive !== true) {
      if (batch.some((e) => this.expired(e.timestamp as number, e.type))) codes.add('EVENT_EXPIRED');
    }
    if (batch.some((e) => this.deleted.has(e.aggregateId))) codes.add('AGGREGATE_DELETED');
    if (this.indexes.has('by_key')) {
      const held = this.heldKeys();
      const seen = new Set<string>();
      for (const e of batch) {
        const key = (e.payload as Payload | undefined)?.key;
        if (key === undefined) continue;
        if (held.has(key) || seen.has(key)) codes.add('UNIQUE_VIOLATION');
        seen.add(key);
      }
    }
    return codes;
  }

  retentionOptions(archiveDir: string): RetentionOptions | undefined {
    const p = this.policy;
    if (p === undefined) return undefined;
    return policyOptions(p, archiveDir);
  }
}

function policyOptions(p: PolicySpec, archiveDir: string): RetentionOptions {
  return {
    schedule: false,
    ...(p.maxAgeMinutes === undefined ? {} : { maxAge: p.maxAgeMinutes * MINUTE }),
    ...(p.debugMinutes === undefined
      ? {}
      : { types: { 'DEBUG.*': p.debugMinutes === 'forever' ? 'forever' : p.debugMinutes * MINUTE } }),
    ...(p.maxEvents === undefined ? {} : { maxEvents: p.maxEvents }),
    ...(p.archive ? { archive: { dir: archiveDir } } : {}),
    ...(p.archive && p.onExpiredArchive ? { onExpired: 'archive' as const } : {}),
  };
}

/** The policy as the model holds it: what `undefined` and an inactive policy mean alike. */
function modelPolicy(policy: PolicySpec | 'undefined' | 'inactive'): PolicySpec | undefined {
  if (policy === 'undefined' || policy === 'inactive') return undefined;
  return { ...policy, onExpiredArchive: policy.archive && policy.onExpiredArchive };
}

function newEvent(
  model: Model,
  spec: EventSpec,
  aggregateId: string,
  ageMinutes = spec.ageMinutes,
): NewEvent {
  const payload: Payload = {};
  if (spec.key !== undefined) payload.key = `k${spec.key}`;
  if (spec.n !== undefined) payload.n = spec.n;
  if (spec.pad > 0) payload.pad = 'x'.repeat(spec.pad);
  const tags: Record<string, TagValue> = {};
  if (spec.color !== undefined) tags.color = spec.color;
  if (spec.level !== undefined) tags.level = spec.level;
  return {
    aggregateId,
    type: spec.type,
    timestamp: model.clock.now() - ageMinutes * MINUTE,
    ...(spec.noPayload ? {} : { payload }),
    ...(Object.keys(tags).length > 0 ? { tags } : {}),
    ...(spec.shortId ? { id: `e${model.nextId++}` } : {}),
  };
}

const expected = (e: ModelEvent): StoredEvent => ({
  sequence: e.sequence,
  id: e.id,
  aggregateId: e.aggregateId,
  version: e.version,
  type: e.type,
  timestamp: new Date(e.timestamp),
  tags: e.tags,
  payload: e.payload,
  metadata: {},
});

const seqs = (rows: readonly unknown[]) => (rows as StoredEvent[]).map((e) => e.sequence);

// ---- checks --------------------------------------------------------------------------------------

async function checkReads(store: EventStore, model: Model, where: string): Promise<void> {
  const visible = model.visible();
  const all = await store.read();
  expect(all, `${where}: read()`).toEqual(visible.map(expected));
  expect(
    seqs(await store.read({ fromSequence: Math.ceil(model.lastSequence / 2) })),
    `${where}: read(from)`,
  ).toEqual(visible.filter((e) => e.sequence >= Math.ceil(model.lastSequence / 2)).map((e) => e.sequence));
  const stats = store.stats();
  expect(stats.events, `${where}: stats().events`).toBe(visible.length);
  expect(stats.lastSequence, `${where}: lastSequence`).toBe(model.lastSequence);

  for (const aggregateId of AGGREGATES) {
    const stream = visible.filter((e) => e.aggregateId === aggregateId);
    expect(await store.getEvents(aggregateId), `${where}: getEvents(${aggregateId})`).toEqual(
      stream.map(expected),
    );
    const middle = stream[Math.floor(stream.length / 2)];
    if (middle !== undefined) {
      expect(
        seqs(await store.getEvents(aggregateId, { fromVersion: middle.version })),
        `${where}: fromVersion`,
      ).toEqual(stream.filter((e) => e.version >= middle.version).map((e) => e.sequence));
    }
  }
  for (const type of TYPES) {
    expect(seqs(await store.getEventsByType(type)), `${where}: getEventsByType(${type})`).toEqual(
      visible.filter((e) => e.type === type).map((e) => e.sequence),
    );
  }
  const now = model.clock.now();
  const from = now - 100 * MINUTE;
  const to = now - 20 * MINUTE;
  expect(seqs(await store.queryEvents({ tags: { color: 'red' } })), `${where}: tags`).toEqual(
    visible.filter((e) => e.tags.color === 'red').map((e) => e.sequence),
  );
  expect(
    seqs(await store.queryEvents({ from, to, tags: { level: [1, 2] } })),
    `${where}: time and tags`,
  ).toEqual(
    visible
      .filter((e) => e.timestamp >= from && e.timestamp < to && (e.tags.level === 1 || e.tags.level === 2))
      .map((e) => e.sequence),
  );
  expect(seqs(await store.getEventsInRange(from, now + 1)), `${where}: range`).toEqual(
    visible.filter((e) => e.timestamp >= from && e.timestamp <= now).map((e) => e.sequence),
  );
  expect(
    seqs(await store.queryEvents({ type: ['DEBUG.x', 'ORDER.PAID'], aggregateId: ['a1', 'a2'], from })),
    `${where}: types, streams, from`,
  ).toEqual(
    visible
      .filter(
        (e) =>
          (e.type === 'DEBUG.x' || e.type === 'ORDER.PAID') &&
          (e.aggregateId === 'a1' || e.aggregateId === 'a2') &&
          e.timestamp >= from,
      )
      .map((e) => e.sequence),
  );

  // Through to the archive: the visible events and the archived ones, each once (a deleted
  // stream's never), whether the live copy is visible, hidden, or gone.
  if (model.policy?.archive === true) {
    const shown = model.events.filter(
      (e) => (inStore(e) && !model.hidden(e)) || (inArchive(e) && !model.deleted.has(e.aggregateId)),
    );
    expect(await store.queryEvents({}, { includeArchived: true }), `${where}: includeArchived`).toEqual(
      shown.map(expected),
    );
    const criteria = { aggregateId: ['a1', 'a3'], type: ['ORDER.PAID', 'DEBUG.x'], limit: 6 };
    expect(
      seqs(await store.queryEvents({ ...criteria, order: 'desc' }, { includeArchived: true })),
      `${where}: includeArchived, newest first, limited`,
    ).toEqual(
      shown
        .filter((e) => criteria.aggregateId.includes(e.aggregateId) && criteria.type.includes(e.type))
        .reverse()
        .slice(0, criteria.limit)
        .map((e) => e.sequence),
    );
  }

  // User indexes, forced, and the same query forced to a scan.
  const keys = ['k1', 'k7', 'k10', 'k12', 'fresh-3'];
  const byKey = visible.filter((e) => e.payload?.key !== undefined && keys.includes(e.payload.key));
  const keyQuery = store.query().where('payload.key', 'in', keys);
  expect(seqs(await keyQuery.hint({ forceIndex: ['scan'] }).execute()), `${where}: key scan`).toEqual(
    seqs(byKey.map(expected)),
  );
  if (model.indexes.has('by_key')) {
    expect(seqs(await keyQuery.hint({ forceIndex: ['by_key'] }).execute()), `${where}: by_key`).toEqual(
      seqs(byKey.map(expected)),
    );
  }
  const byN = visible.filter(
    (e) => typeof e.payload?.n === 'number' && e.payload.n >= 4 && e.payload.n <= 12,
  );
  const nQuery = store.query().where('payload.n', 'between', 4, 12);
  expect(seqs(await nQuery.hint({ forceIndex: ['scan'] }).execute()), `${where}: n scan`).toEqual(
    seqs(byN.map(expected)),
  );
  if (model.indexes.has('by_n')) {
    expect(seqs(await nQuery.hint({ forceIndex: ['by_n'] }).execute()), `${where}: by_n`).toEqual(
      seqs(byN.map(expected)),
    );
  }
}

/**
 * Finishes paging that began before a cleanup: in sequence order, and newest first (ties on time in
 * sequence order). The rest is what is visible now after the first page's last row.
 */
async function checkPagesAcross(
  store: EventStore,
  model: Model,
  [bySequence, byTime]: ResultPage[],
  where: string,
): Promise<void> {
  const rest = async (query: AdvancedQueryBuilder, first: ResultPage) => {
    const rows: number[] = [];
    for (let page = first; page.cursor !== undefined;) {
      page = await query.after(page.cursor).executePage();
      rows.push(...seqs(page.rows));
    }
    return rows;
  };
  const visible = model.visible();
  const lastBySequence = bySequence?.rows.at(-1) as StoredEvent | undefined;
  if (lastBySequence !== undefined && bySequence?.cursor !== undefined) {
    expect(await rest(store.query().limit(4), bySequence), `${where}: pages in sequence order`).toEqual(
      visible.filter((e) => e.sequence > lastBySequence.sequence).map((e) => e.sequence),
    );
  }
  const lastByTime = byTime?.rows.at(-1) as StoredEvent | undefined;
  if (lastByTime !== undefined && byTime?.cursor !== undefined) {
    const t = lastByTime.timestamp.getTime();
    const newestFirst = [...visible].sort((a, b) => b.timestamp - a.timestamp || a.sequence - b.sequence);
    expect(
      await rest(store.query().orderBy('timestamp', 'desc').limit(4), byTime),
      `${where}: pages newest first`,
    ).toEqual(
      newestFirst
        .filter((e) => e.timestamp < t || (e.timestamp === t && e.sequence > lastByTime.sequence))
        .map((e) => e.sequence),
    );
  }
}

/**
 * What is in the store, hidden or not: seen by lifting the policy for a moment (an inactive policy,
 * not `undefined`, which would start the hourly schedule). Deleted streams stay hidden.
 */
async function checkPresent(
  store: EventStore,
  model: Model,
  archiveDir: string,
  where: string,
): Promise<void> {
  store.setRetention({ schedule: false });
  try {
    expect(await store.read(), `${where}: everything present`).toEqual(
      model
        .present()
        .filter((e) => !model.deleted.has(e.aggregateId))
        .map(expected),
    );
  } finally {
    store.setRetention(model.retentionOptions(archiveDir) ?? { schedule: false });
  }
}

/**
 * Every event appended is in the store, or archived once, or was removed without an archive; in
 * the store and archived at once only when a restore brought it back. (What is in the store,
 * checkPresent checks.) The archive never holds a sequence twice.
 */
function checkArchive(model: Model, archiveDir: string, where: string): void {
  const archived = archivedEvents(archiveDir);
  const counts = new Map<string, number>();
  for (const { id } of archived) counts.set(id, (counts.get(id) ?? 0) + 1);
  const problems: string[] = [];
  for (const e of model.events) {
    const count = counts.get(e.id) ?? 0;
    const want = inArchive(e) ? 1 : 0;
    if (count !== want) problems.push(`${e.id} (sequence ${e.sequence}, ${e.state}) archived ${count} times`);
  }
  expect(problems, `${where}: archive`).toEqual([]);
  expect(archived.length, `${where}: archive holds only appended events`).toBe(
    model.events.filter(inArchive).length,
  );
  const sequences = archived.map((e) => e.sequence);
  expect(sequences.length - new Set(sequences).size, `${where}: sequences archived twice`).toBe(0);
  for (const { sequence, id } of archived)
    expect(model.events[sequence - 1]?.id, `${where}: archived sequence`).toBe(id);
}

async function checkVerify(dir: string, model: Model, where: string): Promise<void> {
  const report = await verifyStore(dir);
  expect(report.problems, `${where}: verifyStore`).toEqual([]);
  expect(report.ok).toBe(true);
  expect(report.events, `${where}: events in the log`).toBe(model.present().length);
  expect(report.lastSequence, `${where}: last sequence in the log`).toBe(model.lastSequence);
}

// ---- running a scenario --------------------------------------------------------------------------

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Variant {
  title: string;
  disk: boolean;
  runs: number;
}

async function runScenario(
  variant: Variant,
  initial: PolicySpec | undefined,
  checkpointEvery: number,
  uniqueFirst: boolean,
  plan: Step[],
): Promise<void> {
  const root = await tempDir('tamma-cleanup-prop-');
  const dir = join(root, 'store');
  const archiveDir = join(root, 'archive');
  const clock = new ManualClock(T0);
  const model = new Model(clock);
  model.policy = initial;
  let cleanupsSinceOpen = 0;
  const open = () =>
    openEventStore({
      clock,
      ...(variant.disk ? { dir, segmentSize: 4096, fsync: 'never' as const, checkpointEvery } : {}),
      retention: model.retentionOptions(archiveDir) ?? { schedule: false },
    } satisfies OpenOptions);
  let store = await open();
  if (uniqueFirst) {
    await store.indexes.createIndex({ name: 'by_key', fields: ['payload.key'], type: 'hash', unique: true });
    model.indexes.add('by_key');
  }

  const append = async (events: NewEvent[], stream: boolean, where: string) => {
    const refusals = model.refusals(events);
    const aggregateId = events[0]?.aggregateId as string;
    const call = () =>
      stream
        ? store.appendToStream(
            aggregateId,
            events.map(({ aggregateId: _, ...rest }) => rest),
            { expectedVersion: model.version(aggregateId) },
          )
        : store.append(events);
    if (refusals.size > 0) {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, `${where}: expected a refusal (${[...refusals].join(', ')})`).toBeDefined();
      expect([...refusals], `${where}: ${String(error)}`).toContain((error as { code?: string }).code);
      return;
    }
    const versions = events.map((e, i) => {
      const before = events.slice(0, i).filter((o) => o.aggregateId === e.aggregateId).length;
      return model.version(e.aggregateId) + before + 1;
    });
    const stored = await call();
    expect(
      stored.map((e) => e.sequence),
      `${where}: sequences`,
    ).toEqual(events.map((_, i) => model.lastSequence + 1 + i));
    expect(
      stored.map((e) => e.version),
      `${where}: versions`,
    ).toEqual(versions);
    record(model, events, stored);
  };

  /** Creates the unique index; refused while two events in the store share a key. */
  const createUnique = async (where: string) => {
    const keys = model.present().flatMap((e) => (e.payload?.key === undefined ? [] : [e.payload.key]));
    const create = store.indexes.createIndex({
      name: 'by_key',
      fields: ['payload.key'],
      type: 'hash',
      unique: true,
    });
    if (new Set(keys).size < keys.length) {
      const error = await rejection(() => create);
      expect((error as { code?: string } | undefined)?.code, where).toBe('UNIQUE_VIOLATION');
      return;
    }
    await create;
    model.indexes.add('by_key');
  };

  try {
    for (const [i, step] of plan.entries()) {
      const where = `step ${i} (${step.kind})`;
      switch (step.kind) {
        case 'append': {
          const aggregateId = AGGREGATES[(step.events[0] as EventSpec).agg] as string;
          const events = step.events.map((spec) =>
            newEvent(model, spec, step.stream ? aggregateId : (AGGREGATES[spec.agg] as string)),
          );
          await append(events, step.stream, where);
          break;
        }
        case 'advance':
          clock.advance(step.minutes * MINUTE);
          break;
        case 'retention': {
          if (step.policy === 'undefined') store.setRetention(undefined);
          else if (step.policy === 'inactive') store.setRetention({ schedule: false });
          else store.setRetention(policyOptions(step.policy, archiveDir));
          model.policy = modelPolicy(step.policy);
          break;
        }
        case 'delete': {
          const aggregateId = AGGREGATES[step.agg] as string;
          expect(await store.deleteAggregate(aggregateId)).toBe(!model.deleted.has(aggregateId));
          model.deleted.add(aggregateId);
          break;
        }
        case 'index': {
          if (model.indexes.has(step.name)) break;
          if (step.name === 'by_key') {
            await createUnique(where);
            break;
          }
          await store.indexes.createIndex({ name: 'by_n', fields: ['payload.n'] });
          model.indexes.add(step.name);
          break;
        }
        case 'restore': {
          const copies = model.events.filter(inArchive);
          const lo = copies[0]?.sequence;
          const hi = copies.at(-1)?.sequence;
          // Nothing archived yet: nothing to restore from.
          if (lo === undefined || hi === undefined) break;
          const at = (hundredths: number | undefined) =>
            hundredths === undefined ? undefined : lo + Math.round(((hi - lo) * hundredths) / 100);
          let [from, to] = [at(step.from), at(step.to)];
          if (from !== undefined && to !== undefined && from > to) [from, to] = [to, from];
          const range = {
            ...(from === undefined ? {} : { fromSequence: from }),
            ...(to === undefined ? {} : { toSequence: to }),
          };
          const refused = async (error: unknown, message: RegExp) => {
            expect(error, `${where}: refused`).toBeInstanceOf(ValidationError);
            expect((error as Error).message, `${where}: refusal`).toMatch(message);
            // Nothing changed.
            await checkPresent(store, model, archiveDir, where);
            checkArchive(model, archiveDir, where);
            if (variant.disk) await checkVerify(dir, model, where);
          };
          let recreate = false;
          if (model.indexes.has('by_key')) {
            if (!step.dropUnique) {
              await refused(await rejection(() => store.restoreArchive(archiveDir, range)), /unique index/);
              break;
            }
            await store.indexes.dropIndex('by_key');
            model.indexes.delete('by_key');
            recreate = true;
          }
          const outcome = model.restoreOutcome(from, to);
          const before = model.visible().map(expected);
          const restoring = store.restoreArchive(archiveDir, range);
          const reading = step.read ? store.read() : undefined;
          if (outcome.broken.length === 0) model.restore(outcome.back);
          // Counted when the restore ends, before the append waiting for it lands.
          const hiddenByRetention = outcome.back.filter((e) => model.hidden(e)).length;
          // Issued now, it waits for the restore: the model has the restore done already.
          const batch = step.append;
          const appending =
            batch === undefined
              ? undefined
              : append(
                  batch.events.map((spec) =>
                    newEvent(
                      model,
                      spec,
                      AGGREGATES[(batch.stream ? (batch.events[0] as EventSpec) : spec).agg] as string,
                    ),
                  ),
                  batch.stream,
                  `${where}, appended during the restore`,
                );
          if (outcome.broken.length > 0) {
            const error = await rejection(() => restoring);
            await appending;
            // It names the first of them, by the sequence of the first event it would bring back.
            expect((error as Error).message, `${where}: the stream named`).toContain(
              `stream ${JSON.stringify(outcome.broken[0])}`,
            );
            await refused(error, /Nothing was changed/);
          } else {
            const report = await restoring;
            await appending;
            const back = outcome.back.map((e) => e.sequence);
            expect(report, `${where}: restore report`).toMatchObject({
              restored: back.length,
              alreadyLive: outcome.alreadyLive,
              ofDeletedStreams: outcome.ofDeletedStreams,
              hiddenByRetention,
              firstSequence: back[0] ?? null,
              lastSequence: back.at(-1) ?? null,
            });
            await checkPresent(store, model, archiveDir, where);
            checkArchive(model, archiveDir, where);
            if (variant.disk) await checkVerify(dir, model, where);
          }
          if (reading !== undefined) {
            const after = model.visible().map(expected);
            const seen = await reading;
            const sameAs = seqs(seen).join() === seqs(before).join() ? before : after;
            expect(seen, `${where}: a read during the restore sees the store before it or after`).toEqual(
              sameAs,
            );
          }
          if (recreate) await createUnique(where);
          break;
        }
        case 'cleanup': {
          const doomed = model.present().filter((e) => model.hidden(e));
          const archiving = model.policy?.archive === true;
          // A first page before the cleanup, the rest after it: keyset cursors outlive removed rows.
          const byTime = store.query().orderBy('timestamp', 'desc').limit(4);
          const firstPages = [await store.query().limit(4).executePage(), await byTime.executePage()];
          const running = store.cleanup({ sliceRows: step.slice });
          cleanupsSinceOpen++;
          const building =
            step.buildIndex && !model.indexes.has('by_n')
              ? store.indexes.createIndex({ name: 'by_n', fields: ['payload.n'] })
              : undefined;
          if (step.stream) {
            // The events visible when it began: cleanup takes only what was hidden already.
            const visible = model.visible().map((e) => e.sequence);
            const streamed: number[] = [];
            for await (const row of store.query().hint({ batchSize: 3 }).executeStream())
              streamed.push((row as StoredEvent).sequence);
            expect(streamed, `${where}: streamed during the cleanup`).toEqual(visible);
          }
          for (const [k, batch] of step.concurrent.entries()) {
            for (let y = 0; y < batch.yields; y++) await nextTurn();
            // Stamped now (never expired on arrival), with keys never used (no unique clash): the
            // only thing left to timing is a stream's version when cleanup removes all it had.
            const events = batch.events.map((spec) => {
              const event = newEvent(model, { ...spec, key: undefined }, AGGREGATES[spec.agg] as string, 0);
              if (spec.key !== undefined && event.payload !== undefined)
                (event.payload as Payload).key = `fresh-${model.nextId++}`;
              return event;
            });
            await appendDuringCleanup(store, model, events, doomed, `${where}, concurrent ${k}`);
          }
          const report = await running;
          if (building !== undefined) {
            await building;
            model.indexes.add('by_n');
          }
          // Restored events keep their archive copy: cleanup removes them without archiving again.
          const archived = archiving
            ? doomed.filter((e) => e.state === 'present' && !model.deleted.has(e.aggregateId)).length
            : 0;
          model.removed(doomed, archiving);
          expect(report.removed, `${where}: removed`).toBe(doomed.length);
          expect(report.archived, `${where}: archived`).toBe(archived);
          expect(report.tombstoned, `${where}: tombstoned`).toBe(
            doomed.filter((e) => model.deleted.has(e.aggregateId)).length,
          );
          await checkPresent(store, model, archiveDir, where);
          checkArchive(model, archiveDir, where);
          if (variant.disk) await checkVerify(dir, model, where);
          await checkPagesAcross(store, model, firstPages, where);
          break;
        }
        case 'restart': {
          await store.close();
          if (variant.disk) await checkVerify(dir, model, `${where}, closed`);
          store = await open();
          cleanupsSinceOpen = 0;
          await checkPresent(store, model, archiveDir, where);
          checkArchive(model, archiveDir, where);
          break;
        }
      }
      // A scheduled cleanup (the hourly default that `setRetention(undefined)` brings) would make
      // this run non-deterministic: it must not have run.
      expect(store.stats().cleanup.runs, `${where}: cleanup runs`).toBe(cleanupsSinceOpen);
      await checkReads(store, model, where);
    }
    // Finally: clean up everything hidden, and reopen with no policy: nothing archived comes back.
    const doomed = model.present().filter((e) => model.hidden(e));
    await store.cleanup({ sliceRows: 5 });
    model.removed(doomed, model.policy?.archive === true);
    model.policy = undefined;
    if (variant.disk) {
      await store.close();
      store = await open();
    } else {
      store.setRetention({ schedule: false });
    }
    await checkReads(store, model, 'final reopen');
    checkArchive(model, archiveDir, 'final reopen');
    if (variant.disk) await checkVerify(dir, model, 'final reopen');
  } finally {
    await store.close().catch(() => undefined);
    await removeDir(root);
  }
}

function record(model: Model, events: readonly NewEvent[], stored: readonly StoredEvent[]): void {
  stored.forEach((s, i) => {
    const e = events[i] as NewEvent;
    // An append is the stream's newest event: its version is the highest (or 1, starting again).
    model.highest.set(e.aggregateId, s.version);
    model.events.push({
      sequence: s.sequence,
      id: s.id,
      aggregateId: e.aggregateId,
      version: s.version,
      type: e.type,
      timestamp: e.timestamp as number,
      tags: (e.tags ?? {}) as Record<string, TagValue>,
      payload: (e.payload ?? null) as Payload | null,
      state: 'present',
    });
    if (e.id !== undefined) expect(s.id).toBe(e.id);
  });
}

/**
 * An append while cleanup runs. Whether it lands before or after the stream's id is released is
 * timing, and it matters in one case only: a stream all of whose events cleanup removes continues
 * its versions before and starts again after.
 */
async function appendDuringCleanup(
  store: EventStore,
  model: Model,
  events: NewEvent[],
  doomed: readonly ModelEvent[],
  where: string,
): Promise<void> {
  const refusals = model.refusals(events);
  if (refusals.size > 0) {
    const error = await store.append(events).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect([...refusals], `${where}: ${String(error)}`).toContain(
      (error as { code?: string } | undefined)?.code,
    );
    return;
  }
  const gone = new Set(doomed);
  // Before the stream's id is released (or with an event that stays) it goes on; after, it restarts.
  const allowed = (aggregateId: string): number[] => {
    const stays = model.events.some((e) => e.aggregateId === aggregateId && inStore(e) && !gone.has(e));
    const next = model.version(aggregateId) + 1;
    return stays ? [next] : [next, 1];
  };
  const stored = await store.append(events);
  expect(
    stored.map((e) => e.sequence),
    where,
  ).toEqual(events.map((_, i) => model.lastSequence + 1 + i));
  stored.forEach((s, i) => {
    const first = stored.find((o) => o.aggregateId === s.aggregateId) as StoredEvent;
    const earlier = events.slice(0, i).filter((o) => o.aggregateId === s.aggregateId).length;
    if (earlier === 0)
      expect(allowed(s.aggregateId), `${where}: version of ${s.aggregateId}`).toContain(s.version);
    else expect(s.version, `${where}: version of ${s.aggregateId}`).toBe(first.version + earlier);
  });
  record(model, events, stored);
}

// ---- the properties ------------------------------------------------------------------------------

const variants: Variant[] = [
  { title: 'in memory', disk: false, runs: 50 },
  { title: 'on disk, 4 KiB segments, with restarts', disk: true, runs: 35 },
];

describe('cleanup removes exactly what reads already leave out', () => {
  for (const variant of variants) {
    it(
      `${variant.title}: every read equals the oracle after every step; nothing lost, nothing twice`,
      async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.option(policySpec, { nil: undefined }),
            fc.constantFrom(0, 0, 17),
            fc.boolean(),
            steps(variant.disk),
            async (initial, checkpointEvery, uniqueFirst, plan) => {
              await runScenario(
                variant,
                initial === undefined ? undefined : modelPolicy(initial),
                checkpointEvery,
                uniqueFirst,
                plan,
              );
            },
          ),
          { numRuns: Number(process.env.CLEANUP_PROPERTY_RUNS ?? variant.runs) },
        );
      },
      120_000 * Math.max(1, Number(process.env.CLEANUP_PROPERTY_RUNS ?? 0) / variant.runs),
    );
  }
});
