// The analytics engine (issue 16, part 12) against DuckDB on the same rows: bucketed and grouped
// aggregates, exact and approximate percentiles, A-followed-by-B and A-not-followed-by-B patterns,
// a 20-step funnel, Parquet export and the first extraction of a payload field column.
//
// One child process per engine generates the same events (bench/lib/analytics-workload.mjs), loads
// them (tamma: an in-memory store through the built library's public API; DuckDB: an in-memory table
// with typed columns), and only then times each query: `warmup` untimed runs, then `runs` timed ones
// (fewer once a query's time budget is spent, at least MIN_RUNS; the table says how many). Every query
// returns its answer to the parent, which compares tamma's with DuckDB's row by row: a mismatch is
// printed loudly, since a fast wrong answer is worthless.
//
// The tamma side is written against the issue's API (the contract). A query whose API is not in the
// build yet is reported as such (the error it raised), and DuckDB's side still runs.
import { rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { clearInterval, setInterval } from 'node:timers';
import { join } from 'node:path';
import { loadLibrary } from '../engines/tamma.mjs';
import { runTask } from '../lib/child.mjs';
import { fmtCount, fmtMB, fmtNum, fmtRatio, ratio, summarize, textTable } from '../lib/stats.mjs';
import {
  PATTERN_A,
  PATTERN_B,
  SPAN_MS,
  STEPS,
  chunkEvents,
  generateAnalytics,
} from '../lib/analytics-workload.mjs';

const SELF = import.meta.url;
const MiB = 1024 * 1024;
const MIN_RUNS = 3; // a query whose time budget is spent stops at this many timed runs (and says so)
const LOAD_BATCH = 16_384;
/** Payload fields no other query touches: each is aggregated for the first time by `extract`. */
const FRESH_FIELDS = ['seats', 'fuel', 'distance'];
const PERCENTILES = [0.5, 0.95, 0.99];
/** The HAVING threshold of the bucket × type query: about the mean count of a (hour, type) group. */
const havingK = (n) => Math.max(1, Math.round(n / (SPAN_MS / 3_600_000) / STEPS.length));

/**
 * The queries, in report order. `group`: what the targets judge them by. `peer`: what the DuckDB
 * side computes, when it is not the same question (shown under the table).
 */
export const QUERIES = [
  { id: 'bucket1m', group: 'grouped', label: 'a. count/sum/avg/min/max(delay) per 1-minute bucket' },
  { id: 'bucketType', group: 'grouped', label: 'b. per 1-hour bucket × type, HAVING n >= K' },
  { id: 'origin', group: 'grouped', label: "b'. group by tags.origin: count, avg(delay)" },
  { id: 'aggregates', group: 'grouped', label: 'c. group by aggregateId: count, max(timestamp)' },
  { id: 'percentiles', group: 'percentile', label: 'd. exact p50/p95/p99(delay) per hour' },
  { id: 'approx', group: 'approx', label: 'e. approxPercentile p50/p95/p99(delay) per hour' },
  { id: 'followed', group: 'pattern', label: 'f. A followed by B within 10 min per aggregate' },
  { id: 'notFollowed', group: 'pattern', label: "f'. A not followed by B within 10 min" },
  { id: 'funnel', group: 'funnel', label: 'g. 20-step funnel, 1-day window' },
];

// ---------------------------------------------------------------------------------------------------
// Answers: rows keyed by a string, each with a fixed number of numeric values (null as NaN), sorted
// by key, so the parent compares the two engines row by row.

function answer(rows, keyOf, valuesOf) {
  const keyed = rows.map((row) => [String(keyOf(row)), valuesOf(row).map(num)]);
  keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { keys: keyed.map((r) => r[0]), values: keyed.map((r) => r[1]) };
}

/** A number from a result value (bigint, Date: epoch ms, null / undefined: NaN). */
function num(v) {
  if (v === null || v === undefined) return NaN;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.getTime();
  return Number(v);
}

const close = (x, y, tolerance) =>
  (Number.isNaN(x) && Number.isNaN(y)) ||
  Math.abs(x - y) <= tolerance * Math.max(1, Math.abs(x), Math.abs(y));

/**
 * Compares two answers: { rows, missing (in `b` only), extra (in `a` only), differing, first: a few
 * examples }. Values agree within a relative 1e-9 (sums and averages add in another order).
 */
export function compareAnswers(a, b, tolerance = 1e-9) {
  const out = { rows: b.keys.length, missing: 0, extra: 0, differing: 0, examples: [] };
  const note = (text) => out.examples.length < 3 && out.examples.push(text);
  let i = 0;
  let j = 0;
  while (i < a.keys.length || j < b.keys.length) {
    const ka = a.keys[i];
    const kb = b.keys[j];
    if (j >= b.keys.length || (i < a.keys.length && ka < kb)) {
      out.extra++;
      note(`extra row ${ka}: ${JSON.stringify(a.values[i])}`);
      i++;
    } else if (i >= a.keys.length || kb < ka) {
      out.missing++;
      note(`missing row ${kb}: ${JSON.stringify(b.values[j])}`);
      j++;
    } else {
      const va = a.values[i];
      const vb = b.values[j];
      if (va.length !== vb.length || va.some((x, k) => !close(x, vb[k], tolerance))) {
        out.differing++;
        note(`row ${ka}: ${JSON.stringify(va)} vs ${JSON.stringify(vb)}`);
      }
      i++;
      j++;
    }
  }
  out.mismatches = out.missing + out.extra + out.differing;
  return out;
}

/** The largest relative error of approximate percentiles against exact ones, over every bucket. */
function maxRelativeError(approx, exact) {
  const byKey = new Map(exact.keys.map((k, i) => [k, exact.values[i]]));
  let worst = 0;
  let where;
  approx.keys.forEach((k, i) => {
    const e = byKey.get(k);
    if (!e) return;
    approx.values[i].forEach((v, c) => {
      if (Number.isNaN(e[c]) && Number.isNaN(v)) return;
      const error = e[c] === 0 ? Math.abs(v) : Math.abs(v - e[c]) / Math.abs(e[c]);
      if (!(error <= worst)) {
        worst = Number.isNaN(error) ? Infinity : error;
        where = `bucket ${k}, p${PERCENTILES[c] * 100}: ${v} vs ${e[c]}`;
      }
    });
  });
  return { worst, where };
}

// ---------------------------------------------------------------------------------------------------
// Timing

const rss = () => process.memoryUsage().rss;

/**
 * Runs fn `warmup` times untimed (once when that takes over a tenth of the budget), then up to `runs`
 * times timed (stopping once budgetMs is spent and MIN_RUNS are done). Returns a latency summary (µs) and the last run's answer (through toAnswer).
 */
async function timeQuery(fn, toAnswer, { runs, warmup, budgetMs }) {
  let result;
  for (let k = 0; k < warmup; k++) {
    const t = Date.now();
    result = await fn();
    if (Date.now() - t > budgetMs / 10) break; // a slow query is warm after one run
  }
  const samples = [];
  const started = Date.now();
  for (let k = 0; k < runs; k++) {
    globalThis.gc?.();
    const t = process.hrtime.bigint();
    result = await fn();
    samples.push(Number(process.hrtime.bigint() - t));
    if (k + 1 >= MIN_RUNS && Date.now() - started > budgetMs) break;
  }
  return { ...summarize(samples), answer: toAnswer(result) };
}

/** Runs each query, catching its failure: an API not in the build yet is a result too. */
async function runQueries(queries, options, progress) {
  const out = {};
  for (const [id, [fn, toAnswer]] of Object.entries(queries)) {
    progress(`analytics: ${id}`);
    try {
      out[id] = await timeQuery(fn, toAnswer, options);
    } catch (error) {
      out[id] = { error: String(error?.message ?? error).split('\n')[0] };
    }
  }
  return out;
}

/**
 * Times fn while sampling memory every 5 ms: { ms, rssBefore, rssPeak, rssGrowth, heapGrowth, result }.
 * RSS can understate: pages V8 kept after earlier work are reused without growing it, so the peak of
 * JS heap + external + ArrayBuffer memory over its value before is given too (heapGrowth).
 */
async function withRss(fn) {
  globalThis.gc?.();
  const held = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.external + m.arrayBuffers;
  };
  const before = rss();
  const heapBefore = held();
  let peak = before;
  let heapPeak = heapBefore;
  const sample = () => {
    peak = Math.max(peak, rss());
    heapPeak = Math.max(heapPeak, held());
  };
  const timer = setInterval(sample, 5);
  const t = process.hrtime.bigint();
  try {
    const result = await fn();
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    sample();
    return {
      ms,
      rssBefore: before,
      rssPeak: peak,
      rssGrowth: peak - before,
      heapGrowth: heapPeak - heapBefore,
      result,
    };
  } finally {
    clearInterval(timer);
  }
}

