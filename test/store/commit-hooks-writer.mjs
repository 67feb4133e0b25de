// Child process for commit-hooks.test.ts: opens a durable store with fsync 'always' and an
// afterCommit hook that, for the batch it is told to stop at, reports what it sees and then blocks
// the process for good (no fsync, close or timer can run after it), waiting for the parent's
// SIGKILL. Runs the TypeScript sources: started with `node --import test/support/register-typescript.mjs`.
//
//   AFTER <JSON>   afterCommit ran for the stop batch: its sequences and the log's state right then
import { pathToFileURL } from 'node:url';

const config = JSON.parse(process.argv[2] ?? '{}');
const { openEventStore } = await import(pathToFileURL(config.lib).href);

let store;
store = await openEventStore({
  dir: config.dir,
  fsync: 'always',
  checkpointEvery: 0,
  hooks: {
    afterCommit(events) {
      if (events[0].payload.batch !== config.stopAt) return;
      const storage = store.stats().storage;
      const seen = { sequences: events.map((e) => e.sequence), unsyncedBytes: storage.unsyncedBytes };
      process.stdout.write(`AFTER ${JSON.stringify(seen)}\n`);
      // Blocks the thread: nothing else this process would do can make the batch durable now.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    },
  },
});
for (let batch = 0; ; batch++) {
  await store.append(
    Array.from({ length: config.batchSize }, (_, i) => ({
      aggregateId: `s-${i % 5}`,
      type: 'T',
      payload: { batch, i },
    })),
  );
}
