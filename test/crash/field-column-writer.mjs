// Child process for field-columns-kill.test.ts: appends batches to a store that declares field
// columns, writes a checkpoint once past `checkpointAt` events, and goes on appending, printing each
// acknowledged append, until it is SIGKILLed. Runs the TypeScript sources: started with `node --import test/support/register-typescript.mjs`.
//
//   START <lastSequence>   the store is open
//   ACK <lastSequence>     an append resolved
//   CHECKPOINT <sequence>  a checkpoint covering the events up to it is written
import { pathToFileURL } from 'node:url';

const config = JSON.parse(process.argv[2] ?? '{}');
const { openEventStore } = await import(pathToFileURL(config.lib).href);
const say = (line) => process.stdout.write(`${line}\n`);

const store = await openEventStore({
  dir: config.dir,
  fsync: 'batch',
  checkpointEvery: 0,
  fieldColumns: config.fieldColumns,
});
say(`START ${store.stats().lastSequence}`);
const CARRIERS = ['AA', 'UA', 'DL', 'é'];
for (let n = store.stats().lastSequence; ;) {
  const batch = [];
  for (let i = 0; i < 37; i++, n++) {
    batch.push({
      aggregateId: `s-${n % 20}`,
      type: 'T',
      tags: n % 5 === 0 ? {} : { k: CARRIERS[n % 4] },
      payload:
        n % 9 === 0 ? { other: [n] } : { n, carrier: CARRIERS[n % 3], deep: { v: n % 2 === 0 ? n : `${n}` } },
    });
  }
  const stored = await store.append(batch);
  const last = stored[stored.length - 1].sequence;
  say(`ACK ${last}`);
  if (last >= config.checkpointAt && last - batch.length < config.checkpointAt) {
    await store.checkpoint();
    say(`CHECKPOINT ${last}`);
  }
}
