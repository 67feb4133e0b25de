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
  const { openEventStore, f } = await loadLibrary();
  const store = await openEventStore({ ...(dir ? { dir, fsync } : {}), ...open });
  // The indexes suite's queries, as builders; hints such as { forceIndex: ['scan'] } pick the path.
  const customerQuery = (customer) => store.query().where('tags.customer', 'eq', customer);
  const tenantAmountQuery = ({ tenant, low, high }, hints) => {
    const q = store
      .query()
      .where('tags.tenant', 'eq', tenant)
      .where(f.between('payload.amount', low, high));
    return hints ? q.hint(hints) : q;
  };
  const amountRangeQuery = ({ low, high }, hints) => {
    const q = store.query().where(f.between('payload.amount', low, high));
    return hints ? q.hint(hints) : q;
  };
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

    // The indexes suite. User-defined indexes need a build with store.indexes (issue 3).
    hasUserIndexes: typeof store.indexes?.createIndex === 'function',
    createIndex: (definition, options) => store.indexes.createIndex(definition, options),
    dropIndex: (name) => store.indexes.dropIndex(name),
    customer: ({ customer }) => store.queryEvents({ tags: { customer } }),
    customerBuilder: ({ customer }) => customerQuery(customer).execute(),
    tenantAmount: (params, hints) => tenantAmountQuery(params, hints).execute(),
    amountRange: (params, hints) => amountRangeQuery(params, hints).execute(),
    customerQuery,
    tenantAmountQuery,
    amountRangeQuery,
    explain: (builder, options) => store.explain(builder, options),
    /** { hits, misses, ... } of the plan cache, or undefined in a build without one. */
    planCache: () => store.stats().planCache,
    count: () => store.stats().events,
    flush: () => store.flush(),
    close: () => store.close(),
  };
}
