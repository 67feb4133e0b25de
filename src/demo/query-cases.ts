import { isDeepStrictEqual } from 'node:util';
import type { EventStore, NewEvent, StoredEvent } from '../index.js';
import type { Oracle } from './oracle.js';
import type { Random } from './random.js';
import { EVENT_TYPES, type Telemetry } from './telemetry.js';

const HOUR = 3_600_000;

/** One kind of read the demo times, with the linear-scan answer it is checked against. */
export interface QueryCase {
  name: string;
  /** Picks the arguments of one run; every run gets fresh ones, so caches do not flatter the numbers. */
  params(rnd: Random): unknown;
  run(store: EventStore, params: unknown): Promise<StoredEvent[]>;
  expected(oracle: Oracle, params: unknown): number[];
}

/** Typed at the definition, erased in the list: the runner only passes params from `params` to the others. */
function define<P>(c: {
  name: string;
  params(rnd: Random): P;
  run(store: EventStore, params: P): Promise<StoredEvent[]>;
  expected(oracle: Oracle, params: P): number[];
}): QueryCase {
  return c as QueryCase;
}

/** The query kinds of the demo, over a sample already appended to `store` in order. */
export function queryCases(t: Telemetry): QueryCase[] {
  const aggregateOf = (i: number): string => t.workflows[t.workflowOf[i] as number]?.aggregateId ?? '';
  const typeOf = (i: number): string => EVENT_TYPES[t.typeOf[i] as number] ?? '';
  // Arguments drawn from real events, so a lookup finds something, as real lookups mostly do.
  const someEvent = (rnd: Random): number => rnd.int(t.count);
  const someIssueEvent = (rnd: Random): number => {
    for (;;) {
      const i = someEvent(rnd);
      if (t.workflows[t.workflowOf[i] as number]?.issueId !== undefined) return i;
    }
  };
  const windowStart = (rnd: Random, width: number): number =>
    Math.round(t.firstTimestamp + rnd.next() * Math.max(0, t.lastTimestamp - t.firstTimestamp - width));

  return [
    define({
      name: 'getEvents(aggregateId)',
      params: (rnd) => t.workflowOf[someEvent(rnd)] as number,
      run: (store, wf) => store.getEvents(t.workflows[wf]?.aggregateId ?? ''),
      expected: (oracle, wf) => oracle.select(oracle.aggregateIs(wf)),
    }),
    define({
      name: 'getEventsByType(type, limit 100)',
      params: (rnd) => rnd.pick(EVENT_TYPES),
      run: (store, type) => store.getEventsByType(type, { limit: 100 }),
      expected: (oracle, type) => oracle.select(oracle.typeIs(type), { limit: 100 }),
    }),
    define({
      name: 'getEventsInRange(1 hour)',
      params: (rnd) => windowStart(rnd, HOUR),
      run: (store, start) => store.getEventsInRange(start, start + HOUR),
      expected: (oracle, start) => oracle.select(oracle.timeIn(start, start + HOUR)),
    }),
    define({
      name: 'queryEvents({aggregateId, type})',
      params: (rnd) => someEvent(rnd),
      run: (store, i) => store.queryEvents({ aggregateId: aggregateOf(i), type: typeOf(i) }),
      expected: (oracle, i) =>
        oracle.select((j) => t.workflowOf[j] === t.workflowOf[i] && t.typeOf[j] === t.typeOf[i]),
    }),
    define({
      name: 'queryEvents({tags: {issueId}})',
      params: (rnd) => t.workflows[t.workflowOf[someIssueEvent(rnd)] as number]?.issueId ?? 0,
      run: (store, issueId) => store.queryEvents({ tags: { issueId } }),
      expected: (oracle, issueId) => oracle.select(oracle.tagsMatch({ issueId })),
    }),
    define({
      name: 'queryEvents({tags: {provider, model}, type, limit 100})',
      params: (rnd): { tags: { provider: string; model: string }; type: string; limit: number } => {
        const wf = t.workflows[t.workflowOf[someEvent(rnd)] as number];
        return {
          tags: { provider: wf?.provider ?? '', model: wf?.model ?? '' },
          type: rnd.pick(EVENT_TYPES),
          limit: 100,
        };
      },
      run: (store, criteria) => store.queryEvents(criteria),
      expected: (oracle, c) =>
        oracle.select((i) => oracle.tagsMatch(c.tags)(i) && oracle.typeIs(c.type)(i), { limit: 100 }),
    }),
    define({
      name: 'queryEvents({tags: {provider}, from, to: +6 h})',
      params: (rnd) => ({
        provider: rnd.pick(['anthropic', 'openai', 'google', 'local']),
        from: windowStart(rnd, 6 * HOUR),
      }),
      run: (store, p) =>
        store.queryEvents({ tags: { provider: p.provider }, from: p.from, to: p.from + 6 * HOUR }),
      expected: (oracle, p) =>
        oracle.select(
          (i) => oracle.tagsMatch({ provider: p.provider })(i) && oracle.timeIn(p.from, p.from + 6 * HOUR)(i),
        ),
    }),
    define({
      name: "queryEvents({type, order: 'desc', limit 20})",
      params: (rnd) => rnd.pick(EVENT_TYPES),
      run: (store, type) => store.queryEvents({ type, order: 'desc', limit: 20 }),
      expected: (oracle, type) => oracle.select(oracle.typeIs(type), { order: 'desc', limit: 20 }),
    }),
    define({
      name: 'read({fromSequence, limit 100})',
      params: (rnd) => 1 + rnd.int(t.count),
      run: (store, from) => store.read({ fromSequence: from, limit: 100 }),
      expected: (oracle, from) => oracle.select(() => true, { from, limit: 100 }),
    }),
  ];
}

/** The first field where a stored event differs from what was appended, if any. */
function differingField(event: StoredEvent, want: NewEvent): string | undefined {
  if (event.aggregateId !== want.aggregateId) return 'aggregateId';
  if (event.type !== want.type) return 'type';
  if (event.timestamp.getTime() !== want.timestamp) return 'timestamp';
  if (!isDeepStrictEqual({ ...event.tags }, want.tags)) return 'tags';
  if (!isDeepStrictEqual(event.payload, want.payload)) return 'payload';
  if (!isDeepStrictEqual({ ...event.metadata }, want.metadata)) return 'metadata';
  return undefined;
}

/** Compares a store result with the oracle: the sequences, then every field of each event; a reason when they differ. */
export function checkResult(
  oracle: Oracle,
  result: readonly StoredEvent[],
  expected: readonly number[],
): string | undefined {
  if (result.length !== expected.length) {
    return `returned ${result.length} events, expected ${expected.length}`;
  }
  for (let k = 0; k < result.length; k++) {
    const event = result[k] as StoredEvent;
    if (event.sequence !== expected[k])
      return `result[${k}] has sequence ${event.sequence}, expected ${expected[k]}`;
    const want = oracle.appended(event.sequence);
    const field = differingField(event, want);
    if (field !== undefined) {
      const got =
        field === 'timestamp'
          ? event.timestamp.getTime()
          : (event as unknown as Record<string, unknown>)[field];
      return `event ${event.sequence} has ${field} ${JSON.stringify(got)}, expected ${JSON.stringify((want as unknown as Record<string, unknown>)[field])}`;
    }
  }
  return undefined;
}
