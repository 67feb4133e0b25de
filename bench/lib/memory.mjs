// Memory samples: after a full GC (when --expose-gc is on), so growth curves show what is kept.

export function gc() {
  if (typeof globalThis.gc === 'function') globalThis.gc();
}

/** process.memoryUsage() after a GC, plus the event count it was taken at. */
export function sampleMemory(events) {
  gc();
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
  return { events, rss, heapUsed, heapTotal, external, arrayBuffers };
}
