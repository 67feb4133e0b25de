// better-sqlite3 as an event store: the table and indexes a careful developer would write.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(new URL('../peers/package.json', import.meta.url));

const SCHEMA = `
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
  CREATE INDEX IF NOT EXISTS events_aggregate ON events(aggregate_id);
  CREATE INDEX IF NOT EXISTS events_type ON events(type);
  CREATE INDEX IF NOT EXISTS events_timestamp ON events(timestamp);
  CREATE INDEX IF NOT EXISTS events_aggregate_type ON events(aggregate_id, type);
`;
// Not in the schema: without it a tag query is a table scan, which says nothing useful.
// Only the query suite adds it, so append numbers use the schema exactly.
const TAG_INDEX = `CREATE INDEX IF NOT EXISTS events_tag_issue ON events(json_extract(tags, '$.issueId'));`;

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
 * @param {{ dir: string, synchronous?: 'NORMAL' | 'FULL', tagIndex?: boolean }} options
 */
export function createSqlite({ dir, synchronous = 'NORMAL', tagIndex = false }) {
  const Database = require('better-sqlite3');
  const db = new Database(join(dir, 'events.db'));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('cache_size = -65536'); // 64 MiB page cache
  db.exec(SCHEMA);
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
    count: () => db.prepare('SELECT count(*) n FROM events').get().n,
    flush: async () => void db.pragma('wal_checkpoint(PASSIVE)'),
    close: async () => db.close(),
  };
}
