/**
 * The query model's generators and oracle, shared by the property tests that check queries against
 * it (test/property/query-model.property.test.ts, test/property/user-indexes.property.test.ts).
 *
 * A scenario is a random event set: small pools of aggregates and types, tags whose values mix
 * strings, numbers and booleans ('1' vs 1 vs true), payloads with nested objects, arrays, nulls and
 * missing keys, out-of-order timestamps, appended in random batches. A query is a random filter
 * tree (depth <= 3) over every operator and field, with random sort terms, offset, limit and
 * projection.
 *
 * The oracle (valueOf, matches, oracle) is written from the documented semantics and runs no engine
 * code; `f` only builds the ASTs.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import {
  f,
  ManualClock,
  MATCH_ALL,
  type AdvancedQueryBuilder,
  type EventStore,
  type FilterNode,
  type NewEvent,
  type ResultRow,
  type Scalar,
  type StoredEvent,
  type TagValue,
} from '../../src/index.js';

export const MINUTE = 60_000;
export const T0 = Date.UTC(2024, 5, 1);

// ---- event sets ----------------------------------------------------------------------------------

export const AGGREGATES = ['acc-1', 'acc-10', 'acc-2', 'b'] as const;
export const TYPES = ['user.created', 'user.deleted', 'order.placed', 'Order'] as const;
export const TAG_POOL = {
  /** One key holding every JSON type: '1', 1 and true must stay apart. */
  k: ['1', 1, true, false, 0, '', 'a', 2, '10'],
  n: [-1, 0, 1, 1.5, 2, 10],
  s: ['a', 'b', 'ab', 'B', ''],
} as const satisfies Record<string, readonly TagValue[]>;
/** Payload leaves, and the operands compared with tags and payload fields. */
export const SCALARS: readonly Scalar[] = [
  null,
  true,
  false,
  0,
  1,
  -1,
  2,
  1.5,
  10,
  '',
  '1',
  'a',
  'ab',
  'b',
  'B',
  '10',
];
export const TAG_SCALARS = SCALARS.filter((v) => v !== null);
export const ORDERED_SCALARS = SCALARS.filter((v) => typeof v === 'number' || typeof v === 'string');

export interface EventSpec {
  agg: number;
  type: number;
  tags: Record<string, TagValue>;
  /** Minutes after T0; undefined takes the clock's time. */
  minute: number | undefined;
  /** undefined: no payload given (stored as null). */
  payload: unknown;
  explicitId: boolean;
}

export interface Scenario {
  events: EventSpec[];
  /** Batch sizes, used cyclically. */
  batchSizes: number[];
  /** The clock (minutes after T0) before each batch, used cyclically. */
  batchClock: number[];
}

export const leafValueArb: fc.Arbitrary<unknown> = fc.constantFrom(...SCALARS);
export const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: leafValueArb },
  { weight: 1, arbitrary: fc.array(leafValueArb, { maxLength: 3 }) },
  {
    weight: 1,
    arbitrary: fc.record({ x: leafValueArb, y: leafValueArb }, { requiredKeys: [], noNullPrototype: true }),
  },
);
export const payloadArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(3, 'text', [1, 'a'], [{ x: 2 }]) },
  {
    weight: 8,
    arbitrary: fc.record(
      {
        x: valueArb,
        s: leafValueArb,
        o: fc.record({ x: valueArb, y: leafValueArb }, { requiredKeys: [], noNullPrototype: true }),
        arr: fc.array(valueArb, { maxLength: 3 }),
      },
      { requiredKeys: [], noNullPrototype: true },
    ),
  },
);
export const tagsArb = fc.record(
  {
    k: fc.constantFrom(...TAG_POOL.k),
    n: fc.constantFrom(...TAG_POOL.n),
    s: fc.constantFrom(...TAG_POOL.s),
  },
  { requiredKeys: [], noNullPrototype: true },
) as fc.Arbitrary<Record<string, TagValue>>;

export const eventArb: fc.Arbitrary<EventSpec> = fc.record({
  agg: fc.nat(AGGREGATES.length - 1),
  type: fc.nat(TYPES.length - 1),
  tags: tagsArb,
  minute: fc.option(fc.nat(100), { nil: undefined, freq: 5 }),
  payload: payloadArb,
  explicitId: fc.boolean(),
});

export function scenarioArb(maxEvents: number): fc.Arbitrary<Scenario> {
  const count = fc.oneof({ weight: 1, arbitrary: fc.nat(3) }, { weight: 6, arbitrary: fc.nat(maxEvents) });
  return fc.record({
    events: count.chain((n) => fc.array(eventArb, { minLength: n, maxLength: n })),
    batchSizes: fc.array(fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 80 })), {
      minLength: 1,
      maxLength: 8,
    }),
    batchClock: fc.array(fc.nat(100), { minLength: 1, maxLength: 8 }),
  });
}

