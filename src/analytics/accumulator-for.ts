import type { StoredEvent } from '../events/types.js';
import { ownTag, readPath, resolveField } from '../query/fields.js';
import { assertNever } from '../support/assert-never.js';
import type { Accumulator } from './accumulator.js';
import type { AggregateSpec } from '../query/aggregate-spec.js';
import { approxPercentile } from './approx-percentile.js';
import * as numeric from './numeric-accumulators.js';
import * as ordered from './order-accumulators.js';

/** Each accumulator's state type is its own; a caller holds states only to hand them back. */
const erase = <S, R>(accumulator: Accumulator<S, R>) => accumulator as unknown as Accumulator;

/** The mergeable accumulator that computes an aggregate. */
export function accumulatorFor(spec: AggregateSpec): Accumulator {
  switch (spec.kind) {
    case 'count':
      return erase(numeric.countAll);
    case 'countField':
      return erase(numeric.countPresent);
    case 'countDistinct':
      return erase(numeric.countDistinct);
    case 'sum':
      return erase(numeric.sum);
    case 'avg':
      return erase(numeric.avg);
    case 'min':
      return erase(numeric.min);
    case 'max':
      return erase(numeric.max);
    case 'variance':
      return erase(numeric.variance);
    case 'stddev':
      return erase(numeric.stddev);
    case 'median':
      return erase(ordered.percentile(0.5));
    case 'percentile':
      return erase(ordered.percentile(spec.p));
    case 'approxPercentile':
      return erase(approxPercentile(spec.p));
    case 'first':
    case 'last':
      return erase(ordered[spec.kind]);
    case 'corr':
      return erase(numeric.corr);
    case 'histogram':
      return erase(ordered.histogram(spec.buckets));
    case 'custom':
      return erase(spec);
    default:
      return assertNever(spec);
  }
}

/** Reads a field of a stored event as aggregates see it: `timestamp` as epoch ms, undefined when missing. */
export function fieldReader(field: string): (event: StoredEvent) => unknown {
  const ref = resolveField(field, 'field');
  switch (ref.kind) {
    case 'core':
      return ref.name === 'timestamp' ? (event) => event.timestamp.getTime() : (event) => event[ref.name];
    case 'tag':
      return (event) => ownTag(event.tags, ref.key);
    case 'payload':
      return (event) => readPath(event.payload, ref.path);
    default:
      return assertNever(ref);
  }
}

/** What `add` receives for an event: the field's value, the `[x, y]` pair for corr, nothing for count(). */
export function inputReader(spec: AggregateSpec): (event: StoredEvent) => unknown {
  switch (spec.kind) {
    case 'count':
      return () => undefined;
    case 'corr': {
      const [x, y] = [fieldReader(spec.x), fieldReader(spec.y)];
      return (event) => [x(event), y(event)];
    }
    case 'custom':
      return spec.field === undefined ? () => undefined : fieldReader(spec.field);
    default:
      return fieldReader(spec.field);
  }
}

/** One aggregate over events in one pass: what a group's operator does, for callers and tests. */
export function aggregateEvents(spec: AggregateSpec, events: Iterable<StoredEvent>): unknown {
  const accumulator = accumulatorFor(spec);
  const read = inputReader(spec);
  let state = accumulator.init();
  for (const event of events) state = accumulator.add(state, read(event), event);
  return accumulator.result(state);
}