// ---------------------------------------------------------------------------------------------------
// The tamma side: the issue's API, through the built library.

/**
 * A query taking `within` as a duration text (the issue's form); if the build rejects the text for
 * `within`, the query runs with the same window in ms from then on, and `notes` says so.
 */
function withinFallback(what, text, ms, notes, run) {
  let within = text;
  return async () => {
    try {
      return await run(within);
    } catch (error) {
      if (within !== text || !/within/.test(String(error?.message))) throw error;
      notes.push(
        `${what}: within '${text}' rejected (${String(error.message).split('\n')[0]}); measured with within: ${ms} (ms)`,
      );
      within = ms;
      return run(within);
    }
  };
}

async function tammaQueries(store, { f, agg }, n, notes) {
  const bucket1m = () =>
    store
      .query()
      .timeBucket('1m')
      .aggregate({
        n: agg.count(),
        s: agg.sum('payload.delay'),
        a: agg.avg('payload.delay'),
        lo: agg.min('payload.delay'),
        hi: agg.max('payload.delay'),
      })
      .execute();
  const percentiles = (kind) => () =>
    store
      .query()
      .timeBucket('1h')
      .aggregate(Object.fromEntries(PERCENTILES.map((p) => [`p${p * 100}`, agg[kind]('payload.delay', p)])))
      .execute();
  // `within` as the issue writes it ('10m', '1d'); should the build take only ms, the query is
  // measured with ms and the report says so (a note), rather than not at all.
  const pattern = (absent) =>
    withinFallback('pattern', '10m', 10 * 60_000, notes, (within) =>
      store
        .query()
        .pattern({
          partitionBy: 'aggregateId',
          steps: [
            { name: 'a', where: f.eq('type', PATTERN_A) },
            { name: 'b', where: f.eq('type', PATTERN_B), ...(absent ? { absent: true } : {}) },
          ],
          within,
        })
        .execute(),
    );
  const percentileValues = (r) => PERCENTILES.map((p) => r[`p${p * 100}`]);
  const patternAnswer = (rows) =>
    answer(
      rows,
      (r) => r.a.sequence,
      (r) => [r.b ? r.b.sequence : null, r.partition === r.a.aggregateId ? 1 : 0],
    );
  return {
    bucket1m: [
      bucket1m,
      (rows) =>
        answer(
          rows,
          (r) => num(r.bucket),
          (r) => [r.n, r.s, r.a, r.lo, r.hi],
        ),
    ],
    bucketType: [
      () =>
        store
          .query()
          .timeBucket('1h')
          .groupBy(['type'])
          .aggregate({ n: agg.count() })
          .having(f.gte('n', havingK(n)))
          .execute(),
      (rows) =>
        answer(
          rows,
          (r) => `${num(r.bucket)}|${r.type}`,
          (r) => [r.n],
        ),
    ],
    origin: [
      () =>
        store
          .query()
          .groupBy(['tags.origin'])
          .aggregate({ n: agg.count(), a: agg.avg('payload.delay') })
          .execute(),
      (rows) =>
        answer(
          rows,
          (r) => r['tags.origin'],
          (r) => [r.n, r.a],
        ),
    ],
    aggregates: [
      () =>
        store
          .query()
          .groupBy(['aggregateId'])
          .aggregate({ n: agg.count(), last: agg.max('timestamp') })
          .execute(),
      (rows) =>
        answer(
          rows,
          (r) => r.aggregateId,
          (r) => [r.n, r.last],
        ),
    ],
    percentiles: [percentiles('percentile'), (rows) => answer(rows, (r) => num(r.bucket), percentileValues)],
    approx: [percentiles('approxPercentile'), (rows) => answer(rows, (r) => num(r.bucket), percentileValues)],
    followed: [pattern(false), patternAnswer],
    notFollowed: [pattern(true), patternAnswer],
    funnel: [
      withinFallback('funnel', '1d', 86_400_000, notes, (within) =>
        store.analytics.funnel({
          partitionBy: 'aggregateId',
          steps: STEPS.map((type) => f.eq('type', type)),
          within,
        }),
      ),
      (result) =>
        answer(
          result.steps,
          (s) => String(s.step).padStart(2, '0'),
          (s) => [s.count, s.medianTimeToConvertMs],
        ),
    ],
  };
}

