import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAggregates, parseHaving, parseOrderBy } from '../src/cli/analytics-flags.js';
import { agg, f, type AggregateSpec, type FilterNode } from '../src/index.js';

/**
 * The text forms of `analyze` against what they stand for: any aggregate written as `--agg` text
 * parses to the spec its agg.* constructor builds, and a `--having` comparison to its filter node.
 */

const field = fc.oneof(
  fc.constantFrom('timestamp', 'sequence', 'type', 'aggregateId'),
  fc.stringMatching(/^[a-z][a-zA-Z0-9_]{0,8}$/).map((name) => `payload.${name}`),
  fc.stringMatching(/^[a-z][a-zA-Z0-9_]{0,8}$/).map((name) => `tags.${name}`),
);
const fraction = fc.double({ min: 0, max: 1, noNaN: true });
const ONE_FIELD = [
  'countDistinct',
  'sum',
  'avg',
  'min',
  'max',
  'stddev',
  'variance',
  'median',
  'first',
  'last',
] as const;

/** [the --agg text, the spec the library builds for it]. */
const aggregate: fc.Arbitrary<[string, AggregateSpec]> = fc.oneof(
  fc.constant<[string, AggregateSpec]>(['count', agg.count()]),
  field.map((x): [string, AggregateSpec] => [`count:${x}`, agg.count(x)]),
  fc
    .tuple(fc.constantFrom(...ONE_FIELD), field)
    .map(([kind, x]): [string, AggregateSpec] => [`${kind}:${x}`, agg[kind](x)]),
  fc
    .tuple(fc.constantFrom('percentile', 'approxPercentile' as const), field, fraction)
    .map(([kind, x, p]): [string, AggregateSpec] => [`${kind}:${x}:${p}`, agg[kind](x, p)]),
  fc.tuple(field, field).map(([x, y]): [string, AggregateSpec] => [`corr:${x}:${y}`, agg.corr(x, y)]),
  fc
    .tuple(field, fc.integer({ min: 1, max: 1000 }))
    .map(([x, n]): [string, AggregateSpec] => [`histogram:${x}:${n}`, agg.histogram(x, { buckets: n })]),
);

const alias = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_.]{0,10}$/);

describe('analyze flag syntax', () => {
  it('--agg ALIAS=SPEC parses to the agg.* spec, in order, for any mix of kinds', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(alias, aggregate), { selector: ([name]) => name, maxLength: 8 }),
        (list) => {
          const parsed = parseAggregates(list.map(([name, [text]]) => `${name}=${text}`));
          expect(Object.entries(parsed)).toEqual(list.map(([name, [, spec]]) => [name, spec]));
        },
      ),
    );
  });

  it('moving, cumulative and delta wrap any plain aggregate of an output column', () => {
    const inner = fc.oneof(
      fc
        .constantFrom('sum', 'avg', 'min', 'max', 'median' as const)
        .map((kind): [string, AggregateSpec] => [`${kind}:n`, { kind, field: 'n' }]),
      fraction.map((p): [string, AggregateSpec] => [
        `percentile:n:${p}`,
        { kind: 'percentile', field: 'n', p },
      ]),
    );
    fc.assert(
      fc.property(
        inner,
        fc.oneof(fc.integer({ min: 1, max: 50 }), fc.constant('all' as const)),
        ([text, spec], buckets) => {
          expect(parseAggregates([`m=moving:${text}:${buckets}`])).toEqual({
            m: agg.moving(spec, { buckets }),
          });
          expect(parseAggregates([`c=cumulative:${text}`])).toEqual({ c: agg.cumulative(spec) });
        },
      ),
    );
    expect(parseAggregates(['d=delta:n'])).toEqual({ d: agg.delta('n') });
  });

  it('--having COLUMN OP VALUE is the comparison it spells, for numbers, booleans, null and words', () => {
    const ops: [string, (field: string, value: never) => FilterNode][] = [
      ['>=', f.gte],
      ['<=', f.lte],
      ['>', f.gt],
      ['<', f.lt],
      ['=', f.eq],
      ['==', f.eq],
      ['!=', f.ne],
    ];
    const value = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
      fc.boolean(),
      fc.stringMatching(/^[A-Z][A-Z_.]{0,12}$/),
    );
    fc.assert(
      fc.property(
        alias,
        fc.constantFrom(...ops),
        value,
        fc.constantFrom('', ' '),
        (column, [op, node], v, gap) => {
          const text = `${column}${gap}${op}${gap}${typeof v === 'string' ? v : JSON.stringify(v)}`;
          expect(parseHaving(text)).toEqual(node(column, v as never));
        },
      ),
    );
  });

  it('--order-by keeps the order of its terms across commas and repeats', () => {
    const term = fc.tuple(alias, fc.constantFrom('', ':asc', ':desc'));
    fc.assert(
      fc.property(
        fc.array(fc.array(term, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
        (groups) => {
          const parsed = parseOrderBy(
            groups.map((group) => group.map(([name, dir]) => name + dir).join(',')),
          );
          expect(parsed).toEqual(
            groups
              .flat()
              .map(([name, dir]) => ({ field: name, direction: dir === ':desc' ? 'desc' : 'asc' })),
          );
        },
      ),
    );
  });
});