export function toNewEvent(spec: EventSpec, index: number): NewEvent {
  const event: NewEvent = { aggregateId: AGGREGATES[spec.agg]!, type: TYPES[spec.type]! };
  if (Object.keys(spec.tags).length > 0) event.tags = spec.tags;
  if (spec.minute !== undefined) event.timestamp = T0 + spec.minute * MINUTE;
  if (spec.payload !== undefined) event.payload = spec.payload;
  if (spec.explicitId) event.id = `id-${index}`;
  return event;
}

/**
 * Appends in the scenario's batches; the oracle works on what the appends returned. With `from` and
 * `to`, appends only events [from, to) of the scenario (into a store holding the first `from`).
 */
export async function appendScenario(
  store: EventStore,
  clock: ManualClock,
  scenario: Scenario,
  from = 0,
  to = scenario.events.length,
): Promise<StoredEvent[]> {
  const all: StoredEvent[] = [];
  let batch = 0;
  while (from + all.length < to) {
    const start = from + all.length;
    const size = Math.min(scenario.batchSizes[batch % scenario.batchSizes.length]!, to - start);
    const specs = scenario.events.slice(start, start + size);
    // Event times are drawn independently of the clock; the store refuses any more than
    // futureTolerance (5 minutes) ahead, so the clock is moved up to that, exactly, when needed.
    const latest = Math.max(...specs.map((spec) => spec.minute ?? -Infinity));
    clock.set(T0 + Math.max(scenario.batchClock[batch % scenario.batchClock.length]!, latest - 5) * MINUTE);
    const stored = await store.append(specs.map((spec, i) => toNewEvent(spec, start + i)));
    expect(stored.map((e) => e.sequence)).toEqual(specs.map((_, i) => start + i + 1));
    all.push(...stored);
    batch++;
  }
  return all;
}

// ---- queries -------------------------------------------------------------------------------------

export const CORE_FIELDS = ['sequence', 'version', 'timestamp', 'aggregateId', 'type', 'id'] as const;
export const TAG_FIELDS = ['tags.k', 'tags.n', 'tags.s', 'tags.none'] as const;
export const PAYLOAD_FIELDS = [
  'payload.x',
  'payload.s',
  'payload.o',
  'payload.o.x',
  'payload.o.y',
  'payload.arr',
  'payload.arr.0',
  'payload.arr.1',
  'payload.arr.0.x',
  'payload.x.0',
  'payload.x.x',
  'payload.0',
  'payload.0.x',
  'payload.none',
] as const;
export const ALL_FIELDS: readonly string[] = [...CORE_FIELDS, ...TAG_FIELDS, ...PAYLOAD_FIELDS];
/** Every index name a forceIndex hint may give for these fields. */
export const ALL_INDEXES = [
  'scan',
  'sequence',
  'aggregate',
  'type',
  'aggregate+type',
  'timestamp',
  'tags.k',
  'tags.n',
  'tags.s',
];

export type Kind = 'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte' | 'in' | 'between' | 'exists' | 'prefix';
export const KINDS: readonly Kind[] = [
  'eq',
  'ne',
  'lt',
  'lte',
  'gt',
  'gte',
  'in',
  'between',
  'exists',
  'prefix',
];

/** A value of the field's domain (or near it): the operand of eq, ne, in and the comparisons. */
export function operandArb(field: string, ordered: boolean): fc.Arbitrary<Scalar> {
  switch (field) {
    case 'sequence':
      return fc.oneof(
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 260 }),
        fc.integer({ min: 0, max: 60 }).map((n) => n + 0.5),
      );
    case 'version':
      return fc.integer({ min: 0, max: 12 });
    case 'timestamp':
      return fc
        .tuple(fc.integer({ min: -2, max: 102 }), fc.constantFrom(0, 0, 0, 1, -1))
        .map(([m, d]) => T0 + m * MINUTE + d);
    case 'aggregateId':
      return fc.constantFrom<Scalar>(...AGGREGATES, 'acc', 'acc-3', 'zzz');
    case 'type':
      return fc.constantFrom<Scalar>(...TYPES, 'user', 'order', 'x');
    case 'id':
      return fc.oneof(
        fc.nat(30).map((n) => `id-${n}`),
        fc.constantFrom<Scalar>('id-', '0', '01', 'f', 'id-1'),
      );
  }
  if (ordered) return fc.constantFrom(...ORDERED_SCALARS);
  if (!field.startsWith('tags.')) return fc.constantFrom(...SCALARS);
  const own = TAG_POOL[field.slice(5) as keyof typeof TAG_POOL] as readonly TagValue[] | undefined;
  return own === undefined
    ? fc.constantFrom(...TAG_SCALARS)
    : fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...own) },
        { weight: 1, arbitrary: fc.constantFrom(...TAG_SCALARS) },
      );
}

