import type { FilterNode } from './ast.js';

export type FilterKind = FilterNode['kind'];

/**
 * The filter node of one kind. `Extract` would miss the comparisons, whose one member has
 * `kind: ComparisonOperator`; this narrows that member to the one operator.
 */
export type FilterOf<K extends FilterKind> = FilterNode extends infer Node
  ? Node extends { readonly kind: infer Kinds }
    ? K extends Kinds
      ? Node & { readonly kind: K }
      : never
    : never
  : never;

/**
 * One method per filter kind, each taking the node of its kind (and `args`, passed along): a visitor
 * missing a kind fails to compile, so adding a kind to FilterNode shows every place that must learn it.
 */
export type FilterVisitor<R, A extends unknown[] = []> = {
  readonly [K in FilterKind]: (node: FilterOf<K>, ...args: A) => R;
};

/**
 * Calls the visitor's method for the node's kind. Only for nodes the type system vouches for:
 * input from outside (validation) checks the kind first.
 *
 * @example
 * const depth = (node: FilterNode): number => visitFilter(node, DEPTH);
 * const leaf = () => 1;
 * const DEPTH: FilterVisitor<number> = { all: leaf, eq: leaf, ..., not: (n) => 1 + depth(n.filter) };
 */
export function visitFilter<R, A extends unknown[]>(
  node: FilterNode,
  visitor: FilterVisitor<R, A>,
  ...args: A
): R {
  // The index type pairs each kind with its own node type; TypeScript cannot follow that pairing
  // through `node.kind`, so the method is called as taking any node.
  const visit = visitor[node.kind] as (node: FilterNode, ...args: A) => R;
  return visit(node, ...args);
}
