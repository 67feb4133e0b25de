/**
 * Exhaustive visitors (src/query/visit-filter.ts, src/storage/embedded/exec/plan-nodes.ts) and
 * assertNever (src/support/assert-never.ts). The type-level half is checked by `tsc` (npm run
 * typecheck covers test/): each `@ts-expect-error` marks a visitor or switch missing a kind, so if
 * the check that rejects it ever vanished, the unused directive would fail the typecheck instead.
 */
import { describe, expect, it } from 'vitest';
import { f, type FilterNode } from '../../src/query/ast.js';
import { visitFilter, type FilterVisitor } from '../../src/query/visit-filter.js';
import { assertNever } from '../../src/support/assert-never.js';
import type { OperatorTable } from '../../src/storage/embedded/exec/executor.js';
import { hydrate } from '../../src/storage/embedded/exec/operators/hydrate.js';
import { indexLookup } from '../../src/storage/embedded/exec/operators/index-lookup.js';
import { intersectLookups } from '../../src/storage/embedded/exec/operators/intersect.js';
import { limit } from '../../src/storage/embedded/exec/operators/limit.js';
import { parallelScan } from '../../src/storage/embedded/exec/operators/parallel-scan-operator.js';
import { rowFilter } from '../../src/storage/embedded/exec/operators/row-filter.js';
import { scan } from '../../src/storage/embedded/exec/operators/scan.js';
import { sort } from '../../src/storage/embedded/exec/operators/sort.js';
import { vectorizedFilter } from '../../src/storage/embedded/exec/operators/vectorized-filter.js';
import { visitPlan, type PlanNode, type PlanVisitor } from '../../src/storage/embedded/exec/plan-nodes.js';

const leaf = (node: { kind: string; field: string }) => `${node.kind}:${node.field}`;

/** Names every node of a filter: one method per kind. */
const NAMES: FilterVisitor<string> = {
  all: () => 'all',
  and: (node) => `and(${node.filters.map(name).join(',')})`,
  or: (node) => `or(${node.filters.map(name).join(',')})`,
  not: (node) => `not(${name(node.filter)})`,
  eq: leaf,
  ne: leaf,
  lt: leaf,
  lte: leaf,
  gt: leaf,
  gte: leaf,
  in: leaf,
  between: leaf,
  exists: leaf,
  prefix: leaf,
};

function name(node: FilterNode): string {
  return visitFilter(node, NAMES);
}

describe('exhaustive visitors over the query AST', () => {
  it('dispatches each node to the method of its kind, passing extra arguments along', () => {
    const filter = f.and(
      f.eq('type', 'A'),
      f.or(f.lt('version', 3), f.not(f.exists('tags.x'))),
      f.between('timestamp', 1, 2),
      f.in('aggregateId', ['a']),
      f.prefix('type', 'B'),
    );
    expect(name(filter)).toBe(
      'and(eq:type,or(lt:version,not(exists:tags.x)),between:timestamp,in:aggregateId,prefix:type)',
    );
    const depth: FilterVisitor<number, [number]> = {
      ...Object.fromEntries(Object.keys(NAMES).map((kind) => [kind, (_: FilterNode, at: number) => at])),
      and: (node, at) => Math.max(...node.filters.map((child) => visitFilter(child, depth, at + 1))),
      or: (node, at) => Math.max(...node.filters.map((child) => visitFilter(child, depth, at + 1))),
      not: (node, at) => visitFilter(node.filter, depth, at + 1),
    } as FilterVisitor<number, [number]>;
    expect(visitFilter(filter, depth, 0)).toBe(3);
  });

  it('does not compile a visitor that misses a kind', () => {
    // @ts-expect-error -- `prefix` is missing: a new filter kind fails to compile where it is not handled.
    const missing: FilterVisitor<string> = {
      all: () => 'all',
      and: () => 'and',
      or: () => 'or',
      not: () => 'not',
      eq: leaf,
      ne: leaf,
      lt: leaf,
      lte: leaf,
      gt: leaf,
      gte: leaf,
      in: leaf,
      between: leaf,
      exists: leaf,
    };
    expect(Object.keys(missing)).not.toContain('prefix');
  });

  it('types each method with the node of its kind, comparisons narrowed to their operator', () => {
    const visitor: FilterVisitor<unknown> = {
      ...NAMES,
      // @ts-expect-error -- an `eq` node has no `filters`.
      eq: (node) => node.filters,
      lt: (node) => {
        const kind: 'lt' = node.kind;
        return kind;
      },
    };
    expect(visitFilter(f.lt('version', 1), visitor)).toBe('lt');
  });

  it('assertNever ends a switch that handles every kind, and throws for a value from outside the types', () => {
    const size = (node: FilterNode): number => {
      switch (node.kind) {
        case 'and':
        case 'or':
          return node.filters.length;
        case 'not':
        case 'all':
        case 'eq':
        case 'ne':
        case 'lt':
        case 'lte':
        case 'gt':
        case 'gte':
        case 'in':
        case 'between':
        case 'exists':
        case 'prefix':
          return 1;
        default:
          return assertNever(node);
      }
    };
    expect(size(f.and(f.eq('type', 'A'), f.eq('type', 'B')))).toBe(2);
    expect(() => size({ kind: 'like' } as unknown as FilterNode)).toThrow(
      /unexpected value \{"kind":"like"\}/,
    );
    expect(() => assertNever('x' as never, (value) => new RangeError(`bad ${String(value)}`))).toThrow(
      new RangeError('bad x'),
    );

    const partial = (node: FilterNode): number => {
      switch (node.kind) {
        case 'and':
        case 'or':
          return node.filters.length;
        default:
          // @ts-expect-error -- only and / or are handled: the rest reach assertNever, a compile error.
          return assertNever(node);
      }
    };
    expect(partial(f.or(f.eq('type', 'A')))).toBe(1);
  });

  it('does not compile a plan visitor, or the operator table of the executor, that misses a node kind', () => {
    const kinds = {
      IndexLookup: () => 'IndexLookup',
      Intersect: () => 'Intersect',
      Scan: () => 'Scan',
      ParallelScan: () => 'ParallelScan',
      Filter: () => 'Filter',
      VectorizedFilter: () => 'VectorizedFilter',
      Sort: () => 'Sort',
      Limit: () => 'Limit',
    };
    // @ts-expect-error -- `Hydrate` is missing: a new node kind fails to compile where it is not handled.
    const missing: PlanVisitor<string> = kinds;
    const complete: PlanVisitor<string> = { ...kinds, Hydrate: () => 'Hydrate' };
    const root = { kind: 'Scan', descending: false, condition: 'all rows', estimatedRows: 0, firstRow: 0 };
    expect(visitPlan(root as PlanNode, complete)).toBe('Scan');
    expect(Object.keys(missing)).not.toContain('Hydrate');

    const operators = {
      IndexLookup: indexLookup,
      Intersect: intersectLookups,
      Scan: scan,
      ParallelScan: parallelScan,
      Filter: rowFilter,
      VectorizedFilter: vectorizedFilter,
      Sort: sort,
      Limit: limit,
    };
    // @ts-expect-error -- a node kind without its operator does not compile.
    const withoutHydrate: OperatorTable = operators;
    // @ts-expect-error -- an access node's operator must hand its rows to a filter as candidates.
    const sortAsScan: OperatorTable = { ...operators, Hydrate: hydrate, Scan: sort };
    expect([withoutHydrate, sortAsScan].every((table) => typeof table.Filter.rows === 'function')).toBe(true);
  });
});