export function prefixArb(field: string): fc.Arbitrary<string> {
  switch (field) {
    case 'aggregateId':
      return fc.constantFrom('', 'acc', 'acc-1', 'b', 'x');
    case 'type':
      return fc.constantFrom('', 'user.', 'user.c', 'order', 'O', 'Order');
    case 'id':
      return fc.constantFrom('', 'id-', 'id-1', '0', '01');
    default:
      return fc.constantFrom('', 'a', 'b', '1', 'B', 'ab', 'x');
  }
}

export const isNumberField = (field: string) =>
  field === 'sequence' || field === 'version' || field === 'timestamp';

export function leafOfArb(field: string): fc.Arbitrary<FilterNode> {
  const kinds = isNumberField(field) ? KINDS.filter((k) => k !== 'prefix') : KINDS;
  return fc.constantFrom(...kinds).chain((kind): fc.Arbitrary<FilterNode> => {
    switch (kind) {
      case 'exists':
        return fc.constant(f.exists(field));
      case 'prefix':
        return prefixArb(field).map((p) => f.prefix(field, p));
      case 'in':
        return fc.array(operandArb(field, false), { minLength: 1, maxLength: 3 }).map((v) => f.in(field, v));
      case 'between':
        return fc
          .tuple(operandArb(field, true), operandArb(field, true))
          .filter(([a, b]) => typeof a === typeof b)
          .map(([a, b]) =>
            (a as number) <= (b as number) ? f.between(field, a, b) : f.between(field, b, a),
          );
      case 'eq':
      case 'ne':
        return operandArb(field, false).map((v) => f[kind](field, v));
      default:
        return operandArb(field, true).map((v) => f[kind](field, v));
    }
  });
}

/** Invalid leaves, with the code validation must reject them with. */
export const INVALID_CODES = new WeakMap<FilterNode, string>();
export function invalid(node: FilterNode, code: string): FilterNode {
  INVALID_CODES.set(node, code);
  return node;
}
export const INVALID_LEAVES: readonly FilterNode[] = [
  invalid(f.eq('sequence', 'x'), 'INVALID_OPERAND'),
  invalid(f.eq('type', 5), 'INVALID_OPERAND'),
  invalid(f.in('aggregateId', ['acc-1', 3]), 'INVALID_OPERAND'),
  invalid(f.eq('tags.k', null), 'INVALID_OPERAND'),
  invalid(f.in('tags.k', ['1', null]), 'INVALID_OPERAND'),
  invalid(f.gt('payload.x', true), 'INVALID_OPERAND'),
  invalid(f.lte('tags.n', null), 'INVALID_OPERAND'),
  invalid(f.eq('payload.x', Number.NaN), 'INVALID_OPERAND'),
  invalid(f.in('type', []), 'INVALID_OPERAND'),
  invalid(f.between('payload.x', 5, 1), 'INVALID_RANGE'),
  invalid(f.between('timestamp', T0 + MINUTE, T0), 'INVALID_RANGE'),
  invalid(f.between('tags.n', 'a', 1), 'INVALID_OPERAND'),
  invalid(f.prefix('version', '1'), 'INVALID_OPERAND'),
  invalid(f.prefix('payload.s', 1 as unknown as string), 'INVALID_OPERAND'),
  invalid(f.eq('colour', 'red'), 'UNKNOWN_FIELD'),
  invalid(f.exists('payload.'), 'UNKNOWN_FIELD'),
  invalid(f.exists('payload.o..x'), 'UNKNOWN_FIELD'),
  invalid(f.ne('tags.', 1), 'UNKNOWN_FIELD'),
];

export const leafArb: fc.Arbitrary<FilterNode> = fc.oneof(
  { weight: 40, arbitrary: fc.constantFrom(...ALL_FIELDS).chain(leafOfArb) },
  { weight: 1, arbitrary: fc.constant(MATCH_ALL) },
  { weight: 1, arbitrary: fc.constantFrom(...INVALID_LEAVES) },
);

