import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import type { StoredEvent } from '../../../src/events/types.js';
import { f, type FilterNode, type Scalar } from '../../../src/query/ast.js';
import { ownTag, readPath, type FieldRef } from '../../../src/query/fields.js';
import { compilePredicate } from '../../../src/storage/embedded/exec/compile-filter.js';
import { evaluateRowFilter, validateRowFilter } from '../../../src/analytics/stages/row-filter.js';
import { readRowField } from '../../../src/analytics/stages/read-row-field.js';
import { storedEvents } from './rows.js';

/** The store's own filter over events, as its pending-event path runs it. */
function storeMatches(filter: FilterNode, event: StoredEvent): boolean {
  const getter = (ref: FieldRef) => (e: StoredEvent) => {
    if (ref.kind === 'tag') return ownTag(e.tags, ref.key);
    if (ref.kind === 'payload') return readPath(e.payload, ref.path);
    return ref.name === 'timestamp' ? e.timestamp.getTime() : e[ref.name];
  };
  return compilePredicate(filter, { getter })(event);
}

const value: fc.Arbitrary<Scalar> = fc.oneof(
  fc.constantFrom('A', 'B', 'ORD', 'SFO', 'late', ''),
  fc.integer({ min: -60, max: 10_100 }),
);
const field = fc.constantFrom('type', 'tags.origin', 'payload.delay', 'timestamp', 'sequence');
// Operands of the right type for core fields, as the store's validation requires.
const leaf: fc.Arbitrary<FilterNode> = fc
  .tuple(
    fc.constantFrom('eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'between', 'exists', 'prefix'),
    field,
    value,
    value,
  )
  .map(([kind, name, a, b]) => {
    const numeric = name === 'timestamp' || name === 'sequence';
    const text = name === 'type';
    const [x, y] = numeric ? [Number(a) || 0, Number(b) || 0] : text ? [String(a), String(b)] : [a, b];
    switch (kind) {
      case 'in':
        return f.in(name, [x, y]);
      case 'between':
        return typeof x === typeof y ? f.between(name, x! < y! ? x : y, x! < y! ? y : x) : f.exists(name);
      case 'exists':
        return f.exists(name);
      case 'prefix':
        return numeric ? f.exists(name) : f.prefix(name, String(x).slice(0, 1));
      default:
        return f[kind as 'eq'](name, x);
    }
  });
const filter: fc.Arbitrary<FilterNode> = fc.letrec<{ node: FilterNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((fs) => f.and(...fs)),
    fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((fs) => f.or(...fs)),
    tie('node').map((n) => f.not(n)),
  ),
})).node;

describe('evaluateRowFilter', () => {
  it('agrees with the store’s own filter on every event (missing fields, mixed types, not)', () => {
    fc.assert(
      fc.property(storedEvents(), filter, (events, node) => {
        validateRowFilter(node, 'filter');
        for (const event of events) expect(evaluateRowFilter(node, event)).toBe(storeMatches(node, event));
      }),
      { numRuns: 300 },
    );
  });

  it('reads output columns and dotted paths through records', () => {
    const row = { n: 3, 'tags.origin': 'ORD', done: { timestamp: new Date(5), payload: { xs: [1, 2] } } };
    expect(evaluateRowFilter(f.gte('n', 3), row)).toBe(true);
    expect(evaluateRowFilter(f.eq('tags.origin', 'ORD'), row)).toBe(true);
    expect(evaluateRowFilter(f.eq('done.timestamp', 5), row)).toBe(true);
    expect(evaluateRowFilter(f.eq('done.payload.xs.1', 2), row)).toBe(true);
    expect(evaluateRowFilter(f.exists('done.payload.xs.length'), row)).toBe(false);
    expect(evaluateRowFilter(f.exists('n.constructor'), row)).toBe(false);
    expect(evaluateRowFilter(f.exists('constructor'), row)).toBe(false);
  });

  it('treats missing as SQL NULL: comparisons and ne are false, not(...) of them true; null is present', () => {
    expect(evaluateRowFilter(f.ne('x', 1), {})).toBe(false);
    expect(evaluateRowFilter(f.not(f.eq('x', 1)), {})).toBe(true);
    expect(evaluateRowFilter(f.eq('x', null), { x: null })).toBe(true);
    expect(evaluateRowFilter(f.eq('x', null), {})).toBe(false);
    expect(evaluateRowFilter(f.exists('x'), { x: null })).toBe(true);
    expect(evaluateRowFilter(f.gt('x', 4), { x: '5' })).toBe(false);
    expect(evaluateRowFilter(f.lt('x', 'b'), { x: 'a' })).toBe(true);
  });
});

describe('readRowField', () => {
  it('prefers an own key equal to the field, reads Dates as ms, never inherited names', () => {
    expect(readRowField({ 'a.b': 1, a: { b: 2 } }, 'a.b')).toBe(1);
    expect(readRowField({ a: { b: 2 } }, 'a.b')).toBe(2);
    expect(readRowField({ timestamp: new Date(42) }, 'timestamp')).toBe(42);
    expect(readRowField({ a: [10, 20] }, 'a.length')).toBeUndefined();
    expect(readRowField({ a: {} }, 'a.toString')).toBeUndefined();
    expect(readRowField({}, 'hasOwnProperty')).toBeUndefined();
    expect(readRowField(null, 'a')).toBeUndefined();
  });
});

describe('validateRowFilter', () => {
  it.each([
    [{ kind: 'eq', field: '', value: 1 }, 'having.field', 'UNKNOWN_FIELD'],
    [{ kind: 'gt', field: 'n', value: true }, 'having.value', 'INVALID_OPERAND'],
    [
      { kind: 'and', filters: [{ kind: 'eq', field: 'n', value: {} }] },
      'having.and[0].value',
      'INVALID_OPERAND',
    ],
    [{ kind: 'in', field: 'n', values: [] }, 'having.values', 'INVALID_OPERAND'],
    [{ kind: 'between', field: 'n', low: 5, high: 1 }, 'having', 'INVALID_RANGE'],
    [{ kind: 'like', field: 'n' }, 'having.kind', 'VALIDATION_FAILED'],
    [null, 'having', 'VALIDATION_FAILED'],
  ])('refuses %j at %s', (node, path, code) => {
    const error = (() => {
      try {
        validateRowFilter(node, 'having');
      } catch (e) {
        return e;
      }
    })() as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.path).toBe(path);
    expect(error.code).toBe(code);
  });
});