/** The first aggregate over a payload field no query has read, then the second (the same again). */
async function extraction(run, field) {
  const t = process.hrtime.bigint();
  const first = await run(field);
  const firstMs = Number(process.hrtime.bigint() - t) / 1e6;
  const t2 = process.hrtime.bigint();
  await run(field);
  const againMs = Number(process.hrtime.bigint() - t2) / 1e6;
  return {
    field,
    firstMs,
    againMs,
    answer: answer(
      first,
      (r) => r.type,
      (r) => [r.s],
    ),
  };
}

export const tasks = {
  semantics: (args, ctx) => semanticsAnswers(args, ctx),

  async tamma({ n, seed, runs, warmup, budgetMs, exportPath }, ctx) {
    const lib = await loadLibrary();
    const store = await lib.openEventStore({});
    const loadStarted = Date.now();
    const generated = await generateAnalytics(seed, n, async (chunk) => {
      const events = chunkEvents(chunk);
      for (let k = 0; k < events.length; k += LOAD_BATCH) await store.append(events.slice(k, k + LOAD_BATCH));
      if ((chunk.start + chunk.length) % 1_048_576 < chunk.length)
        ctx.progress(`analytics: tamma loaded ${fmtCount(chunk.start + chunk.length)} events`);
    });
    const loadMs = Date.now() - loadStarted;
    if (store.stats().events !== n)
      throw new Error(`tamma holds ${store.stats().events} events, expected ${n}`);
    globalThis.gc?.();
    const memory = rss();

    const notes = [];
    const queries = await runQueries(
      await tammaQueries(store, lib, n, notes),
      { runs, warmup, budgetMs },
      ctx.progress,
    );

    ctx.progress('analytics: tamma first extraction of payload fields');
    const extract = [];
    for (const field of FRESH_FIELDS) {
      try {
        extract.push(
          await extraction(
            (name) =>
              store
                .query()
                .groupBy(['type'])
                .aggregate({ s: lib.agg.sum(`payload.${name}`) })
                .execute(),
            field,
          ),
        );
      } catch (error) {
        extract.push({ field, error: String(error?.message ?? error).split('\n')[0] });
      }
    }

    ctx.progress('analytics: tamma Parquet export');
    let exported;
    if (typeof store.export !== 'function') {
      exported = { error: 'store.export is not in this build (issue 16 part 7): skipped' };
    } else {
      try {
        const m = await withRss(() => store.export(store.query(), { format: 'parquet', to: exportPath }));
        exported = {
          ...m,
          rows: m.result?.rows,
          bytes: m.result?.bytes,
          result: undefined,
          path: exportPath,
        };
      } catch (error) {
        exported = { error: String(error?.message ?? error).split('\n')[0] };
      }
    }
    await store.close();
    return { n, aggregates: generated.aggregates, loadMs, rss: memory, queries, extract, exported, notes };
  },

  async duckdb({ n, seed, runs, warmup, budgetMs, exportPath, tammaParquet }, ctx) {
    const require = createRequire(new URL('../peers/package.json', import.meta.url));
    const { DuckDBInstance, DuckDBDataChunk, INTEGER, VARCHAR, DOUBLE } = require('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:');
    const con = await instance.connect();
    const all = async (sql) => (await con.runAndReadAll(sql)).getRows();
    const loadStarted = Date.now();
    // Staged with epoch ms as a double (the appender's plain types), then typed: ts TIMESTAMP.
    await con.run(`CREATE TABLE staging (sequence INTEGER, aggregate_id VARCHAR, type VARCHAR, ts_ms DOUBLE,
      origin VARCHAR, delay DOUBLE, seats DOUBLE, fuel DOUBLE, distance DOUBLE, payload VARCHAR)`);
    const types = [INTEGER, VARCHAR, VARCHAR, DOUBLE, VARCHAR, DOUBLE, DOUBLE, DOUBLE, DOUBLE, VARCHAR];
    const appender = await con.createAppender('staging');
    const generated = await generateAnalytics(seed, n, async (chunk) => {
      const events = chunkEvents(chunk);
      for (let s = 0; s < chunk.length; s += 2048) {
        const m = Math.min(2048, chunk.length - s);
        const columns = types.map(() => new Array(m));
        for (let k = 0; k < m; k++) {
          const i = s + k;
          const delay = chunk.delay[i];
          columns[0][k] = chunk.start + i + 1;
          columns[1][k] = chunk.aggregateId[i];
          columns[2][k] = chunk.type[i];
          columns[3][k] = chunk.ts[i];
          columns[4][k] = chunk.origin[i];
          columns[5][k] = Number.isNaN(delay) ? null : delay;
          columns[6][k] = chunk.seats[i];
          columns[7][k] = chunk.fuel[i];
          columns[8][k] = chunk.distance[i];
          columns[9][k] = JSON.stringify(events[i].payload); // as tamma stores it, for export and JSON extraction
        }
        const data = DuckDBDataChunk.create(types, m);
        data.setColumns(columns);
        appender.appendDataChunk(data);
      }
      if ((chunk.start + chunk.length) % 1_048_576 < chunk.length)
        ctx.progress(`analytics: duckdb loaded ${fmtCount(chunk.start + chunk.length)} events`);
    });
    appender.closeSync();
    await con.run(`CREATE TABLE events AS SELECT sequence, aggregate_id, type, epoch_ms(ts_ms::BIGINT) AS ts, origin,
      delay, seats::INTEGER AS seats, fuel, distance, payload FROM staging ORDER BY sequence`);
    await con.run('DROP TABLE staging');
    const loadMs = Date.now() - loadStarted;
    const count = Number((await all('SELECT count(*) FROM events'))[0][0]);
    if (count !== n) throw new Error(`duckdb holds ${count} rows, expected ${n}`);
    globalThis.gc?.();
    const memory = rss();

    const sqlQueries = duckdbSql(n);
    const queries = await runQueries(
      Object.fromEntries(
        Object.entries(sqlQueries).map(([id, [sql, toAnswer]]) => [id, [() => all(sql), toAnswer]]),
      ),
      { runs, warmup, budgetMs },
      ctx.progress,
    );

    ctx.progress('analytics: duckdb extraction (typed column, then JSON text)');
    const extract = [];
    for (const field of FRESH_FIELDS) {
      const column = await extraction(
        (name) => all(`SELECT type, sum(${name})::DOUBLE s FROM events GROUP BY type`).then(typeRows),
        field,
      );
      const json = await extraction(
        (name) =>
          all(`SELECT type, sum(CAST(payload->>'$.${name}' AS DOUBLE)) s FROM events GROUP BY type`).then(
            typeRows,
          ),
        field,
      );
      extract.push({ ...column, json: { firstMs: json.firstMs, againMs: json.againMs } });
    }

    ctx.progress('analytics: duckdb COPY TO parquet');
    const m = await withRss(() => con.run(`COPY events TO '${exportPath}' (FORMAT parquet)`));
    const exported = { ...m, rows: n, bytes: (await stat(exportPath)).size, result: undefined };
    // DuckDB reads tamma's Parquet file back: the same rows (count, sequences, aggregates, types)?
    let readBack;
    if (tammaParquet) {
      try {
        const [row] =
          await all(`SELECT count(*)::DOUBLE, sum(sequence)::DOUBLE, count(DISTINCT aggregateId)::DOUBLE,
          count(DISTINCT type)::DOUBLE FROM read_parquet('${tammaParquet}')`);
        const [expected] = await all(
          'SELECT count(*)::DOUBLE, sum(sequence)::DOUBLE, count(DISTINCT aggregate_id)::DOUBLE, count(DISTINCT type)::DOUBLE FROM events',
        );
        readBack = { got: row.map(num), expected: expected.map(num) };
        readBack.same = readBack.got.every((v, k) => v === readBack.expected[k]);
      } catch (error) {
        readBack = { error: String(error?.message ?? error).split('\n')[0] };
      }
    }
    const version = (await all('SELECT version()'))[0][0];
    con.closeSync();
    instance.closeSync();
    return {
      n,
      aggregates: generated.aggregates,
      loadMs,
      rss: memory,
      version,
      queries,
      extract,
      exported,
      readBack,
    };
  },
};

