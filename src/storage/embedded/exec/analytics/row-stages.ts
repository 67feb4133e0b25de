/**
 * TEMPORARY adapter: the row stages (sort, limit, having, joins, patterns, windows, running
 * aggregates, fill) over output records come from src/analytics/stages/ once it lands; until then
 * sort, limit and having are here and the rest refuse.
 */
import { ValidationError } from '../../../../errors.js';
import type { OrderTerm, FilterNode } from '../../../../query/ast.js';

type Row = Record<string, unknown>;

const rank = (value: unknown) =>
  value === null || value === undefined ? 2 : typeof value === 'number' ? 0 : 1;

export function sortRows(rows: Row[], order: readonly OrderTerm[]): Row[] {
  return [...rows].sort((a, b) => {
    for (const term of order) {
      const [x, y] = [a[term.field], b[term.field]];
      const sign = term.direction === 'desc' ? -1 : 1;
      const [rx, ry] = [rank(x), rank(y)];
      if (rx !== ry) return (rx - ry) * sign;
      if (rx === 2) continue;
      if ((x as number) < (y as number)) return -sign;
      if ((x as number) > (y as number)) return sign;
    }
    return 0;
  });
}

export function havingRows(rows: Row[], filter: FilterNode): Row[] {
  const test = (node: FilterNode, row: Row): boolean => {
    switch (node.kind) {
      case 'all':
        return true;
      case 'and':
        return node.filters.every((child) => test(child, row));
      case 'or':
        return node.filters.some((child) => test(child, row));
      case 'not':
        return !test(node.filter, row);
      default: {
        const value = row[node.field];
        if (node.kind === 'exists') return value !== undefined && value !== null;
        if (node.kind === 'in') return node.values.includes(value as never);
        if (node.kind === 'prefix') return typeof value === 'string' && value.startsWith(node.value);
        if (node.kind === 'between')
          return (
            typeof value === typeof node.low &&
            (value as number) >= (node.low as number) &&
            (value as number) <= (node.high as number)
          );
        if (typeof value !== typeof node.value) return false;
        const [a, b] = [value as number, node.value as number];
        return node.kind === 'eq'
          ? a === b
          : node.kind === 'ne'
            ? a !== b
            : node.kind === 'lt'
              ? a < b
              : node.kind === 'lte'
                ? a <= b
                : node.kind === 'gt'
                  ? a > b
                  : a >= b;
      }
    }
  };
  return rows.filter((row) => test(filter, row));
}

export function unsupportedYet(what: string): never {
  throw new ValidationError('analytics', `${what} is not available yet`);
}
