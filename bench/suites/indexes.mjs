// The query engine's index targets (issue 3), tamma vs better-sqlite3 vs DuckDB side by side: planner
// overhead, a selective tag equality, a composite user index (tenant + amount range), a btree range
// on a payload number, each with and without the index, and EXPLAIN's estimated vs actual rows.
// One child process per engine loads the store (1M, then on to 10M in a full run), builds the
// indexes, and measures at each size.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createEngine } from '../engines/index.mjs';
import { runTask } from '../lib/child.mjs';
import { loadEvents } from '../lib/load.mjs';
import { measureQueries } from '../lib/measure.mjs';
import { fmtCount, fmtNum, fmtRatio, fmtUs, percentile, ratio, textTable } from '../lib/stats.mjs';
import { COMPOSITE_ROWS, RANGE_FRACTION, createWorkload } from '../lib/workload.mjs';

const SELF = import.meta.url;
export const ENGINES = ['tamma', 'sqlite', 'duckdb'];
const LOAD_BATCH = 5000; // loading is not what this suite measures
const MIN_SAMPLES = 10; // a slow row (DuckDB's scans) stops at its time budget once it has these
const ESTIMATE_QUERIES = 20; // EXPLAIN ANALYZE runs per query kind for estimated vs actual rows,
const ESTIMATE_BUDGET_MS = 5_000; // fewer (at least one) when they run slowly (full scans)

/** The user-defined indexes of the tamma store (sqlite and DuckDB get the matching ones). */
export const TAMMA_INDEXES = [
  { name: 'by_tenant_amount', fields: ['tags.tenant', 'payload.amount'], type: 'btree' },
  { name: 'by_amount', fields: ['payload.amount'], type: 'btree' },
];

/** The queries, in report order; `params` names the list of indexQueryParams each one runs over. */
export const QUERIES = [
  { id: 'planEq', label: 'plan only: tag equality', params: 'missing', plan: true },
  { id: 'planComposite', label: 'plan only: tenant + amount range', params: 'composite', plan: true },
  { id: 'empty', label: 'execute: empty tag lookup (0 rows)', params: 'missing' },
  {
    id: 'emptyComposite',
    label: 'execute: empty tenant + amount (0 rows)',
    params: 'missingTenant',
  },
  { id: 'eq', label: 'tag equality (customer, ~50 rows)', params: 'customer' },
  {
    id: 'composite',
    label: `tenant = X and amount between (~${COMPOSITE_ROWS} rows)`,
    params: 'composite',
  },
  { id: 'range', label: `amount between (~${RANGE_FRACTION * 100}% of rows)`, params: 'range' },
];

/**
 * Each engine's variants of each query: [variant, fn, { scan?: true, hints? }]. A scan variant
 * runs fewer times (it reads every record). The first variant is the one compared across engines.
 */
function variants(kind, engine) {
  if (kind === 'tamma') {
    const scan = { forceIndex: ['scan'] };
    const tenantOnly = { forceIndex: ['tags.tenant'] };
    return {
      // EXPLAIN plans afresh every time (it shows every path weighed): planning on a plan-cache
      // hit is visible only inside an execute, which the empty lookups below bound from above.
      planEq: [['explain()', (p) => engine.explain(engine.customerQuery(p.customer)).then(() => [])]],
      planComposite: [['explain()', (p) => engine.explain(engine.tenantAmountQuery(p)).then(() => [])]],
      empty: [['query().where(tags.customer)', engine.customerBuilder]],
      emptyComposite: [["planner's choice", (p) => engine.tenantAmount(p)]],
      eq: [
        ['queryEvents({ tags })', engine.customer],
        ['query().where(tags.customer)', engine.customerBuilder],
      ],
      composite: [
        ["planner's choice", (p) => engine.tenantAmount(p)],
        ['forceIndex tags.tenant', (p) => engine.tenantAmount(p, tenantOnly), { hints: tenantOnly }],
        ['forceIndex scan', (p) => engine.tenantAmount(p, scan), { scan: true, hints: scan }],
      ],
      range: [
        ["planner's choice", (p) => engine.amountRange(p)],
        ['forceIndex scan', (p) => engine.amountRange(p, scan), { scan: true, hints: scan }],
      ],
    };
  }
  return {
    planEq: [['prepare() new SQL', engine.planCustomer]],
    planComposite: [['prepare() new SQL', engine.planTenantAmount]],
    empty: [['prepared', engine.customer]],
    emptyComposite: [['prepared', engine.tenantAmount]],
    eq: [['prepared', engine.customer]],
    composite: [['prepared', engine.tenantAmount]],
    range: [['prepared', engine.amountRange]],
  };
}

