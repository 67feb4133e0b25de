// Restore into a live store: `store.restoreArchive(dir, { fromSequence, toSequence })` puts archived
// events back below the store's last sequence, between its live events (it rebuilds the log and the
// table; reads go on from the old table meanwhile, appends wait). Beside it, the same rows moved back
// with `INSERT INTO events SELECT * FROM events_archive WHERE sequence BETWEEN ...` in one transaction
// in better-sqlite3, PostgreSQL (127.0.0.1:5432, when reachable) and DuckDB.
//
// One store is built per run: N workload events, one cleanup at a ManualClock archives the oldest
// ~30% (by timestamp), N/10 more are appended, and a long retention keeps restored events visible.
// Each measurement copies it (store and archive; a sqlite file; a PostgreSQL database from a
// template; a DuckDB file) and opens the copy in a fresh process, which reads every 5 ms while the
// restore runs.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFile, cp, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearInterval, setInterval } from 'node:timers';
import { pathToFileURL } from 'node:url';
import { DIST, loadLibrary } from '../engines/tamma.mjs';
import { runTask } from '../lib/child.mjs';
import { dirBytes } from '../lib/dir-bytes.mjs';
import { gc } from '../lib/memory.mjs';
import {
  fmtCount,
  fmtMB,
  fmtNum,
  fmtRatio,
  fmtUs,
  percentile,
  ratio,
  summarize,
  textTable,
} from '../lib/stats.mjs';
import { STEP_MS, T0, TYPES, createWorkload } from '../lib/workload.mjs';

const SELF = import.meta.url;
const require = createRequire(new URL('../peers/package.json', import.meta.url));

/** Set after cleanup, so that the restored events (of 2025) stay visible by the system clock. */
const LONG_RETENTION = '3650d';
/** The read issued while a restore runs: the commonest type (~28% of events), the first 10 of it. */
const READ_TYPE = TYPES[0];
const READ_LIMIT = 10;
const BATCH = 1000;
/** Event-loop gaps longer than this are kept, with when they happened, to say where a block was. */
const GAP_MS = 20;

/** PostgreSQL: a database of our own, copied (as a template) for each measurement, dropped at the end. */
const PG_DATABASE = 'tamma_bench_restore';
const pgConfig = (database) => ({
  host: process.env.PGHOST ?? '127.0.0.1',
  port: Number(process.env.PGPORT ?? 5432),
  user: process.env.PGUSER ?? 'postgres',
  ...(process.env.PGPASSWORD ? { password: process.env.PGPASSWORD } : {}),
  database,
  connectionTimeoutMillis: 3_000,
});

// ---------------------------------------------------------------------------------------------
// The data: which events are archived, and the rows the peers hold

/**
 * The shape of a run's data: events [0, events) are appended, those whose timestamp is before
 * cutoffTime are archived by one cleanup, then [events, total) are appended (all after the cutoff).
 * Event i has sequence i + 1 in every engine.
 */
export function restoreShape(plan) {
  const events = plan.events;
  const total = events + Math.round(events * plan.extraFraction);
  const cutoffIndex = Math.round(events * plan.expireFraction);
  const cutoffTime = T0 + cutoffIndex * STEP_MS;
  // The store's clock follows the events as they are appended (a clock far behind them would refuse
  // them as from the future); at the end of the first load it stands at cutoffTime + maxAge, so the
  // one cleanup then archives exactly the events before cutoffTime.
  const maxAgeSeconds = Math.round(((events - cutoffIndex) * STEP_MS) / 1000);
  // The small range: smallRange sequences from the middle of the archived ones (all archived: every
  // event before cutoffIndex has a timestamp before cutoffTime, late ones only earlier).
  const from = Math.max(1, Math.floor(cutoffIndex / 2) - Math.floor(plan.smallRange / 2));
  return {
    events,
    total,
    cutoffIndex,
    cutoffTime,
    maxAge: `${maxAgeSeconds}s`,
    cleanupAt: cutoffTime + maxAgeSeconds * 1000,
    small: { fromSequence: from, toSequence: from + plan.smallRange - 1 },
  };
}

/** Archived (true) or live, by the workload's timestamp, for events [0, shape.total). */
function archivedFlags(workload, shape) {
  const flags = new Uint8Array(shape.total);
  for (let i = 0; i < shape.events; i++) flags[i] = workload.timestampOf(i) < shape.cutoffTime ? 1 : 0;
  return flags;
}

/** How many archived events fall in [fromSequence, toSequence], and how many are archived at all. */
function expectedCounts(workload, shape) {
  const flags = archivedFlags(workload, shape);
  let archived = 0;
  let small = 0;
  for (let i = 0; i < shape.total; i++) {
    if (!flags[i]) continue;
    archived++;
    if (i + 1 >= shape.small.fromSequence && i + 1 <= shape.small.toSequence) small++;
  }
  return { archived, live: shape.total - archived, small };
}

/** The peers' row of event i: the sqlite engine's columns, JSON as text. */
function rowOf(workload, i) {
  const e = workload.event(i);
  return [
    i + 1,
    randomUUID(),
    e.aggregateId,
    workload.versionOf(i),
    e.type,
    e.timestamp,
    JSON.stringify(e.tags),
    JSON.stringify(e.payload),
    JSON.stringify(e.metadata),
  ];
}