/**
 * The issue's semantics as the library's pure functions (aggregateEvents, bucketStart, matchPattern,
 * funnel: each property-tested against a plain JavaScript oracle) over plain event objects: not timed,
 * only there to check that DuckDB's SQL answers the same questions. When tamma and DuckDB disagree,
 * this says which one is wrong.
 */
async function semanticsAnswers({ n, seed }, ctx) {
  const { agg, aggregateEvents, bucketStart, matchPattern, funnel } = await loadLibrary();
  const events = [];
  await generateAnalytics(seed, n, async (chunk) => {
    chunkEvents(chunk).forEach((e, k) =>
      events.push({ ...e, sequence: chunk.start + k + 1, timestamp: new Date(e.timestamp) }),
    );
  });
  ctx.progress(`analytics: semantics oracle over ${fmtCount(n)} plain events`);
  const groups = (keyOf) => {
    const map = new Map();
    for (const e of events) {
      const key = keyOf(e);
      let list = map.get(key);
      if (!list) map.set(key, (list = []));
      list.push(e);
    }
    return [...map];
  };
  const fold = (keyOf, specs) =>
    groups(keyOf).map(([key, list]) => [key, ...specs.map((spec) => aggregateEvents(spec, list))]);
  const rowsAnswer = (rows) =>
    answer(
      rows,
      (r) => r[0],
      (r) => r.slice(1),
    );
  const delay = 'payload.delay';
  const hour = (e) => bucketStart(e.timestamp.getTime(), '1h');
  const K = havingK(n);
  const pattern = (absent) =>
    matchPattern(events, {
      partitionBy: (e) => e.aggregateId,
      steps: [
        { name: 'a', test: (e) => e.type === PATTERN_A },
        { name: 'b', test: (e) => e.type === PATTERN_B, ...(absent ? { absent: true } : {}) },
      ],
      withinMs: 10 * 60_000,
      now: Date.now(),
    });
  const patternAnswer = (rows) =>
    answer(
      rows,
      (r) => r.a.sequence,
      (r) => [r.b ? r.b.sequence : null, 1],
    );
  const percentileSpecs = PERCENTILES.map((p) => agg.percentile(delay, p));
  const out = {
    bucket1m: rowsAnswer(
      fold(
        (e) => bucketStart(e.timestamp.getTime(), '1m'),
        [agg.count(), agg.sum(delay), agg.avg(delay), agg.min(delay), agg.max(delay)],
      ),
    ),
    bucketType: answer(
      fold((e) => `${hour(e)}|${e.type}`, [agg.count()]).filter((r) => r[1] >= K),
      (r) => r[0],
      (r) => [r[1]],
    ),
    origin: rowsAnswer(fold((e) => e.tags.origin, [agg.count(), agg.avg(delay)])),
    aggregates: rowsAnswer(fold((e) => e.aggregateId, [agg.count(), agg.max('timestamp')])),
    percentiles: rowsAnswer(fold(hour, percentileSpecs)),
    followed: patternAnswer(pattern(false)),
    notFollowed: patternAnswer(pattern(true)),
    funnel: answer(
      funnel(events, {
        partitionBy: (e) => e.aggregateId,
        steps: STEPS.map((type) => (e) => e.type === type),
        withinMs: 86_400_000,
      }).steps,
      (s) => String(s.step).padStart(2, '0'),
      (s) => [s.count, s.medianTimeToConvertMs],
    ),
  };
  return out;
}

