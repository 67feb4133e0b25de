// Child process for erasure-crash.test.ts: opens a store the parent prepared (a stream with some of
// its events archived, some live), deletes the stream and runs a cleanup. Started with
// TAMMA_FAILPOINT set, it is SIGKILLed at that step of the erasure (src/support/failpoint.ts).
// Runs the TypeScript sources: started with `node --import test/support/register-typescript.mjs`.
//
//   DONE <report JSON>            the cleanup finished (the fail point was never reached)
import { pathToFileURL } from 'node:url';

const config = JSON.parse(process.argv[2] ?? '{}');
const { ManualClock, openEventStore } = await import(pathToFileURL(config.lib).href);

const store = await openEventStore({
  dir: config.dir,
  clock: new ManualClock(config.now),
  segmentSize: config.segmentSize,
  retention: config.retention,
});
await store.deleteAggregate(config.deleted);
const report = await store.cleanup({ sliceRows: config.sliceRows });
process.stdout.write(`DONE ${JSON.stringify(report)}\n`);
await store.close();
