// DuckDB (@duckdb/node-api, from bench/peers) as an event store: the sqlite engine's table, plus the
// fields the indexes suite filters on as real columns. DuckDB is an OLAP engine (columnar storage,
// vectorised scans, ~1 ms fixed cost per query): it is here as the analytical peer, not as a
// point-lookup store, and the report says so.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(new URL('../peers/package.json', import.meta.url));

// Tags, payload and metadata are JSON text, as in sqlite. tenant, customer and amount are copies of
// tags.tenant, tags.customer and payload.amount (null when absent): a careful DuckDB user filters on
// typed columns, since a json_extract filter is a full scan that parses every row's JSON.
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    sequence INTEGER NOT NULL,
    id VARCHAR NOT NULL,
    aggregate_id VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    type VARCHAR NOT NULL,
    timestamp DOUBLE NOT NULL,
    tags VARCHAR NOT NULL,
    payload VARCHAR NOT NULL,
    metadata VARCHAR NOT NULL,
    tenant VARCHAR,
    customer VARCHAR,
    amount DOUBLE
  );
`;
const COLUMNS = 'sequence, id, aggregate_id, version, type, timestamp, tags, payload, metadata';

/** ART indexes for the indexes suite; built after a bulk load (faster than maintaining them). */
export const DUCKDB_USER_INDEXES = {
  events_customer: 'CREATE INDEX IF NOT EXISTS events_customer ON events(customer)',
  events_tenant_amount: 'CREATE INDEX IF NOT EXISTS events_tenant_amount ON events(tenant, amount)',
  events_amount: 'CREATE INDEX IF NOT EXISTS events_amount ON events(amount)',
};

const toMs = (ts) => (ts instanceof Date ? ts.getTime() : typeof ts === 'string' ? Date.parse(ts) : ts);

function hydrate(row) {
  return {
    sequence: row[0],
    id: row[1],
    aggregateId: row[2],
    version: row[3],
    type: row[4],
    timestamp: new Date(row[5]),
    tags: JSON.parse(row[6]),
    payload: JSON.parse(row[7]),
    metadata: JSON.parse(row[8]),
  };
}

const sqlString = (s) => `'${String(s).replace(/'/g, "''")}'`;

/**
 * @param {{ dir: string, threads?: number }} options threads: DuckDB's worker threads (default: cores)
 */
