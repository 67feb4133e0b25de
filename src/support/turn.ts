/**
 * One turn of the event loop: what long work awaits between slices (an index build, a cleanup, a
 * large query), so that I/O callbacks, timers and other calls run before it goes on. setImmediate
 * rather than a resolved promise: a microtask would not let I/O in.
 */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