const typeRows = (rows) => rows.map(([type, s]) => ({ type, s }));

/**
 * DuckDB's SQL for each query, with what turns its rows into an answer. Timestamps come back as
 * epoch ms (DOUBLE), counts as DOUBLE, so both engines' answers are plain numbers.
 */
function duckdbSql(n) {
  const timeBucket = (width) => `epoch_ms(time_bucket(INTERVAL ${width}, ts))::DOUBLE`;
  // The same buckets by integer division of epoch ms: DuckDB 1.5 executes that about twice as fast as
  // time_bucket when the rows are not read back (1M events: 100 vs 210-275 ms), so it is timed too,
  // and the targets judge tamma against the faster of the two forms.
  const epochBucket = (width) => {
    const unitMs = { minute: 60_000, hour: 3_600_000 }[width.split(' ')[1]];
    const widthMs = Number(width.split(' ')[0]) * unitMs;
    return `(epoch_ms(ts) // ${widthMs} * ${widthMs})::DOUBLE`;
  };
  const bucketed = bucketedSql(n, timeBucket);
  const epoch = bucketedSql(n, epochBucket);
  const rowsAnswer = (rows) =>
    answer(
      rows,
      (r) => r[0],
      (r) => r.slice(1),
    );
  // A pattern per aggregate over the A and B events in (ts, sequence) order. g: the B events up to
  // and including this row, so the first B after an A is the B whose g is the A's g + 1. The issue's
  // semantics then reduce to: A→B matches are, per (aggregate, that B), the earliest A whose B is at
  // most 10 minutes later (a failed A resumes at the next A; a match resumes after its B, and every A
  // in between has the same B). A-not-B: each A with no B within 10 minutes after it (every window
  // has closed: the events are in 2025).
  const abRows = `WITH o AS (
      SELECT aggregate_id, sequence, ts, type,
        row_number() OVER w AS rn,
        count(*) FILTER (WHERE type = '${PATTERN_B}') OVER w AS g
      FROM events WHERE type IN ('${PATTERN_A}', '${PATTERN_B}')
      WINDOW w AS (PARTITION BY aggregate_id ORDER BY ts, sequence ROWS UNBOUNDED PRECEDING))`;
  const followed = `${abRows}
    SELECT arg_min(a.sequence, a.rn)::DOUBLE AS a, b.sequence::DOUBLE AS b
    FROM o a JOIN o b ON b.aggregate_id = a.aggregate_id AND b.type = '${PATTERN_B}' AND b.g = a.g + 1
    WHERE a.type = '${PATTERN_A}' AND b.ts <= a.ts + INTERVAL 10 minute
    GROUP BY a.aggregate_id, b.sequence`;
  const notFollowed = `${abRows}
    SELECT a.sequence::DOUBLE AS a, NULL::DOUBLE AS b
    FROM o a LEFT JOIN o b ON b.aggregate_id = a.aggregate_id AND b.type = '${PATTERN_B}' AND b.g = a.g + 1
    WHERE a.type = '${PATTERN_A}' AND (b.sequence IS NULL OR b.ts > a.ts + INTERVAL 10 minute)`;
  const patternAnswer = (rows) =>
    answer(
      rows,
      (r) => r[0],
      (r) => [r[1], 1],
    );
  // The funnel (sequential, 1-day window): each event's pointer to the earliest later event of the
  // next step (an ASOF join), then every step-0 event's greedy chain (a recursive CTE): the farthest a
  // chain from that start gets within the window. A flight's depth is its best start's; its best chain
  // is the earliest start reaching that depth, and the time to step k is that chain's c_k − c_0.
  // MATERIALIZED: DuckDB 1.5 refuses an ASOF join inlined into a recursive CTE ("not supported in
  // recursive CTEs yet"), and its process then aborts in malloc while closing.
  const stepCase = `CASE type ${STEPS.map((t, k) => `WHEN '${t}' THEN ${k}`).join(' ')} END`;
  const funnel = `WITH RECURSIVE ev AS MATERIALIZED (
      SELECT aggregate_id, ${stepCase} AS step, epoch_ms(ts) AS ms,
        row_number() OVER (PARTITION BY aggregate_id ORDER BY ts, sequence) AS rn
      FROM events),
    nx AS MATERIALIZED (
      SELECT r.aggregate_id, r.rn, n.rn AS next_rn, n.ms AS next_ms
      FROM ev r ASOF JOIN ev n ON n.aggregate_id = r.aggregate_id AND n.step = r.step + 1 AND n.rn > r.rn),
    chain(aggregate_id, start_rn, start_ms, rn, ms, depth) AS (
      SELECT aggregate_id, rn, ms, rn, ms, 0 FROM ev WHERE step = 0
      UNION ALL
      SELECT c.aggregate_id, c.start_rn, c.start_ms, x.next_rn, x.next_ms, c.depth + 1
      FROM chain c JOIN nx x ON x.aggregate_id = c.aggregate_id AND x.rn = c.rn
      WHERE x.next_ms <= c.start_ms + 86400000),
    depths AS (SELECT aggregate_id, start_rn, max(depth) AS d FROM chain GROUP BY aggregate_id, start_rn),
    best AS (SELECT aggregate_id, arg_max(start_rn, d * 100000 - start_rn) AS start_rn FROM depths GROUP BY aggregate_id)
    SELECT c.depth, count(*)::DOUBLE, median(c.ms - c.start_ms)::DOUBLE
    FROM chain c JOIN best b ON b.aggregate_id = c.aggregate_id AND b.start_rn = c.start_rn
    GROUP BY c.depth`;
  return {
    ...bucketed,
    ...Object.fromEntries(
      Object.entries(epoch)
        .filter(([id]) => id !== 'approx')
        .map(([id, query]) => [`${id}${EPOCH}`, query]),
    ),
    origin: [`SELECT origin, count(*)::DOUBLE, avg(delay) FROM events GROUP BY origin`, rowsAnswer],
    aggregates: [
      `SELECT aggregate_id, count(*)::DOUBLE, epoch_ms(max(ts))::DOUBLE FROM events GROUP BY aggregate_id`,
      rowsAnswer,
    ],
    followed: [followed, patternAnswer],
    notFollowed: [notFollowed, patternAnswer],
    // Steps no chain reaches have no row here; the funnel reports them with count 0.
    funnel: [
      funnel,
      (rows) => {
        const byDepth = new Map(rows.map((r) => [Number(r[0]), r]));
        const all = STEPS.map((_, k) => byDepth.get(k) ?? [k, 0, null]);
        return answer(
          all,
          (r) => String(r[0]).padStart(2, '0'),
          (r) => [r[1], r[2]],
        );
      },
    ],
  };
}

