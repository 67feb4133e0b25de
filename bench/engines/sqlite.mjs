// better-sqlite3 as an event store: the table and indexes a careful developer would write.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(new URL('../peers/package.json', import.meta.url));

const TABLE = `
  CREATE TABLE IF NOT EXISTS events (
    sequence INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    type TEXT NOT NULL,
    timestamp REAL NOT NULL,
    tags TEXT NOT NULL,
    payload TEXT NOT NULL,
    metadata TEXT NOT NULL
  );
`;
const SCHEMA_INDEXES = `
  CREATE INDEX IF NOT EXISTS events_aggregate ON events(aggregate_id);
  CREATE INDEX IF NOT EXISTS events_type ON events(type);
  CREATE INDEX IF NOT EXISTS events_timestamp ON events(timestamp);
  CREATE INDEX IF NOT EXISTS events_aggregate_type ON events(aggregate_id, type);
`;
// Not in the schema: without it a tag query is a table scan, which says nothing useful.
// Only the query suite adds it, so append numbers use the schema exactly.
const TAG_INDEX = `CREATE INDEX IF NOT EXISTS events_tag_issue ON events(json_extract(tags, '$.issueId'));`;

// The indexes suite's expression indexes, matching its queries' expressions exactly (sqlite uses an
// expression index only for the very same expression). Built after a bulk load.
const CUSTOMER = "json_extract(tags, '$.customer')";
const TENANT = "json_extract(tags, '$.tenant')";
const AMOUNT = "json_extract(payload, '$.amount')";
export const SQLITE_USER_INDEXES = {
  events_customer: `CREATE INDEX IF NOT EXISTS events_customer ON events(${CUSTOMER})`,
  events_tenant_amount: `CREATE INDEX IF NOT EXISTS events_tenant_amount ON events(${TENANT}, ${AMOUNT})`,
  events_amount: `CREATE INDEX IF NOT EXISTS events_amount ON events(${AMOUNT})`,
};
const sqlString = (s) => `'${String(s).replace(/'/g, "''")}'`;

const toDate = (ts) => (ts instanceof Date ? ts.getTime() : typeof ts === 'string' ? Date.parse(ts) : ts);

function hydrate(row) {
  return {
    sequence: row.sequence,
    id: row.id,
    aggregateId: row.aggregate_id,
    version: row.version,
    type: row.type,
    timestamp: new Date(row.timestamp),
    tags: JSON.parse(row.tags),
    payload: JSON.parse(row.payload),
    metadata: JSON.parse(row.metadata),
  };
}

/**
 * @param {{ dir: string, synchronous?: 'NORMAL' | 'FULL', tagIndex?: boolean, schemaIndexes?: boolean }} options
 *   schemaIndexes false: the table alone, without the four indexes (the indexes suite, whose
 *   queries none of them serves, loads faster without them).
 */
