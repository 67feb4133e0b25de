import { assertNever } from '../support/assert-never.js';
import type { FilterKind } from './visit-filter.js';

const scratch = new DataView(new ArrayBuffer(8));

/** The smallest double above `x`: turns an inclusive bound into the exclusive one ranges use. */
export function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return Number.MIN_VALUE;
  scratch.setFloat64(0, x);
  const bits = scratch.getBigInt64(0);
  scratch.setBigInt64(0, x > 0 ? bits + 1n : bits - 1n);
  return scratch.getFloat64(0);
}

/** A half-open interval [from, to) of numbers. */
export interface Interval {
  from: number;
  to: number;
}

/** Narrows `interval` by one comparison on the field; returns undefined for a kind that sets no bound. */
export function narrow(
  interval: Interval,
  kind: FilterKind,
  value: number,
  high?: number,
): Interval | undefined {
  switch (kind) {
    case 'eq':
      return { from: Math.max(interval.from, value), to: Math.min(interval.to, nextUp(value)) };
    case 'lt':
      return { from: interval.from, to: Math.min(interval.to, value) };
    case 'lte':
      return { from: interval.from, to: Math.min(interval.to, nextUp(value)) };
    case 'gt':
      return { from: Math.max(interval.from, nextUp(value)), to: interval.to };
    case 'gte':
      return { from: Math.max(interval.from, value), to: interval.to };
    case 'between':
      return { from: Math.max(interval.from, value), to: Math.min(interval.to, nextUp(high as number)) };
    case 'all':
    case 'ne':
    case 'in':
    case 'exists':
    case 'prefix':
    case 'and':
    case 'or':
    case 'not':
      return undefined;
    default:
      return assertNever(kind);
  }
}
