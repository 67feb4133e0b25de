// Child process for kill.test.ts: appends batches forever and reports each acknowledged append on
// stdout, until the parent kills it (SIGKILL) or, with `stopAfter`, closes the store cleanly.
// Imports the built library, so the parent runs `tsc -p tsconfig.build.json` first.
import { openEventStore } from '../../dist/index.js';

const config = JSON.parse(process.argv[2] ?? '{}');

let seed = config.seed >>> 0;
const random = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const randomInt = (min, max) => min + Math.floor(random() * (max - min + 1));

const options = { dir: config.dir, fsync: config.fsync };
if (config.segmentSize !== undefined) options.segmentSize = config.segmentSize;
if (config.checkpointEvery !== undefined) options.checkpointEvery = config.checkpointEvery;

const store = await openEventStore(options);
// stdout is a pipe, and pipe writes are synchronous on Linux: a line the parent reads was written
// after its append resolved.
process.stdout.write(`START ${store.stats().lastSequence}\n`);

const limit = config.stopAfter ?? 100_000;
for (let n = 0; n < limit; n++) {
  const batchNo = config.firstBatch + n;
  const count = randomInt(1, 50);
  const events = [];
  for (let index = 0; index < count; index++) {
    events.push({
      aggregateId: `agg-${randomInt(0, 9)}`,
      type: 'CRASH.TEST',
      tags: { batch: batchNo },
      payload: { batch: batchNo, index, count, pad: 'x'.repeat(randomInt(0, 300)) },
    });
  }
  const stored = await store.append(events);
  process.stdout.write(`ACK ${stored[stored.length - 1].sequence} ${batchNo} ${count}\n`);
}
await store.close();
process.stdout.write('CLOSED\n');
