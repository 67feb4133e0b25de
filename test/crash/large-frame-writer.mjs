// Child process for kill.test.ts's large-frame tests: appends one frame larger than the log scan's
// 16 MiB read window (a batch of many small events, or one event near maxEventSize), reports it on
// stdout, appends `after` small events (one append each), then waits to be killed (SIGKILL) or,
// with `close`, closes the store cleanly. Imports the built library, like writer.mjs.
import { setInterval } from 'node:timers';
import { openEventStore } from '../../dist/index.js';

const config = JSON.parse(process.argv[2] ?? '{}');

const store = await openEventStore({ dir: config.dir, fsync: 'always', maxEventSize: config.maxEventSize });
process.stdout.write(`START ${store.stats().lastSequence}\n`);

const events =
  config.kind === 'batch'
    ? Array.from({ length: config.events }, (_, i) => ({
        aggregateId: `big-${i % 100}`,
        type: 'BIG.BATCH',
        payload: { i, pad: 'x'.repeat(16) },
      }))
    : [{ aggregateId: 'big', type: 'BIG.EVENT', payload: { text: 'y'.repeat(config.payloadBytes) } }];
const stored = await store.append(events);
process.stdout.write(`ACK ${stored.at(-1).sequence} ${stored.length}\n`);
for (let n = 0; n < config.after; n++) {
  const [event] = await store.append({ aggregateId: 'after', type: 'AFTER', payload: { n } });
  process.stdout.write(`ACK ${event.sequence} 1\n`);
}
if (config.close) {
  await store.close();
  process.stdout.write('CLOSED\n');
} else {
  process.stdout.write('WAITING\n');
  // Stay alive, holding the store, until the parent kills this process.
  setInterval(() => undefined, 1 << 30);
}