/** How many times off an estimate is (1 = exact); NaN when one is missing, which then fails the target. */
const qError = (estimated, actual) => Math.max(estimated, 1) / Math.max(actual, 1);
const qErrors = (pairs) => {
  const q = pairs.map(({ estimated, actual }) =>
    Math.max(qError(estimated, actual), qError(actual, estimated)),
  );
  const sorted = Float64Array.from(q).sort();
  return {
    n: q.length,
    median: percentile(sorted, 50),
    max: sorted[sorted.length - 1],
    within2x: q.filter((x) => x <= 2).length / (q.length || 1),
    pairs: pairs.slice(0, 5),
  };
};

/**
 * Tamma: EXPLAIN ANALYZE's estimated rows vs the rows the query produced, and the index it used.
 * A query whose plan is a full scan is only explained (not run) when analyze is too costly.
 */
async function tammaExplain(engine, params, analyzeScans) {
  const one = async (builder) => {
    const plain = await engine.explain(builder);
    const scan = (plain.indexesUsed ?? []).length === 0;
    const e = scan && !analyzeScans ? plain : await engine.explain(builder, { analyze: true });
    const root = e.root ?? e.plan;
    return {
      estimated: e.estimatedRows ?? root?.estimatedRows,
      actual: root?.actualRows,
      indexes: e.indexesUsed ?? [],
    };
  };
  const out = { estimates: {}, plans: {} };
  const kinds = {
    eq: (p) => engine.customerQuery(p.customer),
    composite: (p) => engine.tenantAmountQuery(p),
    range: (p) => engine.amountRangeQuery(p),
  };
  for (const [kind, build] of Object.entries(kinds)) {
    const list = params[kind === 'eq' ? 'customer' : kind].slice(0, ESTIMATE_QUERIES);
    const pairs = [];
    const used = new Set();
    const deadline = Date.now() + ESTIMATE_BUDGET_MS;
    for (const p of list) {
      if (pairs.length > 0 && Date.now() > deadline) break;
      const r = await one(build(p));
      used.add(r.indexes.join('+') || 'scan');
      if (r.actual === undefined) break; // a full scan not analyzed
      pairs.push({ estimated: r.estimated, actual: r.actual });
    }
    if (pairs.length) out.estimates[kind] = qErrors(pairs);
    out.plans[kind] = [...used].join(', ');
  }
  return out;
}

async function duckdbEstimates(engine, params) {
  const out = {};
  for (const [kind, list, fn] of [
    ['eq', params.customer, engine.estimates.customer],
    ['range', params.range, engine.estimates.amountRange],
  ]) {
    const pairs = [];
    const deadline = Date.now() + ESTIMATE_BUDGET_MS;
    for (const p of list.slice(0, ESTIMATE_QUERIES)) {
      if (pairs.length > 0 && Date.now() > deadline) break;
      const actual = (kind === 'eq' ? await engine.customer(p) : await engine.amountRange(p)).length;
      pairs.push({ estimated: await fn(p), actual });
    }
    out[kind] = qErrors(pairs);
  }
  return out;
}

/** Builds the engine's user indexes; returns the seconds each took (tamma) or all together. */
async function buildIndexes(kind, engine, progress) {
  const builds = {};
  if (kind === 'tamma') {
    if (!engine.hasUserIndexes) return { skipped: 'store.indexes is not in this build' };
    for (const definition of TAMMA_INDEXES) {
      const t = process.hrtime.bigint();
      let last = 0;
      await engine.createIndex(definition, {
        onProgress: ({ indexed, total }) => {
          if (indexed - last >= 2_000_000) {
            last = indexed;
            progress(`tamma: ${definition.name} ${fmtCount(indexed)} / ${fmtCount(total)}`);
          }
        },
      });
      builds[definition.name] = Number(process.hrtime.bigint() - t) / 1e9;
    }
    return builds;
  }
  const t = process.hrtime.bigint();
  await engine.createUserIndexes();
  builds.all = Number(process.hrtime.bigint() - t) / 1e9;
  return builds;
}