/** Suffix of the DuckDB queries that bucket by integer division of epoch ms instead of time_bucket. */
const EPOCH = '@epoch';

/** The time-bucketed queries, with `bucket(width)` as the bucket expression. */
function bucketedSql(n, bucket) {
  const rowsAnswer = (rows) =>
    answer(
      rows,
      (r) => r[0],
      (r) => r.slice(1),
    );
  const quantiles = (fn) => `SELECT b, q[1], q[2], q[3] FROM (
      SELECT ${bucket('1 hour')} AS b, ${fn}(delay, [${PERCENTILES.join(', ')}]) AS q FROM events GROUP BY 1)`;
  const list = (
    fn,
  ) => `SELECT ${bucket('1 hour')} AS b, ${PERCENTILES.map((p) => `${fn}(delay, ${p})`).join(', ')}
      FROM events GROUP BY 1`;
  return {
    bucket1m: [
      `SELECT ${bucket('1 minute')} AS b, count(*)::DOUBLE, sum(delay), avg(delay), min(delay), max(delay)
       FROM events GROUP BY b`,
      rowsAnswer,
    ],
    bucketType: [
      `SELECT ${bucket('1 hour')} AS b, type, count(*)::DOUBLE AS n FROM events GROUP BY b, type HAVING count(*) >= ${havingK(n)}`,
      (rows) =>
        answer(
          rows,
          (r) => `${r[0]}|${r[1]}`,
          (r) => [r[2]],
        ),
    ],
    // quantile_cont with a list of fractions: one sort per group for all three (the fastest form).
    percentiles: [quantiles('quantile_cont'), rowsAnswer],
    approx: [list('approx_quantile'), rowsAnswer],
  };
}

// ---------------------------------------------------------------------------------------------------
// The parent side

export async function run(ctx) {
  const plan = ctx.plan.analytics;
  const sizes = [];
  for (const n of plan.sizes) {
    const options = { n, seed: ctx.seed, runs: plan.runs, warmup: plan.warmup, budgetMs: plan.budgetMs };
    const tammaParquet = join(ctx.tmp, `analytics-tamma-${n}.parquet`);
    const duckdbParquet = join(ctx.tmp, `analytics-duckdb-${n}.parquet`);
    ctx.log(`analytics: tamma, ${fmtCount(n)} events (in memory)`);
    const tamma = await runTask(
      SELF,
      'tamma',
      { ...options, exportPath: tammaParquet },
      { onProgress: ctx.log },
    );
    ctx.log(`analytics: duckdb, ${fmtCount(n)} rows (in-memory table)`);
    const duckdb = await runTask(
      SELF,
      'duckdb',
      {
        ...options,
        exportPath: duckdbParquet,
        tammaParquet: tamma.exported?.rows ? tammaParquet : undefined,
      },
      { onProgress: ctx.log },
    );
    await rm(tammaParquet, { force: true });
    await rm(duckdbParquet, { force: true });
    let semantics;
    if (n <= plan.semanticsMaxEvents) {
      ctx.log(
        `analytics: the issue's semantics (library functions over plain events), ${fmtCount(n)} events`,
      );
      semantics = await runTask(SELF, 'semantics', options, { onProgress: ctx.log });
    }
    sizes.push(summarizeSize(tamma, duckdb, semantics));
  }
  return { sizes, plan };
}

/** Per query: both engines' timings, the ratio and the comparison of the answers; answers dropped. */
function summarizeSize(tamma, duckdb, semantics) {
  const strip = ({ answer: _answer, ...rest }) => rest;
  const queries = QUERIES.map(({ id, label, group }) => {
    const t = tamma.queries[id];
    const d = duckdb.queries[id];
    const row = { id, label, group, tamma: strip(t ?? {}), duckdb: strip(d ?? {}) };
    const e = duckdb.queries[`${id}${EPOCH}`];
    if (e) {
      row.duckdbEpoch = strip(e);
      if (e.answer && d?.answer) row.epochCheck = compareAnswers(e.answer, d.answer);
    }
    // The faster of DuckDB's two forms, which the ratio and the targets use.
    row.duckdbBest = e && !e.error && !(e.p50 >= d?.p50) ? row.duckdbEpoch : row.duckdb;
    if (t?.answer && d?.answer && id !== 'approx') row.check = compareAnswers(t.answer, d.answer);
    if (semantics?.[id] && d?.answer) row.peerCheck = compareAnswers(d.answer, semantics[id]);
    return row;
  });
  const exact = tamma.queries.percentiles?.answer;
  const approx = tamma.queries.approx?.answer;
  const approxCheck = {};
  if (exact && approx) approxCheck.tamma = maxRelativeError(approx, exact);
  if (duckdb.queries.percentiles?.answer && duckdb.queries.approx?.answer)
    approxCheck.duckdb = maxRelativeError(duckdb.queries.approx.answer, duckdb.queries.percentiles.answer);
  const extract = tamma.extract.map((t, k) => {
    const d = duckdb.extract[k];
    const check = t.answer && d?.answer ? compareAnswers(t.answer, d.answer) : undefined;
    return { ...strip(t), check, duckdb: d ? strip(d) : undefined };
  });
  return {
    events: tamma.n,
    aggregates: tamma.aggregates,
    load: { tammaMs: tamma.loadMs, duckdbMs: duckdb.loadMs, tammaRss: tamma.rss, duckdbRss: duckdb.rss },
    duckdbVersion: duckdb.version,
    notes: [...new Set(tamma.notes ?? [])],
    queries,
    approxCheck,
    extract,
    exported: { tamma: tamma.exported, duckdb: duckdb.exported, readBack: duckdb.readBack },
  };
}

