/**
 * Whether a hook's answer is a promise (or any thenable) to wait for, rather than a plain return:
 * user code may hand back a promise from another library, so `instanceof Promise` is not enough.
 */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
