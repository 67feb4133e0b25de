/** One turn of the event loop: what long work awaits between slices, so I/O and timers run. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
