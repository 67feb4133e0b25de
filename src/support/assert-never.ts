import { describe } from './describe.js';

/**
 * The default of a `switch` over a discriminated union: its parameter is `never`, so a case left
 * unhandled fails to compile there. At run time it is reached only by a value from outside the type
 * system (a parsed JSON body, a hand-built node): `fail` makes the error to throw for it, which
 * defaults to an internal error naming the value.
 *
 * @example
 * switch (node.kind) {
 *   case 'a': return 1;
 *   case 'b': return 2;
 *   default: return assertNever(node);
 * }
 */
export function assertNever(value: never, fail?: (value: unknown) => Error): never {
  throw fail?.(value) ?? new Error(`unexpected value ${describe(value)}: a case is missing`);
}
