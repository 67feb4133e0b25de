// Tamma Events through its public API, imported from the built library (dist/).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The runner points TAMMA_BENCH_DIST at its snapshot of dist/ (see lib/snapshot.mjs). */
export const DIST =
  process.env.TAMMA_BENCH_DIST ?? fileURLToPath(new URL('../../dist/index.js', import.meta.url));

export async function loadLibrary() {
  if (!existsSync(DIST)) {
    throw new Error(`${DIST} is missing: build the library first (npm run build), or use npm run bench`);
  }
  return import(pathToFileURL(DIST).href);
}

/**
 * @param {{ dir?: string, fsync?: 'always' | 'batch' | 'never', open?: object }} options
 *   dir omitted: an in-memory store.
 */
export async function createTamma({ dir, fsync = 'batch', open = {} } = {}) {
  const { openEventStore } = await loadLibrary();
  const store = await openEventStore({ ...(dir ? { dir, fsync } : {}), ...open });
  return {
    name: dir ? `tamma (fsync ${fsync})` : 'tamma (memory)',
    store,
    append: (events) => store.append(events),
    appendOne: (event) => store.append(event),
    getEvents: ({ aggregateId }) => store.getEvents(aggregateId),
    getEventsByType: ({ type, afterSequence, limit }) =>
      store.getEventsByType(type, { afterSequence, limit }),
    getEventsInRange: ({ start, end }) => store.getEventsInRange(start, end),
    queryAggregateType: ({ aggregateId, type }) => store.queryEvents({ aggregateId, type }),
    queryTag: ({ key, value, afterSequence, limit }) =>
      store.queryEvents({ tags: { [key]: value }, afterSequence, limit }),
    count: () => store.stats().events,
    flush: () => store.flush(),
    close: () => store.close(),
  };
}
