// Child process for tombstones-kill.test.ts: appends an event to a stream and deletes the stream,
// over and over, printing each deletion once deleteAggregate resolved, until it is SIGKILLed.
// Runs the TypeScript sources: started with `node --import test/support/register-typescript.mjs`.
//
//   START <lastSequence>      the store is open
//   DEL <aggregateId>         deleteAggregate(aggregateId) resolved: the deletion is acknowledged
import { pathToFileURL } from 'node:url';

const config = JSON.parse(process.argv[2] ?? '{}');
const { openEventStore } = await import(pathToFileURL(config.lib).href);
const say = (line) => process.stdout.write(`${line}\n`);

const store = await openEventStore({ dir: config.dir, fsync: config.fsync });
say(`START ${store.stats().lastSequence}`);
for (let n = 0; ; n++) {
  const aggregateId = `${config.prefix}-${n}`;
  await store.append([0, 1, 2].map((i) => ({ aggregateId, type: 'T', payload: { n, i } })));
  await store.append({ aggregateId: `${config.prefix}-live`, type: 'T', payload: { n } });
  await store.deleteAggregate(aggregateId);
  say(`DEL ${aggregateId}`);
}