export function createSqlite({ dir, synchronous = 'NORMAL', tagIndex = false, schemaIndexes = true }) {
  const Database = require('better-sqlite3');
  const db = new Database(join(dir, 'events.db'));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('cache_size = -65536'); // 64 MiB page cache
  db.exec(TABLE);
  if (schemaIndexes) db.exec(SCHEMA_INDEXES);
  if (tagIndex) db.exec(TAG_INDEX);

  // Versions per aggregate kept in memory, as an adapter would cache them (cheaper than a SELECT).
  const versions = new Map();
  for (const { aggregate_id, v } of db
    .prepare('SELECT aggregate_id, max(version) v FROM events GROUP BY 1')
    .iterate())
    versions.set(aggregate_id, v);

  const insert = db.prepare(
    'INSERT INTO events (id, aggregate_id, version, type, timestamp, tags, payload, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const insertOne = (e) => {
    const version = (versions.get(e.aggregateId) ?? 0) + 1;
    versions.set(e.aggregateId, version);
    insert.run(
      e.id ?? randomUUID(),
      e.aggregateId,
      version,
      e.type,
      toDate(e.timestamp ?? Date.now()),
      JSON.stringify(e.tags ?? {}),
      JSON.stringify(e.payload ?? null),
      JSON.stringify(e.metadata ?? {}),
    );
  };
  const insertMany = db.transaction((events) => {
    for (const e of events) insertOne(e);
  });

  const byAggregate = db.prepare('SELECT * FROM events WHERE aggregate_id = ? ORDER BY sequence');
  const byType = db.prepare('SELECT * FROM events WHERE type = ? AND sequence > ? ORDER BY sequence LIMIT ?');
  const inRange = db.prepare('SELECT * FROM events WHERE timestamp >= ? AND timestamp < ? ORDER BY sequence');
  const byAggregateType = db.prepare(
    'SELECT * FROM events WHERE aggregate_id = ? AND type = ? ORDER BY sequence',
  );
  const byTag = db.prepare(
    "SELECT * FROM events WHERE json_extract(tags, '$.issueId') = ? AND sequence > ? ORDER BY sequence LIMIT ?",
  );
  const all = (stmt, ...args) => stmt.all(...args).map(hydrate);
  // Prepared on first use: an expression index must exist before the statement that should use it.
  const lazy = (sql) => {
    let stmt;
    return (...args) => all((stmt ??= db.prepare(sql)), ...args);
  };
  const byCustomer = lazy(`SELECT * FROM events WHERE ${CUSTOMER} = ? ORDER BY sequence`);
  const byTenantAmount = lazy(
    `SELECT * FROM events WHERE ${TENANT} = ? AND ${AMOUNT} BETWEEN ? AND ? ORDER BY sequence`,
  );
  const byAmount = lazy(`SELECT * FROM events WHERE ${AMOUNT} BETWEEN ? AND ? ORDER BY sequence`);
  const queryPlan = (sql) =>
    db
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all()
      .map((r) => r.detail)
      .join('; ');

  return {
    name: `sqlite (WAL, ${synchronous})`,
    db,
    append: async (events) => insertMany(events),
    appendOne: async (event) => insertOne(event),
    getEvents: async ({ aggregateId }) => all(byAggregate, aggregateId),
    getEventsByType: async ({ type, afterSequence, limit }) => all(byType, type, afterSequence, limit),
    getEventsInRange: async ({ start, end }) => all(inRange, toDate(start), toDate(end)),
    queryAggregateType: async ({ aggregateId, type }) => all(byAggregateType, aggregateId, type),
    queryTag: async ({ key, value, afterSequence, limit }) => {
      if (key !== 'issueId') throw new Error(`sqlite engine indexes only the issueId tag, not ${key}`);
      return all(byTag, value, afterSequence, limit);
    },

    // The indexes suite.
    createUserIndexes: async () => {
      for (const sql of Object.values(SQLITE_USER_INDEXES)) db.exec(sql);
    },
    dropUserIndexes: async () => {
      for (const name of Object.keys(SQLITE_USER_INDEXES)) db.exec(`DROP INDEX IF EXISTS ${name}`);
    },
    customer: async ({ customer }) => byCustomer(customer),
    tenantAmount: async ({ tenant, low, high }) => byTenantAmount(tenant, low, high),
    amountRange: async ({ low, high }) => byAmount(low, high),
    /** Compiles (parses and plans) a new statement, with a new constant each time, without running it. */
    planCustomer: async ({ customer }) => {
      db.prepare(`SELECT * FROM events WHERE ${CUSTOMER} = ${sqlString(customer)} ORDER BY sequence`);
      return [];
    },
    planTenantAmount: async ({ tenant, low, high }) => {
      db.prepare(
        `SELECT * FROM events WHERE ${TENANT} = ${sqlString(tenant)} AND ${AMOUNT} BETWEEN ${low} AND ${high} ORDER BY sequence`,
      );
      return [];
    },
    plans: async (sample) => ({
      eq: queryPlan(
        `SELECT * FROM events WHERE ${CUSTOMER} = ${sqlString(sample.customer.customer)} ORDER BY sequence`,
      ),
      composite: queryPlan(
        `SELECT * FROM events WHERE ${TENANT} = ${sqlString(sample.composite.tenant)} AND ${AMOUNT} BETWEEN ${sample.composite.low} AND ${sample.composite.high} ORDER BY sequence`,
      ),
      range: queryPlan(
        `SELECT * FROM events WHERE ${AMOUNT} BETWEEN ${sample.range.low} AND ${sample.range.high} ORDER BY sequence`,
      ),
    }),
    count: () => db.prepare('SELECT count(*) n FROM events').get().n,
    flush: async () => void db.pragma('wal_checkpoint(PASSIVE)'),
    close: async () => db.close(),
  };
}