const ms = (us) => fmtNum(us / 1000, us < 100_000 ? 1 : 0);

function timing(side) {
  if (!side) return ['—', '—', ''];
  if (side.error) return ['—', '—', ''];
  return [ms(side.p50), ms(side.p99), side.n];
}

function peerCell(row) {
  if (!row.peerCheck) return row.id === 'approx' ? '' : 'not checked';
  return row.peerCheck.mismatches === 0
    ? `ok (${fmtNum(row.peerCheck.rows)} rows)`
    : `DIFFERS: ${row.peerCheck.mismatches} rows`;
}

function checkCell(row) {
  if (row.id === 'approx') return 'see below';
  if (!row.check) return row.tamma.error ? 'not run' : '—';
  return row.check.mismatches === 0
    ? `ok (${fmtNum(row.check.rows)} rows)`
    : `WRONG: ${row.check.mismatches} rows`;
}

/** Rows of the timing table for one size. */
function queryRows(size) {
  return size.queries.map((q) => {
    const [tp50, tp99, tn] = timing(q.tamma);
    const [dp50, dp99, dn] = timing(q.duckdb);
    const [ep50] = q.duckdbEpoch ? timing(q.duckdbEpoch) : [''];
    return [
      q.label,
      tp50,
      tp99,
      dp50,
      dp99,
      ep50,
      fmtRatio(ratio(q.duckdbBest.p50, q.tamma.p50)),
      tn === dn ? `${tn}` : `${tn || '—'}/${dn}`,
      checkCell(q),
      peerCell(q),
    ];
  });
}

export function report(section) {
  const lines = [];
  for (const size of section.sizes) {
    lines.push(
      `${fmtCount(size.events)} events, ${fmtNum(size.aggregates)} aggregates, ${STEPS.length} types over 30 days; ` +
        `loaded before timing: tamma (in memory) ${fmtNum(size.load.tammaMs / 1000, 1)} s, RSS ${fmtMB(size.load.tammaRss)} MiB; ` +
        `DuckDB ${size.duckdbVersion} (in-memory table) ${fmtNum(size.load.duckdbMs / 1000, 1)} s, RSS ${fmtMB(size.load.duckdbRss)} MiB`,
    );
    lines.push(
      textTable(
        [
          'query',
          'tamma p50 ms',
          'p99 ms',
          'duckdb p50 ms',
          'p99 ms',
          'int buckets p50',
          'duckdb ÷ tamma (p50, faster form)',
          'runs',
          'tamma = duckdb',
          'duckdb = semantics',
        ],
        queryRows(size),
      ),
    );
    const wrong = size.queries.filter((q) => q.check?.mismatches > 0);
    for (const q of wrong)
      lines.push(
        `!!! WRONG ANSWER ${q.id}: ${q.check.missing} rows missing, ${q.check.extra} extra, ${q.check.differing} differ; ${q.check.examples.join('; ')}`,
      );
    for (const note of size.notes ?? []) lines.push(`note: ${note}`);
    for (const q of size.queries.filter((q) => q.epochCheck?.mismatches > 0))
      lines.push(
        `!!! DuckDB's integer buckets differ from its time_bucket on ${q.id}: ${q.epochCheck.examples.join('; ')}`,
      );
    for (const q of size.queries.filter((q) => q.peerCheck?.mismatches > 0))
      lines.push(
        `!!! DUCKDB'S SQL DIFFERS FROM THE ISSUE'S SEMANTICS on ${q.id}: ${q.peerCheck.missing} rows missing, ${q.peerCheck.extra} extra, ${q.peerCheck.differing} differ; ${q.peerCheck.examples.join('; ')}`,
      );
    for (const q of size.queries.filter((q) => q.tamma.error))
      lines.push(`tamma ${q.id}: not measured: ${q.tamma.error}`);
    for (const q of size.queries.filter((q) => q.duckdb.error))
      lines.push(`duckdb ${q.id}: FAILED: ${q.duckdb.error}`);
    const a = size.approxCheck;
    const approx = size.queries.find((q) => q.id === 'approx');
    const exact = size.queries.find((q) => q.id === 'percentiles');
    lines.push(
      `approxPercentile: max relative error over every bucket and p ${a.tamma ? `${(a.tamma.worst * 100).toFixed(3)}% (${a.tamma.where})` : '—'}; ` +
        `speed vs tamma's exact percentiles ${fmtRatio(ratio(exact.tamma.p50, approx.tamma.p50))}. ` +
        `DuckDB approx_quantile (a t-digest, shown for reference): ${a.duckdb ? `${(a.duckdb.worst * 100).toFixed(3)}%` : '—'}, ` +
        `${fmtRatio(ratio(exact.duckdb.p50, approx.duckdb.p50))} its quantile_cont's speed`,
    );
    lines.push(
      '',
      'First extraction of a payload field column: group by type, sum(payload.<field>), the first time and the second',
    );
    lines.push(
      textTable(
        [
          'field',
          'tamma first ms',
          'events/s',
          'second ms',
          'duckdb typed column ms',
          'duckdb JSON text ms',
          'answers',
        ],
        size.extract.map((e) => [
          `payload.${e.field}`,
          e.error ? '—' : fmtNum(e.firstMs, 1),
          e.error ? '—' : fmtNum(size.events / (e.firstMs / 1000)),
          e.error ? '—' : fmtNum(e.againMs, 1),
          fmtNum(e.duckdb?.againMs, 1),
          fmtNum(e.duckdb?.json?.againMs, 1),
          e.error
            ? `not measured: ${e.error}`
            : e.check?.mismatches
              ? `WRONG: ${e.check.mismatches} rows`
              : 'ok',
        ]),
      ),
    );
    const x = size.exported;
    lines.push('', 'Parquet export of every event');
    const exportRow = (name, e, what) =>
      e?.error
        ? [name, '—', '—', '—', '—', '—', e.error]
        : [
            name,
            fmtNum(e.ms),
            fmtNum(e.rows / (e.ms / 1000)),
            fmtMB(e.rssGrowth),
            fmtMB(e.heapGrowth),
            fmtMB(e.bytes),
            what,
          ];
    lines.push(
      textTable(
        ['engine', 'ms', 'rows/s', 'RSS growth MiB', 'heap+external growth MiB', 'file MiB', 'what'],
        [
          exportRow('tamma', x.tamma, 'store.export(store.query(), { format: parquet }): every event field'),
          exportRow('duckdb', x.duckdb, 'COPY events TO (FORMAT parquet): its typed columns + payload JSON'),
        ],
      ),
    );
    if (x.readBack)
      lines.push(
        x.readBack.error
          ? `DuckDB could not read tamma's Parquet file: ${x.readBack.error}`
          : `DuckDB reads tamma's Parquet back: ${x.readBack.same ? 'the same' : 'DIFFERENT'} count, sum(sequence), aggregates, types (${x.readBack.got.join(', ')})`,
      );
    lines.push('');
  }
  return lines.join('\n');
}