const COLUMNS = 'sequence, id, aggregate_id, version, type, timestamp, tags, payload, metadata';
/** The sqlite engine's four indexes (bench/engines/sqlite.mjs), the same in every peer. */
const INDEXES = [
  'CREATE INDEX events_aggregate ON events(aggregate_id)',
  'CREATE INDEX events_type ON events(type)',
  'CREATE INDEX events_timestamp ON events(timestamp)',
  'CREATE INDEX events_aggregate_type ON events(aggregate_id, type)',
];
const READ_SQL = (param) =>
  `SELECT ${COLUMNS} FROM events WHERE type = ${param} ORDER BY sequence LIMIT ${READ_LIMIT}`;
const RESTORE_SQL = (lo, hi) =>
  `INSERT INTO events SELECT ${COLUMNS} FROM events_archive WHERE sequence BETWEEN ${lo} AND ${hi}`;

const hydrate = (r) => ({
  sequence: Number(r.sequence),
  id: r.id,
  aggregateId: r.aggregate_id,
  version: r.version,
  type: r.type,
  timestamp: new Date(r.timestamp),
  tags: JSON.parse(r.tags),
  payload: JSON.parse(r.payload),
  metadata: JSON.parse(r.metadata),
});

// ---------------------------------------------------------------------------------------------
// Measuring in the child: reads on a schedule and the event loop, around one piece of work

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * Issues `read` every everyMs. Each slot is charged from its own due time (a read that waited
 * behind a blocked loop counts for every slot that fell due meanwhile), and each call alone.
 * stop() returns once a read that started after it has finished, so that slots that fell due
 * during a block are answered and counted.
 */
function startReads(read, everyMs) {
  const due = [];
  const call = [];
  let stopAt;
  let rows = 0;
  const t0 = performance.now();
  const loop = (async () => {
    for (let j = 0; ;) {
      await sleep(t0 + j * everyMs - performance.now());
      const s = performance.now();
      rows += (await read()).length;
      const e = performance.now();
      let last = j;
      while (t0 + (last + 1) * everyMs <= e) last++;
      // A timer may fire a little before its time (ms granularity): never less than the call.
      for (let k = j; k <= last; k++) due.push([Math.min(t0 + k * everyMs, s), e]);
      call.push([s, e]);
      j = last + 1;
      if (stopAt !== undefined && s >= stopAt) break;
    }
  })();
  return {
    stop: async () => {
      stopAt = performance.now();
      await loop;
      return { due, call, rows };
    },
  };
}

/** Latency summaries (µs) of the samples whose start (due time, or call start) is in [from, to). */
function within(samples, from, to) {
  const ns = [];
  for (const [s, e] of samples) if (s >= from && s < to) ns.push((e - s) * 1e6);
  return summarize(ns);
}

/**
 * Runs work() while reading on schedule and watching the event loop through a 1 ms timer (its
 * delays: p99, max; its gaps over GAP_MS, with their times). First idleMs of reads alone, for a
 * baseline (after a few reads for the JIT's warm-up).
 */
async function measure(work, read, { readEveryMs, idleMs }) {
  for (let k = 0; k < 20; k++) await read(); // first calls: statement preparation, JIT
  gc(); // what opening left behind
  const idleReads = startReads(read, readEveryMs);
  const idleFrom = performance.now();
  await sleep(idleMs);
  const idle = await idleReads.stop();
  const idleTo = performance.now();

  // A 1 ms timer's delays (each gap less its period): the event loop's delays, as
  // monitorEventLoopDelay would record them (which, here, now and then missed a whole synchronous
  // 300 ms statement). Gaps over GAP_MS are kept with their times, to say where a block was.
  const delays = [];
  const gaps = [];
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    delays.push(Math.max(0, now - last - 1));
    if (now - last > GAP_MS + 1) gaps.push({ from: last, to: now, ms: now - last - 1 });
    last = now;
  }, 1);
  const reads = startReads(read, readEveryMs);
  await sleep(20); // the timers running before the work starts
  const delaysFrom = delays.length;
  const t0 = performance.now();
  const result = await work();
  const t1 = performance.now();
  const rssAfter = process.memoryUsage().rss;
  const served = await reads.stop();
  clearInterval(ticker);
  const end = performance.now();
  if (end - last > GAP_MS + 1) gaps.push({ from: last, to: end, ms: end - last - 1 });
  delays.push(Math.max(0, end - last - 1));
  const during = Float64Array.from(delays.slice(delaysFrom)).sort();
  return {
    result,
    t0,
    wallMs: t1 - t0,
    rssAfter,
    maxRss: process.resourceUsage().maxRSS * 1024,
    loop: {
      p99Ms: percentile(during, 99),
      maxMs: during.length ? during[during.length - 1] : NaN,
      // The ticker's view: gaps that overlap the work, in ms from its start.
      gaps: gaps.filter((g) => g.to > t0 && g.from < t1).map((g) => ({ atMs: g.from - t0, ms: g.ms })),
    },
    reads: {
      during: within(served.due, t0, t1),
      callDuring: within(served.call, t0, t1),
      idle: within(idle.due, idleFrom, idleTo),
      rows: served.rows,
    },
  };
}