async function dropIndexes(kind, engine) {
  if (kind !== 'tamma') return engine.dropUserIndexes();
  if (!engine.hasUserIndexes) return;
  for (const { name } of TAMMA_INDEXES) await engine.dropIndex(name);
}

export const tasks = {
  async indexes(args, ctx) {
    const { kind, engineOptions, sizes, seed, iterations, warmup, budgetMs } = args;
    const engine = await createEngine(kind, engineOptions);
    const workload = createWorkload(seed, { indexFields: true });
    const bySize = [];
    let loaded = 0;
    for (const size of sizes) {
      // Indexes are dropped before loading more and built again after, as a bulk load would.
      if (loaded > 0) await dropIndexes(kind, engine);
      ctx.progress(`${engine.name}: loading to ${fmtCount(size)}`);
      const r = await loadEvents(engine, workload, loaded, size, {
        batchSize: LOAD_BATCH,
        progress: ctx.progress,
      });
      const load = { from: loaded, to: size, eventsPerSec: r.events / (r.appendNs / 1e9) };
      loaded = size;
      const count = await engine.count();
      if (count !== size) throw new Error(`${engine.name} holds ${count} events after loading ${size}`);
      ctx.progress(`${engine.name} @ ${fmtCount(size)}: building indexes`);
      const builds = await buildIndexes(kind, engine, ctx.progress);

      const params = workload.indexQueryParams(size, iterations);
      const warm = workload.indexQueryParams(size, warmup, seed ^ 0xbeef);
      const explained =
        kind === 'tamma' ? await tammaExplain(engine, params, size <= args.scanMaxEvents) : undefined;
      const sample = { customer: params.customer[0], composite: params.composite[0], range: params.range[0] };
      const plans = kind === 'tamma' ? explained.plans : await engine.plans(sample);
      const measured = {};
      for (const [query, list] of Object.entries(variants(kind, engine))) {
        const spec = QUERIES.find((q) => q.id === query);
        measured[query] = [];
        for (const [variant, fn, options = {}] of list) {
          // A forced path that is the planner's own choice measures nothing new.
          if (options.hints && explained && plans[query] === options.hints.forceIndex.join('+')) continue;
          // Full scans (forced, or the planner's choice when no index serves) read and decode every
          // record, seconds each at 1M: no warm-up, as many runs as fit in scanBudgetMs, at least one.
          const scan = options.scan || (explained && !options.hints && plans[query] === 'scan');
          if (scan && size > args.scanMaxEvents) {
            measured[query].push({
              variant,
              skipped: `full scan, measured up to ${fmtCount(args.scanMaxEvents)}`,
            });
            continue;
          }
          ctx.progress(
            `${engine.name} @ ${fmtCount(size)}: ${query} ${variant}${scan ? ' (full scan)' : ''}`,
          );
          const before = kind === 'tamma' ? engine.planCache() : undefined;
          try {
            const r = await measureQueries(fn, params[spec.params], warm[spec.params], {
              iterations: scan ? args.scanIterations : iterations,
              warmup: scan ? 0 : warmup,
              budgetMs: scan ? args.scanBudgetMs : budgetMs,
              minSamples: scan ? 1 : MIN_SAMPLES,
            });
            const after = kind === 'tamma' ? engine.planCache() : undefined;
            const planCache =
              before && after && !spec.plan
                ? { hits: after.hits - before.hits, misses: after.misses - before.misses }
                : undefined;
            measured[query].push({ variant, ...r, ...(planCache ? { planCache } : {}) });
          } catch (error) {
            measured[query].push({ variant, error: String(error.message ?? error).split('\n')[0] });
          }
        }
      }
      const estimates =
        kind === 'tamma'
          ? explained.estimates
          : kind === 'duckdb'
            ? await duckdbEstimates(engine, params)
            : undefined;
      bySize.push({ size, load, builds, plans, measured, estimates });
    }
    await engine.close();
    return { engine: engine.name, bySize };
  },
};

