// Child process for resume-after-kill.test.ts: a projection that follows the store under a name,
// committing each event's sequence and then printing `COMMITTED <sequence>`, until the parent
// SIGKILLs it. Runs the TypeScript sources: started with `node --import test/support/register-typescript.mjs`.
import { pathToFileURL } from 'node:url';

const config = JSON.parse(process.argv[2] ?? '{}');
const { openEventStore } = await import(pathToFileURL(config.lib).href);

const store = await openEventStore({ dir: config.dir });
const sub = store.subscribe({ name: config.name, batchSize: config.batchSize });
for await (const event of sub) {
  await sub.commit(event.sequence);
  process.stdout.write(`COMMITTED ${event.sequence}\n`);
}