/** Leaves an access path can serve, so that top-level conjunctions exercise every index. */
export const indexableLeafArb: fc.Arbitrary<FilterNode> = fc.oneof(
  fc.constantFrom('aggregateId', 'type', 'tags.k', 'tags.n', 'tags.s').chain((field) =>
    fc.oneof(
      operandArb(field, false).map((v) => f.eq(field, v)),
      fc.array(operandArb(field, false), { minLength: 1, maxLength: 3 }).map((v) => f.in(field, v)),
    ),
  ),
  fc.constantFrom('timestamp', 'sequence').chain(leafOfArb),
);

export function treeArb(depth: number): fc.Arbitrary<FilterNode> {
  if (depth === 0) return leafArb;
  const child = treeArb(depth - 1);
  const children = fc.array(child, { minLength: 1, maxLength: 3 });
  return fc.oneof(
    { weight: 3, arbitrary: leafArb },
    { weight: 1, arbitrary: children.map((list) => f.and(...list)) },
    { weight: 2, arbitrary: children.map((list) => f.or(...list)) },
    { weight: 1, arbitrary: child.map((node) => f.not(node)) },
  );
}

export const filterArb: fc.Arbitrary<FilterNode> = fc.oneof(
  { weight: 3, arbitrary: treeArb(3) },
  {
    weight: 3,
    arbitrary: fc
      .array(fc.oneof({ weight: 3, arbitrary: indexableLeafArb }, { weight: 1, arbitrary: treeArb(2) }), {
        minLength: 1,
        maxLength: 3,
      })
      .map((list) => (list.length === 1 ? list[0]! : f.and(...list))),
  },
  {
    // aggregateId = a and type = t: the composite index.
    weight: 1,
    arbitrary: fc
      .tuple(
        operandArb('aggregateId', false),
        operandArb('type', false),
        fc.array(treeArb(1), { maxLength: 1 }),
      )
      .map(([a, t, rest]) => f.and(f.eq('aggregateId', a), f.eq('type', t), ...rest)),
  },
);

export interface Query {
  filter: FilterNode;
  orderBy: { field: string; direction: 'asc' | 'desc' }[];
  offset?: number;
  limit?: number;
  select?: string[];
}

export const orderTermArb = fc.record({
  field: fc.oneof(
    { weight: 1, arbitrary: fc.constant('sequence') },
    { weight: 4, arbitrary: fc.constantFrom(...ALL_FIELDS) },
  ),
  direction: fc.constantFrom<'asc' | 'desc'>('asc', 'desc'),
});

export const orderByArb = fc.array(orderTermArb, { maxLength: 2 });

export const queryArb: fc.Arbitrary<Query> = fc.record(
  {
    filter: filterArb,
    orderBy: orderByArb,
    offset: fc.oneof({ weight: 4, arbitrary: fc.nat(3) }, { weight: 1, arbitrary: fc.nat(40) }),
    limit: fc.oneof(
      { weight: 1, arbitrary: fc.constant(0) },
      { weight: 4, arbitrary: fc.integer({ min: 1, max: 10 }) },
      { weight: 2, arbitrary: fc.integer({ min: 1, max: 60 }) },
    ),
    select: fc.uniqueArray(fc.constantFrom(...ALL_FIELDS), { minLength: 1, maxLength: 4 }),
  },
  { requiredKeys: ['filter', 'orderBy'], noNullPrototype: true },
);

export function build(store: EventStore, q: Query): AdvancedQueryBuilder {
  let builder: AdvancedQueryBuilder = store.query().where(q.filter);
  for (const term of q.orderBy) builder = builder.orderBy(term.field, term.direction);
  if (q.offset !== undefined) builder = builder.offset(q.offset);
  if (q.limit !== undefined) builder = builder.limit(q.limit);
  if (q.select !== undefined) builder = builder.select(q.select);
  return builder;
}

// ---- the oracle ----------------------------------------------------------------------------------

export const own = (value: object, key: string): boolean => Object.prototype.hasOwnProperty.call(value, key);

/** A payload path: objects by key, arrays by canonical numeric index; undefined when a step is missing. */
export function walk(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const part of path) {
    if (Array.isArray(current)) {
      current = /^(0|[1-9][0-9]*)$/.test(part) ? (current as unknown[])[Number(part)] : undefined;
    } else if (current !== null && typeof current === 'object') {
      current = own(current, part) ? (current as Record<string, unknown>)[part] : undefined;
    } else {
      return undefined;
    }
    if (current === undefined) return undefined;
  }
  return current;
}

/** The value a filter sees: timestamps as epoch milliseconds. */
export function valueOf(event: StoredEvent, field: string): unknown {
  if (field === 'timestamp') return event.timestamp.getTime();
  if (field.startsWith('tags.')) {
    const key = field.slice(5);
    return own(event.tags, key) ? event.tags[key] : undefined;
  }
  if (field.startsWith('payload.')) return walk(event.payload, field.slice(8).split('.'));
  return event[field as 'sequence' | 'version' | 'aggregateId' | 'type' | 'id'];
}