export async function run(ctx) {
  const { sizes, iterations, warmup, budgetMs, scanIterations, scanBudgetMs, scanMaxEvents } =
    ctx.plan.indexes;
  const engines = {};
  const dirs = [];
  for (const kind of ENGINES) {
    const dir = join(ctx.tmp, `indexes-${kind}`);
    await mkdir(dir, { recursive: true });
    dirs.push(dir);
    ctx.log(`indexes: ${kind}, loading to ${sizes.map(fmtCount).join(' then ')} and measuring`);
    const started = Date.now();
    try {
      engines[kind] = await runTask(
        SELF,
        'indexes',
        {
          kind,
          engineOptions: kind === 'sqlite' ? { dir, schemaIndexes: false } : { dir },
          sizes,
          seed: ctx.seed,
          iterations,
          warmup,
          budgetMs,
          scanIterations,
          scanBudgetMs,
          scanMaxEvents,
        },
        { onProgress: ctx.log },
      );
      engines[kind].wallSeconds = (Date.now() - started) / 1000;
    } catch (error) {
      ctx.log(`indexes: ${kind} failed: ${error.stack ?? error}`);
      engines[kind] = { error: String(error.message ?? error) };
    }
    if (!ctx.keep) await rm(dir, { recursive: true, force: true }); // several GB at 10M
  }
  return { sizes, iterations, engines, mismatches: compareAnswers(engines, sizes) };
}

/** Every engine and variant must return the same answer (length and sequences) to the same query. */
function compareAnswers(engines, sizes) {
  const mismatches = [];
  sizes.forEach((size, s) => {
    for (const query of ['empty', 'emptyComposite', 'eq', 'composite', 'range']) {
      const lists = [];
      for (const kind of ENGINES)
        for (const v of engines[kind]?.bySize?.[s]?.measured[query] ?? [])
          if (v.fingerprints) lists.push([`${kind} ${v.variant}`, v.fingerprints]);
      const n = Math.max(0, ...lists.map(([, l]) => l.length));
      for (let q = 0; q < n; q++) {
        const answered = lists.filter(([, l]) => q < l.length); // scan variants answer fewer
        if (new Set(answered.map(([, l]) => l[q])).size > 1)
          mismatches.push({
            size,
            query,
            index: q,
            answers: Object.fromEntries(answered.map(([name, l]) => [name, l[q]])),
          });
      }
    }
  });
  return mismatches;
}

/** Plan-cache hits among the lookups a measurement made (warm-up included). */
const cacheHits = ({ hits, misses }) =>
  hits + misses === 0 ? '' : `${fmtNum((100 * hits) / (hits + misses))}% hits`;

/** sqlite's EXPLAIN QUERY PLAN, shortened for a table cell. */
const shortPlan = (plan) =>
  (plan ?? '')
    .replace(/SEARCH events USING INDEX /g, 'index ')
    .replace(/SCAN events/g, 'scan')
    .replace(/<expr>/g, 'x')
    .replace(/; USE TEMP B-TREE FOR ORDER BY/g, ' + sort');

/** The row of the engine's first variant of a query (the one compared across engines). */
export function headline(section, kind, query, s) {
  return section.engines[kind]?.bySize?.[s]?.measured[query]?.find((v) => !v.error && !v.skipped);
}

/** Rows of the Markdown headline: each query at the largest size, the engines' first variants. */
export function markdownRows(section) {
  const s = section.sizes.length - 1;
  return QUERIES.map((q) => {
    const [t, l, d] = ENGINES.map((k) => headline(section, k, q.id, s));
    return [
      q.label,
      fmtUs(t?.p50),
      fmtUs(t?.p99),
      fmtUs(l?.p50),
      fmtUs(l?.p99),
      fmtUs(d?.p50),
      fmtRatio(ratio(l?.p50, t?.p50)),
      q.plan ? '' : (section.engines.tamma?.bySize?.[s]?.plans?.[q.id] ?? ''),
    ];
  });
}

