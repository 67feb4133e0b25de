// Child process for unique-ids.test.ts: appends idBatch(0), idBatch(1), ... (fsync 'always'), and
// prints `ACK <batch> <last sequence>` after each append resolves, until the parent SIGKILLs it.
// Runs the TypeScript sources: started with `node --import test/support/register-typescript.mjs`.
import { pathToFileURL } from 'node:url';
import { idBatch, T0 } from './id-events.ts';

const config = JSON.parse(process.argv[2] ?? '{}');
const { ManualClock, openEventStore } = await import(pathToFileURL(config.lib).href);
const store = await openEventStore({
  dir: config.dir,
  clock: new ManualClock(T0 + 86_400_000),
  fsync: 'always',
  checkpointEvery: config.checkpointEvery,
});
process.stdout.write('START\n');
for (let b = 0; ; b++) {
  const stored = await store.append(idBatch(b));
  process.stdout.write(`ACK ${b} ${stored[stored.length - 1].sequence}\n`);
}