export async function createDuckdb({ dir, threads }) {
  const { DuckDBInstance, DuckDBDataChunk, INTEGER, VARCHAR, DOUBLE } = require('@duckdb/node-api');
  const instance = await DuckDBInstance.create(
    join(dir, 'events.duckdb'),
    threads ? { threads: String(threads) } : {},
  );
  const con = await instance.connect();
  await con.run(SCHEMA);
  const TYPES = [INTEGER, VARCHAR, VARCHAR, INTEGER, VARCHAR, DOUBLE, VARCHAR, VARCHAR, VARCHAR];
  const CHUNK_TYPES = [...TYPES, VARCHAR, VARCHAR, DOUBLE];
  const CHUNK_ROWS = 2048; // DuckDB's vector size: the most one data chunk holds

  const rows = async (sql, values) => (await con.runAndReadAll(sql, values)).getRows();
  const versions = new Map();
  for (const [aggregateId, v] of await rows('SELECT aggregate_id, max(version) FROM events GROUP BY 1'))
    versions.set(aggregateId, v);
  let sequence = Number((await rows('SELECT coalesce(max(sequence), 0) FROM events'))[0][0]);

  // One appender for a whole load; closed (flushed into the table) before anything reads.
  let appender;
  const flushAppender = () => {
    appender?.closeSync();
    appender = undefined;
  };
  const append = async (events) => {
    appender ??= await con.createAppender('events');
    for (let start = 0; start < events.length; start += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, events.length - start);
      const columns = CHUNK_TYPES.map(() => new Array(n));
      for (let k = 0; k < n; k++) {
        const e = events[start + k];
        const version = (versions.get(e.aggregateId) ?? 0) + 1;
        versions.set(e.aggregateId, version);
        const tags = e.tags ?? {};
        const payload = e.payload ?? null;
        const values = [
          ++sequence,
          e.id ?? randomUUID(),
          e.aggregateId,
          version,
          e.type,
          toMs(e.timestamp ?? Date.now()),
          JSON.stringify(tags),
          JSON.stringify(payload),
          JSON.stringify(e.metadata ?? {}),
          typeof tags.tenant === 'string' ? tags.tenant : null,
          typeof tags.customer === 'string' ? tags.customer : null,
          typeof payload?.amount === 'number' ? payload.amount : null,
        ];
        for (let c = 0; c < values.length; c++) columns[c][k] = values[c];
      }
      const chunk = DuckDBDataChunk.create(CHUNK_TYPES, n);
      chunk.setColumns(columns);
      appender.appendDataChunk(chunk);
    }
  };

  // Prepared statements, created on first use and reused with new bindings.
  const statements = new Map();
  const prepared = async (sql) => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      flushAppender();
      statement = await con.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  /** Runs a prepared SELECT of COLUMNS; binders: [bindMethod, value] per parameter. */
  const select = async (sql, ...params) => {
    const statement = await prepared(`SELECT ${COLUMNS} FROM events WHERE ${sql}`);
    params.forEach(([method, value], k) => statement[method](k + 1, value));
    return (await statement.runAndReadAll()).getRows().map(hydrate);
  };
  const str = (v) => ['bindVarchar', v];
  const int = (v) => ['bindInteger', v];
  const dbl = (v) => ['bindDouble', v];

  /** DuckDB decides on an index scan at run time: plain EXPLAIN says "Sequential Scan" either way. */
  const scanType = async (where) => {
    flushAppender();
    const text = (await rows(`EXPLAIN ANALYZE SELECT ${COLUMNS} FROM events WHERE ${where}`))
      .map((r) => r[1])
      .join('\n');
    const types = [...text.matchAll(/Type: ([A-Za-z ]+?)\s*│/g)].map((m) => m[1]);
    return types.join(', ') || 'unknown';
  };
  /** The optimizer's row estimate for the scan (the last "~N rows" of EXPLAIN's tree). */
  const estimate = async (where) => {
    flushAppender();
    const text = (await rows(`EXPLAIN SELECT ${COLUMNS} FROM events WHERE ${where}`))
      .map((r) => r[1])
      .join('\n');
    const all = [...text.matchAll(/~([\d,.]+) rows/g)].map((m) => Number(m[1].replace(/,/g, '')));
    return all.length ? all[all.length - 1] : NaN;
  };

  return {
    name: `duckdb ${require('@duckdb/node-api/package.json').version}`,
    instance,
    connection: con,
    append,
    appendOne: (event) => append([event]),
    getEvents: ({ aggregateId }) => select('aggregate_id = $1 ORDER BY sequence', str(aggregateId)),
    getEventsByType: ({ type, afterSequence, limit }) =>
      select(
        'type = $1 AND sequence > $2 ORDER BY sequence LIMIT $3',
        str(type),
        int(afterSequence),
        int(limit),
      ),
    getEventsInRange: ({ start, end }) =>
      select('timestamp >= $1 AND timestamp < $2 ORDER BY sequence', dbl(toMs(start)), dbl(toMs(end))),
    queryAggregateType: ({ aggregateId, type }) =>
      select('aggregate_id = $1 AND type = $2 ORDER BY sequence', str(aggregateId), str(type)),
    queryTag: ({ key, value, afterSequence, limit }) =>
      select(
        `json_extract_string(tags, ${sqlString(`$.${key}`)}) = $1 AND sequence > $2 ORDER BY sequence LIMIT $3`,
        str(value),
        int(afterSequence),
        int(limit),
      ),

    // The indexes suite.
    createUserIndexes: async () => {
      flushAppender();
      for (const sql of Object.values(DUCKDB_USER_INDEXES)) await con.run(sql);
    },
    dropUserIndexes: async () => {
      flushAppender();
      for (const name of Object.keys(DUCKDB_USER_INDEXES)) await con.run(`DROP INDEX IF EXISTS ${name}`);
    },
    customer: ({ customer }) => select('customer = $1 ORDER BY sequence', str(customer)),
    tenantAmount: ({ tenant, low, high }) =>
      select('tenant = $1 AND amount BETWEEN $2 AND $3 ORDER BY sequence', str(tenant), dbl(low), dbl(high)),
    amountRange: ({ low, high }) => select('amount BETWEEN $1 AND $2 ORDER BY sequence', dbl(low), dbl(high)),
    /** Parse, bind and plan a new statement (a new constant each time), without running it. */
    planCustomer: async ({ customer }) => {
      flushAppender();
      const statement = await con.prepare(
        `SELECT ${COLUMNS} FROM events WHERE customer = ${sqlString(customer)} ORDER BY sequence`,
      );
      statement.destroySync();
      return [];
    },
    planTenantAmount: async ({ tenant, low, high }) => {
      flushAppender();
      const statement = await con.prepare(
        `SELECT ${COLUMNS} FROM events WHERE tenant = ${sqlString(tenant)} AND amount BETWEEN ${low} AND ${high} ORDER BY sequence`,
      );
      statement.destroySync();
      return [];
    },
    plans: async (sample) => ({
      eq: await scanType(`customer = ${sqlString(sample.customer.customer)}`),
      composite: await scanType(
        `tenant = ${sqlString(sample.composite.tenant)} AND amount BETWEEN ${sample.composite.low} AND ${sample.composite.high}`,
      ),
      range: await scanType(`amount BETWEEN ${sample.range.low} AND ${sample.range.high}`),
    }),
    estimates: {
      customer: ({ customer }) => estimate(`customer = ${sqlString(customer)}`),
      amountRange: ({ low, high }) => estimate(`amount BETWEEN ${low} AND ${high}`),
    },
    count: async () => {
      flushAppender();
      return Number((await rows('SELECT count(*) FROM events'))[0][0]);
    },
    flush: async () => {
      flushAppender();
      await con.run('CHECKPOINT');
    },
    close: async () => {
      flushAppender();
      for (const statement of statements.values()) statement.destroySync();
      con.closeSync();
      instance.closeSync();
    },
  };
}
