import { parseDuration } from '../../events/duration.js';
import type { Duration } from '../../query/analytics-ast.js';
import { windowMs } from '../partition-events.js';

/**
 * A stage's length of time in ms: a finite number of ms, 0 or more (as patterns take `withinMs`),
 * or text such as `'10m'`, `'1h'`, `'1d'` (events/duration.ts). A ValidationError names `path` otherwise.
 */
export function durationMs(value: Duration | unknown, path: string): number {
  return typeof value === 'string' ? parseDuration(value, path) : windowMs(value, path);
}

/** Like durationMs, but 0 is refused: window sizes, hops and session gaps. */
export function positiveDurationMs(value: Duration | unknown, path: string): number {
  return parseDuration(value, path);
}