export function report(section) {
  const out = [];
  section.sizes.forEach((size, s) => {
    out.push(
      `\nIndexes at ${fmtCount(size)} events (µs; ÷ sqlite is sqlite's latency ÷ this one: above 1× is faster than sqlite)`,
    );
    const rows = [];
    for (const q of QUERIES) {
      const base = headline(section, 'sqlite', q.id, s);
      for (const kind of ENGINES) {
        const e = section.engines[kind];
        if (e?.error) continue;
        for (const v of e?.bySize?.[s]?.measured[q.id] ?? []) {
          const plan = e.bySize[s].plans?.[q.id];
          rows.push([
            q.label,
            `${kind} ${v.variant}`,
            v.error ? `error: ${v.error}` : v.skipped ? `skipped: ${v.skipped}` : fmtUs(v.p50),
            fmtUs(v.p99),
            fmtRatio(ratio(base?.p50, v.p50)),
            fmtRatio(ratio(base?.p99, v.p99)),
            q.plan ? '' : fmtNum(v.rows, 1),
            fmtNum(v.n),
            v.planCache ? cacheHits(v.planCache) : '',
            v.variant.startsWith('forceIndex') || q.plan ? '' : shortPlan(plan),
          ]);
        }
      }
    }
    out.push(
      textTable(
        ['query', 'engine, variant', 'p50', 'p99', '÷ sqlite p50', 'p99', 'rows', 'n', 'plan cache', 'plan'],
        rows,
      ),
    );
    const est = [];
    for (const kind of ['tamma', 'duckdb']) {
      const e = section.engines[kind]?.bySize?.[s]?.estimates;
      for (const [query, r] of Object.entries(e ?? {})) {
        est.push([
          `${kind} ${query}`,
          fmtNum(r.n),
          `${r.median.toFixed(2)}×`,
          `${r.max.toFixed(2)}×`,
          `${fmtNum(r.within2x * 100)}%`,
          r.pairs.map((p) => `${fmtNum(p.estimated)}/${fmtNum(p.actual)}`).join(' '),
        ]);
      }
    }
    if (est.length) {
      out.push('\nEXPLAIN estimated vs actual rows (q-error: max(est/act, act/est); target within 2×):');
      out.push(textTable(['engine query', 'n', 'median', 'max', 'within 2×', 'first est/actual'], est));
    }
    out.push('\nLoading and index builds:');
    out.push(
      textTable(
        ['engine', 'load events/s', 'index build s'],
        ENGINES.filter((k) => section.engines[k]?.bySize?.[s]).map((k) => {
          const b = section.engines[k].bySize[s];
          const builds = b.builds.skipped
            ? b.builds.skipped
            : Object.entries(b.builds)
                .map(([name, sec]) => `${name} ${sec.toFixed(1)}`)
                .join(', ');
          return [section.engines[k].engine, fmtNum(b.load.eventsPerSec), builds];
        }),
      ),
    );
  });
  for (const kind of ENGINES)
    if (section.engines[kind]?.error) out.push(`\n!! ${kind} failed: ${section.engines[kind].error}`);
  out.push(
    '\nDuckDB is an OLAP engine (columnar, vectorised, a fixed cost near 1 ms a query): it is the analytical' +
      '\npeer here, with tenant, customer and amount as typed columns and ART indexes on them, not a point-lookup store.' +
      '\ntamma plan-only rows are EXPLAIN, which plans afresh every time; planning on a plan-cache hit happens' +
      '\ninside execute only, so the empty-lookup rows (plan-cache hit, nothing to read) bound it from above.' +
      '\nsqlite: JSON text columns with json_extract expression indexes matching each query; its plan-only rows' +
      '\ncompile a new statement (sqlite has no plan cache; a reused prepared statement is never planned again).',
  );
  if (section.mismatches.length) {
    out.push(`\n!! ${section.mismatches.length} answers differ (length:sequence-sum), first ones:`);
    for (const m of section.mismatches.slice(0, 8))
      out.push(`   ${fmtCount(m.size)} ${m.query} #${m.index}: ${JSON.stringify(m.answers)}`);
  } else {
    out.push(
      '\nEvery engine and variant returned the same answers (length and sequences) to every query compared.',
    );
  }
  return out.join('\n');
}
