// Child process for index-persistence.test.ts: creates user-defined indexes, then appends batches
// and reports each step on stdout until the parent kills it (SIGKILL).
// Imports the library the parent built (config.lib: a dist/index.js), so it runs plain Node.
//
//   START <lastSequence>          the store is open
//   PROGRESS <indexed> <total>    a slice of the build of `by_key` (with config.initial > 8192)
//   INDEXED                       createIndex resolved for every index
//   DROPPED                       dropIndex('by_batch') resolved (config.drop)
//   ACK <lastSequence> <batch> <count>   an append resolved
import { pathToFileURL } from 'node:url';

const config = JSON.parse(process.argv[2] ?? '{}');
const { openEventStore } = await import(pathToFileURL(config.lib).href);

const options = { dir: config.dir, fsync: config.fsync ?? 'never' };
if (config.checkpointEvery !== undefined) options.checkpointEvery = config.checkpointEvery;
const store = await openEventStore(options);
const say = (line) => process.stdout.write(`${line}\n`);
say(`START ${store.stats().lastSequence}`);

// Every event has a key unique across runs: the batch number and its position.
const event = (batch, index, count) => ({
  aggregateId: `agg-${batch % 5}`,
  type: index % 3 === 0 ? 'Placed' : 'Other',
  tags: { batch },
  payload: { key: `k-${batch}-${index}`, batch, index, count, amount: (batch * 7 + index) % 50 },
});

if (config.initial > 0) {
  const chunk = 2000;
  for (let done = 0; done < config.initial; done += chunk) {
    const count = Math.min(chunk, config.initial - done);
    await store.append(Array.from({ length: count }, (_, i) => event(0, done + i, config.initial)));
  }
}

// A later run finds the indexes an earlier one created (or dropped): it creates only missing ones.
const have = new Set((await store.indexes.listIndexes()).map((index) => index.name));
const definitions = [
  { name: 'by_key', fields: ['payload.key'], type: 'hash', unique: true },
  { name: 'by_batch', fields: ['tags.batch', 'payload.index'] },
  {
    name: 'placed_amount',
    fields: ['payload.amount'],
    where: { kind: 'eq', field: 'type', value: 'Placed' },
  },
];
for (const definition of definitions) {
  if (have.has(definition.name)) continue;
  await store.indexes.createIndex(definition, {
    onProgress: ({ indexed, total }) => say(`PROGRESS ${indexed} ${total}`),
  });
}
say('INDEXED');
if (config.drop) {
  await store.indexes.dropIndex('by_batch');
  say('DROPPED');
}

for (let batch = config.firstBatch; ; batch++) {
  const count = 1 + (batch % 17);
  const stored = await store.append(Array.from({ length: count }, (_, i) => event(batch, i, count)));
  say(`ACK ${stored[stored.length - 1].sequence} ${batch} ${count}`);
}
