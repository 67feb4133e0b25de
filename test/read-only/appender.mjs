// Child process for read-only.test.ts: the writer beside a read-only store. Opens the store in
// config.dir (it holds the lock), appends small batches until told to stop, and reports each
// acknowledged one. Runs the TypeScript sources (started with
// `node --import test/support/register-typescript.mjs`).
//
//   ACK <lastSequence>   a batch was acknowledged (its append resolved)
//   CLOSED <lastSequence> after "stop" on stdin: the store closed
import { setImmediate } from 'node:timers';
import { pathToFileURL } from 'node:url';

const config = JSON.parse(process.argv[2] ?? '{}');
const { openEventStore } = await import(pathToFileURL(config.lib).href);

const store = await openEventStore({ dir: config.dir, fsync: 'batch', segmentSize: config.segmentSize });
let stopping = false;
process.stdin.on('data', () => (stopping = true));
let n = store.stats().lastSequence;
while (!stopping) {
  const events = Array.from({ length: 3 }, () => {
    n++;
    return {
      aggregateId: `s${n % 4}`,
      type: n % 2 === 0 ? 'EVEN' : 'ODD',
      tags: { n },
      payload: { n, pad: 'x'.repeat(n % 50) },
    };
  });
  const stored = await store.append(events);
  process.stdout.write(`ACK ${stored.at(-1).sequence}\n`);
  // A turn of the event loop, so "stop" is seen.
  await new Promise((resolve) => setImmediate(resolve));
}
await store.close();
// Exit once the line is out: stdout to a pipe is asynchronous, and exiting at once can lose it.
// (stdin, the parent's pipe, would keep the process alive otherwise.)
process.stdout.write(`CLOSED ${n}\n`, () => process.exit(0));