/** What select returns for a field: the StoredEvent's own value (a Date for timestamp). */
export function projected(event: StoredEvent, field: string): unknown {
  return field === 'timestamp' ? event.timestamp : valueOf(event, field);
}

/** Ordering comparisons only hold between a value and an operand of the same JS type. */
export function compareSameType(value: unknown, operand: Scalar): number | undefined {
  if (operand === null || typeof value !== typeof operand) return undefined;
  const [a, b] = [value as number | string, operand as number | string];
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The oracle's filter semantics over any source of field values: comparisons only between values of
 * the operand's type; `eq`, `ne` and `in` only where the field exists.
 */
export function matchesBy(node: FilterNode, valueOf: (field: string) => unknown): boolean {
  switch (node.kind) {
    case 'all':
      return true;
    case 'and':
      return node.filters.every((child) => matchesBy(child, valueOf));
    case 'or':
      return node.filters.some((child) => matchesBy(child, valueOf));
    case 'not':
      return !matchesBy(node.filter, valueOf);
  }
  const value = valueOf(node.field);
  switch (node.kind) {
    case 'exists':
      return value !== undefined;
    case 'eq':
      return value !== undefined && value === node.value;
    case 'ne':
      return value !== undefined && value !== node.value;
    case 'in':
      return value !== undefined && node.values.some((v) => v === value);
    case 'prefix':
      return typeof value === 'string' && value.startsWith(node.value);
    case 'between': {
      const low = compareSameType(value, node.low);
      const high = compareSameType(value, node.high);
      return low !== undefined && high !== undefined && low >= 0 && high <= 0;
    }
    default: {
      const c = compareSameType(value, node.value);
      if (c === undefined) return false;
      return node.kind === 'lt' ? c < 0 : node.kind === 'lte' ? c <= 0 : node.kind === 'gt' ? c > 0 : c >= 0;
    }
  }
}

export function matches(node: FilterNode, event: StoredEvent): boolean {
  return matchesBy(node, (field) => valueOf(event, field));
}

/** A sort key: objects and arrays have no order and count as missing, like undefined and null. */
export function sortKey(event: StoredEvent, field: string): boolean | number | string | undefined {
  const value = valueOf(event, field);
  return value === null || typeof value === 'object' ? undefined : (value as boolean | number | string);
}

export const TYPE_RANK: Record<string, number> = { boolean: 0, number: 1, string: 2 };

export function compareKeys(a: unknown, b: unknown, direction: 'asc' | 'desc'): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1; // missing last, always
  const c =
    typeof a !== typeof b
      ? TYPE_RANK[typeof a]! - TYPE_RANK[typeof b]!
      : (a as string) < (b as string)
        ? -1
        : (a as string) > (b as string)
          ? 1
          : 0;
  return direction === 'desc' ? -c : c;
}

export function oracle(all: readonly StoredEvent[], q: Query): ResultRow[] {
  const keyed = all
    .filter((event) => matches(q.filter, event))
    .map((event) => ({ event, keys: q.orderBy.map((term) => sortKey(event, term.field)) }));
  keyed.sort((x, y) => {
    for (let t = 0; t < q.orderBy.length; t++) {
      const c = compareKeys(x.keys[t], y.keys[t], q.orderBy[t]!.direction);
      if (c !== 0) return c;
    }
    return x.event.sequence - y.event.sequence;
  });
  const offset = q.offset ?? 0;
  const page = keyed.slice(offset, q.limit === undefined ? undefined : offset + q.limit).map((k) => k.event);
  if (q.select === undefined) return page;
  const select = q.select;
  return page.map((event) => Object.fromEntries(select.map((field) => [field, projected(event, field)])));
}

/** The code of the first invalid node, in the order validation walks the tree. */
export function firstInvalid(node: FilterNode): string | undefined {
  const code = INVALID_CODES.get(node);
  if (code !== undefined) return code;
  if (node.kind === 'and' || node.kind === 'or') {
    for (const child of node.filters) {
      const inner = firstInvalid(child);
      if (inner !== undefined) return inner;
    }
  }
  return node.kind === 'not' ? firstInvalid(node.filter) : undefined;
}

export const describeQuery = (q: Query): string =>
  JSON.stringify(q, (_key, value: unknown) =>
    typeof value === 'number' && Number.isNaN(value) ? 'NaN' : value,
  );

export async function collect(stream: AsyncIterable<ResultRow>): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  for await (const row of stream) rows.push(row);
  return rows;
}
