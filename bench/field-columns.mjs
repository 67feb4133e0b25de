// First extraction of field columns: how fast a payload or tag field becomes a column over N events
// that were appended without it (the store reads every record once, from the log). Not part of
// run.mjs's suites: a script of its own, over the built library (npm run build first).
//
//   npm run build && node bench/field-columns.mjs [events=1000000] [--disk]
//
// Prints events/s per field (median of 5 extractions, each into a fresh column), and, for
// comparison, the same rows read by decoding every record's body in full (what a query without the
// column does), and the persisted column's reopen: whether the checkpoint served it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openEventStore } from '../dist/index.js';
import { decodeBody } from '../dist/codec/record-codec.js';
import { FieldColumns } from '../dist/storage/embedded/table/field-columns.js';

const count = Number(process.argv.find((arg) => /^\d+$/.test(arg)) ?? 1_000_000);
const disk = process.argv.includes('--disk');
const dir = disk ? mkdtempSync(join(tmpdir(), 'tamma-fieldcols-')) : undefined;

const ORIGINS = ['ORD', 'SFO', 'JFK', 'LAX', 'ATL', 'DFW', 'DEN', 'SEA'];
const CARRIERS = ['AA', 'UA', 'DL', 'WN', 'B6', 'AS'];
const T0 = Date.UTC(2026, 0, 1);
const tableOf = (store) => store.engine.parts.table;

function event(i) {
  return {
    aggregateId: `flight-${i % 100_000}`,
    type: i % 3 === 0 ? 'FLIGHT.DELAYED' : 'FLIGHT.ON_TIME',
    timestamp: T0 + i * 1000,
    tags: { origin: ORIGINS[i % ORIGINS.length] },
    payload: {
      flight: `${CARRIERS[i % CARRIERS.length]}${1000 + (i % 9000)}`,
      carrier: CARRIERS[i % CARRIERS.length],
      delay: (i * 7919) % 240,
      gate: { terminal: `T${i % 5}`, number: i % 60 },
      passengers: 100 + (i % 150),
      note: i % 10 === 0 ? 'rebooked' : undefined,
    },
  };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const store = await openEventStore({ dir, fsync: 'never', checkpointEvery: 0, futureTolerance: false });
const started = performance.now();
for (let at = 0; at < count; at += 10_000) {
  const batch = [];
  for (let i = at; i < Math.min(count, at + 10_000); i++) batch.push(event(i));
  await store.append(batch);
}
console.log(
  `loaded ${count} events in ${((performance.now() - started) / 1000).toFixed(1)} s (${disk ? 'on disk' : 'in memory'})`,
);

const table = tableOf(store);
const log = store.engine.parts.log;
const results = [];
/** Median wall and CPU milliseconds of `runs` calls of `fn` (CPU time says more on a loaded machine). */
function measure(fn, runs) {
  const wall = [];
  const cpu = [];
  let result;
  for (let run = 0; run < runs; run++) {
    const from = performance.now();
    const usage = process.cpuUsage();
    result = fn();
    const used = process.cpuUsage(usage);
    wall.push(performance.now() - from);
    cpu.push((used.user + used.system) / 1000);
  }
  const ms = median(wall);
  const cpuMs = median(cpu);
  return {
    result,
    ms: Math.round(ms),
    eventsPerSecond: Math.round(count / (ms / 1000)),
    cpuMs: Math.round(cpuMs),
    eventsPerCpuSecond: Math.round(count / (cpuMs / 1000)),
  };
}

for (const field of ['payload.delay', 'payload.carrier', 'payload.gate.number', 'tags.origin']) {
  const { result: column, ...figures } = measure(() => {
    // A fresh registry each run, so each run is a first extraction.
    const columns = new FieldColumns();
    columns.attach(log);
    return columns.column(field, table);
  }, 5);
  results.push({ field, ...figures, kind: column.kind, bytes: column.bytes });
}

// The baseline: every record's body decoded in full, the field read from the object.
const { result: _sum, ...baseline } = measure(() => {
  let sum = 0;
  for (let row = 0; row < table.rows; row++) {
    const record = log.read(table.recordOffset.get(row), table.recordLength.get(row));
    sum += decodeBody(record).payload.delay;
  }
  return sum;
}, 3);
results.push({ field: 'payload.delay (full decodeBody per record)', ...baseline });
console.table(results);
console.log(
  `load average: ${(await import('node:os'))
    .loadavg()
    .map((n) => n.toFixed(1))
    .join(' ')}`,
);

if (disk) {
  table.fieldColumn('payload.delay');
  await store.close();
  const from = performance.now();
  const again = await openEventStore({ dir, fieldColumns: ['payload.delay'] });
  const column = tableOf(again).fieldColumn('payload.delay');
  console.log(
    `reopen with the column in the checkpoint: ${Math.round(performance.now() - from)} ms, restored=${column.restored}, ` +
      `records decoded=${tableOf(again).fieldColumns.rowsDecoded}`,
  );
  await again.close();
  rmSync(dir, { recursive: true, force: true });
} else {
  await store.close();
}