/** [target, measured, at, pass] rows for lib/targets.mjs, judged on the largest size. */
export function analyticsTargets(section) {
  const size = section.sizes[section.sizes.length - 1];
  const at = `${fmtCount(size.events)} events${size.events < 10_000_000 ? ' (target: 10M, full run)' : ''}`;
  const out = [];
  const q = Object.fromEntries(size.queries.map((r) => [r.id, r]));
  const measured = (r) => r && !r.tamma.error && !r.duckdbBest.error;
  const correct = (r) => r.check?.mismatches === 0;
  const grouped = size.queries.filter((r) => r.group === 'grouped');
  const ratios = grouped
    .filter(measured)
    .map((r) => [r.id, ratio(r.duckdbBest.p50, r.tamma.p50), correct(r)]);
  const worst = ratios.reduce((w, r) => (w && w[1] <= r[1] ? w : r), undefined);
  out.push([
    'bucketed and grouped aggregates ≥ 1.0× DuckDB (p50, worst query, answers equal)',
    worst
      ? `${fmtRatio(worst[1])} (${worst[0]}; ${ratios.length} of ${grouped.length} measured)`
      : 'not measured',
    at,
    ratios.length === grouped.length ? ratios.every(([, x, ok]) => x >= 1 && ok) : undefined,
  ]);
  const p = q.percentiles;
  const pr = measured(p) ? ratio(p.tamma.p50, p.duckdbBest.p50) : NaN;
  out.push([
    "exact percentiles per hour within 1.5× of DuckDB's quantile_cont",
    Number.isNaN(pr) ? 'not measured' : `tamma ${fmtRatio(pr)} DuckDB's time`,
    at,
    Number.isNaN(pr) ? undefined : pr <= 1.5 && correct(p),
  ]);
  const e = size.approxCheck.tamma;
  const speed =
    q.approx && !q.approx.tamma.error && !p.tamma.error ? ratio(p.tamma.p50, q.approx.tamma.p50) : NaN;
  out.push([
    'approxPercentile ≤ 1% relative error on every bucket',
    e ? `${(e.worst * 100).toFixed(3)}%` : 'not measured',
    at,
    e ? e.worst <= 0.01 : undefined,
  ]);
  out.push([
    "approxPercentile ≥ 2× the exact path's speed",
    Number.isNaN(speed) ? 'not measured' : fmtRatio(speed),
    at,
    Number.isNaN(speed) ? undefined : speed >= 2,
  ]);
  for (const [id, label, limitMs] of [
    ['followed', 'A followed by B within 10 min ≤ 1 s', 1000],
    ['notFollowed', 'A not followed by B within 10 min ≤ 1 s', 1000],
    ['funnel', '20-step funnel, 1-day window ≤ 2 s', 2000],
  ]) {
    const r = q[id];
    const ok = r && !r.tamma.error;
    out.push([
      label,
      ok ? `${fmtNum(r.tamma.p50 / 1000)} ms p50 (p99 ${fmtNum(r.tamma.p99 / 1000)})` : 'not measured',
      at,
      ok ? r.tamma.p50 / 1000 <= limitMs && correct(r) : undefined,
    ]);
  }
  const x = size.exported.tamma;
  const rowsPerSec = x && !x.error ? x.rows / (x.ms / 1000) : NaN;
  out.push([
    'Parquet export ≥ 1M rows/s',
    Number.isNaN(rowsPerSec) ? 'not measured' : `${fmtNum(rowsPerSec)} rows/s`,
    at,
    Number.isNaN(rowsPerSec) ? undefined : rowsPerSec >= 1e6 && size.exported.readBack?.same === true,
  ]);
  out.push([
    'Parquet export RSS growth ≤ 256 MiB',
    Number.isNaN(rowsPerSec) ? 'not measured' : `${fmtMB(x.rssGrowth)} MiB`,
    at,
    Number.isNaN(rowsPerSec) ? undefined : x.rssGrowth <= 256 * MiB,
  ]);
  const firsts = size.extract.filter((r) => !r.error);
  const slowest = firsts.length ? Math.min(...firsts.map((r) => size.events / (r.firstMs / 1000))) : NaN;
  out.push([
    'first extraction of a payload field column ≥ 1M events/s (slowest field)',
    Number.isNaN(slowest) ? 'not measured' : `${fmtNum(slowest)} events/s`,
    at,
    Number.isNaN(slowest) ? undefined : slowest >= 1e6 && firsts.every((r) => r.check?.mismatches === 0),
  ]);
  return out;
}
