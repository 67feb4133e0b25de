import type { AggregateEvent } from '../query/aggregate-spec.js';

export type { AggregateEvent };

/**
 * A mergeable accumulator: `init` an empty state, `add` values one by one, `merge` two states built
 * over disjoint parts of the input, and read the `result`. Splitting the input anywhere, folding
 * each part and merging gives the one-pass result, which is what lets an aggregate run in parallel
 * and be cached per part.
 *
 * `add` and `merge` may update and return their first state rather than copy it: a state belongs
 * to whoever called `init`, and a state passed as `merge`'s second argument must not be used again.
 */
export interface Accumulator<S = unknown, R = unknown> {
  init(): S;
  /** `value` is the field's value (undefined when missing; `[x, y]` for corr). */
  add(state: S, value: unknown, event?: AggregateEvent): S;
  merge(a: S, b: S): S;
  result(state: S): R;
}