/** The longest gaps (up to 3), each with the restore phases it overlaps (phases: [name, from, to] in ms). */
function longestGaps(gaps, phases) {
  return [...gaps]
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 3)
    .map((g) => {
      // Overlapping by more than 2 ms: a block ends with the timer's late tick, just past a mark.
      const over = phases.filter(([, from, to]) => Math.min(to, g.atMs + g.ms) - Math.max(from, g.atMs) > 2);
      return { ...g, phase: over.map(([name]) => name).join(' + ') || undefined };
    });
}

// ---------------------------------------------------------------------------------------------
// Child tasks

async function readManifestOf(archiveDir) {
  const { readManifest } = await import(pathToFileURL(join(dirname(DIST), 'retention', 'archive.js')).href);
  return readManifest(archiveDir);
}

export const tasks = {
  /** Builds the tamma store: load, one cleanup at the cutoff (archiving), more appends, long retention. */
  async tammaBuild({ dir, archiveDir, plan, seed }, ctx) {
    const { openEventStore, ManualClock } = await loadLibrary();
    const shape = restoreShape(plan);
    const workload = createWorkload(seed);
    const clock = new ManualClock(T0);
    const store = await openEventStore({
      dir,
      fsync: 'batch',
      clock,
      retention: { maxAge: shape.maxAge, archive: { dir: archiveDir }, schedule: false },
    });
    const load = async (from, to, cap) => {
      for (let i = from; i < to; i += BATCH) {
        const count = Math.min(BATCH, to - i);
        // The clock at the batch's last event time (never back), as if the events arrived live.
        clock.set(Math.max(clock.now(), Math.min(T0 + (i + count) * STEP_MS, cap)));
        await store.append(workload.batch(i, count));
      }
    };
    const t = performance.now();
    await load(0, shape.events, shape.cleanupAt);
    const loadMs = performance.now() - t;
    ctx.progress(`restore: tamma loaded ${fmtCount(shape.events)} events in ${fmtNum(loadMs / 1000, 1)} s`);
    clock.set(shape.cleanupAt);
    const cleanup = await store.cleanup();
    await load(shape.events, shape.total, Infinity);
    store.setRetention({ maxAge: LONG_RETENTION, archive: { dir: archiveDir }, schedule: false });
    const stats = store.stats();
    await store.close();
    const manifest = await readManifestOf(archiveDir);
    return {
      loadMs,
      cleanup: {
        durationMs: cleanup.durationMs,
        removed: cleanup.removed,
        archived: cleanup.archived,
        archiveFile: cleanup.archiveFile,
      },
      live: stats.events,
      lastSequence: stats.lastSequence,
      storeBytes: await dirBytes(dir),
      archiveBytes: await dirBytes(archiveDir),
      archiveFiles: manifest.length,
      archivedInManifest: manifest.reduce((n, e) => n + e.events, 0),
    };
  },

  /** Opens a copy of the store and restores a range (or everything) while reading every few ms. */
  async tammaRestore({ dir, archiveDir, range, plan, cpuProfileDir }) {
    const { openEventStore } = await loadLibrary();
    const t = performance.now();
    const store = await openEventStore({
      dir,
      fsync: 'batch',
      retention: { maxAge: LONG_RETENTION, archive: { dir: archiveDir }, schedule: false },
    });
    const openMs = performance.now() - t;
    const liveBefore = store.stats().events;
    const rssBefore = process.memoryUsage().rss;
    const marks = {};
    const onProgress = (p) => {
      const now = performance.now();
      if (p.phase === 'reading') marks.read = now;
      else {
        marks.rebuildFirst ??= now;
        marks.rebuildLast = now;
      }
    };
    const profiler = cpuProfileDir ? await startProfiler() : undefined;
    let profile;
    const m = await measure(
      async () => {
        await profiler?.start();
        const restored = await store.restoreArchive(archiveDir, { ...range, onProgress });
        profile = await profiler?.stop();
        return restored;
      },
      () => store.queryEvents({ type: READ_TYPE, limit: READ_LIMIT }),
      { readEveryMs: plan.readEveryMs, idleMs: plan.idleReadMs },
    );
    const profilePath = profile ? await saveProfile(profile, cpuProfileDir, range) : undefined;
    const report = m.result;
    const liveAfter = store.stats().events;
    // Phases, in ms from the call: reading the archive (read and gunzip off the main thread, frames
    // checked in slices), the first slice (until the rebuild's first progress: staging, ~8 ms of events),
    // rebuilding, and finishing, after its last progress (version check, fsync, swap, wiring the
    // new table, checkpoint).
    const at = (x) => (x === undefined ? undefined : x - m.t0);
    const phases = [];
    const points = [
      ['reading the archive', 0],
      ['first slice', at(marks.read)],
      ['rebuilding', at(marks.rebuildFirst)],
      ['finishing', at(marks.rebuildLast)],
    ].filter(([, x]) => x !== undefined);
    points.forEach(([name, from], k) => phases.push([name, from, points[k + 1]?.[1] ?? m.wallMs + 1]));
    await store.close();
    return {
      engine: 'tamma',
      openMs,
      liveBefore,
      liveAfter,
      rssBefore,
      restored: report.restored,
      report,
      ok: liveAfter === liveBefore + report.restored,
      wallMs: m.wallMs,
      rssAfter: m.rssAfter,
      maxRss: m.maxRss,
      loop: { ...m.loop, longest: longestGaps(m.loop.gaps, phases) },
      phases: phases.map(([name, from, to]) => ({ name, ms: Math.min(to, m.wallMs) - from })),
      reads: m.reads,
      profile: profilePath,
    };
  },

  /** The sqlite peer: events (live rows, the engine's indexes) and events_archive, in one file. */
  async sqliteBuild({ file, plan, seed }) {
    const Database = require('better-sqlite3');
    const shape = restoreShape(plan);
    const workload = createWorkload(seed);
    const flags = archivedFlags(workload, shape);
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('cache_size = -65536');
    for (const table of ['events', 'events_archive'])
      db.exec(`CREATE TABLE ${table} (sequence INTEGER PRIMARY KEY, id TEXT NOT NULL, aggregate_id TEXT NOT NULL,
        version INTEGER NOT NULL, type TEXT NOT NULL, timestamp REAL NOT NULL, tags TEXT NOT NULL,
        payload TEXT NOT NULL, metadata TEXT NOT NULL)`);
    const insert = ['events', 'events_archive'].map((table) =>
      db.prepare(`INSERT INTO ${table} (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    );
    const t = performance.now();
    const load = db.transaction((from, to) => {
      for (let i = from; i < to; i++) insert[flags[i]].run(...rowOf(workload, i));
    });
    for (let i = 0; i < shape.total; i += 10_000) load(i, Math.min(shape.total, i + 10_000));
    for (const sql of INDEXES) db.exec(sql);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    return { loadMs: performance.now() - t, bytes: (await stat(file)).size };
  },

  async sqliteRestore({ file, range, plan }) {
    const Database = require('better-sqlite3');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    // FULL: durable at commit, as tamma's restore is when it returns (it fsyncs the new log).
    db.pragma('synchronous = FULL');
    db.pragma('cache_size = -65536');
    const count = db.prepare('SELECT count(*) n FROM events');
    const liveBefore = count.get().n;
    const read = db.prepare(READ_SQL('?'));
    const { lo, hi } = sqlRange(range);
    const restore = db.transaction(() => db.prepare(RESTORE_SQL('?', '?')).run(lo, hi).changes);
    const m = await measure(
      async () => restore(),
      async () => read.all(READ_TYPE).map(hydrate),
      { readEveryMs: plan.readEveryMs, idleMs: plan.idleReadMs },
    );
    const liveAfter = count.get().n;
    db.close();
    return peerResult('sqlite', liveBefore, liveAfter, m);
  },

  /** The DuckDB peer: the same two tables, with the sqlite engine's indexes (ART) and primary keys. */
  async duckdbBuild({ file, plan, seed }) {
    const { DuckDBInstance, DuckDBDataChunk, BIGINT, INTEGER, VARCHAR, DOUBLE } = require('@duckdb/node-api');
    const shape = restoreShape(plan);
    const workload = createWorkload(seed);
    const flags = archivedFlags(workload, shape);
    const instance = await DuckDBInstance.create(file);
    const con = await instance.connect();
    const table = (name) => `CREATE TABLE ${name} (sequence BIGINT PRIMARY KEY, id VARCHAR NOT NULL,
      aggregate_id VARCHAR NOT NULL, version INTEGER NOT NULL, type VARCHAR NOT NULL, timestamp DOUBLE NOT NULL,
      tags VARCHAR NOT NULL, payload VARCHAR NOT NULL, metadata VARCHAR NOT NULL)`;
    await con.run(table('events'));
    await con.run(table('events_archive'));
    const TYPES_ = [BIGINT, VARCHAR, VARCHAR, INTEGER, VARCHAR, DOUBLE, VARCHAR, VARCHAR, VARCHAR];
    const appenders = [await con.createAppender('events'), await con.createAppender('events_archive')];
    const t = performance.now();
    const CHUNK = 2048;
    const pending = [[], []];
    const flush = (k) => {
      const rows = pending[k];
      if (rows.length === 0) return;
      const columns = TYPES_.map((_, c) => rows.map((r) => (c === 0 ? BigInt(r[0]) : r[c])));
      const chunk = DuckDBDataChunk.create(TYPES_, rows.length);
      chunk.setColumns(columns);
      appenders[k].appendDataChunk(chunk);
      pending[k] = [];
    };
    for (let i = 0; i < shape.total; i++) {
      const k = flags[i];
      pending[k].push(rowOf(workload, i));
      if (pending[k].length === CHUNK) flush(k);
    }
    flush(0);
    flush(1);
    for (const a of appenders) a.closeSync();
    for (const sql of INDEXES) await con.run(sql);
    await con.run('CHECKPOINT');
    con.closeSync();
    instance.closeSync();
    return { loadMs: performance.now() - t, bytes: (await stat(file)).size };
  },

  async duckdbRestore({ file, range, plan }) {
    const { DuckDBInstance } = require('@duckdb/node-api');
    const instance = await DuckDBInstance.create(file);
    const writer = await instance.connect();
    const reader = await instance.connect();
    const rows = async (con, sql) => (await con.runAndReadAll(sql)).getRowObjects();
    const count = async () => Number((await rows(writer, 'SELECT count(*) n FROM events'))[0].n);
    const liveBefore = await count();
    const read = await reader.prepare(READ_SQL('$1'));
    const { lo, hi } = sqlRange(range);
    const m = await measure(
      async () => {
        await writer.run('BEGIN TRANSACTION');
        const r = await writer.run(RESTORE_SQL(lo, hi));
        await writer.run('COMMIT');
        return Number(r.rowsChanged);
      },
      async () => {
        read.bindVarchar(1, READ_TYPE);
        return (await read.runAndReadAll()).getRowObjects().map(hydrate);
      },
      { readEveryMs: plan.readEveryMs, idleMs: plan.idleReadMs },
    );
    const liveAfter = await count();
    read.destroySync();
    reader.closeSync();
    writer.closeSync();
    instance.closeSync();
    return peerResult('duckdb', liveBefore, liveAfter, m);
  },

  /** PostgreSQL: the two tables in database `database` (created by the parent), loaded in batches. */
  async pgBuild({ database, plan, seed }) {
    const { Client } = require('pg');
    const shape = restoreShape(plan);
    const workload = createWorkload(seed);
    const flags = archivedFlags(workload, shape);
    const client = new Client(pgConfig(database));
    await client.connect();
    for (const table of ['events', 'events_archive'])
      await client.query(`CREATE TABLE ${table} (sequence BIGINT PRIMARY KEY, id TEXT NOT NULL,
        aggregate_id TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL,
        timestamp DOUBLE PRECISION NOT NULL, tags TEXT NOT NULL, payload TEXT NOT NULL, metadata TEXT NOT NULL)`);
    const t = performance.now();
    const insert = (table) =>
      `INSERT INTO ${table} (${COLUMNS}) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[],
        $4::int[], $5::text[], $6::float8[], $7::text[], $8::text[], $9::text[])`;
    const BATCH_ROWS = 10_000;
    const pending = [[], []];
    const flush = async (k) => {
      const batch = pending[k];
      if (batch.length === 0) return;
      const columns = Array.from({ length: 9 }, (_, c) => batch.map((r) => r[c]));
      await client.query(insert(k ? 'events_archive' : 'events'), columns);
      pending[k] = [];
    };
    for (let i = 0; i < shape.total; i++) {
      const k = flags[i];
      pending[k].push(rowOf(workload, i));
      if (pending[k].length === BATCH_ROWS) await flush(k);
    }
    await flush(0);
    await flush(1);
    for (const sql of INDEXES) await client.query(sql);
    await client.query('VACUUM ANALYZE events');
    await client.query('VACUUM ANALYZE events_archive');
    const { rows } = await client.query('SELECT pg_database_size(current_database()) AS bytes');
    await client.end();
    return { loadMs: performance.now() - t, bytes: Number(rows[0].bytes) };
  },

  async pgRestore({ database, range, plan }) {
    const { Client } = require('pg');
    const writer = new Client(pgConfig(database));
    const reader = new Client(pgConfig(database));
    await writer.connect();
    await reader.connect();
    const count = async () => Number((await writer.query('SELECT count(*) n FROM events')).rows[0].n);
    const liveBefore = await count();
    const { lo, hi } = sqlRange(range);
    const read = { name: 'read', text: READ_SQL('$1'), values: [READ_TYPE] };
    const m = await measure(
      async () => {
        await writer.query('BEGIN');
        const r = await writer.query(RESTORE_SQL('$1', '$2'), [lo, hi]);
        await writer.query('COMMIT');
        return r.rowCount;
      },
      async () => (await reader.query(read)).rows.map(hydrate),
      { readEveryMs: plan.readEveryMs, idleMs: plan.idleReadMs },
    );
    const liveAfter = await count();
    await writer.end();
    await reader.end();
    // The server does the work: this process's RSS says nothing about it.
    return { ...peerResult('postgres', liveBefore, liveAfter, m), rssAfter: undefined, maxRss: undefined };
  },
};

const sqlRange = (range) => ({
  lo: range.fromSequence ?? 0,
  hi: range.toSequence ?? Number.MAX_SAFE_INTEGER,
});

function peerResult(engine, liveBefore, liveAfter, m) {
  return {
    engine,
    liveBefore,
    liveAfter,
    restored: m.result,
    ok: liveAfter === liveBefore + m.result,
    wallMs: m.wallMs,
    rssAfter: m.rssAfter,
    maxRss: m.maxRss,
    loop: { ...m.loop, longest: longestGaps(m.loop.gaps, []) },
    reads: m.reads,
  };
}

/** A CPU profile of the restore alone, taken in-process through the inspector (no --cpu-prof). */
async function startProfiler() {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  return {
    start: () => session.post('Profiler.start'),
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      return profile;
    },
  };
}

async function saveProfile(profile, dir, range) {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `restore-${range.fromSequence ? 'small' : 'all'}-${process.pid}.cpuprofile`);
  await writeFile(path, JSON.stringify(profile));
  return path;
}

// ---------------------------------------------------------------------------------------------
// The parent: build once, then measure copies in fresh processes

async function pgAdmin() {
  let pg;
  try {
    pg = require('pg');
  } catch (error) {
    return { error: `the pg package is not installed in bench/peers (${error.message.split('\n')[0]})` };
  }
  const client = new pg.Client(pgConfig('postgres'));
  try {
    await client.connect();
    return { client };
  } catch (error) {
    await client.end().catch(() => undefined);
    const { host, port } = pgConfig('postgres');
    return { error: `PostgreSQL unreachable at ${host}:${port} (${error.message})` };
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run(ctx) {
  const plan = ctx.plan.restore;
  const shape = restoreShape(plan);
  const expected = expectedCounts(createWorkload(ctx.seed), shape);
  const base = join(ctx.tmp, 'restore');
  const master = { dir: join(base, 'tamma', 'store'), archiveDir: join(base, 'tamma', 'archive') };
  await mkdir(master.dir, { recursive: true });
  const cpuProfileDir = process.env.TAMMA_BENCH_CPU_PROF || undefined;
  const skipped = {};
  const builds = {};
  let admin = {};
  try {
    const sqliteFile = join(base, 'sqlite', 'events.db');
    const duckFile = join(base, 'duckdb', 'events.duckdb');
    await mkdir(dirname(sqliteFile), { recursive: true });
    await mkdir(dirname(duckFile), { recursive: true });
    admin = await pgAdmin();
    if (admin.error) {
      skipped.postgres = admin.error;
      ctx.log(`restore: !!! PostgreSQL SKIPPED: ${admin.error} !!!`);
    }
    // The builds are not measured: two at a time (PostgreSQL's is mostly the server's work).
    const local = async () => {
      ctx.log(
        `restore: building a tamma store of ${fmtCount(shape.events)} events, archiving the oldest ` +
          `~${Math.round(plan.expireFraction * 100)}%, then ${fmtCount(shape.total - shape.events)} more`,
      );
      builds.tamma = await runTask(
        SELF,
        'tammaBuild',
        { ...master, plan, seed: ctx.seed },
        { onProgress: ctx.log },
      );
      ctx.log(`restore: building the sqlite peer (${fmtNum(shape.total)} rows)`);
      builds.sqlite = await runTask(SELF, 'sqliteBuild', { file: sqliteFile, plan, seed: ctx.seed });
      ctx.log(`restore: building the DuckDB peer`);
      try {
        builds.duckdb = await runTask(SELF, 'duckdbBuild', { file: duckFile, plan, seed: ctx.seed });
      } catch (error) {
        skipped.duckdb = `build failed: ${error.message.split('\n')[0]}`;
        ctx.log(`restore: DuckDB SKIPPED: ${skipped.duckdb}`);
      }
    };
    const postgres = async () => {
      if (!admin.client) return;
      ctx.log(`restore: building the PostgreSQL peer (database ${PG_DATABASE})`);
      try {
        await admin.client.query(`DROP DATABASE IF EXISTS ${PG_DATABASE}_m`);
        await admin.client.query(`DROP DATABASE IF EXISTS ${PG_DATABASE}`);
        await admin.client.query(`CREATE DATABASE ${PG_DATABASE}`);
        builds.postgres = await runTask(SELF, 'pgBuild', { database: PG_DATABASE, plan, seed: ctx.seed });
        ctx.log(`restore: PostgreSQL peer built in ${fmtNum(builds.postgres.loadMs / 1000, 1)} s`);
      } catch (error) {
        skipped.postgres = `build failed: ${error.message.split('\n')[0]}`;
        ctx.log(`restore: !!! PostgreSQL SKIPPED: ${skipped.postgres} !!!`);
      }
    };
    await Promise.all([local(), postgres()]);
    const b = builds.tamma;
    if (b.cleanup.archived !== expected.archived || b.live !== expected.live)
      throw new Error(
        `restore: the store archived ${b.cleanup.archived} and holds ${b.live}; expected ${expected.archived} and ${expected.live}`,
      );

    const engines = ['tamma', 'sqlite', 'duckdb', 'postgres'].filter((e) => builds[e]);
    /**
     * Before each measurement: PostgreSQL's dirty buffers and then the OS's dirty pages (the copies
     * just made, a database just dropped) are written out, so that no measurement pays for the
     * writeback of another's (the restores fsync; a copy of several hundred MiB would be in the way).
     */
    const quiet = async () => {
      await admin.client?.query('CHECKPOINT').catch(() => undefined);
      spawnSync('sync');
    };
    /** One measurement on a fresh copy, in a fresh process. */
    const once = async (engine, range) => {
      const copy = join(base, `${engine}-copy`);
      await rm(copy, { recursive: true, force: true });
      try {
        if (engine === 'tamma') {
          await cp(master.dir, join(copy, 'store'), { recursive: true });
          await cp(master.archiveDir, join(copy, 'archive'), { recursive: true });
          await quiet();
          return await runTask(SELF, 'tammaRestore', {
            dir: join(copy, 'store'),
            archiveDir: join(copy, 'archive'),
            range,
            plan,
            cpuProfileDir,
          });
        }
        if (engine === 'sqlite' || engine === 'duckdb') {
          const from = engine === 'sqlite' ? sqliteFile : duckFile;
          const file = join(copy, engine === 'sqlite' ? 'events.db' : 'events.duckdb');
          await mkdir(copy, { recursive: true });
          await copyFile(from, file);
          await quiet();
          return await runTask(SELF, `${engine}Restore`, { file, range, plan });
        }
        const name = `${PG_DATABASE}_m`;
        await admin.client.query(`DROP DATABASE IF EXISTS ${name}`);
        await admin.client.query(`CREATE DATABASE ${name} TEMPLATE ${PG_DATABASE} STRATEGY FILE_COPY`);
        await quiet();
        try {
          return await runTask(SELF, 'pgRestore', { database: name, range, plan });
        } finally {
          await admin.client.query(`DROP DATABASE IF EXISTS ${name}`);
        }
      } catch (error) {
        ctx.log(`restore: ${engine} failed: ${error.stack ?? error}`);
        return { engine, error: String(error.message ?? error) };
      } finally {
        await rm(copy, { recursive: true, force: true });
      }
    };

    const ranges = [
      {
        id: 'small',
        label: `${fmtCount(plan.smallRange)} from the middle`,
        range: shape.small,
        repeats: plan.smallRepeats,
        expected: expected.small,
      },
      { id: 'all', label: 'everything archived', range: {}, repeats: 1, expected: expected.archived },
    ];
    const results = [];
    for (const r of ranges) {
      const runs = Object.fromEntries(engines.map((e) => [e, []]));
      // Interleaved, so that a noisy moment of the shared machine does not fall on one engine only.
      for (let k = 0; k < r.repeats; k++) {
        for (const engine of engines) {
          ctx.log(`restore: ${r.label}, ${engine}${r.repeats > 1 ? ` (${k + 1}/${r.repeats})` : ''}`);
          const m = await once(engine, r.range);
          if (!m.error && m.restored !== r.expected)
            m.check = `restored ${m.restored}, expected ${r.expected}`;
          runs[engine].push(m);
        }
      }
      results.push({ id: r.id, label: r.label, range: r.range, expected: r.expected, runs });
    }
    return { plan, shape, expected, builds, skipped, results };
  } finally {
    if (admin.client) {
      await admin.client.query(`DROP DATABASE IF EXISTS ${PG_DATABASE}_m`).catch(() => undefined);
      await admin.client.query(`DROP DATABASE IF EXISTS ${PG_DATABASE}`).catch(() => undefined);
      await admin.client.end();
    }
    if (!ctx.keep) await rm(base, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The report

/** The run whose wall time is the median (the middle one of an odd count). */
function medianRun(runs) {
  const ok = runs.filter((m) => !m.error);
  if (ok.length === 0) return runs[0];
  const mid = median(ok.map((m) => m.wallMs));
  return ok.find((m) => m.wallMs === mid);
}

const ms = (v) => (v === undefined || Number.isNaN(v) ? '—' : v < 10 ? v.toFixed(1) : fmtNum(v));

export function report(section) {
  const { shape, expected, builds, skipped, results, plan } = section;
  const b = builds.tamma;
  const out = [];
  out.push(
    `A store of ${fmtNum(shape.total)} workload events: ${fmtCount(shape.events)} appended, one cleanup ` +
      `(maxAge ${shape.maxAge} at a ManualClock following the events) archived ${fmtNum(b.cleanup.archived)} (the oldest by timestamp) ` +
      `in ${fmtNum(b.cleanup.durationMs)} ms, then ${fmtCount(shape.total - shape.events)} more; ` +
      `${fmtNum(b.live)} live, store ${fmtMB(b.storeBytes)} MiB, archive ${fmtMB(b.archiveBytes)} MiB ` +
      `in ${b.archiveFiles} file${b.archiveFiles === 1 ? '' : 's'}; retention then ${LONG_RETENTION}.`,
  );
  out.push(
    `Peers: the same rows (sqlite engine's table, JSON as text) split into events (live, PK + the 4 ` +
      `indexes) and events_archive; INSERT INTO events SELECT * FROM events_archive WHERE sequence ` +
      `BETWEEN ... in one transaction (sqlite: WAL, synchronous=FULL). Each measurement: a fresh copy, ` +
      `a fresh process. Reads every ${plan.readEveryMs} ms meanwhile: queryEvents({ type: '${READ_TYPE}', ` +
      `limit: ${READ_LIMIT} }) / SELECT ... WHERE type = ? ORDER BY sequence LIMIT ${READ_LIMIT}.`,
  );
  for (const [engine, why] of Object.entries(skipped ?? {})) out.push(`!!! ${engine} SKIPPED: ${why} !!!`);

  const rows = [];
  const loopRows = [];
  for (const r of results) {
    const tamma = medianRun(r.runs.tamma ?? []);
    for (const [engine, runs] of Object.entries(r.runs)) {
      const m = medianRun(runs);
      const label = `${r.id === 'small' ? 'small' : 'all'}: ${engine}`;
      if (m.error) {
        rows.push([label, `FAILED: ${m.error.slice(0, 80)}`]);
        continue;
      }
      const walls = runs.filter((x) => !x.error).map((x) => x.wallMs);
      rows.push([
        label,
        fmtNum(m.restored),
        `${fmtNum(m.liveBefore)} → ${fmtNum(m.liveAfter)}`,
        walls.length > 1 ? `${ms(m.wallMs)} (${walls.map(ms).join(', ')})` : ms(m.wallMs),
        fmtNum(m.restored / (m.wallMs / 1000)),
        engine === 'tamma' ? '' : fmtRatio(ratio(tamma?.wallMs, m.wallMs)),
        fmtMB(m.rssAfter),
        fmtMB(m.maxRss),
        m.ok && !m.check ? 'ok' : `WRONG ${m.check ?? 'count'}`,
        engine === 'tamma'
          ? `alreadyLive ${m.report.alreadyLive}, ofDeletedStreams ${m.report.ofDeletedStreams}, hidden ${m.report.hiddenByRetention}`
          : '',
      ]);
      const L = m.reads;
      loopRows.push([
        label,
        ms(m.loop.maxMs),
        ms(m.loop.p99Ms),
        fmtNum(L.during.n),
        fmtUs(L.during.p50),
        fmtUs(L.during.p99),
        fmtUs(L.during.max),
        fmtUs(L.callDuring.p99),
        fmtUs(L.idle.p99),
        m.loop.longest.length
          ? m.loop.longest.map((g) => `${ms(g.ms)} at ${ms(Math.max(0, g.atMs))}`).join(', ')
          : 'none over 20 ms',
      ]);
    }
  }
  out.push('');
  out.push(
    textTable(
      [
        'range: engine',
        'restored',
        'live before → after',
        'wall ms (runs)',
        'events/s',
        'tamma ÷ peer',
        'RSS after',
        'peak RSS',
        'check',
        'report',
      ],
      rows,
    ),
  );
  out.push(
    `  small: sequences ${fmtNum(shape.small.fromSequence)}-${fmtNum(shape.small.toSequence)} (${fmtNum(expected.small)} archived), ` +
      `median of ${plan.smallRepeats}; all: ${fmtNum(expected.archived)} archived events, once. tamma ÷ peer: wall time ` +
      `(>1: tamma slower). RSS in MiB, of the measuring process (PostgreSQL: the server's, not shown).`,
  );
  out.push('');
  out.push(
    textTable(
      [
        'range: engine',
        'loop max ms',
        'loop p99 ms',
        'reads',
        'read p50 µs',
        'read p99 µs',
        'read max µs',
        'call p99 µs',
        'idle p99 µs',
        'longest blocks: ms at ms from the call',
      ],
      loopRows,
    ),
  );
  out.push(
    `  Event loop during the restore: the delays of a 1 ms timer (p99, max). Reads: latency from each slot's due ` +
      `time (a slot that fell due while the loop was blocked is charged the wait), the call alone (—: no read started ` +
      `while the restore ran), and ${fmtNum(plan.idleReadMs / 1000)} s idle before. Blocks: a 1 ms timer's gaps over ${GAP_MS} ms.`,
  );
  const phaseLines = [];
  for (const r of results) {
    const m = medianRun(r.runs.tamma ?? []);
    if (!m || m.error || !m.phases) continue;
    phaseLines.push(
      `  tamma ${r.id}: open ${ms(m.openMs)} ms; restore phases: ${m.phases.map((p) => `${p.name} ${ms(p.ms)} ms`).join(', ')}; ` +
        `longest blocks in: ${m.loop.longest.map((g) => `${ms(g.ms)} ms (${g.phase ?? '?'})`).join(', ') || 'none'}` +
        (m.profile ? `; CPU profile ${m.profile}` : ''),
    );
  }
  if (phaseLines.length)
    out.push(
      '',
      ...phaseLines,
      '  (reading the archive: every file the range touches read and decompressed off the main thread, its ' +
        "frames checked in slices; first slice: until the rebuild's first progress, about 8 ms of events; " +
        'rebuilding: the other slices; finishing: version check, fsync, swap, wiring the new table, checkpoint)',
    );
  const peerBuilds = ['sqlite', 'duckdb', 'postgres']
    .filter((e) => builds[e])
    .map((e) => `${e} ${fmtNum(builds[e].loadMs / 1000, 1)} s (${fmtMB(builds[e].bytes)} MiB)`);
  out.push(`  builds: tamma load ${fmtNum(b.loadMs / 1000, 1)} s; ${peerBuilds.join(', ')}`);
  return out.join('\n');
}
