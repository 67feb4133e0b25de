// Child process for restore-crash.test.ts: opens a store whose archive holds events cleanup
// removed, and restores them back between its live events. Started with TAMMA_FAILPOINT set, it is
// SIGKILLed at that step of the restore (src/support/failpoint.ts). Runs the TypeScript sources:
// started with `node --import test/support/register-typescript.mjs`.
//
//   DONE <report JSON>            the restore finished (the fail point was never reached)
import { pathToFileURL } from 'node:url';

const config = JSON.parse(process.argv[2] ?? '{}');
const { ManualClock, openEventStore } = await import(pathToFileURL(config.lib).href);

const store = await openEventStore({
  dir: config.dir,
  clock: new ManualClock(config.now),
  segmentSize: config.segmentSize,
  retention: config.retention,
});
const report = await store.restoreArchive(config.archiveDir);
process.stdout.write(`DONE ${JSON.stringify(report)}\n`);
await store.close();
