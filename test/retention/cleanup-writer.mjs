// Child process for cleanup-crash.test.ts: opens a store, appends the plan it is given, deletes the
// streams it names, moves the clock so that some events have expired, and runs a cleanup. Started
// with TAMMA_FAILPOINT set, it is SIGKILLed at that step of the cleanup (src/support/failpoint.ts).
// Runs the TypeScript sources: started with `node --import test/support/register-typescript.mjs`.
// With config.reopenOnly it only opens the store and closes it again.
//
//   READY <lastSequence>          appended and deleted; the cleanup starts
//   ACK <sequence> <id>           an append made while the cleanup ran resolved (config.concurrent)
//   DONE <report JSON>            the cleanup finished (the fail point was never reached)
import { setImmediate } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';

const config = JSON.parse(process.argv[2] ?? '{}');
const { ManualClock, openEventStore } = await import(pathToFileURL(config.lib).href);
const say = (line) => process.stdout.write(`${line}\n`);

const clock = new ManualClock(config.plan[0]?.at ?? 0);
const store = await openEventStore({
  dir: config.dir,
  clock,
  segmentSize: config.segmentSize,
  fsync: 'batch',
  ...(config.checkpointEvery === undefined ? {} : { checkpointEvery: config.checkpointEvery }),
  retention: config.retention,
});
if (config.reopenOnly) {
  // Opening finishes an interrupted cleanup (and may be killed doing so).
  say(`READY ${store.stats().lastSequence}`);
  await store.close();
  process.exit(0);
}
for (const batch of config.plan) {
  clock.set(batch.at);
  await store.append(batch.events.map((event) => ({ ...event, timestamp: batch.at })));
}
for (const stream of config.deleted) await store.deleteAggregate(stream);
clock.set(config.endAt);
say(`READY ${store.stats().lastSequence}`);

const running = store.cleanup({ sliceRows: config.sliceRows });
let finished = false;
const done = running.then((report) => {
  finished = true;
  return report;
});
if (config.concurrent) {
  // Appends between cleanup's slices: with checkpointEvery 1, each writes a checkpoint.
  for (let n = 0; !finished; n++) {
    const [stored] = await store.append({
      id: `during-${n}`,
      aggregateId: 'during',
      type: 'ORDER.PLACED',
      tags: { during: true },
      payload: { n },
    });
    say(`ACK ${stored.sequence} ${stored.id}`);
    await setImmediate();
  }
}
const report = await done;
say(`DONE ${JSON.stringify(report)}`);
await store.close();
